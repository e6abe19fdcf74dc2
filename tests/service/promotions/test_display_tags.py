"""What product pages and grids show: the timed price and its end, promotion tags by scope, the
券后价 from a held or a claimable coupon, conditions for guests, the preheat price, the cheapest
SKU of a card, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event

from mercato import catalog, promotions
from mercato.core import clock
from mercato.core.db import get_database, uow
from tests.factories.catalog import (
    REVIEWER,
    SYSTEM,
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
    price_sku,
)
from tests.factories.identity import make_customer
from tests.factories.promotions import (
    coupon,
    give_coupon,
    make_coupon_template,
    make_promotion,
    reduction,
    set_paid_orders,
)

P = promotions.PromotionKind
HOUR = dt.timedelta(hours=1)


async def sku_ids(product_id: int) -> list[int]:
    async with uow(write=False) as session:
        return [sku.id for sku in await catalog.list_skus(session, product_id=product_id)]


async def listed(price: int = 10000, **fields: Any) -> list[int]:
    """The SKU ids (red, black) of a new product on sale at ``price``."""
    return await sku_ids((await make_listed_product(price_amount=price, **fields)).id)


async def tags_of(
    skus: Sequence[int],
    *,
    customer_id: int | None = None,
    channel: promotions.Channel = promotions.Channel.web,
) -> dict[int, promotions.PriceTag]:
    async with uow(write=False) as session:
        sellable = await catalog.get_sellable_skus(session, sku_ids=skus)
        return await promotions.price_tags(
            session, skus=list(sellable.values()), customer_id=customer_id, channel=channel
        )


def timed(*items: tuple[int, int | None, int | None]) -> promotions.TimedDiscountRule:
    """限时折扣 from (sku id, price, percent off) triples."""
    return promotions.TimedDiscountRule(
        items=tuple(promotions.TimedItem(sku_id=s, price_amount=p, percent_off=o) for s, p, o in items)
    )


def kinds_shown(tag: promotions.PriceTag) -> list[tuple[int | None, str]]:
    return [(t.promotion_id, t.kind) for t in tag.tags]


async def test_timed_price_shows_with_its_end_and_the_list_price_stays() -> None:
    red, black = await listed(10000)
    other = (await listed(5000))[0]
    promo = await make_promotion(timed((red, 7900, None), (black, None, 15)), name="限时抢购")
    dearer = await make_promotion(timed((red, 8500, None)))

    tags = await tags_of([red, black, other])

    limited = promotions.Tag(
        promotion_id=promo.id, kind="timed_discount", message="Limited-time price", ends_at=promo.ends_at
    )
    assert tags[red] == promotions.PriceTag(
        sku_id=red,
        list_price_amount=10000,
        promo_price_amount=7900,
        promo_ends_at=promo.ends_at,
        tags=(limited,),
    )
    assert (tags[black].promo_price_amount, tags[black].promo_ends_at) == (8500, promo.ends_at)
    assert tags[other] == promotions.PriceTag(sku_id=other, list_price_amount=5000)
    assert dearer.id not in {t.promotion_id for tag in tags.values() for t in tag.tags}


async def test_a_timed_price_no_longer_below_the_list_price_is_not_shown() -> None:
    red, _black = await listed(10000)
    await make_promotion(timed((red, 8000, None)))
    await price_sku(red, 7500)  # the list price moved below the timed one

    assert (await tags_of([red]))[red] == promotions.PriceTag(sku_id=red, list_price_amount=7500)


async def test_tags_follow_each_promotion_scope_with_descendants_brands_and_exclusions() -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    home = await make_category("家居")
    acme = await make_brand("Acme")
    shirt = (await listed(10000, category_id=men.id))[0]
    excluded_product = await make_listed_product(price_amount=10000, category_id=men.id)
    excluded = (await sku_ids(excluded_product.id))[0]
    towel = (await listed(3000, category_id=home.id, brand_id=acme.id))[0]
    plain = (await listed(3000, category_id=home.id))[0]
    full = await make_promotion(
        reduction((19900, 2000)),
        scope=promotions.Scope(
            all_goods=False, category_ids=(clothing.id,), exclude_product_ids=(excluded_product.id,)
        ),
    )
    pieces = await make_promotion(
        promotions.FullDiscountRule(tiers=(promotions.DiscountTier(threshold_pieces=2, percent_off=20),)),
        scope=promotions.Scope(all_goods=False, brand_ids=(acme.id,)),
    )
    nth = await make_promotion(
        promotions.NthDiscountRule(nth=2, percent_off=50),
        scope=promotions.Scope(exclude_sku_ids=(plain,)),
        priority=5,
    )
    shipping = await make_promotion(promotions.FreeShippingRule(threshold_amount=9900))

    tags = await tags_of([shirt, excluded, towel, plain])

    # higher priority first, then the older
    assert kinds_shown(tags[shirt]) == [
        (nth.id, P.nth_discount),
        (full.id, P.full_reduction),
        (shipping.id, P.free_shipping),
    ]
    assert kinds_shown(tags[excluded]) == [(nth.id, P.nth_discount), (shipping.id, P.free_shipping)]
    assert kinds_shown(tags[towel]) == [
        (nth.id, P.nth_discount),
        (pieces.id, P.full_discount),
        (shipping.id, P.free_shipping),
    ]
    assert kinds_shown(tags[plain]) == [(shipping.id, P.free_shipping)]
    assert [(t.message, t.params, t.ends_at) for t in tags[towel].tags] == [
        ("{percent} off item number {nth}", {"percent": "50%", "nth": 2, "fold": "5"}, None),
        ("Buy {pieces}, get {percent} off", {"percent": "20%", "fold": "8", "pieces": 2}, None),
        ("Free shipping over {threshold}", {"threshold": "¥99.00"}, None),
    ]
    assert (tags[shirt].tags[1].message, tags[shirt].tags[1].params) == (
        "Spend {threshold}, get {amount} off",
        {"threshold": "¥199.00", "amount": "¥20.00"},
    )
    assert {tag.promo_price_amount for tag in tags.values()} == {None}  # tags change no unit price


async def test_coupon_price_takes_the_best_held_coupon_after_the_timed_price() -> None:
    alice = await make_customer()
    red, black = await listed(10000)
    blocked = (await listed(10000))[0]
    await make_promotion(timed((red, 8000, None)))
    await make_promotion(timed((blocked, 9000, None)), allow_coupons=False)
    await coupon(alice.id, amount_off=1500, min_spend_amount=5000, claimable=False)
    await coupon(
        alice.id,
        promotions.CouponKind.percent,
        percent_off=20,
        max_discount_amount=1000,
        claimable=False,
    )
    worse = await make_coupon_template(amount_off=1000)

    tags = await tags_of([red, black, blocked], customer_id=alice.id)

    # red: 80.00 - 15.00 (the 20 % coupon is capped at 10.00); black: 100.00 - 20 % capped = 90.00,
    # 100.00 - 15.00 = 85.00; the claimable ¥10 saves less
    assert (tags[red].promo_price_amount, tags[red].coupon_price_amount, tags[red].coupon_template_id) == (
        8000,
        6500,
        None,
    )
    assert (tags[black].coupon_price_amount, tags[black].coupon_template_id) == (8500, None)
    # its timed price does not combine with coupons
    assert (tags[blocked].promo_price_amount, tags[blocked].coupon_price_amount) == (9000, None)
    guest = await tags_of([red, black])  # a guest holds nothing; the claimable one is offered
    assert [(guest[s].coupon_price_amount, guest[s].coupon_template_id) for s in (red, black)] == [
        (7000, worse),
        (9000, worse),
    ]


async def test_coupon_price_from_a_claimable_template_names_it_until_claimed_to_the_limit() -> None:
    alice = await make_customer()
    red, _black = await listed(10000)
    template = await make_coupon_template(
        amount_off=2000, min_spend_amount=9900, valid_days=3, valid_from=None, valid_until=None
    )
    await make_coupon_template(amount_off=1000)

    before = (await tags_of([red], customer_id=alice.id))[red]
    async with uow() as session:
        await promotions.claim_coupon(session, template_id=template, customer_id=alice.id)
    after = (await tags_of([red], customer_id=alice.id))[red]

    assert (before.coupon_price_amount, before.coupon_template_id) == (8000, template)
    assert (after.coupon_price_amount, after.coupon_template_id) == (8000, None)  # now held


async def test_no_coupon_price_when_no_coupon_lowers_it() -> None:
    alice = await make_customer()
    home = await make_category("家居")
    red, _black = await listed(10000)
    await make_coupon_template(promotions.CouponKind.free_shipping)
    await make_coupon_template(amount_off=1000, min_spend_amount=10001)
    await make_coupon_template(
        amount_off=1000, scope=promotions.Scope(all_goods=False, category_ids=(home.id,))
    )
    await make_coupon_template(amount_off=1000, total_quantity=5, issued_quantity=5)  # sold out
    await make_coupon_template(amount_off=1000, claim_starts_at=clock.now() + HOUR)
    await make_coupon_template(amount_off=1000, channels=[str(promotions.Channel.app)])
    await make_coupon_template(amount_off=1000, claimable=False)
    await make_coupon_template(
        amount_off=1000, valid_from=clock.now() + HOUR, valid_until=clock.now() + 2 * HOUR
    )  # not valid yet
    held = await make_coupon_template(amount_off=3000, claimable=False)
    await give_coupon(alice.id, held, valid_until=clock.now() - HOUR)  # expired
    await give_coupon(alice.id, held, status=promotions.CouponStatus.used)
    await give_coupon(alice.id, held, valid_from=clock.now() + HOUR)  # not valid yet

    tag = (await tags_of([red], customer_id=alice.id))[red]

    assert tag == promotions.PriceTag(sku_id=red, list_price_amount=10000)


async def test_a_promotion_for_customers_is_not_shown_to_a_guest() -> None:
    red, _black = await listed(10000)
    welcome = await make_promotion(
        timed((red, 6000, None)), conditions=promotions.Conditions(new_customers_only=True)
    )
    first = await make_promotion(
        reduction((5000, 500)), conditions=promotions.Conditions(first_order_only=True)
    )
    app_only = await make_promotion(
        reduction((5000, 800)), conditions=promotions.Conditions(channels=(promotions.Channel.app,))
    )
    newcomer = await make_customer()
    regular = await make_customer()
    await set_paid_orders(regular.id, 2)

    guest = (await tags_of([red]))[red]
    new = (await tags_of([red], customer_id=newcomer.id))[red]
    old = (await tags_of([red], customer_id=regular.id))[red]
    on_app = (await tags_of([red], customer_id=regular.id, channel=promotions.Channel.app))[red]

    assert guest == promotions.PriceTag(sku_id=red, list_price_amount=10000)
    assert (new.promo_price_amount, kinds_shown(new)) == (
        6000,
        [(welcome.id, P.timed_discount), (first.id, P.full_reduction)],
    )
    assert (old.promo_price_amount, kinds_shown(old)) == (6000, [(welcome.id, P.timed_discount)])
    assert kinds_shown(on_app) == [(welcome.id, P.timed_discount), (app_only.id, P.full_reduction)]


async def test_preheat_shows_the_coming_price_then_the_real_one_from_the_start() -> None:
    red, black = await listed(10000)
    now = clock.now()
    async with uow() as session:
        campaign = await promotions.create_campaign(
            session,
            data=promotions.CampaignWrite(
                name="双11",
                slug="double-11",
                preheat_starts_at=now + HOUR,
                starts_at=now + 2 * HOUR,
                ends_at=now + 26 * HOUR,
            ),
            actor=SYSTEM,
        )
        await promotions.publish_campaign(session, campaign_id=campaign.id, actor=SYSTEM)
    promo = await make_promotion(
        timed((red, 6600, None), (black, 9500, None)),
        campaign_id=campaign.id,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
    )
    running = await make_promotion(timed((black, 9000, None)))  # now, and lower than 95.00

    seen = []
    for _hour in range(3):
        tags = await tags_of([red, black])
        seen.append(
            [
                (t.promo_price_amount, t.promo_ends_at, t.preheat_price_amount, t.preheat_starts_at)
                for t in (tags[red], tags[black])
            ]
        )
        clock.advance(HOUR)

    assert seen == [
        [(None, None, None, None), (9000, running.ends_at, None, None)],  # before the preheat
        [(None, None, 6600, campaign.starts_at), (9000, running.ends_at, None, None)],
        [(6600, promo.ends_at, None, None), (9000, running.ends_at, None, None)],  # started
    ]


async def test_card_tags_price_each_product_by_its_cheapest_sku_now() -> None:
    product, skus = await make_priced_product(specs={"colour": ["红色", "黑色", "白色"]}, price_amount=5000)
    by_colour = {s.spec["colour"]: s.id for s in skus}
    red, black, white = by_colour["红色"], by_colour["黑色"], by_colour["白色"]
    await price_sku(red, 1000, status=catalog.SkuStatus.disabled)  # not sellable
    await price_sku(white, 4500)
    async with uow() as session:
        await catalog.submit_for_review(session, product_id=product.id, actor=SYSTEM)
    async with uow() as session:
        await catalog.approve_listing(session, product_id=product.id, actor=REVIEWER)
    tie = await make_listed_product(price_amount=3000)
    tie_first = (await sku_ids(tie.id))[0]

    async def cards_tags() -> dict[int, promotions.PriceTag]:
        async with uow(write=False) as session:
            cards = await catalog.list_storefront_cards(session, product_ids=[tie.id, product.id])
            return await promotions.card_tags(session, cards=cards)

    plain = await cards_tags()
    promo = await make_promotion(timed((white, 4400, None), (black, 4000, None)))
    promoted = await cards_tags()
    async with uow(write=False) as session:
        assert await promotions.card_tags(session, cards=[]) == {}

    assert plain == {
        tie.id: promotions.PriceTag(sku_id=tie_first, list_price_amount=3000),  # a tie: the lower id
        product.id: promotions.PriceTag(sku_id=white, list_price_amount=4500),
    }
    assert list(plain) == [tie.id, product.id]  # the cards' order
    # black's timed 40.00 is now the lowest price the product sells at
    assert promoted[product.id] == promotions.PriceTag(
        sku_id=black,
        list_price_amount=5000,
        promo_price_amount=4000,
        promo_ends_at=promo.ends_at,
        tags=(
            promotions.Tag(
                promotion_id=promo.id,
                kind="timed_discount",
                message="Limited-time price",
                ends_at=promo.ends_at,
            ),
        ),
    )


async def test_queries_do_not_grow_with_the_skus() -> None:
    alice = await make_customer()
    skus = [s for _ in range(5) for s in await listed(10000)]
    await make_promotion(timed(*((s, 8000, None) for s in skus)))
    await coupon(alice.id, amount_off=1000, claimable=False)
    await make_coupon_template(amount_off=500)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async def queries(ids: list[int], customer_id: int | None) -> int:
        async with uow(write=False) as session:
            sellable = list((await catalog.get_sellable_skus(session, sku_ids=ids)).values())
            await promotions.price_tags(session, skus=sellable, customer_id=customer_id)  # warm the snapshots
            statements.clear()
            engine = get_database().engine.sync_engine
            event.listen(engine, "before_cursor_execute", count)
            try:
                tags = await promotions.price_tags(session, skus=sellable, customer_id=customer_id)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        assert {t.coupon_price_amount for t in tags.values()} == ({7000} if customer_id else {7500})
        return len(statements)

    # signed in: the wallet and the claimable templates; a guest: none (the guest view is kept)
    assert [await queries(skus[:1], alice.id), await queries(skus, alice.id)] == [2, 2]
    assert [await queries(skus[:1], None), await queries(skus, None)] == [0, 0]
    # a live promotion for first orders: the customer's facts too (registration, paid orders)
    await make_promotion(reduction((19900, 2000)), conditions=promotions.Conditions(first_order_only=True))
    assert [await queries(skus[:1], alice.id), await queries(skus, alice.id)] == [4, 4]
    assert await queries(skus, None) == 0


async def test_a_card_carries_the_first_three_tags_and_the_page_all() -> None:
    red, _black = await listed(10000)
    made = [await make_promotion(reduction((19900 + n, 1000)), priority=n) for n in range(5)]
    async with uow(write=False) as session:
        product = (await catalog.get_sku_refs(session, sku_ids=[red]))[red].product_id
        cards = await catalog.list_storefront_cards(session, product_ids=[product])
        card = (await promotions.card_tags(session, cards=cards))[product]
    page = (await tags_of([red]))[red]

    by_priority = [p.id for p in reversed(made)]  # higher priority first
    assert [t.promotion_id for t in page.tags] == by_priority
    assert [t.promotion_id for t in card.tags] == by_priority[:3]
    assert card.model_copy(update={"tags": page.tags}) == page  # the rest is the same


async def test_of_several_free_shipping_tags_only_the_lowest_threshold_shows() -> None:
    red, _black = await listed(10000)
    higher = await make_promotion(promotions.FreeShippingRule(threshold_amount=19900), priority=2)
    lowest = await make_promotion(promotions.FreeShippingRule(threshold_amount=9900))
    far = await make_promotion(promotions.FreeShippingRule(threshold_amount=5000, provinces=("西藏自治区",)))
    pieces = await make_promotion(promotions.FreeShippingRule(threshold_pieces=3))

    tag = (await tags_of([red]))[red]

    # 满 199 包邮 says nothing 满 99 包邮 does not; a provincial or a by-pieces one still does
    assert [t.promotion_id for t in tag.tags] == [lowest.id, far.id, pieces.id]
    assert higher.id not in [t.promotion_id for t in tag.tags]
