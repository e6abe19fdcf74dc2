"""Opening requests: who may, for how many units, for how much money, and when; refusals change
nothing (rows, claims, outbox); the refund shares of a line add up to what it was paid, to the fen."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato import aftersales, orders
from mercato.aftersales.service.requests import unit_share
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.settings import get_settings
from tests.factories.identity import make_customer
from tests.service.aftersales.support import (
    WAREHOUSE,
    Bought,
    days,
    delivered_order,
    paid_order,
    request_for,
    rows,
)

K = aftersales.AftersalesKind


pytestmark = pytest.mark.usefixtures("handlers")


async def create(
    bought: Bought, data: aftersales.CreateRequest, customer_id: int | None = None
) -> aftersales.AftersalesRead:
    async with uow() as s:
        return await aftersales.create_request(s, customer_id=customer_id or bought.customer_id, data=data)


async def refused(
    bought: Bought, data: aftersales.CreateRequest, customer_id: int | None = None
) -> DomainError:
    """Try to open the request; return the error, having checked that nothing changed."""
    before = await rows()
    with pytest.raises(DomainError) as caught:
        await create(bought, data, customer_id)
    assert await rows() == before
    return caught.value


async def test_more_units_than_bought_minus_those_requested_are_refused() -> None:
    bought = await delivered_order(units=2)
    first = await create(bought, request_for(bought, quantity=1))

    error = await refused(bought, request_for(bought, K.exchange, quantity=2))

    assert (type(error), error.code, error.params) == (
        aftersales.QuantityExceedsBought,
        "aftersales.quantity_exceeds_bought",
        {"available": 1},
    )
    assert (first.quantity, first.refund_amount) == (1, 3000)


async def test_a_refund_larger_than_the_units_share_is_refused() -> None:
    bought = await delivered_order(units=2)

    too_much = await refused(bought, request_for(bought, quantity=1, refund_amount=3001))
    exchange_money = await refused(bought, request_for(bought, K.exchange, refund_amount=1))
    less = await create(bought, request_for(bought, K.refund_only, quantity=2, refund_amount=1500))

    assert (too_much.code, too_much.params) == ("aftersales.refund_too_large", {"maximum": "¥30.00"})
    assert (exchange_money.code, exchange_money.params) == (
        "aftersales.refund_too_large",
        {"maximum": "¥0.00"},
    )
    assert (less.refund_amount, less.max_refund_amount) == (1500, 6000)  # a partial refund, keeping the goods


async def test_a_return_after_the_window_is_refused_and_the_window_is_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bought = await delivered_order(units=2)
    clock.advance(days(7) + days(1 / 24 / 60))  # 7 days and a minute after delivery

    late = await refused(bought, request_for(bought))
    monkeypatch.setenv("MERCATO_AFTERSALES_WINDOW_DAYS", "15")
    get_settings.cache_clear()
    longer = await create(bought, request_for(bought))

    assert (type(late), late.code, late.params) == (
        aftersales.WindowClosed,
        "aftersales.window_closed",
        {"days": 7},
    )
    assert longer.status is aftersales.AftersalesStatus.requested


async def test_only_the_orders_customer_may_ask_and_only_for_its_lines() -> None:
    bought = await delivered_order(units=2)
    stranger = await make_customer()

    theirs = await refused(bought, request_for(bought), customer_id=stranger.id)
    no_line = await refused(bought, request_for(bought, order_line_id=bought.line.id + 1000))

    assert [(type(e), e.code) for e in (theirs, no_line)] == [
        (aftersales.LineNotFound, "aftersales.line_not_found")
    ] * 2


async def test_before_shipment_only_a_refund_and_on_the_way_nothing() -> None:
    bought = await paid_order(units=2)

    goods_back = await refused(bought, request_for(bought, K.return_refund))
    refund = await create(
        bought, request_for(bought, K.refund_only, reason_code=aftersales.ReasonCode.not_wanted)
    )
    async with uow() as s:
        await aftersales.cancel_request(
            s, request_id=refund.id, customer_id=bought.customer_id, data=aftersales.CancelRequest()
        )
    async with uow() as s:
        await orders.mark_sub_order_shipped(
            s, order_id=bought.order.id, sub_order_id=bought.order.sub_orders[0].id, actor=WAREHOUSE
        )
    on_the_way = await refused(bought, request_for(bought, K.refund_only))

    assert (goods_back.code, refund.before_shipment, refund.refund_amount) == (
        "aftersales.kind_not_allowed",
        True,
        3000,
    )
    assert (type(on_the_way), on_the_way.code) == (aftersales.NotDeliveredYet, "aftersales.not_delivered_yet")


async def test_a_withdrawn_request_frees_its_units() -> None:
    bought = await delivered_order(units=2)
    first = await create(bought, request_for(bought, quantity=2))
    async with uow() as s:
        cancelled = await aftersales.cancel_request(
            s,
            request_id=first.id,
            customer_id=bought.customer_id,
            data=aftersales.CancelRequest(reason="买对了"),
        )

    again = await create(bought, request_for(bought, quantity=2))

    assert (cancelled.status, cancelled.closed_at is not None) == (
        aftersales.AftersalesStatus.cancelled,
        True,
    )
    assert [(s.status, s.reason) for s in cancelled.timeline][-1] == (
        aftersales.AftersalesStatus.cancelled,
        "买对了",
    )
    assert (again.quantity, again.refund_amount) == (2, 6000)


def test_unit_shares_carry_the_odd_fen_first_and_the_last_units_take_the_rest() -> None:
    shares = []
    claimed_units = claimed_share = 0
    for quantity in (1, 1, 1):
        share = unit_share(
            paid=1000, bought=3, claimed_units=claimed_units, claimed_share=claimed_share, quantity=quantity
        )
        shares.append(share)
        claimed_units += quantity
        claimed_share += share

    assert shares == [334, 333, 333]
    assert unit_share(paid=1000, bought=3, claimed_units=1, claimed_share=333, quantity=2) == 667


@given(
    paid=st.integers(min_value=0, max_value=10**9),
    bought=st.integers(min_value=1, max_value=50),
    data=st.data(),
)
def test_the_shares_of_all_units_add_up_to_the_line_payment(
    paid: int, bought: int, data: st.DataObject
) -> None:
    """Whatever requests come and go, shares never exceed the payment and, once every unit is
    claimed, add up to it exactly."""
    held: list[tuple[int, int]] = []  # (units, share) of the requests still open
    for _ in range(data.draw(st.integers(min_value=0, max_value=10))):
        units = sum(u for u, _ in held)
        if units < bought and data.draw(st.booleans()):
            quantity = data.draw(st.integers(min_value=1, max_value=bought - units))
            share = unit_share(
                paid=paid,
                bought=bought,
                claimed_units=units,
                claimed_share=sum(s for _, s in held),
                quantity=quantity,
            )
            held.append((quantity, share))
        elif held:
            held.pop(data.draw(st.integers(min_value=0, max_value=len(held) - 1)))
        assert 0 <= sum(s for _, s in held) <= paid
    units = sum(u for u, _ in held)
    if units < bought:
        held.append(
            (
                bought - units,
                unit_share(
                    paid=paid,
                    bought=bought,
                    claimed_units=units,
                    claimed_share=sum(s for _, s in held),
                    quantity=bought - units,
                ),
            )
        )
    assert sum(s for _, s in held) == paid
