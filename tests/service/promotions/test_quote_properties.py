"""Hypothesis properties of pricing with the real promotion and coupon providers (pure: the
``Pricer`` the quote uses, without a database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from mercato import pricing, promotions
from mercato.promotions.coupon_terms import CouponTerms, why_not
from mercato.promotions.quote import Pricer
from mercato.promotions.rules import kinds

NOW = dt.datetime(2026, 6, 18, tzinfo=dt.UTC)
SKUS = (1, 2, 3, 4)
SHIPPING = pricing.ShippingTemplate(
    name="t",
    rules=(pricing.ShippingRule(first_fee_amount=800, additional_fee_amount=200, free_over_amount=30000),),
)
money = st.integers(min_value=1, max_value=40000)
scopes = st.one_of(
    st.just(promotions.Scope()),
    st.builds(
        promotions.Scope,
        all_goods=st.just(False),
        sku_ids=st.lists(st.sampled_from(SKUS), max_size=2).map(tuple),
        category_ids=st.lists(st.sampled_from((10, 11)), max_size=1).map(tuple),
    ),
)


@st.composite
def reductions(draw: st.DrawFn) -> promotions.FullReductionRule:
    thresholds = sorted(draw(st.sets(st.integers(min_value=100, max_value=60000), min_size=1, max_size=3)))
    offs = sorted(
        draw(
            st.sets(
                st.integers(min_value=1, max_value=99), min_size=len(thresholds), max_size=len(thresholds)
            )
        )
    )
    tiers = tuple(
        promotions.ReductionTier(threshold_amount=t, amount_off=t * o // 100 or 1)
        for t, o in zip(thresholds, offs, strict=True)
    )
    return promotions.FullReductionRule(tiers=tiers)


rules = st.one_of(
    reductions(),
    st.builds(
        promotions.FullDiscountRule,
        tiers=st.builds(
            promotions.DiscountTier,
            threshold_amount=st.integers(min_value=0, max_value=50000),
            threshold_pieces=st.integers(min_value=1, max_value=4),
            percent_off=st.integers(min_value=1, max_value=99),
        ).map(lambda t: (t,)),
    ),
    st.builds(
        promotions.NthDiscountRule, nth=st.integers(min_value=2, max_value=3), percent_off=st.integers(1, 100)
    ),
    st.builds(
        promotions.TimedDiscountRule,
        items=st.lists(
            st.builds(promotions.TimedItem, sku_id=st.sampled_from(SKUS), percent_off=st.integers(1, 99)),
            min_size=1,
            max_size=2,
            unique_by=lambda i: i.sku_id,
        ).map(tuple),
    ),
    st.builds(promotions.FreeShippingRule, threshold_amount=st.integers(min_value=0, max_value=30000)),
)


@st.composite
def live_promotions(draw: st.DrawFn) -> list[promotions.PromotionRead]:
    made = []
    for n, rule in enumerate(draw(st.lists(rules, max_size=6)), start=1):
        made.append(
            promotions.PromotionRead(
                id=n,
                name=f"p{n}",
                kind=promotions.PromotionKind(rule.kind),
                status=promotions.PromotionStatus.active,
                phase=promotions.Phase.running,
                rule=rule,
                scope=draw(scopes),
                conditions=promotions.Conditions(),
                starts_at=NOW,
                ends_at=NOW + dt.timedelta(days=1),
                exclusive_group=draw(st.sampled_from(("", "", "g"))),
                priority=draw(st.integers(-2, 2)),
                allow_coupons=draw(st.booleans()),
                campaign_id=None,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return sorted(made, key=lambda p: (-p.priority, p.id))


@st.composite
def carts(draw: st.DrawFn) -> list[pricing.LineIn]:
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=4, unique=True))
    return [
        pricing.LineIn(
            key=f"l{sku}",
            sku_id=sku,
            product_id=100 + sku,
            category_ids=(10 if sku % 2 else 11,),
            quantity=draw(st.integers(1, 5)),
            unit_price_amount=draw(money),
        )
        for sku in skus
    ]


@st.composite
def wallet(draw: st.DrawFn) -> list[promotions.CouponRead]:
    made = []
    for n in range(1, draw(st.integers(0, 4)) + 1):
        kind = draw(st.sampled_from(list(promotions.CouponKind)))
        made.append(
            promotions.CouponRead(
                id=n,
                template_id=n,
                customer_id=1,
                name=f"c{n}",
                kind=kind,
                amount_off=draw(money) if kind is promotions.CouponKind.amount else 0,
                percent_off=draw(st.integers(1, 99)) if kind is promotions.CouponKind.percent else None,
                max_discount_amount=draw(st.none() | money),
                min_spend_amount=draw(st.integers(0, 50000)),
                scope=draw(scopes),
                channels=(),
                status=promotions.CouponStatus.unused,
                source=promotions.CouponSource.claim,
                valid_from=NOW - dt.timedelta(days=1),
                valid_until=NOW + dt.timedelta(days=n),
                issued_at=NOW,
                order_id=None,
                used_at=None,
            )
        )
    return made


def stage(adjustment: pricing.Adjustment, by_id: dict[int, promotions.PromotionRead]) -> int:
    if adjustment.target is pricing.AdjustmentTarget.shipping:
        return 3
    if adjustment.source == "coupons":
        return 2
    promotion = by_id[kinds.promotion_id(adjustment.code) or 0]
    return 0 if promotion.kind is promotions.PromotionKind.timed_discount else 1


def best_total(pricer: Pricer, held: list[promotions.CouponRead]) -> int:
    """The quote's choice: the lowest total over the usable coupons, or none."""
    base = pricer.run()
    blocked = frozenset(
        key
        for a in base.adjustments
        if a.source == "promotions" and not pricer.by_id[kinds.promotion_id(a.code) or 0].allow_coupons
        for key in a.per_line
    )
    remaining = {line.key: line.total_amount for line in base.lines}
    totals = [base.total_amount]
    for coupon in held:
        if (
            why_not(
                coupon,
                lines=pricer.lines,
                remaining=remaining,
                currency="CNY",
                channel=promotions.Channel.web,
                now=NOW,
                blocked=blocked,
            )
            is None
        ):
            totals.append(pricer.run(CouponTerms(coupon, blocked=blocked)).total_amount)
    return min(totals)


@settings(max_examples=60, deadline=None)
@given(cart=carts(), live=live_promotions(), held=wallet())
def test_totals_parts_lines_and_the_stacking_order(
    cart: list[pricing.LineIn], live: list[promotions.PromotionRead], held: list[promotions.CouponRead]
) -> None:
    context = pricing.PricingContext(currency="CNY", province="浙江省")
    pricer = Pricer(lines=cart, context=context, shipping=SHIPPING, promotions=live)
    for coupon in [None, *held]:
        result = pricer.run(CouponTerms(coupon) if coupon is not None else None)
        if coupon is not None:  # the quote's shortcut for a candidate coupon gives the same total
            assert pricer.total_with(CouponTerms(coupon), pricer.run()) == result.total_amount
        assert result.total_amount >= 0
        assert all(line.total_amount >= 0 for line in result.lines)
        assert sum(line.total_amount for line in result.lines) == result.goods_amount
        assert sum(line.discount_amount for line in result.lines) == result.discount_amount
        for adjustment in result.adjustments:
            assert adjustment.amount > 0
            if adjustment.target is pricing.AdjustmentTarget.lines:
                assert sum(adjustment.per_line.values()) == adjustment.amount
        stages = [stage(a, pricer.by_id) for a in result.adjustments]
        assert stages == sorted(stages)
        # within the order rules, priority order (the pricer resolved each exclusion group to one)
        rules = [
            pricer.by_id[kinds.promotion_id(a.code) or 0]
            for a in result.adjustments
            if stage(a, pricer.by_id) == 1
        ]
        assert [(-p.priority, p.id) for p in rules] == sorted((-p.priority, p.id) for p in rules)
        assert len({p.exclusive_group for p in rules if p.exclusive_group}) == len(
            [p for p in {r.id: r for r in rules}.values() if p.exclusive_group]
        )


@settings(max_examples=40, deadline=None)
@given(cart=carts(), live=live_promotions(), held=wallet(), extra=wallet())
def test_another_coupon_in_the_wallet_never_raises_the_best_total(
    cart: list[pricing.LineIn],
    live: list[promotions.PromotionRead],
    held: list[promotions.CouponRead],
    extra: list[promotions.CouponRead],
) -> None:
    pricer = Pricer(
        lines=cart, context=pricing.PricingContext(currency="CNY"), shipping=SHIPPING, promotions=live
    )
    more = held + [c.model_copy(update={"id": 100 + c.id}) for c in extra[:1]]
    assert best_total(pricer, more) <= best_total(pricer, held)


FLAT = pricing.ShippingTemplate(
    name="flat", rules=(pricing.ShippingRule(first_fee_amount=1200, additional_fee_amount=300),)
)


@settings(max_examples=150, deadline=None)
@given(
    cart=carts(),
    live=live_promotions(),
    held=wallet(),
    shipping=st.sampled_from((SHIPPING, FLAT, None)),
    blocked=st.sets(st.sampled_from([f"l{sku}" for sku in SKUS]), max_size=2).map(frozenset),
)
def test_a_candidate_coupons_total_is_the_engines(
    cart: list[pricing.LineIn],
    live: list[promotions.PromotionRead],
    held: list[promotions.CouponRead],
    shipping: pricing.ShippingTemplate | None,
    blocked: frozenset[str],
) -> None:
    """The quote prices every wallet coupon with ``total_with`` (a shortcut from the coupon-less
    result where shipping provably stays, else a replay) and the chosen one with ``with_coupon``
    (the promotions replayed): always what the engine gives from scratch, to the fen."""
    context = pricing.PricingContext(currency="CNY", province="浙江省")
    pricer = Pricer(lines=cart, context=context, shipping=shipping, promotions=live)
    base = pricer.run()
    for coupon in held:
        terms = CouponTerms(coupon, blocked=blocked)
        full = pricer.run(terms)
        assert pricer.total_with(terms, base) == full.total_amount
        assert pricer.with_coupon(terms, base) == full  # the promotions replayed: the same result


def test_a_coupon_that_takes_the_goods_below_free_shipping_brings_the_fee_back() -> None:
    """满 99 包邮 on a ¥100.00 cart: a ¥1.00 coupon keeps shipping free (¥99.00), a ¥5.00 one
    takes the goods to ¥95.00 and the ¥12.00 fee comes back (¥107.00, dearer than no coupon)."""
    line = pricing.LineIn(key="l1", sku_id=1, product_id=101, quantity=1, unit_price_amount=10000)
    free = promotions.PromotionRead(
        id=1,
        name="满 99 包邮",
        kind=promotions.PromotionKind.free_shipping,
        status=promotions.PromotionStatus.active,
        phase=promotions.Phase.running,
        rule=promotions.FreeShippingRule(threshold_amount=9900),
        scope=promotions.Scope(),
        conditions=promotions.Conditions(),
        starts_at=NOW,
        ends_at=NOW + dt.timedelta(days=1),
        exclusive_group="",
        priority=0,
        allow_coupons=True,
        campaign_id=None,
        created_at=NOW,
        updated_at=NOW,
    )
    context = pricing.PricingContext(currency="CNY", province="浙江省")
    pricer = Pricer(lines=[line], context=context, shipping=FLAT, promotions=[free])
    base = pricer.run()
    assert (base.total_amount, base.shipping_amount) == (10000, 0)
    totals = []
    for amount_off in (100, 500):
        coupon = promotions.CouponRead(
            id=amount_off,
            template_id=1,
            customer_id=1,
            name="券",
            kind=promotions.CouponKind.amount,
            amount_off=amount_off,
            percent_off=None,
            max_discount_amount=None,
            min_spend_amount=0,
            scope=promotions.Scope(),
            channels=(),
            status=promotions.CouponStatus.unused,
            source=promotions.CouponSource.claim,
            valid_from=NOW - dt.timedelta(days=1),
            valid_until=NOW + dt.timedelta(days=1),
            issued_at=NOW,
            order_id=None,
            used_at=None,
        )
        totals.append(pricer.total_with(CouponTerms(coupon), base))
        assert totals[-1] == pricer.run(CouponTerms(coupon)).total_amount
    assert totals == [9900, 10700]
