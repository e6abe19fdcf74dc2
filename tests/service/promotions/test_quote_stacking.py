"""The quote with real promotions: each kind to the fen, scope, conditions, exclusion groups and
the stacking order."""

from __future__ import annotations

import datetime as dt

from mercato import pricing, promotions
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.promotions import CONTEXT, line, make_promotion, reduction, set_paid_orders

SHIPPING = pricing.ShippingTemplate(
    name="普通", rules=(pricing.ShippingRule(first_fee_amount=1000, free_over_amount=None),)
)


async def priced(lines: list[pricing.LineIn], **kwargs: object) -> promotions.Quote:
    async with uow(write=False) as session:
        return await promotions.quote(session, lines=lines, context=CONTEXT, shipping=None, **kwargs)  # type: ignore[arg-type]


def shares(quote: promotions.Quote) -> list[tuple[str, int, dict[str, int]]]:
    return [(a.code, a.amount, a.per_line) for a in quote.result.adjustments]


async def test_full_reduction_takes_the_best_tier_reached_and_shares_it_exactly() -> None:
    promo = await make_promotion(reduction((19900, 2000), (39900, 5000)), name="满199减20")
    quote = await priced([line("a", price=15000), line("b", price=10000)])
    assert shares(quote) == [(f"promotion:{promo.id}", 2000, {"a": 1200, "b": 800})]
    assert quote.result.total_amount == 23000
    assert quote.names == {f"promotion:{promo.id}": "满199减20"}
    assert quote.promotion_ids == (promo.id,)
    assert [(h.promotion_id, h.gap_amount, h.reward.params) for h in quote.hints] == [
        (promo.id, 14900, {"amount": "¥50.00"})
    ]
    reason = quote.result.adjustments[0].reason
    assert (reason.message, reason.params) == (
        "Spend {threshold}, get {amount} off",
        {"threshold": "¥199.00", "amount": "¥20.00"},
    )


async def test_repeating_reduction_is_capped() -> None:
    promo = await make_promotion(reduction((10000, 1000), repeat=True, cap=2500))
    quote = await priced([line("a", price=35000)])
    assert shares(quote) == [(f"promotion:{promo.id}", 2500, {"a": 2500})]
    assert quote.hints == ()  # the cap is reached: nothing more to gain


async def test_below_every_threshold_nothing_applies_and_the_gap_is_hinted() -> None:
    promo = await make_promotion(reduction((19900, 2000)))
    quote = await priced([line("a", price=17600)])
    assert quote.result.adjustments == ()
    assert [(h.promotion_id, h.kind, h.gap_amount) for h in quote.hints] == [
        (promo.id, promotions.PromotionKind.full_reduction, 2300)
    ]


async def test_full_discount_by_pieces_rounds_half_up() -> None:
    rule = promotions.FullDiscountRule(tiers=(promotions.DiscountTier(threshold_pieces=2, percent_off=15),))
    promo = await make_promotion(rule)
    quote = await priced([line("a", price=9999), line("b", price=1, quantity=1)])
    # 15 % of 100.00 = 15.00; of 99.99 + 0.01 the same
    assert shares(quote) == [(f"promotion:{promo.id}", 1500, {"a": 1500})]
    single = await priced([line("c", price=9999, quantity=2)])
    assert single.result.adjustments[0].amount == 3000  # 15 % of 199.98 = 29.997 → 30.00


async def test_nth_item_discount_is_per_line() -> None:
    promo = await make_promotion(promotions.NthDiscountRule(nth=2, percent_off=50))
    quote = await priced(
        [line("a", price=10000, quantity=3), line("b", price=3333, quantity=2), line("c", price=500)]
    )
    # one adjustment naming each line's share: half of 33.33 rounds up
    assert shares(quote) == [(f"promotion:{promo.id}", 6667, {"a": 5000, "b": 1667})]


async def test_timed_price_comes_first_and_thresholds_see_it() -> None:
    a = line("a", price=10000, quantity=2, sku_id=(await listed_skus(price=10000))[0])
    b = line("b", price=12000, sku_id=(await listed_skus(price=12000))[0])
    timed = await make_promotion(
        promotions.TimedDiscountRule(
            items=(
                promotions.TimedItem(sku_id=a.sku_id, percent_off=15),
                promotions.TimedItem(sku_id=b.sku_id, price_amount=9000),
            )
        )
    )
    cheaper = await make_promotion(
        promotions.TimedDiscountRule(items=(promotions.TimedItem(sku_id=b.sku_id, price_amount=9500),))
    )
    rule = await make_promotion(reduction((37000, 3000)))
    quote = await priced([a, b])
    # a: 2 x (100 - 85) = 30; b: the lower timed price, 120 - 90; then 170 + 90 = 260 < 370
    assert shares(quote) == [
        (f"promotion:{timed.id}", 6000, {"a": 3000, "b": 3000}),  # one adjustment per promotion
    ]
    assert cheaper.id not in quote.promotion_ids
    assert [(h.promotion_id, h.gap_amount) for h in quote.hints] == [(rule.id, 11000)]


async def test_scope_takes_descendants_brands_and_exclusions_win() -> None:
    scope = promotions.Scope(all_goods=False, category_ids=(5,), brand_ids=(9,), exclude_sku_ids=(777,))
    promo = await make_promotion(reduction((10000, 1000)), scope=scope)
    quote = await priced(
        [
            line("child", price=6000, category_ids=(1, 5, 8)),
            line("brand", price=4000, brand_id=9),
            line("out", price=50000, category_ids=(1, 2)),
            line("excluded", price=50000, category_ids=(1, 5), sku_id=777),
        ]
    )
    assert shares(quote) == [(f"promotion:{promo.id}", 1000, {"child": 600, "brand": 400})]


async def test_conditions_new_customer_first_order_and_channel() -> None:
    new = await make_promotion(
        reduction((1000, 100)), conditions=promotions.Conditions(new_customers_only=True, new_customer_days=7)
    )
    first = await make_promotion(
        reduction((1000, 200)), conditions=promotions.Conditions(first_order_only=True)
    )
    app = await make_promotion(
        reduction((1000, 300)), conditions=promotions.Conditions(channels=(promotions.Channel.app,))
    )
    customer = await make_customer()
    lines = [line("a", price=5000)]
    assert (await priced(lines)).promotion_ids == ()  # a guest on the web
    assert (await priced(lines, customer_id=customer.id)).promotion_ids == (new.id, first.id)
    assert (await priced(lines, customer_id=customer.id, channel=promotions.Channel.app)).promotion_ids == (
        new.id,
        first.id,
        app.id,
    )
    await set_paid_orders(customer.id, 1)
    clock.advance(dt.timedelta(days=8))
    assert (await priced(lines, customer_id=customer.id)).promotion_ids == ()


async def test_exclusion_group_keeps_the_member_saving_most_others_stack_by_priority() -> None:
    small = await make_promotion(reduction((10000, 1000)), exclusive_group="618", priority=5)
    big = await make_promotion(reduction((10000, 1500)), exclusive_group="618")
    other = await make_promotion(
        promotions.FullDiscountRule(tiers=(promotions.DiscountTier(threshold_amount=1, percent_off=10),)),
        priority=9,
    )
    quote = await priced([line("a", price=20000)])
    # priority 9 first: 10 % of 200 = 20; then the group's best on the 180 left: 15
    assert shares(quote) == [
        (f"promotion:{other.id}", 2000, {"a": 2000}),
        (f"promotion:{big.id}", 1500, {"a": 1500}),
    ]
    assert small.id not in quote.promotion_ids


async def test_free_shipping_promotion_takes_the_fee_where_it_applies() -> None:
    promo = await make_promotion(
        promotions.FreeShippingRule(threshold_amount=9900, provinces=("浙江省",)), name="满99包邮"
    )
    lines = [line("a", price=9900)]
    async with uow(write=False) as session:
        there = await promotions.quote(
            session, lines=lines, context=CONTEXT.model_copy(update={"province": "浙江省"}), shipping=SHIPPING
        )
        elsewhere = await promotions.quote(
            session,
            lines=lines,
            context=CONTEXT.model_copy(update={"province": "新疆维吾尔自治区"}),
            shipping=SHIPPING,
        )
    assert (
        there.result.shipping_fee_amount,
        there.result.shipping_discount_amount,
        there.result.total_amount,
    ) == (
        1000,
        1000,
        9900,
    )
    assert shares(there) == [(f"promotion:{promo.id}", 1000, {})]
    assert elsewhere.result.total_amount == 10900


async def test_gift_is_reported_at_its_threshold() -> None:
    gift_sku = (await listed_skus(price=500))[0]
    promo = await make_promotion(
        promotions.GiftRule(threshold_amount=20000, gift_sku_id=gift_sku, gift_quantity=2)
    )
    reached = await priced([line("a", price=20000)])
    short = await priced([line("a", price=19000)])
    assert reached.gifts == (
        promotions.Gift(promotion_id=promo.id, name=promo.name, sku_id=gift_sku, quantity=2),
    )
    assert reached.result.total_amount == 20000
    assert reached.promotion_ids == (promo.id,)
    assert short.gifts == ()
    assert [(h.promotion_id, h.gap_amount) for h in short.hints] == [(promo.id, 1000)]
