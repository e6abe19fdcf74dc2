"""The staff queue's filters and the resolution report: how long shoppers waited for the shop's
answers (average, p90, within the 4-hour target) and who is waiting now."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import aftersales
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.identity import make_customer
from tests.service.aftersales.support import ARBITER, SHOP, WAREHOUSE, delivered_order, request_for

K = aftersales.AftersalesKind
HOUR = dt.timedelta(hours=1)


pytestmark = pytest.mark.usefixtures("handlers")


async def test_the_report_measures_each_answer_from_the_shoppers_last_step() -> None:
    bought = await delivered_order(units=2)
    start = clock.now()
    async with uow() as s:
        a = await aftersales.create_request(
            s, customer_id=bought.customer_id, data=request_for(bought, K.exchange)
        )
    clock.advance(HOUR)
    async with uow() as s:
        await aftersales.approve_request(s, request_id=a.id, data=aftersales.Decide(), actor=SHOP)  # 1 h
        b = await aftersales.create_request(s, customer_id=bought.customer_id, data=request_for(bought))
    clock.advance(5 * HOUR)
    async with uow() as s:
        await aftersales.reject_request(
            s, request_id=b.id, data=aftersales.Reject(reason="超时"), actor=SHOP
        )  # 5 h
    async with uow() as s:
        await aftersales.escalate_request(
            s, request_id=b.id, customer_id=bought.customer_id, data=aftersales.Escalate(statement="没超时")
        )
    clock.advance(2 * HOUR)
    async with uow() as s:
        await aftersales.arbitrate_request(  # 2 h
            s,
            request_id=b.id,
            data=aftersales.Arbitrate(decision=aftersales.ArbitrationDecision.shop, reason="确已超时"),
            actor=ARBITER,
        )
    async with uow() as s:
        await aftersales.ship_back(
            s,
            request_id=a.id,
            customer_id=bought.customer_id,
            data=aftersales.ShipBack(carrier="SF", tracking_number="SF0000001"),
        )
    clock.advance(HOUR / 2)
    async with uow() as s:
        await aftersales.receive_return(  # 30 min
            s, request_id=a.id, data=aftersales.ReceiveReturn(resellable=1), actor=WAREHOUSE
        )
        c = await aftersales.create_request(
            s, customer_id=bought.customer_id, data=request_for(bought, K.refund_only)
        )
    clock.advance(5 * HOUR)  # c has waited past the target
    stranger = await make_customer()

    async with uow(write=False) as s:
        everything = await aftersales.resolution_report(s, since=start, until=clock.now())
        first_two_hours = await aftersales.resolution_report(s, since=start, until=start + 2 * HOUR)
        waiting = await aftersales.list_requests(s, waiting=True)
        overdue = await aftersales.list_requests(s, overdue=True)
        answered = await aftersales.list_requests(s, waiting=False)
        closed = await aftersales.list_requests(s, status=aftersales.AftersalesStatus.closed)
        exchanges = await aftersales.list_requests(s, kind=K.exchange, customer_id=bought.customer_id)
        not_theirs = await aftersales.list_requests(s, customer_id=stranger.id)
        with pytest.raises(aftersales.InvalidPeriod):
            await aftersales.resolution_report(s, since=start, until=start)
        with pytest.raises(aftersales.InvalidPeriod):
            await aftersales.resolution_report(s, since=start, until=start + dt.timedelta(days=367))

    assert everything.model_dump(exclude={"since", "until"}) == {
        "target_seconds": 14400,
        "responses": 4,
        "average_seconds": 7650,  # (3600 + 18000 + 7200 + 1800) / 4
        "p90_seconds": 18000,
        "max_seconds": 18000,
        "within_target": 3,
        "waiting_now": 1,
        "overdue_now": 1,
    }
    assert (first_two_hours.responses, first_two_hours.average_seconds, first_two_hours.p90_seconds) == (
        1,
        3600,
        3600,
    )
    assert [x.id for x in waiting.items] == [c.id]
    assert waiting.items[0].waiting_since == c.created_at
    assert [x.id for x in overdue.items] == [c.id]
    assert [x.id for x in answered.items] == [b.id, a.id]
    assert [x.id for x in closed.items] == [b.id]
    assert [x.id for x in exchanges.items] == [a.id]
    assert not_theirs.items == []


async def test_the_queue_pages_newest_first() -> None:
    bought = await delivered_order(units=3)
    ids = []
    for _ in range(3):
        async with uow() as s:
            ids.append(
                (
                    await aftersales.create_request(
                        s, customer_id=bought.customer_id, data=request_for(bought)
                    )
                ).id
            )

    async with uow(write=False) as s:
        first = await aftersales.list_requests(s, limit=2)
        second = await aftersales.list_requests(s, limit=2, cursor=first.next_cursor)

    assert [x.id for x in first.items] == ids[:0:-1]
    assert ([x.id for x in second.items], second.next_cursor) == ([ids[0]], None)


async def test_count_waiting_requests_counts_the_waiting_queue() -> None:
    bought = await delivered_order(units=2)
    async with uow() as s:
        first = await aftersales.create_request(s, customer_id=bought.customer_id, data=request_for(bought))
        await aftersales.create_request(s, customer_id=bought.customer_id, data=request_for(bought))
        await aftersales.approve_request(s, request_id=first.id, data=aftersales.Decide(), actor=SHOP)

    async with uow(write=False) as s:
        count = await aftersales.count_waiting_requests(s)
        waiting = await aftersales.list_requests(s, waiting=True)

    assert count == len(waiting.items) == 1
