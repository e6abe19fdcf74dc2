"""The order hooks: a coupon locked by one placement only, released on cancellation, used on
payment and returned on a full refund per its template; redemptions recorded; automatic
coupons on a first paid order and after delivery; every hook harmless to repeat."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from mercato import pricing, promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.promotions.models import Coupon, CouponStatusChange, CustomerStat, Redemption
from tests.factories.promotions import (
    CONTEXT,
    coupon_counts,
    line,
    published_template,
)

S = promotions.CouponStatus


async def claimed(customer_id: int, **terms: object) -> promotions.CouponRead:
    template = await published_template(**terms)
    async with uow() as session:
        return await promotions.claim_coupon(session, template_id=template.id, customer_id=customer_id)


def quoted(
    customer_id: int, coupon_id: int | None, price: int = 10_000, **discounts: int
) -> promotions.Quote:
    """The quote a placement commits: ``coupon_id``'s ¥10 off (``discounts`` names others, such as
    ``promotion_7=500``), priced by the real engine without providers."""
    result = pricing.calculate(lines=[line("a", price=price)], context=CONTEXT, shipping=None)
    codes = {f"coupon:{coupon_id}": 1000} if coupon_id is not None else {}
    codes |= {name.replace("_", ":"): amount for name, amount in discounts.items()}
    adjustments = tuple(
        pricing.Adjustment(
            source=code.partition(":")[0] + "s",
            code=code,
            reason=pricing.Reason(message="test"),
            target=pricing.AdjustmentTarget.lines,
            amount=amount,
            per_line={"a": amount},
        )
        for code, amount in codes.items()
    )
    off = sum(codes.values())
    return promotions.Quote(
        result=result.model_copy(
            update={
                "adjustments": adjustments,
                "discount_amount": off,
                "goods_amount": price - off,
                "total_amount": price - off,
            }
        ),
        coupon_id=coupon_id,
    )


async def place(order_id: int, customer_id: int, quote: promotions.Quote) -> None:
    async with uow() as session:
        await promotions.commit_to_order(
            session, order_id=order_id, customer_id=customer_id, quote=quote, now=clock.now()
        )


async def state(coupon_id: int) -> tuple[str, int | None]:
    async with uow(write=False) as session:
        row = await session.get_one(Coupon, coupon_id)
        return row.status, row.order_id


async def moves(coupon_id: int) -> list[tuple[str, str, int | None, str]]:
    async with uow(write=False) as session:
        rows = await session.execute(
            select(
                CouponStatusChange.from_status,
                CouponStatusChange.to_status,
                CouponStatusChange.order_id,
                CouponStatusChange.reason,
            )
            .where(CouponStatusChange.coupon_id == coupon_id)
            .order_by(CouponStatusChange.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def redemptions(order_id: int) -> list[tuple[str, int | None, int | None, int, str, int]]:
    async with uow(write=False) as session:
        rows = await session.execute(
            select(
                Redemption.code,
                Redemption.promotion_id,
                Redemption.coupon_template_id,
                Redemption.discount_amount,
                Redemption.status,
                Redemption.refunded_amount,
            )
            .where(Redemption.order_id == order_id)
            .order_by(Redemption.code)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_one_coupon_locked_by_two_concurrent_placements_is_locked_once() -> None:
    coupon = await claimed(3, amount_off=1000)
    quote = quoted(3, coupon.id)

    async def attempt(order_id: int) -> str:
        try:
            await place(order_id, 3, quote)
        except promotions.CouponUnavailable:
            return "refused"
        return "locked"

    outcomes = await asyncio.gather(*(attempt(order_id) for order_id in range(100, 110)))

    assert sorted(outcomes) == ["locked"] + ["refused"] * 9
    winner = 100 + outcomes.index("locked")
    assert await state(coupon.id) == ("locked", winner)
    assert [m[1] for m in await moves(coupon.id)] == ["unused", "locked"]
    async with uow(write=False) as session:
        placed = list((await session.execute(select(Redemption.order_id))).scalars())
    assert placed == [winner]


async def test_lock_then_cancel_returns_the_coupon_to_the_wallet() -> None:
    coupon = await claimed(3, amount_off=1000)
    quote = quoted(3, coupon.id)

    await place(7, 3, quote)
    await place(7, 3, quote)  # a retried placement is harmless
    assert await state(coupon.id) == ("locked", 7)
    assert await redemptions(7) == [(f"coupon:{coupon.id}", None, coupon.template_id, 1000, "placed", 0)]

    for _ in range(2):
        async with uow() as session:
            await promotions.on_order_cancelled(session, order_id=7)

    assert await state(coupon.id) == ("unused", None)
    assert await moves(coupon.id) == [
        ("", "unused", None, "issued"),
        ("unused", "locked", 7, "placed"),
        ("locked", "unused", 7, "cancelled"),
    ]
    assert await redemptions(7) == [(f"coupon:{coupon.id}", None, coupon.template_id, 1000, "cancelled", 0)]


async def test_a_coupon_cancelled_after_its_end_expires() -> None:
    coupon = await claimed(3, valid_days=1)
    await place(7, 3, quoted(3, coupon.id))
    clock.advance(dt.timedelta(days=2))
    async with uow() as session:
        await promotions.on_order_cancelled(session, order_id=7)
    assert await state(coupon.id) == ("expired", None)


@pytest.mark.parametrize(("returns", "after_refund"), [(True, ("unused", None)), (False, ("used", 8))])
async def test_lock_pay_use_then_a_full_refund_returns_it_per_the_template(
    returns: bool, after_refund: tuple[str, int | None]
) -> None:
    coupon = await claimed(3, amount_off=1000, return_on_refund=returns)
    quote = quoted(3, coupon.id, promotion_7=500)
    await place(8, 3, quote)
    paid_at = clock.now()

    for _ in range(2):  # the paid event delivered twice
        async with uow() as session:
            await promotions.on_order_paid(session, order_id=8, customer_id=3, paid_at=paid_at)

    assert await state(coupon.id) == ("used", 8)
    async with uow(write=False) as session:
        stat = await session.get_one(CustomerStat, 3)
    assert (stat.paid_orders, stat.last_paid_at) == (1, paid_at)
    assert await redemptions(8) == [
        (f"coupon:{coupon.id}", None, coupon.template_id, 1000, "paid", 0),
        ("promotion:7", 7, None, 500, "paid", 0),
    ]

    async with uow() as session:
        await promotions.on_order_refunded(session, order_id=8, refunded_amount=2000, fully=False)
    assert await state(coupon.id) == ("used", 8)
    for _ in range(2):
        async with uow() as session:
            await promotions.on_order_refunded(session, order_id=8, refunded_amount=8500, fully=True)

    assert await state(coupon.id) == after_refund
    assert [r[4:] for r in await redemptions(8)] == [("refunded", 8500), ("refunded", 8500)]
    expected = [("unused", "locked", 8, "placed"), ("locked", "used", 8, "paid")]
    if returns:
        expected.append(("used", "unused", 8, "refunded"))
    assert (await moves(coupon.id))[1:] == expected


@pytest.mark.parametrize("_case", ["another customer's", "expired", "used already"])
async def test_a_coupon_that_is_not_usable_is_refused_and_nothing_changes(_case: str) -> None:
    coupon = await claimed(3, valid_days=1)
    quote = quoted(3, coupon.id)
    customer = 3
    if _case == "another customer's":
        customer = 4
    elif _case == "expired":
        clock.advance(dt.timedelta(days=2))
    else:
        await place(7, 3, quote)
    before = (await state(coupon.id), await moves(coupon.id))

    with pytest.raises(promotions.CouponUnavailable):
        await place(9, customer, quote)

    assert (await state(coupon.id), await moves(coupon.id)) == before
    assert await redemptions(9) == []


async def test_the_first_paid_order_issues_first_order_coupons_once() -> None:
    gift = await published_template(issue_on=promotions.IssueTrigger.first_order, claimable=False)
    now = clock.now()
    for order_id, paid_at in ((1, now), (1, now), (2, now + dt.timedelta(hours=1))):
        async with uow() as session:
            await promotions.on_order_paid(session, order_id=order_id, customer_id=5, paid_at=paid_at)

    async with uow(write=False) as session:
        wallet = await promotions.list_wallet(session, customer_id=5)
        stat = await session.get_one(CustomerStat, 5)
    assert [(c.template_id, c.source) for c in wallet] == [(gift.id, promotions.CouponSource.event)]
    assert stat.paid_orders == 2
    assert await coupon_counts(gift.id) == (1, 1, 1)


async def test_delivery_issues_repurchase_coupons_once_per_order() -> None:
    again = await published_template(issue_on=promotions.IssueTrigger.repurchase, per_customer_limit=5)
    for order_id in (1, 1, 2):
        async with uow() as session:
            await promotions.on_order_delivered(session, order_id=order_id, customer_id=5)
    assert await coupon_counts(again.id) == (2, 2, 2)
