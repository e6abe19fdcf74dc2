"""The quote's coupon: the best one by default, none, or an explicit one (refused with the
matching error, changing nothing); why each unusable coupon cannot be used."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import pricing, promotions
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.identity import make_customer
from tests.factories.promotions import (
    CONTEXT,
    coupon,
    give_coupon,
    line,
    make_coupon_template,
    make_promotion,
    reduction,
)

K = promotions.CouponKind


async def priced(customer_id: int | None, lines: list[pricing.LineIn], **kwargs: object) -> promotions.Quote:
    async with uow(write=False) as session:
        return await promotions.quote(
            session,
            lines=lines,
            context=CONTEXT,
            shipping=None,
            customer_id=customer_id,
            **kwargs,  # type: ignore[arg-type]
        )


async def test_best_coupon_is_the_one_leaving_the_lowest_total_and_options_say_why_not() -> None:
    customer = await make_customer()
    ten = await coupon(customer.id, amount_off=1000)
    percent = await coupon(customer.id, K.percent, percent_off=20, max_discount_amount=3000)
    far = await coupon(customer.id, amount_off=5000, min_spend_amount=30000)
    scoped = await coupon(
        customer.id, amount_off=500, scope=promotions.Scope(all_goods=False, product_ids=(1,))
    )
    quote = await priced(customer.id, [line("a", price=12000), line("b", price=6000)])
    # 20 % of 180 = 36, capped at 30
    assert quote.coupon_id == percent
    assert quote.result.total_amount == 15000
    assert [(a.code, a.amount, a.per_line) for a in quote.result.adjustments] == [
        (f"coupon:{percent}", 3000, {"a": 2000, "b": 1000})
    ]
    assert [(o.coupon.id, o.usable, o.saving_amount) for o in quote.coupon_options] == [
        (percent, True, 3000),
        (ten, True, 1000),
        (far, False, 0),
        (scoped, False, 0),
    ]
    reasons = {o.coupon.id: o.reason for o in quote.coupon_options if o.reason}
    assert reasons[far] == pricing.Reason(
        message="Spend {amount} more to use it", params={"amount": "¥120.00"}
    )
    assert reasons[scoped] == pricing.Reason(message="Nothing in this order is eligible")
    assert quote.names[f"coupon:{percent}"].startswith("券")


async def test_ties_go_to_the_soonest_expiring_then_none_and_explicit_choices() -> None:
    customer = await make_customer()
    template = await make_coupon_template(amount_off=1000)
    now = clock.now()
    later = await give_coupon(customer.id, template, valid_until=now + dt.timedelta(days=5))
    sooner = await give_coupon(customer.id, template, valid_until=now + dt.timedelta(days=2))
    lines = [line("a", price=5000)]
    assert (await priced(customer.id, lines)).coupon_id == sooner
    none = await priced(customer.id, lines, coupon="none")
    assert (none.coupon_id, none.result.total_amount) == (None, 5000)
    chosen = await priced(customer.id, lines, coupon=later)
    assert (chosen.coupon_id, chosen.result.total_amount) == (later, 4000)


async def test_an_explicit_coupon_must_be_the_customers_and_usable() -> None:
    customer, other = await make_customer(), await make_customer()
    theirs = await coupon(other.id, amount_off=100)
    used = await give_coupon(
        customer.id, await make_coupon_template(amount_off=100), status=promotions.CouponStatus.used
    )
    early = await give_coupon(
        customer.id, await make_coupon_template(amount_off=100), valid_from=clock.now() + dt.timedelta(days=1)
    )
    expired = await give_coupon(
        customer.id,
        await make_coupon_template(amount_off=100),
        valid_from=clock.now() - dt.timedelta(days=3),
        valid_until=clock.now() - dt.timedelta(days=1),
    )
    short = await coupon(customer.id, amount_off=100, min_spend_amount=99900)
    web_only = await coupon(customer.id, amount_off=100, channels=["app"])
    lines = [line("a", price=5000)]
    cases: list[tuple[int, type[Exception]]] = [
        (theirs, promotions.CouponNotFound),
        (999_999, promotions.CouponNotFound),
        (used, promotions.CouponUnavailable),
        (early, promotions.CouponNotYetValid),
        (expired, promotions.CouponExpired),
        (short, promotions.CouponNotApplicable),
        (web_only, promotions.CouponNotApplicable),
    ]
    for coupon_id, error in cases:
        with pytest.raises(error):
            await priced(customer.id, lines, coupon=coupon_id)


async def test_a_promotion_not_with_coupons_blocks_them_on_its_lines() -> None:
    customer = await make_customer()
    scope = promotions.Scope(all_goods=False, product_ids=(501,))
    promo = await make_promotion(reduction((5000, 500)), scope=scope, allow_coupons=False)
    everywhere = await coupon(customer.id, amount_off=1000)
    only_there = await coupon(customer.id, amount_off=1000, scope=scope)
    blocked = line("a", price=6000, product_id=501)
    quote = await priced(customer.id, [blocked, line("b", price=2000)])
    assert quote.coupons_blocked is True
    # the coupon goes on the other line only
    assert [(a.code, a.amount, a.per_line) for a in quote.result.adjustments] == [
        (f"promotion:{promo.id}", 500, {"a": 500}),
        (f"coupon:{everywhere}", 1000, {"b": 1000}),
    ]
    reasons = {o.coupon.id: o.reason for o in quote.coupon_options}
    assert reasons[only_there] == pricing.Reason(message="A promotion here does not combine with coupons")
    with pytest.raises(promotions.CouponsNotCombinable):
        await priced(customer.id, [blocked], coupon=only_there)


async def test_free_shipping_coupon_comes_after_the_free_shipping_promotion() -> None:
    customer = await make_customer()
    free = await coupon(customer.id, K.free_shipping)
    shipping = pricing.ShippingTemplate(name="t", rules=(pricing.ShippingRule(first_fee_amount=800),))
    async with uow(write=False) as session:
        with_fee = await promotions.quote(
            session,
            lines=[line("a", price=3000)],
            context=CONTEXT,
            shipping=shipping,
            customer_id=customer.id,
        )
    assert (with_fee.coupon_id, with_fee.result.shipping_amount, with_fee.result.total_amount) == (
        free,
        0,
        3000,
    )
    await make_promotion(promotions.FreeShippingRule())
    async with uow(write=False) as session:
        covered = await promotions.quote(
            session,
            lines=[line("a", price=3000)],
            context=CONTEXT,
            shipping=shipping,
            customer_id=customer.id,
        )
    # the promotion already takes the fee: the coupon would save nothing, so none is chosen
    assert covered.coupon_id is None
    assert [(o.coupon.id, o.usable, o.saving_amount) for o in covered.coupon_options] == [(free, True, 0)]
