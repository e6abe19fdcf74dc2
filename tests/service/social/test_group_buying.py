"""拼团 group buying: a group forms when its leader pays, completes when every seat is paid (and
only then ships), fails when time runs out with every paying member refunded through the gateway;
the last seat goes to exactly one of many paying at once, and anyone charged without a seat gets
their money back."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from mercato import checkout, orders, payments, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.social.models import Group, GroupMember
from tests.factories.inventory import verify
from tests.factories.orders import lift_unpaid_limits
from tests.factories.social import (
    available,
    buyer,
    deliver,
    flash_shop,
    group_offer,
    join_group,
    notify_paid,
    open_group,
    pay,
    pay_at_gateway,
)

pytestmark = pytest.mark.usefixtures("handlers")

GROUP_TOTAL = 1990 + 800  # the group price and the template's 8 元 fee
LEADER_TOTAL = 1490 + 800


async def order(order_id: int) -> orders.OrderRead:
    async with uow(write=False) as s:
        return await orders.read_order(s, order_id=order_id)


async def group(group_id: int) -> social.GroupView:
    async with uow(write=False) as s:
        return await social.get_group(s, group_id=group_id)


async def members() -> list[tuple[bool, str]]:
    async with uow(write=False) as s:
        rows = await s.execute(select(GroupMember.is_leader, GroupMember.status).order_by(GroupMember.id))
    return [(leader, status) for leader, status in rows]


async def test_a_group_forms_when_its_leader_pays_and_completes_when_every_seat_is_paid() -> None:
    red, _black = await flash_shop(price=3000, stock=10)
    offer = await group_offer(red, price=1990, leader_price=1490, size=3)
    leader, second, third = await buyer(), await buyer(), await buyer()

    opened = await open_group(leader, offer.id, total=LEADER_TOTAL)
    async with uow(write=False) as s:
        with pytest.raises(social.GroupNotFound):  # not shown before the leader paid
            await social.get_group(s, group_id=opened.group_id)
    await pay(opened.payment_id)
    forming = await group(opened.group_id)
    joined = [await join_group(c, opened.group_id, total=GROUP_TOTAL) for c in (second, third)]
    await pay(joined[0].payment_id)
    held = await order(joined[0].order_id)
    await pay(joined[1].payment_id)
    done = await group(opened.group_id)

    assert (forming.status, forming.seats, forming.seats_left) == (social.GroupStatus.forming, 1, 2)
    assert forming.expires_at is not None
    assert forming.expires_at - clock.now() > dt.timedelta(hours=23)
    assert (held.status, held.ship_hold) == (orders.OrderStatus.paid, True)
    assert (done.status, done.seats, done.seats_left) == (social.GroupStatus.complete, 3, 0)
    assert [m.is_leader for m in done.members] == [True, False, False]
    leader_order = await order(opened.order_id)
    assert (leader_order.total_amount, leader_order.ship_hold) == (LEADER_TOTAL, False)
    assert [(await order(j.order_id)).ship_hold for j in joined] == [False, False]
    assert leader_order.history[-1].reason == f"group {opened.group_id} complete: ready to ship"
    assert await members() == [(True, "seated"), (False, "seated"), (False, "seated")]
    assert await available(red) == 7


async def test_a_held_order_cannot_ship_before_its_group_is_complete() -> None:
    red, _black = await flash_shop()
    offer = await group_offer(red, size=2)
    opened = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    placed = await order(opened.order_id)

    with pytest.raises(orders.ShippingOnHold):
        async with uow() as s:
            await orders.mark_sub_order_shipped(
                s,
                order_id=placed.id,
                sub_order_id=placed.sub_orders[0].id,
                actor=social.plays.group_buy.SYSTEM,
            )

    assert (await order(placed.id)).status is orders.OrderStatus.paid


async def test_a_group_that_runs_out_of_time_fails_and_every_paying_member_is_refunded() -> None:
    red, _black = await flash_shop(stock=10)
    offer = await group_offer(red, size=3, hours=2)
    leader, member, late_payer = await buyer(), await buyer(), await buyer()
    opened = await open_group(leader, offer.id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    joined = await join_group(member, opened.group_id, total=GROUP_TOTAL)
    await pay(joined.payment_id)
    unpaid = await join_group(late_payer, opened.group_id, total=GROUP_TOTAL)
    clock.advance(dt.timedelta(hours=2, seconds=1))

    counts = await social.settle_due_groups()
    await broker.wait_all()  # the refunds are sent to the gateway after the commit
    await deliver()
    again = await social.settle_due_groups()

    assert counts == {"failed": 1, "complete": 0, "repaired": 0}
    assert again == {"failed": 0, "complete": 0, "repaired": 0}
    assert (await group(opened.group_id)).status is social.GroupStatus.failed
    for placed in (opened, joined):
        refunded = await order(placed.order_id)
        assert refunded.status is orders.OrderStatus.closed
        assert refunded.history[-1].reason == f"group {opened.group_id} failed: refunded in full"
        async with uow(write=False) as s:
            payment = await payments.get_payment(s, payment_id=placed.payment_id)
        assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.refunded, GROUP_TOTAL)
    assert (await order(unpaid.order_id)).status is orders.OrderStatus.cancelled
    assert await members() == [(True, "refunded"), (False, "refunded"), (False, "cancelled")]
    assert await available(red) == 10
    assert (await verify()).problems == []


async def test_many_paying_for_the_last_seat_at_once_exactly_one_gets_it_the_rest_are_refunded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lift_unpaid_limits(monkeypatch)
    red, _black = await flash_shop(stock=30)
    offer = await group_offer(red, size=2)
    opened = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    hopefuls = [await join_group(await buyer(), opened.group_id, total=GROUP_TOTAL) for _ in range(12)]
    await broker.wait_all()

    from tests.factories.payments import body_for, read_payment, signed  # noqa: PLC0415

    async def capture(payment_id: int) -> None:
        payment = await read_payment(payment_id)
        body = body_for(payment)
        async with uow() as s:
            await payments.handle_notification(s, provider="sandbox", headers=signed(body), body=body)

    await asyncio.gather(*(capture(h.payment_id) for h in hopefuls))
    await asyncio.gather(*(deliver() for _ in range(4)))  # several workers deliver at once
    await deliver()
    await broker.wait_all()

    final = await group(opened.group_id)
    statuses = [s for leader, s in await members() if not leader]
    assert (final.status, final.seats) == (social.GroupStatus.complete, 2)
    assert (statuses.count("seated"), statuses.count("refused")) == (1, 11)
    refused_orders = [await order(h.order_id) for h in hopefuls]
    assert sorted(o.status for o in refused_orders).count(orders.OrderStatus.closed) == 11
    assert await available(red) == 28
    assert (await verify()).problems == []


async def test_refusals_change_nothing() -> None:
    red, _black = await flash_shop()
    offer = await group_offer(red, size=2, new_joiners_only=True)
    leader = await buyer()
    opened = await open_group(leader, offer.id, total=GROUP_TOTAL)
    with pytest.raises(social.GroupNotFound):  # not joinable before the leader paid
        await join_group(await buyer(), opened.group_id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    with pytest.raises(social.GroupOwn):
        await join_group(leader, opened.group_id, total=GROUP_TOTAL)
    veteran = await buyer()
    bought = await open_group(veteran, offer.id, total=GROUP_TOTAL)  # pays a first order elsewhere
    await pay(bought.payment_id)
    with pytest.raises(social.GroupNewJoinersOnly):
        await join_group(veteran, opened.group_id, total=GROUP_TOTAL)
    newcomer = await buyer()
    await pay((await join_group(newcomer, opened.group_id, total=GROUP_TOTAL)).payment_id)
    with pytest.raises(social.GroupFull):
        await join_group(await buyer(), opened.group_id, total=GROUP_TOTAL)

    statuses = await members()
    assert statuses == [(True, "seated"), (True, "seated"), (False, "seated")]


async def test_a_leader_who_never_pays_abandons_the_group() -> None:
    red, _black = await flash_shop(stock=5)
    offer = await group_offer(red)
    await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    clock.advance(dt.timedelta(minutes=31))

    await checkout.cancel_unpaid_orders()
    await deliver()

    assert await members() == [(True, "cancelled")]
    async with uow(write=False) as s:
        figures = await social.group_offer_figures(s, offer_id=offer.id)
    assert (figures.abandoned, figures.forming) == (1, 0)
    assert await available(red) == 5


async def test_simulated_completion_is_off_by_default_and_when_on_completes_at_the_end() -> None:
    red, _black = await flash_shop()
    offer = await group_offer(red, size=3, hours=1, simulated=True)
    opened = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    clock.advance(dt.timedelta(hours=1, seconds=1))

    counts = await social.settle_due_groups()
    done = await group(opened.group_id)

    assert counts["complete"] == 1
    assert (done.status, done.seats, done.simulated_completion) == (social.GroupStatus.complete, 1, True)
    assert (await order(opened.order_id)).ship_hold is False


async def test_money_arriving_after_the_group_failed_is_refunded() -> None:
    red, _black = await flash_shop()
    offer = await group_offer(red, size=3, hours=1)
    opened = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    late = await join_group(await buyer(), opened.group_id, total=GROUP_TOTAL)
    await pay_at_gateway(late.payment_id)  # paid at the last moment; the gateway has not told us
    clock.advance(dt.timedelta(hours=1, seconds=1))
    await social.settle_due_groups()  # fails the group and cancels the join it thinks unpaid

    await notify_paid(late.payment_id)  # then the money's notification arrives
    await broker.wait_all()

    assert [s for _l, s in await members()] == ["refunded", "cancelled"]
    async with uow(write=False) as s:
        payment = await payments.get_payment(s, payment_id=late.payment_id)
    assert payment.refunded_amount == GROUP_TOTAL  # the money nobody can take goes back at once


async def test_the_sweep_refunds_anyone_left_paid_in_a_failed_group() -> None:
    red, _black = await flash_shop()
    offer = await group_offer(red, size=3, hours=1)
    opened = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(opened.payment_id)
    joined = await join_group(await buyer(), opened.group_id, total=GROUP_TOTAL)
    await pay(joined.payment_id)
    async with uow() as s:  # a failure recorded without its refunds (a crash between the two)
        await s.execute(update(Group).where(Group.id == opened.group_id).values(status="failed"))

    async with uow() as s:
        repaired = await social.sweep_paid_members(s)
    async with uow() as s:
        again = await social.sweep_paid_members(s)
    await broker.wait_all()

    assert (repaired, again) == (2, 0)
    assert [s for _l, s in await members()] == ["refunded", "refunded"]
    for placed in (opened, joined):
        assert (await order(placed.order_id)).status is orders.OrderStatus.closed
