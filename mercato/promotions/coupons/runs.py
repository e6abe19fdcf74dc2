"""Private: the coupon jobs' work, each step its own short transaction (``tasks.py`` schedules them).

- issue runs: a bulk run issues to ``CHUNK`` customers per transaction, a code batch generates
  ``CODE_CHUNK`` codes per transaction; each chunk moves the run's progress in the same
  transaction, conditionally on the progress it started from, so a rerun after a crash (or a
  second runner) continues where the last commit left off and never issues twice;
- expiry: unused coupons past their end become expired, a batch per transaction;
- reminders: a ``CouponExpiring`` event once per coupon ending within ``REMIND_BEFORE``;
- win-back (回归券): customers who paid before and not in ``WIN_BACK_AFTER`` get the win-back
  templates once per silent spell.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.promotions.coupons.issuance import SKIPPED, issue_for_trigger
from mercato.promotions.coupons.issue import issue_coupon, record_moves
from mercato.promotions.events import CouponExpiring
from mercato.promotions.models import Coupon, CouponCode, CouponTemplate, CustomerStat, IssueRun
from mercato.promotions.schemas import CouponSource, CouponStatus, CouponTemplateStatus, IssueTrigger
from mercato.promotions.states import COUPON

log = structlog.get_logger(__name__)

CHUNK = 200
CODE_CHUNK = 500
#: Codes: 12 characters of an alphabet without look-alikes (no 0/O, 1/I/L): 31^12 ≈ 7.9e17.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
#: A queued run not started after this (its kick was lost), or running this long, is resumed.
LOST_RUN = dt.timedelta(minutes=10)
REMIND_BEFORE = dt.timedelta(hours=24)
WIN_BACK_AFTER = dt.timedelta(days=30)
BATCH = 500


class _Overtaken(Exception):
    """Another runner moved the run on first: this chunk is rolled back."""


async def _active(session: AsyncSession, customer_id: int) -> bool:
    """Whether the customer exists and is not deleted."""
    try:
        customer = await identity.get_customer_record(session, customer_id=customer_id)
    except identity.CustomerNotFound:
        return False
    return customer.status == identity.CustomerStatus.active


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def _advance(session: AsyncSession, run: IssueRun, **counts: int) -> None:
    """Move the run's progress on from where this chunk found it (else undo the chunk)."""
    moved = await session.execute(
        update(IssueRun)
        .where(IssueRun.id == run.id, IssueRun.status == "running", IssueRun.done == run.done)
        .values(**{name: getattr(IssueRun, name) + value for name, value in counts.items()})
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise _Overtaken()


async def _bulk_chunk(session: AsyncSession, run: IssueRun) -> None:
    now = clock.now()
    chunk = run.customer_ids[run.done : run.done + CHUNK]
    issued = skipped = 0
    for customer_id in chunk:
        if not await _active(session, customer_id):
            skipped += 1
            continue
        try:
            await issue_coupon(
                session,
                template_id=run.template_id,
                customer_id=customer_id,
                source=CouponSource.bulk,
                key=f"bulk:{run.id}:{customer_id}",
                now=now,
            )
        except SKIPPED:
            skipped += 1
        else:
            issued += 1
    await _advance(session, run, done=len(chunk), issued=issued, skipped=skipped)


async def _codes_chunk(session: AsyncSession, run: IssueRun) -> None:
    """Insert a chunk of fresh codes; the unique constraint refuses a clash, which is drawn again."""
    wanted = min(CODE_CHUNK, run.total - run.done)
    made = 0
    now = clock.now()
    while made < wanted:
        codes = {new_code() for _ in range(wanted - made)}
        taken = set(
            (await session.execute(select(CouponCode.code).where(CouponCode.code.in_(codes)))).scalars()
        )
        fresh = sorted(codes - taken)
        session.add_all(
            CouponCode(template_id=run.template_id, batch_id=run.id, code=code, created_at=now)
            for code in fresh
        )
        await session.flush()
        made += len(fresh)
    await _advance(session, run, done=made, issued=made)


async def run_issue(run_id: int) -> bool:
    """The job: work a queued (or interrupted) run through to the end, a chunk per transaction.
    Returns whether this call finished it."""
    async with uow() as session:
        claimed = await session.execute(
            update(IssueRun)
            .where(IssueRun.id == run_id, IssueRun.status.in_(("queued", "running")))
            .values(status="running")
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return False
    try:
        while True:
            async with uow() as session:
                run = await session.get_one(IssueRun, run_id, populate_existing=True)
                if run.status != "running":
                    return False
                if run.done >= run.total:
                    run.status, run.finished_at = "done", clock.now()
                    return True
                await (_codes_chunk if run.kind == "codes" else _bulk_chunk)(session, run)
    except _Overtaken:
        return False
    except Exception as exc:
        log.exception("promotions.issue_run_failed", run_id=run_id)
        async with uow() as session:
            await session.execute(
                update(IssueRun)
                .where(IssueRun.id == run_id, IssueRun.status == "running")
                .values(status="failed", error=repr(exc)[:300], finished_at=clock.now())
                .execution_options(synchronize_session=False)
            )
        return False


async def resume_issue_runs(*, limit: int = 20) -> int:
    """Run the runs whose kick was lost or whose worker died (older than ``LOST_RUN``)."""
    async with uow(write=False) as session:
        lost = list(
            (
                await session.execute(
                    select(IssueRun.id)
                    .where(
                        IssueRun.status.in_(("queued", "running")),
                        IssueRun.created_at < clock.now() - LOST_RUN,
                    )
                    .order_by(IssueRun.id)
                    .limit(limit)
                )
            ).scalars()
        )
    for run_id in lost:
        await run_issue(run_id)
    return len(lost)


async def _in_batches(step: Callable[[AsyncSession, dt.datetime, int], Awaitable[int]], limit: int) -> int:
    """Run ``step`` a transaction at a time until it handles fewer than ``limit``; the total."""
    total = 0
    while True:
        async with uow() as session:
            handled = await step(session, clock.now(), limit)
        total += handled
        if handled < limit:
            return total


async def expire_coupons(*, limit: int = BATCH) -> int:
    """Unused coupons past their end → expired (one UPDATE per batch, a status change row each)."""
    return await _in_batches(_expire_batch, limit)


async def _expire_batch(session: AsyncSession, now: dt.datetime, limit: int) -> int:
    due = (
        select(Coupon.id)
        .where(Coupon.status == str(CouponStatus.unused), Coupon.valid_until <= now)
        .order_by(Coupon.id)
        .limit(limit)
        .scalar_subquery()
    )
    expired = list(
        (
            await session.execute(
                update(Coupon)
                .where(
                    Coupon.id.in_(due),
                    Coupon.status == str(CouponStatus.unused),
                    Coupon.status.in_(COUPON.sources(CouponStatus.expired)),
                )
                .values(status=str(CouponStatus.expired), updated_at=now)
                .returning(Coupon.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    await record_moves(
        session,
        expired,
        from_status=CouponStatus.unused,
        to_status=CouponStatus.expired,
        reason="expired",
        now=now,
    )
    return len(expired)


async def remind_expiring(*, limit: int = BATCH) -> int:
    """A ``promotions.coupon_expiring.v1`` event for each unused coupon ending within a day, once
    (``reminded_at`` set by a conditional UPDATE in the event's transaction)."""
    return await _in_batches(_remind_batch, limit)


async def _remind_batch(session: AsyncSession, now: dt.datetime, limit: int) -> int:
    due = (
        select(Coupon.id)
        .where(
            Coupon.status == str(CouponStatus.unused),
            Coupon.reminded_at.is_(None),
            Coupon.valid_until > now,
            Coupon.valid_until <= now + REMIND_BEFORE,
        )
        .order_by(Coupon.id)
        .limit(limit)
        .scalar_subquery()
    )
    reminded = (
        await session.execute(
            update(Coupon)
            .where(Coupon.id.in_(due), Coupon.reminded_at.is_(None))
            .values(reminded_at=now)
            .returning(Coupon.id, Coupon.customer_id, Coupon.template_id, Coupon.valid_until)
            .execution_options(synchronize_session=False)
        )
    ).all()
    names = dict(
        (
            await session.execute(
                select(CouponTemplate.id, CouponTemplate.name).where(
                    CouponTemplate.id.in_({r.template_id for r in reminded})
                )
            )
        ).all()
    )
    await events.record_events(
        session,
        [
            CouponExpiring(
                coupon_id=r.id,
                customer_id=r.customer_id,
                template_id=r.template_id,
                coupon_name=names[r.template_id],
                valid_until=r.valid_until.isoformat(),
            )
            for r in sorted(reminded, key=lambda r: r.id)
        ],
    )
    return len(reminded)


async def win_back(*, limit: int = CHUNK) -> int:
    """Issue the active win-back templates to customers silent for ``WIN_BACK_AFTER`` who paid
    before, once per silent spell: not to one who got a coupon of the template since their last
    payment (and the key ``win_back:<customer>:<last paid date>`` makes a rerun harmless).
    Deleted customers are left out. Returns how many coupons were issued."""
    issued = 0
    after = 0
    while True:
        async with uow() as session:
            cutoff = clock.now() - WIN_BACK_AFTER
            templates = select(CouponTemplate.id).where(
                CouponTemplate.issue_on == str(IssueTrigger.win_back),
                CouponTemplate.status == str(CouponTemplateStatus.active),
            )
            already = exists().where(
                Coupon.customer_id == CustomerStat.customer_id,
                Coupon.template_id.in_(templates),
                Coupon.issued_at >= CustomerStat.last_paid_at,
            )
            silent = (
                await session.execute(
                    select(CustomerStat.customer_id, CustomerStat.last_paid_at)
                    .where(
                        CustomerStat.customer_id > after,
                        CustomerStat.paid_orders > 0,
                        CustomerStat.last_paid_at <= cutoff,
                        exists(templates),
                        ~already,
                    )
                    .order_by(CustomerStat.customer_id)
                    .limit(limit)
                )
            ).all()
            for customer_id, last_paid_at in silent:
                assert last_paid_at is not None  # paid_orders > 0
                if not await _active(session, customer_id):
                    continue
                issued += len(
                    await issue_for_trigger(
                        session,
                        trigger=IssueTrigger.win_back,
                        customer_id=customer_id,
                        key=f"win_back:{customer_id}:{last_paid_at.date().isoformat()}",
                    )
                )
        if len(silent) < limit:
            return issued
        after = silent[-1].customer_id
