"""Flash sales (秒杀): a quota carved out of stock, sold exactly, at the sale price, within each
customer's limit; unpaid orders give their units back to be sold again — never twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest

from mercato import checkout, identity, inventory, notify, orders, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import IllegalTransition
from mercato.core.settings import get_settings
from tests.factories.catalog import SYSTEM
from tests.factories.inventory import verify
from tests.factories.orders import lift_unpaid_limits, place
from tests.factories.social import (
    available,
    buy,
    buyer,
    deliver,
    figures,
    flash_session,
    flash_shop,
    left,
    purchase_statuses,
)

pytestmark = pytest.mark.usefixtures("handlers")

TOTAL = 990 + 800  # the sale price and the template's 8 元 fee (below its 99 元 free-shipping line)


async def test_publishing_carves_the_quota_out_of_stock() -> None:
    red, black = await flash_shop(stock=20)

    session = await flash_session(red, quota=12)

    assert session.status is social.FlashSessionStatus.published
    assert (await left(session.items[0].id), await available(red), await available(black)) == (12, 8, 20)
    assert (await verify()).problems == []


async def test_a_quota_larger_than_the_stock_is_refused_and_nothing_is_held() -> None:
    red, _black = await flash_shop(stock=5)
    draft = await flash_session(red, quota=6, publish=False)

    with pytest.raises(social.FlashQuotaUnavailable):
        async with uow() as s:
            await social.publish_flash_session(s, flash_session_id=draft.id, actor=SYSTEM)

    async with uow(write=False) as s:
        again = await social.get_flash_session(s, flash_session_id=draft.id)
    assert (again.status, await available(red)) == (social.FlashSessionStatus.draft, 5)


async def test_a_sale_price_not_below_the_price_is_refused() -> None:
    red, _black = await flash_shop(price=3000)
    draft = await flash_session(red, publish=False)

    with pytest.raises(social.FlashPriceNotBelow):
        async with uow() as s:
            await social.add_flash_item(
                s,
                flash_session_id=draft.id,
                data=social.FlashItemWrite(sku_id=red + 1, price_amount=3000, quota=1),
                actor=SYSTEM,
            )


async def test_a_flash_order_is_at_the_sale_price_with_the_short_payment_window() -> None:
    red, _black = await flash_shop(price=3000)
    session = await flash_session(red, price=990, quota=3)
    item = session.items[0]
    customer = await buyer()

    result = await buy(customer, item.id, total=TOTAL)

    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=result.order_id, customer_id=customer)
    assert (order.subtotal_amount, order.discount_amount, order.shipping_amount, order.total_amount) == (
        3000,
        2010,
        800,
        TOTAL,
    )
    assert order.deal == f"flash:{item.id}"
    assert order.coupon_id is None
    assert [(d.code, d.name, d.amount) for d in order.lines[0].discounts] == [
        (f"flash:{item.id}", "秒杀价", 2010)
    ]
    assert order.pay_by - order.placed_at == dt.timedelta(minutes=5)
    assert (await left(item.id), await available(red)) == (2, 17)
    assert await purchase_statuses() == ["pending"]
    assert (await verify()).problems == []


async def test_buying_before_the_start_or_after_the_end_is_refused_and_changes_nothing() -> None:
    red, _black = await flash_shop()
    session = await flash_session(red, starts_in=dt.timedelta(minutes=10), lasts=dt.timedelta(minutes=30))
    item = session.items[0]
    customer = await buyer()

    with pytest.raises(social.FlashNotStarted):
        await buy(customer, item.id, total=TOTAL)
    clock.advance(dt.timedelta(minutes=41))
    social.forget_cached_items()
    with pytest.raises(social.FlashEnded):
        await buy(customer, item.id, total=TOTAL)

    assert await purchase_statuses() == []
    assert await left(item.id) == 10


async def test_the_per_customer_limit_holds_and_a_retry_returns_the_same_order() -> None:
    red, _black = await flash_shop()
    session = await flash_session(red, per_customer=1)
    item = session.items[0]
    customer = await buyer()

    first = await buy(customer, item.id, total=TOTAL, key="k-1")
    again = await buy(customer, item.id, total=TOTAL, key="k-1")
    with pytest.raises(social.FlashLimitReached):
        await buy(customer, item.id, total=TOTAL, key="k-2")
    with pytest.raises(social.FlashLimitReached):
        await buy(customer, item.id, quantity=2, total=2 * 990 + 1000, key="k-3")

    assert again.order_id == first.order_id
    assert await purchase_statuses() == ["pending"]
    assert await left(item.id) == 9


async def test_a_crowd_of_buyers_takes_exactly_the_quota_and_never_the_free_stock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lift_unpaid_limits(monkeypatch)
    red, _black = await flash_shop(stock=30)
    session = await flash_session(red, quota=10)
    item = session.items[0]
    customers = [await buyer() for _ in range(40)]

    async def attempt(customer_id: int) -> str:
        try:
            await buy(customer_id, item.id, total=TOTAL)
        except social.FlashSoldOut:
            return "sold out"
        return "ordered"

    outcomes = await asyncio.gather(*(attempt(c) for c in customers))

    assert (outcomes.count("ordered"), outcomes.count("sold out")) == (10, 30)
    assert (await left(item.id), await available(red)) == (0, 20)
    stats = await figures(session.id)
    assert (stats.left, stats.pending, stats.orders, stats.buyers) == (0, 10, 10, 10)
    assert (await verify()).problems == []


async def test_unpaid_orders_give_their_units_back_and_a_second_wave_buys_exactly_those() -> None:
    red, _black = await flash_shop(stock=10)
    session = await flash_session(red, quota=3)
    item = session.items[0]
    first_wave = [await buyer() for _ in range(3)]
    for customer in first_wave:
        await buy(customer, item.id, total=TOTAL)
    clock.advance(dt.timedelta(minutes=6))  # past the 5-minute window

    cancelled = await checkout.cancel_unpaid_orders()
    await deliver()

    assert cancelled == 3
    assert await left(item.id) == 3
    assert await purchase_statuses() == ["released", "released", "released"]
    second_wave = [await buyer() for _ in range(5)]
    outcomes = []
    for customer in [*second_wave, first_wave[0]]:
        try:
            await buy(customer, item.id, total=TOTAL)
            outcomes.append("ordered")
        except social.FlashSoldOut:
            outcomes.append("sold out")
    assert outcomes == ["ordered", "ordered", "ordered", "sold out", "sold out", "sold out"]
    assert (await left(item.id), await available(red)) == (0, 7)
    assert (await verify()).problems == []


async def test_a_cancelled_order_frees_the_buyers_limit() -> None:
    red, _black = await flash_shop()
    session = await flash_session(red, per_customer=1)
    item = session.items[0]
    customer = await buyer()
    placed = await buy(customer, item.id, total=TOTAL)

    async with uow() as s:
        await checkout.cancel_order(
            s,
            order_id=placed.order_id,
            reason="changed my mind",
            actor=identity.Actor(staff_id=None, label=f"customer:{customer}"),
            customer_id=customer,
        )
    await deliver()
    again = await buy(customer, item.id, total=TOTAL)

    assert again.order_id != placed.order_id
    assert await purchase_statuses() == ["released", "pending"]
    assert await left(item.id) == 9


async def test_the_end_gives_the_unsold_quota_back_to_stock() -> None:
    red, _black = await flash_shop(stock=20)
    session = await flash_session(red, quota=10, lasts=dt.timedelta(hours=1))
    item = session.items[0]
    await buy(await buyer(), item.id, total=TOTAL)
    clock.advance(dt.timedelta(hours=1, seconds=1))

    async with uow() as s:
        ended = await social.end_due_flash_sessions(s)
    async with uow() as s:
        again = await social.end_due_flash_sessions(s)

    assert (ended, again) == (1, 0)
    assert (await left(item.id), await available(red)) == (0, 19)
    async with uow(write=False) as s:
        read = await social.get_flash_session(s, flash_session_id=session.id)
        history = await social.list_status_changes(s, subject="flash_session", subject_id=session.id)
    assert read.status is social.FlashSessionStatus.ended
    assert [(h.from_status, h.to_status) for h in history] == [("draft", "published"), ("published", "ended")]
    assert (await verify()).problems == []


async def test_cancelling_gives_the_quota_back_and_cannot_be_done_twice() -> None:
    red, _black = await flash_shop(stock=20)
    session = await flash_session(red, quota=10)

    async with uow() as s:
        await social.cancel_flash_session(s, flash_session_id=session.id, actor=SYSTEM, reason="录错了")
    with pytest.raises(IllegalTransition):
        async with uow() as s:
            await social.cancel_flash_session(s, flash_session_id=session.id, actor=SYSTEM)

    assert (await left(session.items[0].id), await available(red)) == (0, 20)


async def test_a_published_session_cannot_be_edited() -> None:
    red, _black = await flash_shop()
    session = await flash_session(red)

    with pytest.raises(social.FlashSessionNotEditable):
        async with uow() as s:
            await social.remove_flash_item(
                s, flash_session_id=session.id, item_id=session.items[0].id, actor=SYSTEM
            )


async def test_a_reminder_is_sent_once_when_the_session_starts() -> None:
    red, _black = await flash_shop()
    session = await flash_session(red, starts_in=dt.timedelta(minutes=30))
    customer = await buyer()
    async with uow() as s:
        asked = await social.remind_me(s, flash_session_id=session.id, customer_id=customer)
    async with uow() as s:
        asked_again = await social.remind_me(s, flash_session_id=session.id, customer_id=customer)

    async with uow() as s:
        early = await social.send_due_reminders(s)
    clock.advance(dt.timedelta(minutes=29, seconds=30))
    async with uow() as s:
        due = await social.send_due_reminders(s)
    async with uow() as s:
        twice = await social.send_due_reminders(s)
    await deliver()

    assert (asked, asked_again, early, due, twice) == (True, False, 0, 1, 0)
    async with uow(write=False) as s:
        messages = await notify.list_messages(s, customer_id=customer)
    assert [(m.kind, m.link) for m in messages.items] == [
        (notify.MessageKind.flash_sale_starting, f"flash:{session.id}")
    ]


async def test_the_flash_sale_page_shows_live_and_upcoming_sessions_with_the_units_left() -> None:
    red, black = await flash_shop()
    live = await flash_session(red, quota=4)
    soon = await flash_session(black, starts_in=dt.timedelta(hours=3), quota=6)
    await buy(await buyer(), live.items[0].id, total=TOTAL)

    async with uow(write=False) as s:
        views = await social.list_flash_sale(s)

    assert [(v.id, v.phase, [(o.left, o.quota) for o in v.offers]) for v in views] == [
        (live.id, social.FlashPhase.live, [(3, 4)]),
        (soon.id, social.FlashPhase.upcoming, [(6, 6)]),
    ]
    assert views[0].offers[0].list_price_amount == 3000


async def test_the_human_check_refuses_a_wrong_answer_and_accepts_a_solved_puzzle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MERCATO_FLASH_PROOF_BITS", "8")
    get_settings.cache_clear()
    red, _black = await flash_shop()
    session = await flash_session(red, human_check=True)
    item = session.items[0]
    customer = await buyer()
    challenge = social.flash_challenge(item_id=item.id, customer_id=customer)
    proof = next(
        str(n) for n in range(100_000) if hashlib.sha256(f"{challenge}:{n}".encode()).digest()[0] == 0
    )

    with pytest.raises(social.HumanCheckFailed):
        await buy(customer, item.id, total=TOTAL, proof="42x")
    placed = await buy(customer, item.id, total=TOTAL, proof=proof)

    assert placed.total_amount == TOTAL
    assert await purchase_statuses() == ["pending"]


async def test_a_paid_flash_order_settles_its_purchase() -> None:
    red, _black = await flash_shop()
    session = await flash_session(red)
    customer = await buyer()
    placed = await buy(customer, session.items[0].id, total=TOTAL)

    async with uow() as s:
        await orders.mark_order_paid(
            s,
            reference=f"order:{placed.order_id}",
            payment_id=placed.payment_id,
            amount=TOTAL,
            currency="CNY",
        )
    await deliver()

    assert await purchase_statuses() == ["paid"]
    stats = await figures(session.id)
    assert (stats.paid, stats.pending, stats.buyers) == (1, 0, 1)


async def test_normal_sales_cannot_take_the_quota() -> None:
    red, _black = await flash_shop(stock=10)
    await flash_session(red, quota=10)
    customer = await buyer()

    with pytest.raises(inventory.InsufficientStock):
        await place(customer, (red, 1))
