"""The job system: a Taskiq broker (Redis when MERCATO_REDIS_URL is set, in-process otherwise),
its scheduler, and the outbox delivery job every process shares.

Domains declare their jobs in ``<domain>/tasks.py`` with ``@broker.task(schedule=[...])``;
``mercato.worker`` imports those modules so the worker and the scheduler see them. Jobs take
ids, re-read state and are idempotent: a job may run twice.
"""

from __future__ import annotations

import asyncio
import contextlib

from taskiq import AsyncBroker, InMemoryBroker, TaskiqScheduler
from taskiq.schedule_sources import LabelScheduleSource

from mercato.core.events import deliver_pending
from mercato.core.settings import Settings, get_settings


def make_broker(settings: Settings) -> AsyncBroker:
    """Return the Redis list-queue broker in production, the in-process broker otherwise."""
    if settings.redis_url:
        from taskiq_redis import ListQueueBroker  # noqa: PLC0415 - only needed with Redis

        return ListQueueBroker(url=settings.redis_url, queue_name="mercato:jobs")
    return InMemoryBroker()


broker: AsyncBroker = make_broker(get_settings())
scheduler = TaskiqScheduler(broker=broker, sources=[LabelScheduleSource(broker)])


@broker.task(
    task_name="core.deliver_outbox",
    schedule=[{"interval": get_settings().outbox_interval_seconds, "schedule_id": "core-deliver-outbox"}],
)
async def deliver_outbox() -> int:
    """Deliver pending domain events (scheduled every few seconds, kicked after commits).

    Kicks arrive with every commit that records an event, many at once under load. One run at
    a time per process: a kick during a run asks that run for another round instead of starting
    a second run over the same events (each would claim and skip the other's handlers, doubling
    the work). A round that found a full batch, or was asked again, is followed by another, up to
    ``_MAX_ROUNDS``; the schedule picks up anything left.
    """
    global _asked_again
    if _delivering.locked():
        _asked_again = True
        return 0
    async with _delivering:
        delivered = 0
        for _ in range(_MAX_ROUNDS):
            _asked_again = False
            count = await deliver_pending(limit=_BATCH)
            delivered += count
            if count < _BATCH and not _asked_again:
                break
        return delivered


async def settle_delivery() -> None:
    """Wait (at most ``_SETTLE_SECONDS``) for a delivery run in progress to finish: at shutdown,
    before the database engine goes away under it."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_SETTLE_SECONDS), _delivering:
            pass


_delivering = asyncio.Lock()
_asked_again = False
_BATCH = 200
_MAX_ROUNDS = 50
_SETTLE_SECONDS = 10.0


async def kick_outbox() -> None:
    """Ask for an outbox delivery soon; the schedule covers a lost kick."""
    await deliver_outbox.kiq()
