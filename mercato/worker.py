"""The worker composition root: the Taskiq broker, the scheduler, and every job and event handler.

``mercato worker`` runs the receiver and the scheduler in one process. In embedded mode the web
process runs the scheduler itself and jobs execute in-process.
"""

from __future__ import annotations

import asyncio

import structlog
from taskiq.api import run_receiver_task, run_scheduler_task

from mercato.core import jobs
from mercato.core.jobs import broker, scheduler

log = structlog.get_logger(__name__)


def register() -> None:
    """Import every domain's tasks and subscribe every handler (idempotent)."""
    # Domains add their task modules and handler subscriptions here as they grow:
    #   from mercato.orders import tasks as _orders_tasks
    #   events.subscribe(PaymentCaptured, orders_handlers.on_payment_captured)
    _ = jobs.deliver_outbox


async def run_worker(*, with_scheduler: bool = True) -> None:
    """Receive jobs from the broker (and run the scheduler) until cancelled."""
    register()
    await broker.startup()
    tasks = [asyncio.create_task(run_receiver_task(broker, run_startup=False))]
    if with_scheduler:
        tasks.append(asyncio.create_task(run_scheduler_task(scheduler)))
    log.info("worker.started", scheduler=with_scheduler)
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await broker.shutdown()


async def run_embedded_scheduler() -> None:
    """The in-process scheduler of embedded mode (jobs run on the in-memory broker)."""
    register()
    await broker.startup()
    try:
        await run_scheduler_task(scheduler)
    finally:
        await broker.shutdown()
