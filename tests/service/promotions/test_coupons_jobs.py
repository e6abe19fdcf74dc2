"""The coupon jobs: expiry, the 24-hour reminder (once), bulk issuance with its progress and a
rerun that issues nothing twice, win-back once per silent spell, and the 新人礼包 on
registration."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from mercato import identity, promotions
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.core.jobs import broker
from mercato.promotions import tasks
from mercato.promotions.models import Coupon, CouponStatusChange, CustomerStat, IssueRun
from tests.factories.identity import PASSWORD, SYSTEM, make_customer
from tests.factories.promotions import coupon_counts, published_template

DAY = dt.timedelta(days=1)


async def claim(template_id: int, customer_id: int) -> promotions.CouponRead:
    async with uow() as session:
        return await promotions.claim_coupon(session, template_id=template_id, customer_id=customer_id)


async def statuses() -> list[str]:
    async with uow(write=False) as session:
        return list((await session.execute(select(Coupon.status).order_by(Coupon.id))).scalars())


async def outbox(name: str) -> list[dict[str, object]]:
    async with uow(write=False) as session:
        rows = await session.execute(
            select(OutboxEvent.payload).where(OutboxEvent.name == name).order_by(OutboxEvent.id)
        )
        return list(rows.scalars())


async def test_expiry_moves_only_unused_coupons_past_their_end() -> None:
    short = await published_template(valid_days=1, per_customer_limit=3)
    long = await published_template(valid_days=5)
    first, second, locked = [await claim(short.id, 1) for _ in range(3)]
    await claim(long.id, 1)
    async with uow() as session:
        await session.execute(
            update(Coupon).where(Coupon.id == locked.id).values(status="locked", order_id=9)
        )
    clock.advance(2 * DAY)

    assert await tasks.expire_coupons() == 2
    assert await tasks.expire_coupons() == 0

    assert await statuses() == ["expired", "expired", "locked", "unused"]
    async with uow(write=False) as session:
        expired = list(
            (
                await session.execute(
                    select(CouponStatusChange.coupon_id)
                    .where(CouponStatusChange.to_status == "expired")
                    .order_by(CouponStatusChange.coupon_id)
                )
            ).scalars()
        )
    assert expired == [first.id, second.id]


async def test_a_reminder_is_recorded_once_a_day_before_the_end() -> None:
    day = await published_template(valid_days=1, name="满100减10")
    week = await published_template(valid_days=7)
    soon = await claim(day.id, 4)
    await claim(week.id, 4)

    assert await tasks.remind_expiring() == 1
    assert await tasks.remind_expiring() == 0
    clock.advance(DAY / 2)
    assert await tasks.remind_expiring() == 0

    assert await outbox("promotions.coupon_expiring.v1") == [
        {
            "coupon_id": soon.id,
            "customer_id": 4,
            "template_id": day.id,
            "coupon_name": "满100减10",
            "valid_until": soon.valid_until.isoformat(),
        }
    ]


async def test_a_bulk_run_issues_to_each_customer_once_shows_progress_and_a_rerun_changes_nothing() -> None:
    template = await published_template(total_quantity=400)
    customers = [(await make_customer(password=None)).id for _ in range(3)]
    deleted = await make_customer()
    async with uow() as session:
        await identity.delete_customer(
            session, customer_id=deleted.id, data=identity.DeleteAccount(password=PASSWORD)
        )
    targets = [*customers, customers[0], deleted.id, 999_999]
    await claim(template.id, customers[1])  # already at the limit of one

    async with uow() as session:
        queued = await promotions.start_bulk_issue(
            session, template_id=template.id, customer_ids=targets, actor=SYSTEM
        )
    assert (queued.kind, queued.status, queued.total, queued.done) == ("customers", "queued", 5, 0)
    await broker.wait_all()
    async with uow(write=False) as session:
        done = await promotions.get_issue_run(session, run_id=queued.id)

    assert (done.status, done.total, done.done, done.issued, done.skipped) == ("done", 5, 5, 2, 3)
    assert await coupon_counts(template.id) == (3, 3, 3)

    # a worker that died after issuing but before the run was marked done: the rerun continues
    async with uow() as session:
        await session.execute(
            update(IssueRun)
            .where(IssueRun.id == queued.id)
            .values(status="running", done=0, issued=0, skipped=0)
        )
    assert await tasks.run_issue(queued.id) is True
    assert await tasks.run_issue(queued.id) is False  # done stays done
    async with uow(write=False) as session:
        rerun = await promotions.get_issue_run(session, run_id=queued.id)
    assert (rerun.status, rerun.done, rerun.issued, rerun.skipped) == ("done", 5, 2, 3)
    assert await coupon_counts(template.id) == (3, 3, 3)


async def test_a_bulk_run_of_many_customers_moves_in_chunks_and_stops_at_the_total() -> None:
    template = await published_template(total_quantity=250, per_customer_limit=1)
    customers = [(await make_customer(password=None)).id for _ in range(260)]
    async with uow() as session:
        queued = await promotions.start_bulk_issue(
            session, template_id=template.id, customer_ids=customers, actor=SYSTEM
        )
    await broker.wait_all()
    async with uow(write=False) as session:
        done = await promotions.get_issue_run(session, run_id=queued.id)
    assert (done.status, done.done, done.issued, done.skipped) == ("done", 260, 250, 10)
    assert await coupon_counts(template.id) == (250, 250, 250)


async def test_bulk_runs_are_refused_without_customers_or_for_an_unknown_template() -> None:
    template = await published_template()
    with pytest.raises(promotions.InvalidRule):
        async with uow() as session:
            await promotions.start_bulk_issue(session, template_id=template.id, customer_ids=[], actor=SYSTEM)
    with pytest.raises(promotions.CouponTemplateNotFound):
        async with uow() as session:
            await promotions.start_bulk_issue(session, template_id=999_999, customer_ids=[1], actor=SYSTEM)
    with pytest.raises(promotions.IssueRunNotFound):
        async with uow(write=False) as session:
            await promotions.get_issue_run(session, run_id=999_999)
    async with uow(write=False) as session:
        assert list((await session.execute(select(IssueRun.id))).scalars()) == []


async def test_win_back_coupons_go_to_silent_payers_once_per_silent_spell() -> None:
    back = await published_template(
        issue_on=promotions.IssueTrigger.win_back, claimable=False, per_customer_limit=5
    )
    silent, recent, never = [(await make_customer(password=None)).id for _ in range(3)]
    now = clock.now()
    async with uow() as session:
        session.add_all(
            [
                CustomerStat(customer_id=silent, paid_orders=2, last_paid_at=now - 31 * DAY),
                CustomerStat(customer_id=recent, paid_orders=1, last_paid_at=now - 5 * DAY),
                CustomerStat(customer_id=never, paid_orders=0, last_paid_at=None),
            ]
        )

    assert await tasks.win_back() == 1
    assert await tasks.win_back() == 0
    clock.advance(DAY)
    again = clock.now()
    async with uow() as session:  # buys again, then falls silent again
        await promotions.on_order_paid(session, order_id=1, customer_id=silent, paid_at=again)
    clock.advance(31 * DAY)
    assert await tasks.win_back() == 2  # the recent payer is silent now too
    assert await tasks.win_back() == 0

    async with uow(write=False) as session:
        keys = list((await session.execute(select(Coupon.issue_key).order_by(Coupon.id))).scalars())
    assert keys == [
        f"win_back:{silent}:{(now - 31 * DAY).date().isoformat()}:{back.id}",
        f"win_back:{silent}:{again.date().isoformat()}:{back.id}",
        f"win_back:{recent}:{(now - 5 * DAY).date().isoformat()}:{back.id}",
    ]


@pytest.mark.usefixtures("handlers")
async def test_registration_issues_the_new_customer_pack_once() -> None:
    pack = await published_template(issue_on=promotions.IssueTrigger.registration, claimable=False)
    other = await published_template(issue_on=promotions.IssueTrigger.first_order, claimable=False)
    customer = await make_customer()
    async with uow() as session:
        await events.record_event(
            session, identity.CustomerRegistered(customer_id=customer.id, channel="phone")
        )
        await events.record_event(
            session, identity.CustomerRegistered(customer_id=customer.id, channel="phone")
        )
    await events.deliver_pending()

    async with uow(write=False) as session:
        wallet = await promotions.list_wallet(session, customer_id=customer.id)
    assert [(c.template_id, c.source) for c in wallet] == [(pack.id, promotions.CouponSource.event)]
    assert await coupon_counts(other.id) == (0, 0, 0)
