"""The price calculation: examples a shopper would check by hand, and properties for any input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato import pricing
from mercato.pricing import (
    AdjustmentTarget,
    Delivery,
    LineIn,
    PriceBreakIn,
    PricingContext,
    Proposal,
    Reason,
    ShippingBasis,
    ShippingRule,
    ShippingTemplate,
    Stacking,
    TaxMode,
)

CNY = PricingContext(currency="CNY", province="上海市")


def line(key: str, price: int, quantity: int = 1, **fields: object) -> LineIn:
    return LineIn(
        key=key, sku_id=ord(key[0]), product_id=1, quantity=quantity, unit_price_amount=price, **fields
    )


@dataclass
class FullReduction:
    """满 threshold 减 off, on the whole order."""

    threshold: int
    off: int
    stacking: Stacking = Stacking.stack
    name: str = "full-reduction"

    def propose(self, *, lines: Sequence[pricing.LineState], context: PricingContext) -> list[Proposal]:
        if sum(s.remaining_amount for s in lines) < self.threshold:
            return []
        return [
            Proposal(
                code=f"full-reduction:{self.threshold}",
                reason=Reason(
                    message="Spend {threshold}, save {off}",
                    params={"threshold": self.threshold, "off": self.off},
                ),
                amount=self.off,
                stacking=self.stacking,
            )
        ]


@dataclass
class LineCoupon:
    """Money off chosen lines."""

    keys: tuple[str, ...]
    off: int
    stacking: Stacking = Stacking.stack
    name: str = "coupon"

    def propose(self, *, lines: Sequence[pricing.LineState], context: PricingContext) -> list[Proposal]:
        return [
            Proposal(
                code="coupon:LINE",
                reason=Reason(message="Coupon"),
                amount=self.off,
                line_keys=self.keys,
                stacking=self.stacking,
            )
        ]


@dataclass
class FreeShipping:
    name: str = "free-shipping"

    def propose(self, *, lines: Sequence[pricing.LineState], context: PricingContext) -> list[Proposal]:
        return [
            Proposal(
                code="coupon:SHIP",
                reason=Reason(message="Free shipping"),
                target=AdjustmentTarget.shipping,
                amount=10**9,
            )
        ]


TEMPLATE = ShippingTemplate(
    name="standard",
    rules=(
        ShippingRule(
            regions=("新疆维吾尔自治区", "西藏自治区"), first_fee_amount=2000, additional_fee_amount=1000
        ),
        ShippingRule(first_fee_amount=800, additional_fee_amount=200, free_over_amount=9900),
    ),
    express_surcharge_amount=1200,
)


def test_quantity_price_breaks_pick_the_lowest_price_reached() -> None:
    breaks = (
        PriceBreakIn(min_quantity=10, unit_price_amount=900),
        PriceBreakIn(min_quantity=50, unit_price_amount=800),
    )

    prices = [
        pricing.calculate(lines=[line("a", 1000, q, price_breaks=breaks)], context=CNY)
        .lines[0]
        .unit_price_amount
        for q in (1, 9, 10, 49, 50, 500)
    ]

    assert prices == [1000, 1000, 900, 900, 800, 800]


def test_an_order_discount_is_shared_over_the_lines_to_the_fen() -> None:
    result = pricing.calculate(
        lines=[line("a", 3333), line("b", 3333), line("c", 3334)],
        context=CNY,
        providers=[FullReduction(10000, 1000)],
    )

    assert [(x.discount_amount, x.total_amount) for x in result.lines] == [
        (333, 3000),
        (333, 3000),
        (334, 3000),
    ]
    assert (result.subtotal_amount, result.discount_amount, result.goods_amount) == (10000, 1000, 9000)
    assert result.adjustments[0].per_line == {"a": 333, "b": 333, "c": 334}
    assert result.adjustments[0].reason.params == {"threshold": 10000, "off": 1000}


def test_a_discount_never_takes_a_line_below_zero() -> None:
    result = pricing.calculate(
        lines=[line("a", 500), line("b", 2000)], context=CNY, providers=[LineCoupon(("a",), 800)]
    )

    assert [(x.total_amount) for x in result.lines] == [0, 2000]
    assert result.adjustments[0].amount == 500


def test_an_exclusive_offer_does_not_stack_with_what_came_before() -> None:
    exclusive = LineCoupon(("a", "b"), 3000, Stacking.exclusive)

    alone = pricing.calculate(lines=[line("a", 5000), line("b", 5000)], context=CNY, providers=[exclusive])
    after_reduction = pricing.calculate(
        lines=[line("a", 5000), line("b", 5000)],
        context=CNY,
        providers=[FullReduction(10000, 1000), exclusive],
    )
    first_then_more = pricing.calculate(
        lines=[line("a", 5000), line("b", 5000)],
        context=CNY,
        providers=[exclusive, FullReduction(5000, 1000)],
    )

    assert alone.discount_amount == 3000
    assert [a.code for a in after_reduction.adjustments] == ["full-reduction:10000"]
    assert [a.code for a in first_then_more.adjustments] == ["coupon:LINE"]


@pytest.mark.parametrize(
    ("province", "quantity", "delivery", "fee", "gap"),
    [
        ("上海市", 1, Delivery.standard, 800, 9900 - 3000),
        ("上海市", 3, Delivery.standard, 800 + 2 * 200, 9900 - 9000),
        ("上海市", 4, Delivery.standard, 0, 0),  # 满99包邮
        ("上海市", 4, Delivery.express, 1200, 0),  # free standard shipping, express surcharge paid
        ("新疆维吾尔自治区", 4, Delivery.standard, 2000 + 3 * 1000, None),  # no free shipping there
        ("上海市", 1, Delivery.pickup, 0, None),
    ],
)
def test_shipping_by_destination_pieces_and_threshold(
    province: str, quantity: int, delivery: Delivery, fee: int, gap: int | None
) -> None:
    context = PricingContext(currency="CNY", province=province, delivery=delivery)

    result = pricing.calculate(lines=[line("a", 3000, quantity)], context=context, shipping=TEMPLATE)

    assert (result.shipping_amount, result.free_shipping_gap_amount) == (fee, gap)


def test_shipping_by_weight_rounds_up_each_additional_step() -> None:
    by_weight = ShippingTemplate(
        name="heavy",
        rules=(
            ShippingRule(
                basis=ShippingBasis.weight,
                first_units=1000,
                first_fee_amount=1000,
                additional_units=500,
                additional_fee_amount=300,
            ),
        ),
    )

    fees = [
        pricing.calculate(
            lines=[line("a", 100, 1, weight_grams=g)], context=CNY, shipping=by_weight
        ).shipping_amount
        for g in (1000, 1001, 1500, 1501)
    ]

    assert fees == [1000, 1300, 1300, 1600]


def test_the_free_shipping_threshold_counts_goods_after_discounts() -> None:
    result = pricing.calculate(
        lines=[line("a", 10000)], context=CNY, providers=[FullReduction(10000, 500)], shipping=TEMPLATE
    )

    assert (result.goods_amount, result.shipping_amount, result.free_shipping_gap_amount) == (9500, 800, 400)


def test_a_shipping_coupon_is_capped_at_the_fee() -> None:
    result = pricing.calculate(
        lines=[line("a", 3000)], context=CNY, providers=[FreeShipping()], shipping=TEMPLATE
    )

    assert (result.shipping_fee_amount, result.shipping_discount_amount, result.shipping_amount) == (
        800,
        800,
        0,
    )
    assert result.total_amount == 3000


def test_vat_included_is_the_part_of_each_line() -> None:
    result = pricing.calculate(lines=[line("a", 11300), line("b", 999)], context=CNY)

    assert [x.tax_amount for x in result.lines] == [1300, 115]
    assert (result.tax_amount, result.total_amount) == (1415, 12299)


def test_cross_border_tax_is_added_on_goods_and_shipping() -> None:
    context = PricingContext(
        currency="CNY", province="上海市", tax_mode=TaxMode.added, tax_rate=Decimal("0.091")
    )

    result = pricing.calculate(lines=[line("a", 5000), line("b", 2000)], context=context, shipping=TEMPLATE)

    assert result.shipping_amount == 1000  # two pieces: 8.00 + 2.00
    assert result.tax_amount == 728  # 9.1 % of 80.00
    assert [x.tax_amount for x in result.lines] == [520, 208]
    assert result.total_amount == 5000 + 2000 + 1000 + 728


def test_duplicate_line_keys_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unique"):
        pricing.calculate(lines=[line("a", 1), line("a", 2)], context=CNY)


# -- properties -----------------------------------------------------------------------------

lines_strategy = st.lists(
    st.builds(
        LineIn,
        key=st.uuids().map(str),
        sku_id=st.integers(1, 10**6),
        product_id=st.integers(1, 10**6),
        quantity=st.integers(1, 1000),
        unit_price_amount=st.integers(0, 10**7),
        weight_grams=st.integers(0, 50_000),
        price_breaks=st.lists(
            st.builds(
                PriceBreakIn, min_quantity=st.integers(2, 500), unit_price_amount=st.integers(0, 10**7)
            ),
            max_size=3,
        ).map(tuple),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda x: x.key,
)
providers_strategy = st.lists(
    st.one_of(
        st.builds(
            FullReduction,
            threshold=st.integers(0, 10**8),
            off=st.integers(0, 10**8),
            stacking=st.sampled_from(Stacking),
        ),
        st.builds(FreeShipping),
    ),
    max_size=4,
)
contexts = st.builds(
    PricingContext,
    currency=st.just("CNY"),
    province=st.sampled_from(["上海市", "新疆维吾尔自治区", None]),
    delivery=st.sampled_from(Delivery),
    tax_mode=st.sampled_from(TaxMode),
    tax_rate=st.sampled_from([Decimal(0), Decimal("0.06"), Decimal("0.091"), Decimal("0.13")]),
)


@given(lines=lines_strategy, providers=providers_strategy, context=contexts)
def test_totals_are_never_negative_and_the_parts_add_up(
    lines: list[LineIn], providers: list[pricing.PromotionProvider], context: PricingContext
) -> None:
    result = pricing.calculate(lines=lines, context=context, providers=providers, shipping=TEMPLATE)

    amounts = [
        result.total_amount,
        result.goods_amount,
        result.shipping_amount,
        result.tax_amount,
        result.discount_amount,
    ]
    assert min(amounts) >= 0
    assert all(x.total_amount >= 0 and x.discount_amount >= 0 for x in result.lines)
    assert sum(x.total_amount for x in result.lines) == result.goods_amount
    assert sum(x.discount_amount for x in result.lines) == result.discount_amount
    assert sum(x.tax_amount for x in result.lines) == result.tax_amount
    added_tax = result.tax_amount if context.tax_mode is TaxMode.added else 0
    assert result.total_amount == result.goods_amount + result.shipping_amount + added_tax
    assert (
        sum(a.amount for a in result.adjustments if a.target is AdjustmentTarget.lines)
        == result.discount_amount
    )


@given(lines=lines_strategy, providers=providers_strategy, context=contexts)
def test_the_same_input_always_gives_the_same_output(
    lines: list[LineIn], providers: list[pricing.PromotionProvider], context: PricingContext
) -> None:
    first = pricing.calculate(lines=lines, context=context, providers=providers, shipping=TEMPLATE)
    second = pricing.calculate(
        lines=list(lines), context=context, providers=list(providers), shipping=TEMPLATE
    )

    assert first == second


@given(lines=lines_strategy, providers=providers_strategy, context=contexts)
def test_calculate_total_is_the_total_of_calculate(
    lines: list[LineIn], providers: list[pricing.PromotionProvider], context: PricingContext
) -> None:
    full = pricing.calculate(lines=lines, context=context, providers=providers, shipping=TEMPLATE)

    total = pricing.calculate_total(lines=lines, context=context, providers=providers, shipping=TEMPLATE)

    assert total == full.total_amount


def test_a_proposal_naming_each_line_takes_at_most_what_is_left_of_it() -> None:
    lines = [line("a", 1000), line("b", 500), line("c", 800)]
    exact = Proposal(
        code="timed:1",
        reason=pricing.Reason(message="timed"),
        amount=1500,
        line_keys=("a", "b", "zzz"),
        line_amounts={"a": 300, "b": 1200, "zzz": 5},  # b asks for more than it has; zzz is absent
    )

    class Timed:
        name = "timed"

        def propose(self, *, lines: Sequence[pricing.LineState], context: PricingContext) -> list[Proposal]:
            return [exact]

    result = pricing.calculate(lines=lines, context=CNY, providers=[Timed()])

    assert [(x.key, x.discount_amount) for x in result.lines] == [("a", 300), ("b", 500), ("c", 0)]
    assert [(a.amount, a.per_line) for a in result.adjustments] == [(800, {"a": 300, "b": 500})]
