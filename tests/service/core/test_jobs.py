"""Jobs: the outbox job is scheduled, and embedded mode delivers events from inside the web process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import events
from mercato.core.db import uow
from mercato.core.events import EventEnvelope, OutboxEvent, record_event
from mercato.core.jobs import broker
from mercato.core.settings import get_settings
from tests.service.core.test_outbox import ThingHappened


@pytest.fixture(autouse=True)
def no_subscriptions() -> Iterator[None]:
    events.unsubscribe_all()
    yield
    events.unsubscribe_all()


async def test_every_periodic_job_is_on_the_schedule() -> None:
    from taskiq.schedule_sources import LabelScheduleSource  # noqa: PLC0415

    from mercato.worker import register  # noqa: PLC0415

    register()
    source = LabelScheduleSource(broker)
    await source.startup()
    schedules = await source.get_schedules()

    assert sorted((s.task_name, s.interval, s.schedule_id) for s in schedules) == [
        ("aftersales.check_refunds", 300, "aftersales-check-refunds"),
        ("core.deliver_outbox", 2, "core-deliver-outbox"),
        ("fulfillment.subscribe_tracking", 300, "fulfillment-subscribe-tracking"),
        ("fulfillment.sweep_order_exports", 300, "fulfillment-sweep-order-exports"),
        ("inventory.expire_reservations", 60, "inventory-expire-reservations"),
        ("notify.send_emails", 30, "notify-send-emails"),
        ("orders.cancel_unpaid", 60, "orders-cancel-unpaid"),
        ("orders.complete_delivered", 3600, "orders-complete-delivered"),
        ("payments.close_expired", 60, "payments-close-expired"),
        ("payments.resume_refunds", 300, "payments-resume-refunds"),
        ("promotions.enforce_campaign_budgets", 300, "promotions-enforce-campaign-budgets"),
        ("promotions.expire_coupons", 600, "promotions-expire-coupons"),
        ("promotions.remind_expiring", 900, "promotions-remind-expiring"),
        ("promotions.resume_issue_runs", 300, "promotions-resume-issue-runs"),
        ("promotions.win_back", 86400, "promotions-win-back"),
        ("social.bargain", 60, "social-bargain"),
        ("social.flash", 30, "social-flash"),
        ("social.groups", 60, "social-groups"),
    ]


async def test_embedded_mode_delivers_events_without_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_RUN_JOBS_IN_WEB", "true")
    get_settings.cache_clear()
    from mercato.app import create_app  # noqa: PLC0415

    app: FastAPI = create_app()
    handled: list[int] = []

    async def handler(session: AsyncSession, envelope: EventEnvelope) -> None:
        assert isinstance(envelope.event, ThingHappened)
        handled.append(envelope.event.thing_id)

    events.subscribe(ThingHappened, handler, name="tests.embedded")
    async with uow() as s:
        await record_event(s, ThingHappened(thing_id=11))

    async with app.router.lifespan_context(app):
        for _ in range(100):  # until the delivery that ran the handler has committed
            async with uow(write=False) as s:
                dispatched = (await s.execute(select(OutboxEvent.dispatched_at))).scalar_one()
            if dispatched is not None:
                break
            await asyncio.sleep(0.1)

    assert handled == [11]
    assert dispatched is not None


async def test_kicks_during_a_delivery_ask_it_for_another_round_instead_of_running_twice() -> None:
    from mercato.core.jobs import deliver_outbox  # noqa: PLC0415 - the task's function itself

    handled: list[int] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(session: AsyncSession, envelope: EventEnvelope) -> None:
        assert isinstance(envelope.event, ThingHappened)
        handled.append(envelope.event.thing_id)
        if envelope.event.thing_id == 1:  # a follow-up event, as OrderPaid follows PaymentCaptured
            await record_event(session, ThingHappened(thing_id=2))
            started.set()
            await release.wait()  # the round is still busy when the kicks arrive

    events.subscribe(ThingHappened, slow, name="tests.slow")
    async with uow() as s:
        await record_event(s, ThingHappened(thing_id=1))

    first = asyncio.create_task(deliver_outbox.original_func())
    await started.wait()
    kicks = [await deliver_outbox.original_func() for _ in range(5)]
    release.set()
    delivered = await first
    async with uow(write=False) as s:
        pending = (await s.execute(select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)))).all()

    assert kicks == [0, 0, 0, 0, 0]  # no second run over the same events
    assert (delivered, handled, pending) == (2, [1, 2], [])  # the kicked round delivered the follow-up
