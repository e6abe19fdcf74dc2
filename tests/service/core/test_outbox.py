"""The transactional outbox: events survive interruptions and each handler's effect happens once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.core.events import (
    DomainEvent,
    EventDelivery,
    EventEnvelope,
    OutboxEvent,
    deliver_pending,
    record_event,
)


@dataclass(frozen=True, kw_only=True)
class ThingHappened(DomainEvent):
    name = "tests.thing_happened.v1"
    thing_id: int


async def _effect(session: AsyncSession, envelope: EventEnvelope, label: str) -> None:
    """A handler's database effect: one audit row per (handler, event)."""
    assert isinstance(envelope.event, ThingHappened)
    await identity.record_audit(
        session,
        actor=identity.Actor(staff_id=None, label=label),
        action="tests.handled",
        object_type="thing",
        object_id=str(envelope.event.thing_id),
    )


async def _effects(label: str) -> list[str]:
    from mercato.identity.models import AuditEntry  # noqa: PLC0415 - test reads the effect table

    async with uow(write=False) as s:
        rows = await s.execute(
            select(AuditEntry.object_id).where(AuditEntry.actor_label == label).order_by(AuditEntry.id)
        )
    return list(rows.scalars())


async def _pending() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).where(OutboxEvent.dispatched_at.is_(None)))).scalar_one()


@pytest.fixture(autouse=True)
def no_subscriptions() -> Iterator[None]:
    events.unsubscribe_all()
    yield
    events.unsubscribe_all()


async def test_delivers_each_event_once_to_each_handler() -> None:
    async def handler(session: AsyncSession, envelope: EventEnvelope) -> None:
        await _effect(session, envelope, "a")

    events.subscribe(ThingHappened, handler, name="tests.a")
    async with uow() as s:
        await record_event(s, ThingHappened(thing_id=1))
        await record_event(s, ThingHappened(thing_id=2))

    first = await deliver_pending()
    second = await deliver_pending()

    assert (first, second) == (2, 0)
    assert await _effects("a") == ["1", "2"]
    assert await _pending() == 0


async def test_event_of_a_rolled_back_transaction_is_never_delivered() -> None:
    async def handler(session: AsyncSession, envelope: EventEnvelope) -> None:
        await _effect(session, envelope, "a")

    events.subscribe(ThingHappened, handler, name="tests.a")

    async def failing_change() -> None:
        async with uow() as s:
            await record_event(s, ThingHappened(thing_id=7))
            raise RuntimeError("the business change failed")

    with pytest.raises(RuntimeError):
        await failing_change()

    assert await deliver_pending() == 0
    assert await _effects("a") == []


async def test_handler_crash_midway_is_retried_after_backoff_and_applied_once() -> None:
    calls = {"n": 0}

    async def flaky(session: AsyncSession, envelope: EventEnvelope) -> None:
        calls["n"] += 1
        await _effect(session, envelope, "flaky")  # written, then the crash must undo it
        if calls["n"] == 1:
            raise ConnectionError("worker lost its connection mid-handler")

    events.subscribe(ThingHappened, flaky, name="tests.flaky")
    async with uow() as s:
        await record_event(s, ThingHappened(thing_id=3))

    assert await deliver_pending() == 0
    assert await _effects("flaky") == []
    async with uow(write=False) as s:
        row = (await s.execute(select(OutboxEvent))).scalar_one()
    assert (row.attempts, row.dispatched_at is None) == (1, True)
    assert "ConnectionError" in (row.last_error or "")
    assert await deliver_pending() == 0  # backing off: not due yet
    clock.advance(dt.timedelta(seconds=3))

    assert await deliver_pending() == 1
    assert await _effects("flaky") == ["3"]
    assert calls["n"] == 2


async def test_interrupted_delivery_never_runs_a_completed_handler_twice() -> None:
    """Handler A completes, then the process dies before B finishes: on restart only B runs."""
    started = asyncio.Event()
    release = asyncio.Event()
    runs = {"a": 0, "b": 0}

    async def handler_a(session: AsyncSession, envelope: EventEnvelope) -> None:
        runs["a"] += 1
        await _effect(session, envelope, "a")

    async def handler_b(session: AsyncSession, envelope: EventEnvelope) -> None:
        runs["b"] += 1
        await _effect(session, envelope, "b")
        started.set()
        await release.wait()  # the worker is killed here

    events.subscribe(ThingHappened, handler_a, name="tests.a")
    events.subscribe(ThingHappened, handler_b, name="tests.b")
    async with uow() as s:
        await record_event(s, ThingHappened(thing_id=4))

    worker = asyncio.create_task(deliver_pending())
    await started.wait()
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker

    assert await _effects("a") == ["4"]
    assert await _effects("b") == []
    assert await _pending() == 1

    release.set()
    assert await deliver_pending() == 1
    assert await _effects("a") == ["4"]
    assert await _effects("b") == ["4"]
    assert runs == {"a": 1, "b": 2}
    async with uow(write=False) as s:
        handlers = (
            (await s.execute(select(EventDelivery.handler).order_by(EventDelivery.handler))).scalars().all()
        )
    assert handlers == ["tests.a", "tests.b"]
    assert await _pending() == 0


async def test_two_workers_racing_apply_each_handler_once() -> None:
    async def handler(session: AsyncSession, envelope: EventEnvelope) -> None:
        await _effect(session, envelope, "race")

    events.subscribe(ThingHappened, handler, name="tests.race")
    async with uow() as s:
        for thing_id in range(10):
            await record_event(s, ThingHappened(thing_id=thing_id))

    await asyncio.gather(deliver_pending(), deliver_pending())

    assert sorted(await _effects("race"), key=int) == [str(i) for i in range(10)]
    assert await _pending() == 0
