"""Bargaining (砍价): a cut schedule fixed at the start and summing exactly to price − floor, one
help per account taking the next cut (never more helps than needed, under any concurrency), the
initiator buying at the price now or the floor, the offer's stock never oversold, and an order's
fate giving the unit and the bargain back — every refusal changing nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from mercato import checkout, identity, orders, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import DomainError, IllegalTransition
from mercato.social.models import Bargain
from tests.factories.catalog import SYSTEM
from tests.factories.identity import make_customer
from tests.factories.inventory import verify
from tests.factories.orders import lift_unpaid_limits
from tests.factories.social import (
    available,
    bargain_counts,
    bargain_offer,
    buy_bargain,
    buyer,
    deliver,
    flash_shop,
    help_bargain,
    helpers,
    offer_sold,
    read_bargain,
    start_bargain,
)

pytestmark = pytest.mark.usefixtures("handlers")

SHIPPING = 800  # the default template's 8 元 fee (below its 99 元 free-shipping line)


async def schedule_of(bargain_id: int) -> list[int]:
    async with uow(write=False) as s:
        return list((await s.execute(select(Bargain.schedule).where(Bargain.id == bargain_id))).scalar_one())


async def history_of(bargain_id: int) -> list[tuple[str, str]]:
    async with uow(write=False) as s:
        changes = await social.list_status_changes(s, subject="bargain", subject_id=bargain_id)
    return [(c.from_status, c.to_status) for c in changes]


async def test_the_cuts_sum_exactly_and_the_floor_is_reached_at_the_last_help() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5))
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    friends = await helpers(6)
    schedule = await schedule_of(started.id)

    cuts = [await help_bargain(started.id, friend) for friend in friends[:5]]
    with pytest.raises(social.BargainFloorReached):
        await help_bargain(started.id, friends[5])

    assert (started.price_amount, started.current_amount, started.helps_needed) == (3000, 3000, 5)
    assert (len(schedule), sum(schedule), min(schedule) > 0) == (5, 2000, True)
    assert [(c.position, c.amount) for c in cuts] == list(enumerate(schedule, start=1))
    bargain = await read_bargain(started.id)
    assert (bargain.status, bargain.current_amount, bargain.helps_done) == (
        social.BargainStatus.floor_reached,
        1000,
        5,
    )
    assert (bargain.left_amount, bargain.cut_amount) == (0, 2000)
    assert [(h.position, h.amount, h.helper_name) for h in bargain.helps] == [
        (1, schedule[0], "张**"),
        (2, schedule[1], "李**"),
        (3, schedule[2], "王**"),
        (4, schedule[3], "赵**"),
        (5, schedule[4], "钱**"),
    ]
    assert await history_of(started.id) == [("", "active"), ("active", "floor_reached")]


async def test_the_number_of_helps_is_drawn_from_the_range_and_fixed_with_its_schedule() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=990, helps=(3, 8), per_customer=1)
    started = [await start_bargain(await buyer(), offer.id) for _ in range(6)]

    for bargain in started:
        schedule = await schedule_of(bargain.id)
        assert 3 <= bargain.helps_needed <= 8
        assert (len(schedule), sum(schedule)) == (bargain.helps_needed, 2010)
        assert bargain.expires_at - bargain.created_at == dt.timedelta(hours=24)


async def test_twenty_friends_at_once_take_exactly_the_five_helps_needed() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5))
    started = await start_bargain(await buyer(), offer.id)
    crowd = await helpers(20)

    async def attempt(friend: int) -> str:
        try:
            await help_bargain(started.id, friend)
        except social.BargainFloorReached:
            return "refused"
        return "helped"

    outcomes = await asyncio.gather(*(attempt(friend) for friend in crowd))

    assert (outcomes.count("helped"), outcomes.count("refused")) == (5, 15)
    bargain = await read_bargain(started.id)
    assert (bargain.status, bargain.current_amount, bargain.helps_done) == (
        social.BargainStatus.floor_reached,
        1000,
        5,
    )
    assert [h.position for h in bargain.helps] == [1, 2, 3, 4, 5]
    assert [h.amount for h in bargain.helps] == await schedule_of(started.id)
    assert (await bargain_counts())[1] == 5


async def test_helping_ones_own_twice_late_or_from_a_used_device_is_refused_and_changes_nothing() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5), hours=2)
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id, device="phone-of-initiator")
    first, second, third = await helpers(3)
    await help_bargain(started.id, first, device="phone-of-first")
    before = (await bargain_counts(), await read_bargain(started.id))

    refusals = []
    for helper_id, device, error in (
        (initiator, "", social.BargainOwnHelp),
        (first, "another-phone", social.BargainAlreadyHelped),
        (second, "phone-of-initiator", social.BargainSameDevice),
        (third, "phone-of-first", social.BargainSameDevice),
    ):
        with pytest.raises(error) as refused:
            await help_bargain(started.id, helper_id, device=device)
        refusals.append(refused.value.code)
    clock.advance(dt.timedelta(hours=2, seconds=1))
    with pytest.raises(social.BargainExpired):
        await help_bargain(started.id, second, device="phone-of-second")

    assert refusals == [
        "social.bargain_own_help",
        "social.bargain_already_helped",
        "social.bargain_same_device",
        "social.bargain_same_device",
    ]
    after = await read_bargain(started.id)
    assert await bargain_counts() == before[0]
    assert (after.helps_done, after.current_amount, after.status) == (
        before[1].helps_done,
        before[1].current_amount,
        social.BargainStatus.active,
    )


async def test_new_helpers_only_refuses_accounts_older_than_the_bargain() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, new_helpers_only=True)
    (old_friend,) = await helpers(1)
    clock.advance(dt.timedelta(minutes=1))
    started = await start_bargain(await buyer(), offer.id)
    clock.advance(dt.timedelta(minutes=1))
    (new_friend,) = await helpers(1)

    with pytest.raises(social.BargainNewHelpersOnly):
        await help_bargain(started.id, old_friend)
    cut = await help_bargain(started.id, new_friend)

    assert cut.position == 1
    assert (await read_bargain(started.id)).helps_done == 1


async def test_the_per_customer_limit_holds_under_concurrent_starts() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, per_customer=2)
    customer = await buyer()

    async def attempt() -> str:
        try:
            await start_bargain(customer, offer.id)
        except social.BargainLimitReached:
            return "refused"
        return "started"

    outcomes = await asyncio.gather(*(attempt() for _ in range(6)))
    later = [await attempt() for _ in range(3)]

    assert 1 <= outcomes.count("started") <= 2
    assert outcomes.count("started") + later.count("started") == 2
    async with uow(write=False) as s:
        sequences = (
            await s.execute(
                select(Bargain.sequence).where(Bargain.customer_id == customer).order_by(Bargain.id)
            )
        ).scalars()
        assert list(sequences) == [1, 2]


async def test_the_initiator_buys_at_the_price_now_and_a_retry_returns_the_same_order() -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5))
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    friends = await helpers(3)
    await help_bargain(started.id, friends[0])
    await help_bargain(started.id, friends[1])
    now = await read_bargain(started.id, initiator)
    async with uow(write=False) as s:
        quote = await social.confirm_bargain(s, customer_id=initiator, bargain_id=started.id)

    bought = await buy_bargain(initiator, started.id, total=quote.price.total_amount, key="bargain-key-1")
    again = await buy_bargain(initiator, started.id, total=quote.price.total_amount, key="bargain-key-1")
    with pytest.raises(social.BargainNotOpen):
        await buy_bargain(initiator, started.id, total=quote.price.total_amount, key="bargain-key-2")
    with pytest.raises(social.BargainNotOpen):
        await help_bargain(started.id, friends[2])

    assert quote.price.total_amount == now.current_amount + SHIPPING
    assert again.order_id == bought.order_id
    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=bought.order_id, customer_id=initiator)
    assert (order.deal, order.total_amount, order.coupon_id) == (
        f"bargain:{started.id}",
        now.current_amount + SHIPPING,
        None,
    )
    assert [(d.code, d.name, d.amount) for d in order.lines[0].discounts] == [
        (f"bargain:{started.id}", "砍价价", 3000 - now.current_amount)
    ]
    mine = await read_bargain(started.id, initiator)
    others = await read_bargain(started.id, friends[0])
    assert (mine.status, mine.order_id, others.order_id) == (
        social.BargainStatus.ordered,
        bought.order_id,
        None,
    )
    assert (mine.is_mine, others.is_mine, others.helped) == (True, False, True)
    assert (await offer_sold(offer.id), await available(red)) == (1, 19)
    assert await history_of(started.id) == [("", "active"), ("active", "ordered")]
    assert (await verify()).problems == []


async def test_the_initiator_buys_at_the_floor_and_paying_makes_it_bought() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(2, 2))
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    for friend in await helpers(2):
        await help_bargain(started.id, friend)

    bought = await buy_bargain(initiator, started.id, total=1000 + SHIPPING)
    async with uow() as s:
        await orders.mark_order_paid(
            s,
            reference=f"order:{bought.order_id}",
            payment_id=bought.payment_id,
            amount=1000 + SHIPPING,
            currency="CNY",
        )
    await deliver()

    assert bought.total_amount == 1000 + SHIPPING
    assert (await read_bargain(started.id)).status is social.BargainStatus.bought
    async with uow(write=False) as s:
        figures = await social.bargain_offer_figures(s, offer_id=offer.id)
    assert (figures.started, figures.floor_reached, figures.bought, figures.helps, figures.sold) == (
        1,
        1,
        1,
        2,
        1,
    )
    assert await history_of(started.id) == [
        ("", "active"),
        ("active", "floor_reached"),
        ("floor_reached", "ordered"),
        ("ordered", "bought"),
    ]


async def test_a_bought_bargain_refunded_in_full_before_shipping_gives_its_unit_back() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(1, 1), stock=1)
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    (friend,) = await helpers(1)
    await help_bargain(started.id, friend)
    bought = await buy_bargain(initiator, started.id, total=1000 + SHIPPING)
    async with uow() as s:
        await orders.mark_order_paid(
            s,
            reference=f"order:{bought.order_id}",
            payment_id=bought.payment_id,
            amount=1000 + SHIPPING,
            currency="CNY",
        )
    await deliver()

    async with uow() as s:
        await orders.close_paid_order(s, order_id=bought.order_id, actor=SYSTEM, reason="refunded in full")
    await deliver()

    assert (await read_bargain(started.id)).status is social.BargainStatus.expired
    assert (await offer_sold(offer.id), await available(red)) == (0, 20)
    assert (await history_of(started.id))[-2:] == [("ordered", "bought"), ("bought", "expired")]


async def test_a_crowd_of_buyers_never_oversells_the_offers_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    lift_unpaid_limits(monkeypatch)
    red, _black = await flash_shop(price=3000, stock=20)
    offer = await bargain_offer(red, floor=1000, stock=3)
    initiators = [await buyer() for _ in range(6)]
    bargains = [await start_bargain(customer, offer.id) for customer in initiators]

    async def attempt(customer: int, bargain_id: int) -> str:
        try:
            await buy_bargain(customer, bargain_id, total=3000 + SHIPPING)
        except social.BargainSoldOut:
            return "sold out"
        return "ordered"

    outcomes = await asyncio.gather(*(attempt(c, b.id) for c, b in zip(initiators, bargains, strict=True)))

    assert (outcomes.count("ordered"), outcomes.count("sold out")) == (3, 3)
    assert (await offer_sold(offer.id), await available(red)) == (3, 17)
    statuses = sorted([(await read_bargain(b.id)).status.value for b in bargains])
    assert statuses == ["active", "active", "active", "ordered", "ordered", "ordered"]
    with pytest.raises(social.BargainSoldOut):
        await start_bargain(await buyer(), offer.id)
    assert (await verify()).problems == []


async def test_a_cancelled_order_gives_the_unit_and_the_bargain_back() -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5), stock=1)
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    friends = await helpers(2)
    cut = await help_bargain(started.id, friends[0])
    placed = await buy_bargain(initiator, started.id, total=3000 - cut.amount + SHIPPING)

    async with uow() as s:
        await checkout.cancel_order(
            s,
            order_id=placed.order_id,
            reason="changed my mind",
            actor=identity.Actor(staff_id=None, label=f"customer:{initiator}"),
            customer_id=initiator,
        )
    await deliver()
    await deliver()  # delivered twice: still once
    back = await read_bargain(started.id, initiator)
    await help_bargain(started.id, friends[1])
    later = await read_bargain(started.id, initiator)
    again = await buy_bargain(initiator, started.id, total=later.current_amount + SHIPPING)

    assert (back.status, back.order_id, back.current_amount) == (
        social.BargainStatus.active,
        None,
        3000 - cut.amount,
    )
    assert again.order_id != placed.order_id
    assert (await offer_sold(offer.id), await available(red)) == (1, 19)
    assert await history_of(started.id) == [
        ("", "active"),
        ("active", "ordered"),
        ("ordered", "active"),
        ("active", "ordered"),
    ]


async def test_an_order_not_paid_before_the_bargain_ends_expires_it() -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    offer = await bargain_offer(red, floor=1000, hours=1)
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    clock.advance(dt.timedelta(minutes=50))
    await buy_bargain(initiator, started.id, total=3000 + SHIPPING)
    clock.advance(dt.timedelta(hours=2))

    cancelled = await checkout.cancel_unpaid_orders()
    await deliver()

    assert cancelled == 1
    assert (await read_bargain(started.id)).status is social.BargainStatus.expired
    assert (await offer_sold(offer.id), await available(red)) == (0, 20)


async def test_the_expiry_job_ends_bargains_whose_time_ran_out_once() -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, hours=3, lasts=dt.timedelta(hours=2))
    initiator = await buyer()
    started = await start_bargain(initiator, offer.id)
    (friend,) = await helpers(1)
    clock.advance(dt.timedelta(hours=2, seconds=1))  # the offer's end caps the bargain's 3 hours

    async with uow() as s:
        expired = await social.expire_due_bargains(s)
    async with uow() as s:
        again = await social.expire_due_bargains(s)
    async with uow() as s:
        ended = await social.end_due_bargain_offers(s)
    with pytest.raises(social.BargainExpired):
        await help_bargain(started.id, friend)
    with pytest.raises(social.BargainExpired):
        await buy_bargain(initiator, started.id, total=3000 + SHIPPING)

    assert started.expires_at == offer.ends_at
    assert (expired, again, ended) == (1, 0, 1)
    assert (await read_bargain(started.id)).status is social.BargainStatus.expired
    assert await history_of(started.id) == [("", "active"), ("active", "expired")]


async def test_staff_set_an_offer_up_and_bad_offers_are_refused() -> None:
    red, _black = await flash_shop(price=3000)
    draft = await bargain_offer(red, price=None, floor=1000, publish=False)
    now = clock.now()

    def write(**changes: object) -> social.BargainOfferWrite:
        body: dict[str, object] = {
            "name": "砍价",
            "sku_id": red,
            "floor_amount": 1000,
            "helps_min": 3,
            "helps_max": 5,
            "stock": 5,
            "starts_at": now,
            "ends_at": now + dt.timedelta(days=1),
            **changes,
        }
        return social.BargainOfferWrite.model_validate(body)

    codes = []
    for data in (
        write(floor_amount=3000),
        write(price_amount=3001),
        write(floor_amount=2998, helps_max=5),
        write(ends_at=now - dt.timedelta(hours=1)),
    ):
        with pytest.raises(DomainError) as refused:
            async with uow() as s:
                await social.create_bargain_offer(s, data=data, actor=SYSTEM)
        codes.append(refused.value.code)
    async with uow() as s:
        updated = await social.update_bargain_offer(
            s, offer_id=draft.id, data=write(name="砍到 20 元", floor_amount=2000), actor=SYSTEM
        )
        published = await social.publish_bargain_offer(s, offer_id=draft.id, actor=SYSTEM)
    with pytest.raises(social.BargainOfferNotEditable):
        async with uow() as s:
            await social.update_bargain_offer(s, offer_id=draft.id, data=write(), actor=SYSTEM)
    async with uow() as s:
        ended = await social.end_bargain_offer(s, offer_id=draft.id, actor=SYSTEM, reason="录错了")
    with pytest.raises(IllegalTransition):
        async with uow() as s:
            await social.end_bargain_offer(s, offer_id=draft.id, actor=SYSTEM)
    with pytest.raises(social.BargainOfferClosed):
        await start_bargain(await buyer(), draft.id)

    assert codes == [
        "social.bargain_floor_not_below",
        "social.bargain_price_above_list",
        "social.bargain_cuts_too_small",
        "social.ends_before_start",
    ]
    assert (draft.price_amount, updated.name, updated.floor_amount) == (3000, "砍到 20 元", 2000)
    assert (published.status, ended.status) == (
        social.BargainOfferStatus.active,
        social.BargainOfferStatus.ended,
    )
    async with uow(write=False) as s:
        history = await social.list_status_changes(s, subject="bargain_offer", subject_id=draft.id)
        listed = await social.list_bargain_offers(s)
    assert [(h.from_status, h.to_status, h.reason) for h in history] == [
        ("draft", "active", ""),
        ("active", "ended", "录错了"),
    ]
    assert listed == []


async def test_shoppers_see_open_offers_and_anyone_sees_a_bargain_without_helper_ids() -> None:
    red, black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, stock=4)
    await bargain_offer(black, publish=False)
    initiator = (await make_customer(name="欧阳娜娜")).id
    started = await start_bargain(initiator, offer.id)
    (friend,) = await helpers(1)
    await help_bargain(started.id, friend)

    async with uow(write=False) as s:
        listed = await social.list_bargain_offers(s)
    public = await read_bargain(started.id)

    assert [(o.id, o.price_amount, o.floor_amount, o.left) for o in listed] == [(offer.id, 3000, 1000, 4)]
    assert (public.initiator_name, public.helps[0].helper_name) == ("欧***", "张**")
    assert (public.is_mine, public.helped, public.order_id) == (False, False, None)
    assert "helper_id" not in public.model_dump()["helps"][0]
