"""Coupon templates kept by staff: created, changed, published, paused, resumed and ended (each
write audited, each status move recorded in ``promotions_status_change``).

A template's value terms are what every coupon of it is worth (a coupon reads them from its
template), so once coupons exist only what does not change a held coupon's value may change:
the name, the quantities, the claim window, channels and how it is issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.i18n import N_, gettext
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.promotions.coupons.reading import template_read
from mercato.promotions.errors import (
    CampaignNotFound,
    CouponTemplateNotEditable,
    CouponTemplateNotFound,
    EndsBeforeStart,
    InvalidRule,
)
from mercato.promotions.models import Campaign, CouponTemplate, StatusChange
from mercato.promotions.rules import live
from mercato.promotions.schemas import (
    CouponKind,
    CouponTemplateRead,
    CouponTemplateStatus,
    CouponTemplateWrite,
)
from mercato.promotions.states import COUPON_TEMPLATE

T = CouponTemplateStatus

#: The terms a held coupon is worth and valid by: fixed once a template has issued coupons.
VALUE_TERMS = (
    "kind",
    "amount_off",
    "percent_off",
    "max_discount_amount",
    "min_spend_amount",
    "scope",
    "valid_from",
    "valid_until",
    "valid_days",
)


def _invalid(field: str, problem: str) -> InvalidRule:
    """``problem`` (a msgid) in the detail, translated now, and on the field, translated when shown."""
    return InvalidRule(
        problem=gettext(problem), fields=[FieldError(("body", field), InvalidRule.code, problem)]
    )


def _not_editable(problem: str, fields: Sequence[str] = ()) -> CouponTemplateNotEditable:
    return CouponTemplateNotEditable(
        problem=gettext(problem),
        fields=[FieldError(("body", name), CouponTemplateNotEditable.code, problem) for name in fields],
    )


def check_terms(data: CouponTemplateWrite) -> None:
    """Refuse terms that do not work together.

    Raises:
        InvalidRule (422): the kind's value missing or out of place, a threshold not above the
            amount off, validity given both ways or neither, a claim window upside down.
        EndsBeforeStart (422): a validity window ending before it starts.
    """
    if data.kind == CouponKind.amount:
        if data.amount_off <= 0:
            raise _invalid("amount_off", N_("An amount coupon needs an amount off above zero."))
        if data.min_spend_amount > 0 and data.amount_off >= data.min_spend_amount:
            raise _invalid("amount_off", N_("The amount off must be below the minimum spend."))
        if data.percent_off is not None or data.max_discount_amount is not None:
            raise _invalid("percent_off", N_("An amount coupon has no percentage or cap."))
    elif data.kind == CouponKind.percent:
        if data.percent_off is None:
            raise _invalid("percent_off", N_("A percentage coupon needs a percentage off."))
        if data.amount_off:
            raise _invalid("amount_off", N_("A percentage coupon has no amount off."))
        if data.max_discount_amount is not None and data.max_discount_amount <= 0:
            raise _invalid("max_discount_amount", N_("The cap must be above zero."))
    elif data.amount_off or data.percent_off is not None or data.max_discount_amount is not None:
        raise _invalid("kind", N_("A free-shipping coupon has no amount or percentage off."))
    window = data.valid_from is not None or data.valid_until is not None
    if window and data.valid_days is not None:
        raise _invalid("valid_days", N_("Give either validity dates or a number of days, not both."))
    if not window and data.valid_days is None:
        raise _invalid("valid_days", N_("Give validity dates or a number of days."))
    if window:
        if data.valid_from is None or data.valid_until is None:
            raise _invalid("valid_until", N_("Validity dates need both a start and an end."))
        if data.valid_until <= data.valid_from:
            raise EndsBeforeStart(
                fields=[FieldError(("body", "valid_until"), EndsBeforeStart.code, EndsBeforeStart.message)]
            )
    if (
        data.claim_starts_at is not None
        and data.claim_ends_at is not None
        and data.claim_ends_at <= data.claim_starts_at
    ):
        raise EndsBeforeStart(
            fields=[FieldError(("body", "claim_ends_at"), EndsBeforeStart.code, EndsBeforeStart.message)]
        )


def _columns(data: CouponTemplateWrite) -> dict[str, Any]:
    values = data.model_dump(mode="json", exclude={"scope", "channels", "issue_on"})
    for name in ("valid_from", "valid_until", "claim_starts_at", "claim_ends_at"):
        values[name] = getattr(data, name)
    values["scope"] = data.scope.model_dump(mode="json")
    values["channels"] = [str(c) for c in data.channels]
    values["issue_on"] = str(data.issue_on) if data.issue_on is not None else ""
    return values


def _view(row: CouponTemplate) -> dict[str, Any]:
    """What the audit log records of a template."""
    return template_read(row).model_dump(mode="json", exclude={"id", "created_at", "updated_at"})


async def _check_campaign(session: AsyncSession, campaign_id: int | None) -> None:
    if campaign_id is not None and await session.get(Campaign, campaign_id) is None:
        raise CampaignNotFound(
            fields=[FieldError(("body", "campaign_id"), CampaignNotFound.code, CampaignNotFound.message)]
        )


async def _get_row(session: AsyncSession, template_id: int) -> CouponTemplate:
    row = await session.get(CouponTemplate, template_id, populate_existing=True)
    if row is None:
        raise CouponTemplateNotFound()
    return row


async def create_coupon_template(
    session: AsyncSession, *, data: CouponTemplateWrite, actor: identity.Actor
) -> CouponTemplateRead:
    """A draft template (publish it to issue coupons).

    Raises:
        InvalidRule / EndsBeforeStart (422): see :func:`check_terms`.
        CampaignNotFound (404).
    """
    check_terms(data)
    await _check_campaign(session, data.campaign_id)
    now = clock.now()
    row = CouponTemplate(
        **_columns(data), status=str(T.draft), issued_quantity=0, created_at=now, updated_at=now
    )
    session.add(row)
    await session.flush()
    await identity.record_audit(
        session,
        actor=actor,
        action="promotions.coupon_template.create",
        object_type="coupon_template",
        object_id=str(row.id),
        after=_view(row),
    )
    return template_read(row)


async def update_coupon_template(
    session: AsyncSession, *, template_id: int, data: CouponTemplateWrite, actor: identity.Actor
) -> CouponTemplateRead:
    """Replace a template's terms. The total cannot go below what was issued (one conditional
    UPDATE, so a claim landing meanwhile is counted); once coupons exist their value terms stay.

    Raises:
        CouponTemplateNotFound (404), CampaignNotFound (404).
        InvalidRule / EndsBeforeStart (422): see :func:`check_terms`; the total below the issued.
        CouponTemplateNotEditable (409): ended, or a value term changed after issuing.
    """
    check_terms(data)
    row = await _get_row(session, template_id)
    if row.status == T.ended:
        raise _not_editable(N_("An ended coupon cannot be changed."))
    await _check_campaign(session, data.campaign_id)
    before = _view(row)
    values = _columns(data)
    changed = [name for name in VALUE_TERMS if values[name] != getattr(row, name)]
    now = clock.now()
    result = await session.execute(
        update(CouponTemplate)
        .where(
            CouponTemplate.id == template_id,
            CouponTemplate.status != str(T.ended),
            CouponTemplate.issued_quantity <= data.total_quantity,
            *([CouponTemplate.issued_quantity == 0] if changed else []),
        )
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        row = await _get_row(session, template_id)
        if row.status == T.ended:
            raise _not_editable(N_("An ended coupon cannot be changed."))
        if row.issued_quantity > data.total_quantity:
            raise _invalid("total_quantity", N_("The total cannot be below the coupons already issued."))
        raise _not_editable(N_("Coupons have been issued: their value and validity cannot change."), changed)
    row = await _get_row(session, template_id)
    await live.invalidate(session)  # product pages show 券后价 from the claimable templates
    await identity.record_audit(
        session,
        actor=actor,
        action="promotions.coupon_template.update",
        object_type="coupon_template",
        object_id=str(template_id),
        before=before,
        after=_view(row),
    )
    return template_read(row)


async def _move(
    session: AsyncSession, *, template_id: int, target: T, actor: identity.Actor, reason: str
) -> CouponTemplateRead:
    """One status move: a conditional UPDATE from the statuses the table allows, a status change
    row and an audit entry.

    Raises:
        CouponTemplateNotFound (404), IllegalTransition (409 promotions.illegal_transition).
    """
    row = await _get_row(session, template_id)
    current = T(row.status)
    COUPON_TEMPLATE.check(current, target)
    now = clock.now()
    moved = (
        await session.execute(
            update(CouponTemplate)
            .where(
                CouponTemplate.id == template_id,
                CouponTemplate.status == str(current),
                CouponTemplate.status.in_(COUPON_TEMPLATE.sources(target)),
            )
            .values(status=str(target), updated_at=now)
            .returning(CouponTemplate.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:  # another move won meanwhile: judge the move from where it is now
        row = await _get_row(session, template_id)
        COUPON_TEMPLATE.check(T(row.status), target)
        return await _move(session, template_id=template_id, target=target, actor=actor, reason=reason)
    session.add(
        StatusChange(
            subject="coupon_template",
            subject_id=template_id,
            from_status=str(current),
            to_status=str(target),
            actor_id=actor.staff_id,
            actor_label=actor.label,
            reason=reason[:300],
            created_at=now,
        )
    )
    await live.invalidate(session)
    await identity.record_audit(
        session,
        actor=actor,
        action=f"promotions.coupon_template.{target}",
        object_type="coupon_template",
        object_id=str(template_id),
        before={"status": str(current)},
        after={"status": str(target), "reason": reason[:300]},
    )
    return template_read(await _get_row(session, template_id))


async def publish_coupon_template(
    session: AsyncSession, *, template_id: int, actor: identity.Actor, reason: str = ""
) -> CouponTemplateRead:
    """Draft → active: claimable and issuable from now (or its claim window).

    Raises: CouponTemplateNotFound (404), IllegalTransition (409).
    """
    return await _move(session, template_id=template_id, target=T.active, actor=actor, reason=reason)


async def pause_coupon_template(
    session: AsyncSession, *, template_id: int, actor: identity.Actor, reason: str = ""
) -> CouponTemplateRead:
    """Active → paused: no new coupons; held ones stay usable.

    Raises: CouponTemplateNotFound (404), IllegalTransition (409).
    """
    return await _move(session, template_id=template_id, target=T.paused, actor=actor, reason=reason)


async def resume_coupon_template(
    session: AsyncSession, *, template_id: int, actor: identity.Actor, reason: str = ""
) -> CouponTemplateRead:
    """Paused → active.

    Raises: CouponTemplateNotFound (404), IllegalTransition (409).
    """
    return await _move(session, template_id=template_id, target=T.active, actor=actor, reason=reason)


async def end_coupon_template(
    session: AsyncSession, *, template_id: int, actor: identity.Actor, reason: str = ""
) -> CouponTemplateRead:
    """Any open status → ended (terminal): no new coupons; held ones stay usable.

    Raises: CouponTemplateNotFound (404), IllegalTransition (409).
    """
    return await _move(session, template_id=template_id, target=T.ended, actor=actor, reason=reason)


async def get_coupon_template(session: AsyncSession, *, template_id: int) -> CouponTemplateRead:
    """Raises: CouponTemplateNotFound (404)."""
    return template_read(await _get_row(session, template_id))


async def list_coupon_templates(
    session: AsyncSession,
    *,
    status: CouponTemplateStatus | None = None,
    campaign_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CouponTemplateRead]:
    """Templates, newest first, a page at a time.

    Raises: InvalidCursor (400).
    """
    size = clamp_limit(limit)
    query = select(CouponTemplate).order_by(CouponTemplate.id.desc()).limit(size + 1)
    after = id_cursor(cursor)
    if after is not None:
        query = query.where(CouponTemplate.id < after)
    if status is not None:
        query = query.where(CouponTemplate.status == str(status))
    if campaign_id is not None:
        query = query.where(CouponTemplate.campaign_id == campaign_id)
    rows = list((await session.execute(query)).scalars())
    items = [template_read(row) for row in rows[:size]]
    return Page(items=items, next_cursor=encode_cursor(rows[size - 1].id) if len(rows) > size else None)


def validity(template: CouponTemplate, issued_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A new coupon's window: the template's fixed dates, or ``valid_days`` from issuing."""
    if template.valid_days is not None:
        return issued_at, issued_at + dt.timedelta(days=template.valid_days)
    assert template.valid_from is not None  # check_terms: both dates, or days
    assert template.valid_until is not None
    return template.valid_from, template.valid_until
