"""Domain events, the transactional outbox and at-least-once delivery to idempotent handlers.

A service records an event with :func:`record_event` in the same transaction as the change it
describes, so a crash can never lose it. :func:`deliver_pending` (run by the job system every few
seconds and kicked after each commit) hands each pending event to every subscribed handler.

Each (event, handler) delivery runs in its own transaction that first inserts a row into
``core_event_delivery`` (unique on event id + handler name) and then runs the handler with the
same session. The handler's writes and the delivery record commit together or not at all, so a
handler interrupted at any point is retried later, and one that completed is never run again:
delivery is at least once, the effect exactly once. Failed deliveries back off exponentially.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import structlog
from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core import clock
from mercato.core.db import Base, BigId, IdMixin, insert_ignore, uow

log = structlog.get_logger(__name__)

_EVENT_TYPES: dict[str, type[DomainEvent]] = {}


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every domain event: a frozen dataclass of JSON-safe fields.

    Subclasses set ``name`` to a stable wire name, ``<domain>.<event_snake>.v<N>``.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in _EVENT_TYPES and _EVENT_TYPES[cls.name] is not cls:
                raise RuntimeError(f"duplicate event name {cls.name}")
            _EVENT_TYPES[cls.name] = cls

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class OutboxEvent(IdMixin, Base):
    """An event waiting for (or done with) delivery."""

    __tablename__ = "core_outbox_event"
    __table_args__ = (Index("ix_core_outbox_event_pending", "dispatched_at", "next_attempt_at"),)

    name: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime]
    dispatched_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)


class EventDelivery(IdMixin, Base):
    """Proof that one handler has handled one event (the inbox that makes handlers idempotent)."""

    __tablename__ = "core_event_delivery"
    __table_args__ = (UniqueConstraint("event_id", "handler"),)

    event_id: Mapped[int] = mapped_column(BigId)
    handler: Mapped[str] = mapped_column(String(200))
    delivered_at: Mapped[dt.datetime]


@dataclass(frozen=True)
class EventEnvelope:
    """What a handler receives: the typed event plus its outbox id and time."""

    id: int
    occurred_at: dt.datetime
    event: DomainEvent


Handler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]
E = TypeVar("E", bound=DomainEvent)


@dataclass
class _Subscription:
    handler_name: str
    handler: Handler


_subscriptions: dict[str, list[_Subscription]] = {}


def subscribe(event_type: type[DomainEvent], handler: Handler, *, name: str | None = None) -> None:
    """Subscribe ``handler`` to ``event_type``; its name (stable!) keys its delivery records."""
    handler_name = name or f"{handler.__module__}.{handler.__qualname__}"
    subs = _subscriptions.setdefault(event_type.name, [])
    if all(s.handler_name != handler_name for s in subs):
        subs.append(_Subscription(handler_name, handler))


def unsubscribe_all() -> None:
    """Forget every subscription (tests build their own)."""
    _subscriptions.clear()


async def record_event(session: AsyncSession, event: DomainEvent) -> int:
    """Write ``event`` to the outbox inside the caller's transaction; return its id."""
    if not event.name:
        raise TypeError(f"{type(event).__name__} has no wire name")
    now = clock.now()
    row = OutboxEvent(
        name=event.name, payload=event.payload(), occurred_at=now, next_attempt_at=now, attempts=0
    )
    session.add(row)
    await session.flush()
    return row.id


async def record_events(session: AsyncSession, events: list[DomainEvent]) -> None:
    """Write many events to the outbox in one flush (bulk operations), in the given order."""
    if not events:
        return
    now = clock.now()
    for event in events:
        if not event.name:
            raise TypeError(f"{type(event).__name__} has no wire name")
    session.add_all(
        [
            OutboxEvent(name=e.name, payload=e.payload(), occurred_at=now, next_attempt_at=now, attempts=0)
            for e in events
        ]
    )
    await session.flush()


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** min(attempts, 12), 3600))


async def deliver_pending(limit: int = 200) -> int:
    """Deliver up to ``limit`` due events to their handlers; return how many completed."""
    async with uow(write=False) as session:
        rows = (
            await session.execute(
                select(OutboxEvent.id, OutboxEvent.name, OutboxEvent.payload, OutboxEvent.occurred_at)
                .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.next_attempt_at <= clock.now())
                .order_by(OutboxEvent.id)
                .limit(limit)
            )
        ).all()
    delivered: list[int] = []
    for event_id, name, payload, occurred_at in rows:
        event_type = _EVENT_TYPES.get(name)
        error: str | None = None
        if event_type is not None:
            envelope = EventEnvelope(event_id, occurred_at, event_type(**payload))
            for sub in list(_subscriptions.get(name, [])):
                try:
                    await _deliver_one(envelope, sub)
                except Exception as exc:  # a failing handler must not stop the others
                    log.warning(
                        "event.handler_failed",
                        event_id=event_id,
                        event_name=name,
                        handler=sub.handler_name,
                        error=repr(exc),
                    )
                    error = f"{sub.handler_name}: {exc!r}"[:2000]
        if error is None:
            delivered.append(event_id)
            continue
        async with uow() as session:
            attempts = (
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == event_id)
                    .values(attempts=OutboxEvent.attempts + 1, last_error=error)
                    .returning(OutboxEvent.attempts)
                )
            ).scalar_one()
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_id)
                .values(next_attempt_at=clock.now() + _backoff(attempts))
            )
    if delivered:
        # One statement marks the batch: a crash before it only means these events are offered
        # again, and every handler that already ran for one is skipped (core_event_delivery).
        async with uow() as session:
            await session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(delivered)).values(dispatched_at=clock.now())
            )
    return len(delivered)


async def _deliver_one(envelope: EventEnvelope, sub: _Subscription) -> None:
    async with uow() as session:
        claimed = await insert_ignore(
            session,
            EventDelivery.__table__,
            {"event_id": envelope.id, "handler": sub.handler_name, "delivered_at": clock.now()},
        )
        if not claimed:
            return  # handled before: a retry after an interruption must not handle it twice
        await sub.handler(session, envelope)
