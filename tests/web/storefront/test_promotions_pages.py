"""Where shoppers see promotions: the product page (timed price with its countdown, tags, 券后价,
the 领券 sheet, preheat), product grids, the claim centre and claiming, the coupon wallet with
its code form, and campaign landing pages. Promotions and coupons are real rows made through the
promotions services (or tests/factories/promotions.py), priced per request: no stale price after
a start time."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import catalog, promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.promotions.models import Coupon, CouponTemplate
from tests.e2e.shop import Shop, stocked_shop
from tests.factories.identity import PASSWORD, SYSTEM, make_customer
from tests.factories.promotions import give_coupon, make_coupon_template, make_promotion, reduction
from tests.web.pages import EN, csrf_of, sign_in

pytestmark = pytest.mark.usefixtures("handlers")

HTMX = {**EN, "HX-Request": "true"}
PHONE = "+8613800138000"


def timed(sku_id: int, price: int) -> promotions.TimedDiscountRule:
    return promotions.TimedDiscountRule(items=(promotions.TimedItem(sku_id=sku_id, price_amount=price),))


def text_of(page: str, css_class: str) -> str:
    """The text of the first element with ``css_class`` (tags stripped, spaces squeezed)."""
    match = re.search(rf'class="{css_class}"[^>]*>(.*?)</(?:p|span|div|li|s)>', page, re.DOTALL)
    assert match is not None, f"no .{css_class}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def picker_of(page: str) -> dict[str, object]:
    match = re.search(r"data-picker='([^']+)'", page)
    assert match is not None
    return json.loads(html.unescape(match.group(1)))


async def counts() -> tuple[int, int]:
    """Coupons in wallets, and the claimed count of every template."""
    async with uow(write=False) as s:
        coupons = (await s.execute(select(func.count()).select_from(Coupon))).scalar_one()
        issued = (
            await s.execute(select(func.coalesce(func.sum(CouponTemplate.issued_quantity), 0)))
        ).scalar_one()
    return coupons, issued


async def shopper(client: AsyncClient) -> int:
    customer = await make_customer(phone=PHONE)
    await sign_in(client, "13800138000", PASSWORD)
    return customer.id


@pytest.fixture
async def shop() -> Shop:
    """A T-shirt at CN¥129.00 in red and black (5 of each)."""
    return await stocked_shop(price=12900)


# -- the product page --------------------------------------------------------------------------


async def test_product_page_shows_the_timed_price_with_a_countdown_and_the_tags(
    client: AsyncClient, shop: Shop
) -> None:
    await make_promotion(
        timed(shop.red, 9900),
        name="限时特惠",
        ends_at=clock.now() + dt.timedelta(hours=2, minutes=13, seconds=5),
    )
    await make_promotion(reduction((29900, 3000)), name="满299减30")

    page = (await client.get(f"/p/{shop.product_slug}", headers=EN)).text

    assert text_of(page, "price-now") == "CN¥99.00"
    assert text_of(page, "price-was") == "CN¥129.00"
    assert text_of(page, "countdown") in {"02:13:05", "02:13:04"}
    assert 'class="promo-countdown" x-bind:hidden="noCountdown">' in page  # shown
    assert '<li class="promo-tag">Spend CN¥299.00, get CN¥30.00 off</li>' in page
    skus = {sku["id"]: sku for sku in picker_of(page)["skus"]}  # type: ignore[union-attr]
    assert (skus[shop.red]["price"], skus[shop.red]["market"]) == ("CN¥99.00", "CN¥129.00")
    assert skus[shop.red]["offer"]["ends"] in {7985, 7984}
    assert (skus[shop.black]["price"], skus[shop.black]["market"]) == ("CN¥129.00", None)
    assert skus[shop.black]["offer"]["ends"] is None


async def test_product_page_shows_no_stale_price_after_the_start_time(
    client: AsyncClient, shop: Shop
) -> None:
    await make_promotion(timed(shop.red, 9900), starts_at=clock.now() + dt.timedelta(hours=1))
    before = (await client.get(f"/p/{shop.product_slug}", headers=EN)).text  # the product page is now cached

    clock.advance(dt.timedelta(hours=1, seconds=1))
    after = (await client.get(f"/p/{shop.product_slug}", headers=EN)).text

    assert text_of(before, "price-now") == "CN¥129.00"
    assert text_of(before, "price-was") == ""
    assert text_of(after, "price-now") == "CN¥99.00"
    assert text_of(after, "price-was") == "CN¥129.00"


async def test_product_page_shows_the_price_after_coupon_and_its_coupons_to_claim(
    client: AsyncClient, shop: Shop
) -> None:
    template_id = await make_coupon_template(
        name="满100减40", amount_off=4000, min_spend_amount=10000, total_quantity=200, issued_quantity=126
    )

    page = (await client.get(f"/p/{shop.product_slug}", headers=EN)).text

    assert text_of(page, "coupon-price") == "After coupon CN¥89.00"
    assert '<span class="coupon-chip">CN¥40.00 · Over CN¥100.00</span>' in page
    assert f'action="/coupons/{template_id}/claim"' in page
    assert f'<input type="hidden" name="next" value="/p/{shop.product_slug}">' in page
    assert "63% claimed" in page
    assert '<p class="coupon-name">满100减40</p>' in page


async def test_product_page_in_preheat_shows_the_coming_price_and_a_countdown_to_the_start(
    client: AsyncClient, shop: Shop
) -> None:
    starts = clock.now() + dt.timedelta(days=1, hours=3)
    async with uow() as session:
        campaign = await promotions.create_campaign(
            session,
            data=promotions.CampaignWrite(
                name="双11",
                slug="double-11",
                preheat_starts_at=clock.now() - dt.timedelta(hours=1),
                starts_at=starts,
                ends_at=starts + dt.timedelta(days=1),
            ),
            actor=SYSTEM,
        )
        await promotions.publish_campaign(session, campaign_id=campaign.id, actor=SYSTEM)
    await make_promotion(
        timed(shop.red, 8900),
        campaign_id=campaign.id,
        starts_at=starts,
        ends_at=starts + dt.timedelta(days=1),
    )

    page = (await client.get(f"/p/{shop.product_slug}", headers=EN)).text

    assert text_of(page, "price-now") == "CN¥129.00"  # buying is at today's price
    skus = {sku["id"]: sku for sku in picker_of(page)["skus"]}  # type: ignore[union-attr]
    assert skus[shop.red]["offer"]["preheat"] == "Coming price CN¥89.00"
    assert skus[shop.red]["offer"]["starts_text"] in {"1d 03:00:00", "1d 02:59:59"}


# -- claiming ---------------------------------------------------------------------------------


async def test_claiming_on_the_product_page_swaps_in_the_claimed_coupon(
    client: AsyncClient, shop: Shop
) -> None:
    customer_id = await shopper(client)
    template_id = await make_coupon_template(amount_off=1000)
    page = await client.get(f"/p/{shop.product_slug}", headers=EN)

    claimed = await client.post(
        f"/coupons/{template_id}/claim",
        data={"csrf_token": csrf_of(page), "next": f"/p/{shop.product_slug}"},
        headers=HTMX,
    )

    assert claimed.status_code == 200
    assert '<span class="coupon-claimed" role="status">Claimed</span>' in claimed.text
    async with uow(write=False) as s:
        wallet = await promotions.list_wallet(s, customer_id=customer_id)
    assert [(c.template_id, c.status, c.source) for c in wallet] == [
        (template_id, promotions.CouponStatus.unused, promotions.CouponSource.claim)
    ]


async def test_claiming_without_script_comes_back_to_the_page(client: AsyncClient, shop: Shop) -> None:
    await shopper(client)
    template_id = await make_coupon_template(amount_off=1000)
    page = await client.get("/coupons", headers=EN)

    claimed = await client.post(
        f"/coupons/{template_id}/claim", data={"csrf_token": csrf_of(page), "next": f"/p/{shop.product_slug}"}
    )

    assert claimed.status_code == 303
    assert claimed.headers["location"] == f"/p/{shop.product_slug}"
    assert await counts() == (1, 1)


async def test_a_guest_is_sent_to_sign_in_and_back(client: AsyncClient, shop: Shop) -> None:
    template_id = await make_coupon_template(amount_off=1000)
    page = await client.get(f"/p/{shop.product_slug}", headers=EN)
    form = {"csrf_token": csrf_of(page), "next": f"/p/{shop.product_slug}"}

    plain = await client.post(f"/coupons/{template_id}/claim", data=form)
    htmx = await client.post(f"/coupons/{template_id}/claim", data=form, headers=HTMX)

    assert plain.status_code == 303
    assert plain.headers["location"] == f"/account/login?next=/p/{shop.product_slug}"
    assert htmx.status_code == 200
    assert htmx.headers["hx-redirect"] == f"/account/login?next=/p/{shop.product_slug}"
    assert await counts() == (0, 0)


async def test_sold_out_and_limit_reached_say_so_and_change_nothing(client: AsyncClient, shop: Shop) -> None:
    customer_id = await shopper(client)
    sold_out = await make_coupon_template(amount_off=1000, total_quantity=5, issued_quantity=5)
    held = await make_coupon_template(amount_off=500)
    async with uow() as session:
        await promotions.claim_coupon(session, template_id=held, customer_id=customer_id)
    page = await client.get("/coupons", headers=EN)
    form = {"csrf_token": csrf_of(page), "next": "/coupons"}

    gone = await client.post(f"/coupons/{sold_out}/claim", data=form, headers=HTMX)
    again = await client.post(f"/coupons/{held}/claim", data=form, headers=HTMX)
    plain = await client.post(f"/coupons/{held}/claim", data=form, headers=EN)

    assert gone.status_code == 200
    assert '<p class="field-error" role="alert">All of these coupons have been claimed.</p>' in gone.text
    assert "Claimed</span>" not in gone.text
    expected = "You already have as many of these coupons as one customer may."
    assert f'<p class="field-error" role="alert">{expected}</p>' in again.text
    assert plain.status_code == 409
    assert expected in plain.text
    assert await counts() == (1, 6)


async def test_claiming_an_unknown_coupon_is_a_404(client: AsyncClient, shop: Shop) -> None:
    await shopper(client)
    page = await client.get("/coupons", headers=EN)

    response = await client.post("/coupons/999999/claim", data={"csrf_token": csrf_of(page)}, headers=EN)

    assert response.status_code == 404
    assert await counts() == (0, 0)


# -- the claim centre and the wallet ----------------------------------------------------------


async def test_claim_centre_lists_the_coupons_with_their_terms(client: AsyncClient) -> None:
    await make_coupon_template(
        name="满199减20", amount_off=2000, min_spend_amount=19900, total_quantity=100, issued_quantity=63
    )
    await make_coupon_template(
        promotions.CouponKind.percent, name="85折", percent_off=15, max_discount_amount=5000, valid_days=7
    )

    zh = (await client.get("/coupons")).text
    en = (await client.get("/coupons", headers=EN)).text

    assert "<h1>领券中心</h1>" in zh
    assert "满 ¥199.00 可用" in zh
    assert "<strong>8.5 折</strong>" in zh
    assert "已抢 63%" in zh
    assert "<strong>CN¥20.00</strong>" in en
    assert "<span>Over CN¥199.00</span>" in en
    assert "<strong>15% off</strong>" in en
    assert "<span>No minimum spend · up to CN¥50.00 off</span>" in en
    assert "Valid for 7 days after claiming" in en
    assert en.count('<span class="tag">Storewide</span>') == 2


async def test_home_and_account_link_to_the_coupons(client: AsyncClient) -> None:
    await shopper(client)

    home = (await client.get("/", headers=EN)).text
    account = (await client.get("/account", headers=EN)).text

    assert '<a class="chip" href="/coupons">Coupon centre</a>' in home
    assert '<a href="/account/coupons">My coupons</a> · <a href="/coupons">Coupon centre</a>' in account


async def test_wallet_shows_each_tab_with_a_link_to_use_the_coupon(client: AsyncClient, shop: Shop) -> None:
    customer_id = await shopper(client)
    storewide = await make_coupon_template(name="全场券", amount_off=1000)
    clothing = await make_coupon_template(
        name="服装券",
        amount_off=500,
        scope=promotions.Scope(all_goods=False, category_ids=(await category_id(shop),)),
    )
    await give_coupon(customer_id, storewide)
    await give_coupon(customer_id, clothing)
    await give_coupon(customer_id, storewide, status=promotions.CouponStatus.used)
    stranger = await make_customer()
    await give_coupon(stranger.id, storewide)

    unused = (await client.get("/account/coupons", headers=EN)).text
    used = (await client.get("/account/coupons?tab=used", headers=EN)).text
    expired = (await client.get("/account/coupons?tab=expired", headers=EN)).text

    assert unused.count('class="coupon-card"') == 2
    assert '<a class="button" href="/">Use now</a>' in unused
    assert '<a class="button" href="/c/clothing">Use now</a>' in unused
    assert '<span class="tag">Selected categories</span>' in unused
    assert used.count('class="coupon-card coupon-faded"') == 1
    assert '<span class="tag">Used</span>' in used
    assert "No coupons here." in expired


async def category_id(shop: Shop) -> int:
    async with uow(write=False) as s:
        tree = await catalog.get_storefront_category_tree(s)
    return next(node.id for node in tree if node.slug == shop.category_slug)


async def test_a_wrong_code_is_refused_with_a_clear_message(client: AsyncClient) -> None:
    await shopper(client)
    page = await client.get("/account/coupons", headers=EN)

    response = await client.post(
        "/account/coupons/redeem", data={"csrf_token": csrf_of(page), "code": "NOPE-NOPE"}, headers=EN
    )

    assert response.status_code == 422
    message = "This code is not valid or has already been redeemed."
    assert f'<p class="field-error" id="redeem-code-error">{message}</p>' in response.text
    assert await counts() == (0, 0)


async def test_the_wallet_needs_a_signed_in_customer(client: AsyncClient) -> None:
    response = await client.get("/account/coupons")

    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=/account/coupons"


# -- grids --------------------------------------------------------------------------------------


async def test_cards_show_the_promotion_price_and_two_tags(client: AsyncClient, shop: Shop) -> None:
    await make_promotion(timed(shop.red, 9900), name="限时")
    await make_promotion(reduction((29900, 3000)), name="满减")

    category = (await client.get(f"/c/{shop.category_slug}", headers=EN)).text
    home = (await client.get("/", headers=EN)).text

    for page in (category, home):
        assert text_of(page, "product-card-price") == "CN¥99.00 CN¥129.00"  # both SKUs list at ¥129
        assert '<s class="price-was">CN¥129.00</s>' in page
        assert '<span class="promo-tag">Spend CN¥299.00, get CN¥30.00 off</span>' in page


# -- campaign pages -----------------------------------------------------------------------------


async def test_campaign_page_shows_its_products_and_coupons(client: AsyncClient, shop: Shop) -> None:
    product_id = await product_of(shop)
    async with uow() as session:
        campaign = await promotions.create_campaign(
            session,
            data=promotions.CampaignWrite(
                name="618 大促",
                slug="618",
                starts_at=clock.now() - dt.timedelta(hours=1),
                ends_at=clock.now() + dt.timedelta(days=2),
                blocks=[promotions.ProductsBlock(title="爆款", product_ids=(product_id,))],
            ),
            actor=SYSTEM,
        )
        await promotions.publish_campaign(session, campaign_id=campaign.id, actor=SYSTEM)
    await make_promotion(timed(shop.red, 9900), campaign_id=campaign.id)
    await make_coupon_template(name="618券", amount_off=1000, campaign_id=campaign.id)
    await make_coupon_template(name="别的券", amount_off=1000)

    page = (await client.get("/campaigns/618", headers=EN)).text

    assert '<h1 id="campaign-title">618 大促</h1>' in page
    assert '<h2 id="campaign-block-1">爆款</h2>' in page
    assert '<s class="price-was">CN¥129.00</s>' in page
    assert '<p class="coupon-name">618券</p>' in page
    assert "别的券" not in page
    assert text_of(page, "countdown") in {"1d 23:59:59", "1d 23:59:58"}  # to its end, 2 days on


async def product_of(shop: Shop) -> int:
    async with uow(write=False) as s:
        skus = await catalog.get_sellable_skus(s, sku_ids=[shop.red])
    return skus[shop.red].product_id


async def test_a_campaign_that_is_not_live_is_a_clear_404(client: AsyncClient) -> None:
    async with uow() as session:
        await promotions.create_campaign(
            session,
            data=promotions.CampaignWrite(
                name="草稿",
                slug="draft-one",
                starts_at=clock.now() - dt.timedelta(hours=1),
                ends_at=clock.now() + dt.timedelta(days=1),
            ),
            actor=SYSTEM,
        )

    draft = await client.get("/campaigns/draft-one", headers=EN)
    unknown = await client.get("/campaigns/nothing-here", headers=EN)
    malformed = await client.get("/campaigns/Bad_Slug", headers=EN)

    for response in (draft, unknown):
        assert response.status_code == 404
        assert "This campaign has ended or has not begun yet." in response.text
    assert malformed.status_code == 404
