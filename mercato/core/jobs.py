"""The job system: a Taskiq broker (Redis when MERCATO_REDIS_URL is set, in-process otherwise),
its scheduler, and the outbox delivery job every process shares.

Domains declare their jobs in ``<domain>/tasks.py`` with ``@broker.task(schedule=[...])``;
``mercato.worker`` imports those modules so the worker and the scheduler see them. Jobs take
ids, re-read state and are idempotent: a job may run twice.
"""

from __future__ import annotations

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
    """Deliver pending domain events (scheduled every few seconds, kicked after commits)."""
    return await deliver_pending()


async def kick_outbox() -> None:
    """Ask for an outbox delivery soon; the schedule covers a lost kick."""
    await deliver_outbox.kiq()
