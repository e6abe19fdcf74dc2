"""The console's marketing pages (/admin/promotions/, /admin/coupons/, /admin/campaigns/):
pages render for staff holding promotions.read and are refused without it; forms save through
the domain (amounts in yuan, SKUs by code, times in shop time) and a refused form comes back
with the message next to its field, saving nothing; status actions ask first."""

from __future__ import annotations

import datetime as dt
import re

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.core.settings import get_settings
from mercato.promotions.models import (
    Campaign,
    Coupon,
    CouponTemplate,
    IssueRun,
    Promotion,
    Redemption,
    StatusChange,
)
from tests.factories.catalog import make_priced_product
from tests.factories.identity import SYSTEM, make_customer
from tests.factories.promotions import make_promotion, published_template, reduction
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

MARKETER = ("promotions.read", "promotions.write")


def local(moment: dt.datetime) -> str:
    return moment.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M")


async def counts() -> tuple[int, ...]:
    found = []
    async with uow(write=False) as s:
        for model in (Promotion, CouponTemplate, Campaign, IssueRun, StatusChange, Coupon):
            found.append((await s.execute(select(func.count()).select_from(model))).scalar_one())
    return tuple(found)


async def test_the_pages_render_for_a_reader_in_the_marketing_menu(client: AsyncClient) -> None:
    promotion = await make_promotion(reduction((19900, 2000)), name="满 199 减 20")
    template = await published_template(name="新人券")
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    pages = {
        path: await client.get(path, headers=EN)
        for path in (
            "/admin/promotions/",
            "/admin/promotions/?phase=running&kind=full_reduction",
            f"/admin/promotions/{promotion.id}",
            "/admin/coupons/",
            f"/admin/coupons/{template.id}",
            "/admin/campaigns/",
            "/admin/campaigns/calendar",
            "/admin/campaigns/calendar?month=2027-06",
        )
    }

    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(pages, 200)
    listing = pages["/admin/promotions/"].text
    assert "满 199 减 20" in listing
    assert re.findall(r'<a href="(/admin/(?:promotions|coupons|campaigns)/)"', listing)[:3] == [
        "/admin/promotions/",
        "/admin/coupons/",
        "/admin/campaigns/",
    ]
    assert "New promotion" not in listing  # a reader gets no write buttons
    assert "Status history" in pages[f"/admin/promotions/{promotion.id}"].text
    assert "新人券" in pages["/admin/coupons/"].text


async def test_the_pages_are_refused_without_the_permission(client: AsyncClient) -> None:
    promotion = await make_promotion(reduction((19900, 2000)))
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    before = await counts()

    pages = [
        await client.get(path, headers=EN)
        for path in (
            "/admin/promotions/",
            f"/admin/promotions/{promotion.id}",
            "/admin/promotions/new?kind=gift",
            "/admin/coupons/",
            "/admin/coupons/new",
            "/admin/campaigns/",
            "/admin/campaigns/calendar",
        )
    ]
    csrf = csrf_of(await client.get("/admin/orders/"))
    pause = await client.post(
        f"/admin/promotions/{promotion.id}/pause", data={"csrf_token": csrf, "confirmed": "1"}, headers=EN
    )

    assert [page.status_code for page in pages] == [403] * 7
    assert pause.status_code == 403
    assert await counts() == before


async def test_a_promotion_created_in_the_form_then_paused_after_confirming(client: AsyncClient) -> None:
    _product, skus = await make_priced_product(price_amount=5000)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    now = clock.now()
    page = await client.get("/admin/promotions/new?kind=timed_discount", headers=EN)

    created = await client.post(
        "/admin/promotions/",
        data={
            "csrf_token": csrf_of(page),
            "kind": "timed_discount",
            "name": "限时 8 折",
            "item-0-sku": skus[0].code,
            "item-0-percent": "20",
            "scope_mode": "all",
            "starts_at": local(now - dt.timedelta(hours=1)),
            "ends_at": local(now + dt.timedelta(days=1)),
            "priority": "0",
            "allow_coupons": "1",
        },
        headers=EN,
    )
    promotion_id = int(created.headers["location"].split("/")[3].split("?")[0])
    published = await client.post(
        f"/admin/promotions/{promotion_id}/publish", data={"csrf_token": csrf_of(page), "confirmed": "1"}
    )
    asked = await client.post(
        f"/admin/promotions/{promotion_id}/pause", data={"csrf_token": csrf_of(page)}, headers=EN
    )
    async with uow(write=False) as s:
        unpaused = await promotions.get_promotion(s, promotion_id=promotion_id)
    paused = await client.post(
        f"/admin/promotions/{promotion_id}/pause", data={"csrf_token": csrf_of(page), "confirmed": "1"}
    )
    detail = await client.get(f"/admin/promotions/{promotion_id}?notice=paused", headers=EN)
    async with uow(write=False) as s:
        shown = await promotions.get_promotion(s, promotion_id=promotion_id)

    assert created.status_code == 303, created.text
    assert published.status_code == 303
    assert asked.status_code == 200
    assert "Pause it?" in asked.text
    assert unpaused.status.value == "active"
    assert paused.headers["location"] == f"/admin/promotions/{promotion_id}?notice=paused"
    assert shown.status.value == "paused"
    assert isinstance(shown.rule, promotions.TimedDiscountRule)
    assert [(i.sku_id, i.percent_off) for i in shown.rule.items] == [(skus[0].id, 20)]
    assert "Paused." in detail.text


async def test_a_form_with_its_end_before_its_start_comes_back_with_the_message(client: AsyncClient) -> None:
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    now = clock.now()
    page = await client.get("/admin/promotions/new?kind=full_reduction", headers=EN)
    before = await counts()

    refused = await client.post(
        "/admin/promotions/",
        data={
            "csrf_token": csrf_of(page),
            "kind": "full_reduction",
            "name": "满 199 减 20",
            "tier-0-threshold": "199",
            "tier-0-off": "20",
            "starts_at": local(now + dt.timedelta(days=2)),
            "ends_at": local(now + dt.timedelta(days=1)),
        },
        headers=EN,
    )
    unknown_sku = await client.post(
        "/admin/promotions/",
        data={
            "csrf_token": csrf_of(page),
            "kind": "gift",
            "name": "满赠",
            "gift_threshold": "99",
            "gift_sku": "NO-SUCH-SKU",
            "starts_at": local(now),
            "ends_at": local(now + dt.timedelta(days=1)),
        },
        headers=EN,
    )
    bad_amount = await client.post(
        "/admin/promotions/",
        data={
            "csrf_token": csrf_of(page),
            "kind": "full_reduction",
            "name": "满减",
            "tier-0-threshold": "19.999",
            "tier-0-off": "-2",
            "starts_at": local(now),
            "ends_at": local(now + dt.timedelta(days=1)),
        },
        headers=EN,
    )

    assert refused.status_code == 422
    assert alert_of(refused) == "The end must come after the start."
    assert field_error_of(refused, "promotion-ends_at") == "The end must come after the start."
    assert 'value="满 199 减 20"' in refused.text
    assert unknown_sku.status_code == 422
    assert field_error_of(unknown_sku, "promotion-gift_sku") == "No SKU has the code NO-SUCH-SKU."
    assert bad_amount.status_code == 422
    assert (
        field_error_of(bad_amount, "promotion-tier-0-threshold")
        == "Use at most 2 digits after the decimal point."
    )
    assert field_error_of(bad_amount, "promotion-tier-0-off") == "The amount cannot be negative."
    assert await counts() == before


async def test_a_coupon_template_from_the_form_and_issued_to_a_csv_list(client: AsyncClient) -> None:
    first = await make_customer(email="a@example.com")
    second = await make_customer()
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get("/admin/coupons/new", headers=EN)

    created = await client.post(
        "/admin/coupons/",
        data={
            "csrf_token": csrf_of(page),
            "name": "满 100 减 10",
            "kind": "amount",
            "amount_off": "10",
            "min_spend": "100",
            "total_quantity": "50",
            "per_customer_limit": "1",
            "valid_days": "7",
            "scope_mode": "all",
            "claimable": "1",
        },
        headers=EN,
    )
    template_id = int(created.headers["location"].split("/")[3].split("?")[0])
    await client.post(
        f"/admin/coupons/{template_id}/publish", data={"csrf_token": csrf_of(page), "confirmed": "1"}
    )
    listing = f"customer\n{first.email}\n{second.id}\n".encode()
    issued = await client.post(
        f"/admin/coupons/{template_id}/issue",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("customers.csv", listing, "text/csv")},
    )
    await broker.wait_all()
    progress = await client.get(issued.headers["location"], headers=EN)
    fragment = await client.get(issued.headers["location"], headers={**EN, "HX-Request": "true"})
    async with uow(write=False) as s:
        template = await promotions.get_coupon_template(s, template_id=template_id)

    assert created.status_code == 303, created.text
    assert (template.amount_off, template.min_spend_amount, template.status.value) == (1000, 10000, "active")
    assert issued.status_code == 303
    assert progress.status_code == 200
    assert 'data-run-status="done"' in progress.text
    assert "Done: 2 issued, 0 skipped." in progress.text
    assert fragment.text.lstrip().startswith('<div id="run-status"')
    assert "<html" not in fragment.text
    assert template.issued_quantity == 2


async def test_a_campaign_form_refuses_a_backwards_window(client: AsyncClient) -> None:
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    now = clock.now()
    page = await client.get("/admin/campaigns/new", headers=EN)
    before = await counts()

    refused = await client.post(
        "/admin/campaigns/",
        data={
            "csrf_token": csrf_of(page),
            "name": "双11",
            "slug": "double-11",
            "starts_at": local(now + dt.timedelta(days=3)),
            "ends_at": local(now + dt.timedelta(days=1)),
        },
        headers=EN,
    )

    assert refused.status_code == 422
    assert field_error_of(refused, "campaign-ends_at") == "The end must come after the start."
    assert await counts() == before


async def test_the_detail_page_shows_the_report_and_its_chart(client: AsyncClient) -> None:
    promotion = await make_promotion(reduction((19900, 2000)), name="满 199 减 20")
    now = clock.now()
    async with uow() as s:
        s.add(
            Redemption(
                order_id=77,
                customer_id=1,
                code=f"promotion:{promotion.id}",
                promotion_id=promotion.id,
                discount_amount=2000,
                order_goods_amount=18000,
                order_total_amount=18000,
                status="paid",
                created_at=now,
                updated_at=now,
            )
        )
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    page = await client.get(f"/admin/promotions/{promotion.id}", headers=EN)

    assert page.status_code == 200
    kpis = dict(re.findall(r'<dd data-kpi="(\w+)">([^<]*)</dd>', page.text))
    assert kpis == {"orders": "1", "gmv": "CN¥180.00", "discount": "CN¥20.00", "return": "9.00"}
    assert '<script src="/static/build/charts.min.js" defer></script>' in page.text
    assert "data-sales-chart=" in page.text


async def test_the_calendar_draws_the_preheat_and_running_days(client: AsyncClient) -> None:
    tz = get_settings().tz
    starts = dt.datetime(2027, 6, 10, tzinfo=tz)
    async with uow() as s:
        await promotions.create_campaign(
            s,
            data=promotions.CampaignWrite(
                name="618",
                slug="618-2027",
                preheat_starts_at=starts - dt.timedelta(days=2),
                starts_at=starts,
                ends_at=dt.datetime(2027, 6, 19, tzinfo=tz),
            ),
            actor=SYSTEM,
        )
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    june = await client.get("/admin/campaigns/calendar?month=2027-06", headers=EN)
    july = await client.get("/admin/campaigns/calendar?month=2027-07", headers=EN)
    garbage = await client.get("/admin/campaigns/calendar?month=2027-13", headers=EN)

    assert "<h2>June 2027</h2>" in june.text
    assert june.text.count('<td class="cal-preheat"') == 2  # 8 and 9 June
    assert june.text.count('<td class="cal-running"') == 9  # 10 to 18 June (it ends at midnight)
    assert "No campaign this month." in july.text
    assert garbage.status_code == 200
