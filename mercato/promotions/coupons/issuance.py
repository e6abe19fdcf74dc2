"""Issuing coupons without a shopper's click: on events (新人礼包, first order, invites, win-back,
repurchase), to a list of customers in bulk, and as redeemable codes.

Every coupon goes through ``issue.issue_coupon`` under a key naming why it was issued
(``registration:<customer>``, ``first_order:<customer>``, ``repurchase:<order>``,
``win_back:<customer>:<date>``, ``bulk:<run>:<customer>``, each followed by ``:<template>`` for
event triggers), so a repeated event or a rerun job never issues twice. Long runs (bulk, codes)
are ``promotions_issue_run`` rows worked through by the ``promotions.run_issue`` job in chunks
(``runs.py``), which a progress bar polls through :func:`get_issue_run`.

The birthday trigger (``IssueTrigger.birthday``) waits for the loyalty issue: identity keeps no
birthday yet, so nothing issues it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock, tabular
from mercato.core.db import after_commit
from mercato.core.errors import FieldError
from mercato.core.i18n import N_, gettext
from mercato.promotions.coupons.issue import issue_coupon
from mercato.promotions.errors import (
    CouponLimitReached,
    CouponNotClaimable,
    CouponsSoldOut,
    CouponTemplateNotFound,
    InvalidRule,
    IssueRunNotFound,
)
from mercato.promotions.models import CouponCode, CouponTemplate, IssueRun
from mercato.promotions.schemas import (
    CouponRead,
    CouponSource,
    CouponTemplateStatus,
    IssueRunRead,
    IssueTrigger,
)

log = structlog.get_logger(__name__)

#: The most coupons one bulk run issues, and codes one batch generates.
MAX_BULK_CUSTOMERS = 100_000
MAX_CODES = 100_000
#: What skips a customer in automatic and bulk issuance (the rest is an error).
SKIPPED = (CouponsSoldOut, CouponLimitReached, CouponNotClaimable)


async def issue_for_trigger(
    session: AsyncSession, *, trigger: IssueTrigger, customer_id: int, key: str
) -> list[CouponRead]:
    """Every active template issued on ``trigger``, once per (template, customer, ``key``); a
    template out of stock or at the customer's limit is skipped. The invite issue calls this
    with ``invite_inviter`` / ``invite_invitee``."""
    now = clock.now()
    template_ids = (
        await session.execute(
            select(CouponTemplate.id)
            .where(
                CouponTemplate.issue_on == str(trigger),
                CouponTemplate.status == str(CouponTemplateStatus.active),
            )
            .order_by(CouponTemplate.id)
        )
    ).scalars()
    issued: list[CouponRead] = []
    for template_id in list(template_ids):
        try:
            issued.append(
                await issue_coupon(
                    session,
                    template_id=template_id,
                    customer_id=customer_id,
                    source=CouponSource.event,
                    key=f"{key}:{template_id}",
                    now=now,
                )
            )
        except SKIPPED as exc:
            log.info("promotions.trigger_skipped", template_id=template_id, code=exc.code)
    return issued


def _read(row: IssueRun) -> IssueRunRead:
    return IssueRunRead.model_validate(row, from_attributes=True)


async def _open_template(session: AsyncSession, template_id: int) -> CouponTemplate:
    template = await session.get(CouponTemplate, template_id)
    if template is None:
        raise CouponTemplateNotFound()
    if template.status == CouponTemplateStatus.ended:
        raise CouponNotClaimable()
    return template


def _count_field(field: str, most: int) -> InvalidRule:
    problem = N_("Between 1 and {most} at a time.")
    return InvalidRule(
        problem=gettext(problem, most=most),
        fields=[FieldError(("body", field), InvalidRule.code, gettext(problem, most=most))],
    )


async def _queue(
    session: AsyncSession,
    *,
    template_id: int,
    kind: str,
    total: int,
    customer_ids: list[int],
    actor: identity.Actor,
) -> IssueRunRead:
    """A queued run, audited, and its job kicked once this transaction commits."""
    row = IssueRun(
        template_id=template_id,
        kind=kind,
        status="queued",
        total=total,
        done=0,
        issued=0,
        skipped=0,
        customer_ids=customer_ids,
        error="",
        created_by=actor.staff_id,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    await identity.record_audit(
        session,
        actor=actor,
        action=f"promotions.coupon_template.issue_{kind}",
        object_type="coupon_template",
        object_id=str(template_id),
        after={"run_id": row.id, "total": total},
    )
    after_commit(session, functools.partial(_kick, row.id))
    return _read(row)


async def _kick(run_id: int) -> None:
    from mercato.promotions import tasks  # noqa: PLC0415 - tasks imports the runs this queues

    try:
        await tasks.run_issue.kiq(run_id)
    except Exception as exc:  # committed already; the sweep starts it later
        log.warning("promotions.issue_kick_failed", run_id=run_id, error=repr(exc))


async def start_bulk_issue(
    session: AsyncSession, *, template_id: int, customer_ids: Sequence[int], actor: identity.Actor
) -> IssueRunRead:
    """Queue issuing one coupon to each customer (a job; progress in ``get_issue_run``). Each
    customer is named once (repeats dropped); unknown, deleted, over-limit customers and those
    left when the coupons run out are skipped.

    Raises:
        CouponTemplateNotFound (404), CouponNotClaimable (409: ended).
        InvalidRule (422): no customers, or more than ``MAX_BULK_CUSTOMERS``.
    """
    await _open_template(session, template_id)
    targets = list(dict.fromkeys(int(c) for c in customer_ids))
    if not 1 <= len(targets) <= MAX_BULK_CUSTOMERS:
        raise _count_field("customer_ids", MAX_BULK_CUSTOMERS)
    return await _queue(
        session,
        template_id=template_id,
        kind="customers",
        total=len(targets),
        customer_ids=targets,
        actor=actor,
    )


async def start_code_batch(
    session: AsyncSession, *, template_id: int, count: int, actor: identity.Actor
) -> IssueRunRead:
    """Queue generating ``count`` unguessable codes (a job); export with ``export_codes``.

    Raises:
        CouponTemplateNotFound (404), CouponNotClaimable (409: ended).
        InvalidRule (422): ``count`` not between 1 and ``MAX_CODES``.
    """
    await _open_template(session, template_id)
    if not 1 <= count <= MAX_CODES:
        raise _count_field("count", MAX_CODES)
    return await _queue(
        session, template_id=template_id, kind="codes", total=count, customer_ids=[], actor=actor
    )


async def get_issue_run(session: AsyncSession, *, run_id: int) -> IssueRunRead:
    """Raises: IssueRunNotFound (404)."""
    row = await session.get(IssueRun, run_id, populate_existing=True)
    if row is None:
        raise IssueRunNotFound()
    return _read(row)


def display_code(code: str) -> str:
    """A stored code as shown and printed: groups of four (``ABCD-EFGH-JKLM``)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


async def export_codes(session: AsyncSession, *, run_id: int) -> bytes:
    """The batch's codes as CSV (code, redeemed, redeemed at).

    Raises: IssueRunNotFound (404): no such run, or not a code batch.
    """
    run = await session.get(IssueRun, run_id)
    if run is None or run.kind != "codes":
        raise IssueRunNotFound()
    rows = await session.execute(
        select(CouponCode.code, CouponCode.redeemed_at)
        .where(CouponCode.batch_id == run_id)
        .order_by(CouponCode.id)
    )
    header = [gettext("Code"), gettext("Redeemed"), gettext("Redeemed at")]
    return tabular.write_table(
        tabular.FileFormat.csv,
        header,
        [
            (
                display_code(code),
                gettext("Yes") if redeemed_at else gettext("No"),
                redeemed_at.isoformat() if redeemed_at else None,
            )
            for code, redeemed_at in rows
        ],
    )
