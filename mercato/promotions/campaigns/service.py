"""Campaigns (618, 双11, 店庆): schedule, preheat, landing page, budget.

A campaign's status is kept (``states.CAMPAIGN``: draft → published → ended); where it stands
now, its ``Phase``, is computed from the status and the clock, never stored: a published campaign
is *scheduled* before its pre-heat (or start), in *preheat* from ``preheat_starts_at`` to
``starts_at``, *running* until ``ends_at`` and *ended* after it. Every status move is one
conditional UPDATE whose WHERE lists the statuses the table allows the move from, a
``promotions_status_change`` row and an audit entry.

Ending a campaign ends its promotions and coupon templates in the same transaction (each with
its own status change, reason "campaign ended"); coupons already in wallets stay usable until
their own end. ``spent_amount`` is the discount of the campaign's paid orders less the share of
it refunded (``reports.spent_amounts``); the budget is enforced by ``jobs.enforce_budgets``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity, shop
from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.promotions.campaigns.reports import spent_amounts
from mercato.promotions.errors import (
    CampaignNotEditable,
    CampaignNotFound,
    CampaignProductNotFound,
    CampaignSlugTaken,
    EndsBeforeStart,
    PreheatNotBeforeStart,
)
from mercato.promotions.models import Campaign, CouponTemplate, Promotion, StatusChange
from mercato.promotions.rules.live import invalidate
from mercato.promotions.schemas import (
    CampaignRead,
    CampaignStatus,
    CampaignWrite,
    CouponTemplateStatus,
    Phase,
    ProductsBlock,
    PromotionStatus,
)
from mercato.promotions.states import CAMPAIGN, COUPON_TEMPLATE, PROMOTION

C = CampaignStatus
#: The most campaigns the console's calendar shows for one period.
MAX_CALENDAR = 500
#: Why the promotions and coupon templates of an ended campaign ended.
CAMPAIGN_ENDED = "campaign ended"


def phase_of(row: Campaign, now: dt.datetime) -> Phase:
    """Where the campaign stands at ``now`` (draft, scheduled, preheat, running, ended)."""
    if row.status == C.draft:
        return Phase.draft
    if row.status == C.ended or now >= row.ends_at:
        return Phase.ended
    if now >= row.starts_at:
        return Phase.running
    if row.preheat_starts_at is not None and now >= row.preheat_starts_at:
        return Phase.preheat
    return Phase.scheduled


def _shown_from() -> ColumnElement[dt.datetime]:
    """When a published campaign is first shown: its pre-heat, else its start."""
    return func.coalesce(Campaign.preheat_starts_at, Campaign.starts_at)


def _in_phase(phase: Phase, now: dt.datetime) -> ColumnElement[bool]:
    """The WHERE of the campaigns in ``phase`` at ``now`` (the SQL twin of :func:`phase_of`)."""
    published = and_(Campaign.status == str(C.published), Campaign.ends_at > now)
    match phase:
        case Phase.draft:
            return Campaign.status == str(C.draft)
        case Phase.ended:
            return or_(
                Campaign.status == str(C.ended),
                and_(Campaign.status == str(C.published), Campaign.ends_at <= now),
            )
        case Phase.running:
            return and_(published, Campaign.starts_at <= now)
        case Phase.preheat:
            return and_(published, Campaign.preheat_starts_at <= now, Campaign.starts_at > now)
        case Phase.scheduled:
            return and_(published, _shown_from() > now)
    return false()  # a campaign is never paused


def _read(row: Campaign, now: dt.datetime, spent_amount: int) -> CampaignRead:
    return CampaignRead(
        id=row.id,
        name=row.name,
        slug=row.slug,
        description=row.description,
        status=C(row.status),
        phase=phase_of(row, now),
        preheat_starts_at=row.preheat_starts_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        budget_amount=row.budget_amount,
        spent_amount=spent_amount,
        blocks=tuple(row.blocks),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _reads(session: AsyncSession, rows: Sequence[Campaign]) -> list[CampaignRead]:
    """Rows as schemas, with their spent amounts from one query."""
    now = clock.now()
    spent = await spent_amounts(session, campaign_ids=[row.id for row in rows])
    return [_read(row, now, spent.get(row.id, 0)) for row in rows]


def _view(row: Campaign) -> dict[str, Any]:
    """What the audit log records of a campaign."""
    return {
        "name": row.name,
        "slug": row.slug,
        "description": row.description,
        "status": row.status,
        "preheat_starts_at": row.preheat_starts_at.isoformat() if row.preheat_starts_at else None,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "budget_amount": row.budget_amount,
        "blocks": row.blocks,
    }


def _utc(value: dt.datetime) -> dt.datetime:
    """An aware instant in UTC (a naive one is taken as UTC, as the API documents)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


async def _check(session: AsyncSession, data: CampaignWrite) -> dict[str, Any]:
    """The row's values from ``data``, once the schedule makes sense and every product a landing
    block names exists.

    Raises:
        EndsBeforeStart, PreheatNotBeforeStart, CampaignProductNotFound (422).
    """
    starts_at, ends_at = _utc(data.starts_at), _utc(data.ends_at)
    preheat = _utc(data.preheat_starts_at) if data.preheat_starts_at is not None else None
    if ends_at <= starts_at:
        raise EndsBeforeStart(
            fields=[FieldError(("body", "ends_at"), EndsBeforeStart.code, EndsBeforeStart.message)]
        )
    if preheat is not None and preheat >= starts_at:
        raise PreheatNotBeforeStart(
            fields=[
                FieldError(
                    ("body", "preheat_starts_at"), PreheatNotBeforeStart.code, PreheatNotBeforeStart.message
                )
            ]
        )
    for index, block in enumerate(data.blocks):
        if not isinstance(block, ProductsBlock):
            continue
        for product_id in dict.fromkeys(block.product_ids):
            try:
                await catalog.get_product(session, product_id=product_id)
            except catalog.ProductNotFound as exc:
                raise CampaignProductNotFound(
                    product_id=product_id,
                    fields=[
                        FieldError(
                            ("body", "blocks", index, "product_ids"),
                            CampaignProductNotFound.code,
                            CampaignProductNotFound.message.format(product_id=product_id),
                        )
                    ],
                ) from exc
    return {
        "name": data.name,
        "slug": data.slug,
        "description": data.description,
        "preheat_starts_at": preheat,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "budget_amount": data.budget_amount,
        "blocks": [block.model_dump(mode="json") for block in data.blocks],
    }


async def _get_row(session: AsyncSession, campaign_id: int) -> Campaign:
    row = (
        await session.execute(
            select(Campaign).where(Campaign.id == campaign_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise CampaignNotFound()
    return row


def _record(
    session: AsyncSession,
    *,
    subject: str,
    subject_id: int,
    from_status: str,
    to_status: str,
    actor: identity.Actor,
    reason: str,
) -> None:
    """One ``promotions_status_change`` row: who moved what, from where to where, and why."""
    session.add(
        StatusChange(
            subject=subject,
            subject_id=subject_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor.staff_id,
            actor_label=actor.label[:254],
            reason=reason[:300],
            created_at=clock.now(),
        )
    )


async def create_campaign(
    session: AsyncSession, *, data: CampaignWrite, actor: identity.Actor
) -> CampaignRead:
    """A draft campaign (shown nowhere until published).

    Raises:
        EndsBeforeStart, PreheatNotBeforeStart, CampaignProductNotFound (422),
        CampaignSlugTaken (409).
    """
    values = await _check(session, data)
    now = clock.now()
    row = Campaign(**values, status=str(C.draft), created_at=now, updated_at=now)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        raise CampaignSlugTaken(
            fields=[FieldError(("body", "slug"), CampaignSlugTaken.code, CampaignSlugTaken.message)]
        ) from exc
    _record(
        session,
        subject="campaign",
        subject_id=row.id,
        from_status="",
        to_status=row.status,
        actor=actor,
        reason="",
    )
    await identity.record_audit(
        session,
        actor=actor,
        action="campaign.create",
        object_type="campaign",
        object_id=str(row.id),
        after=_view(row),
    )
    return _read(row, now, 0)


async def update_campaign(
    session: AsyncSession, *, campaign_id: int, data: CampaignWrite, actor: identity.Actor
) -> CampaignRead:
    """Replace a draft or published campaign's name, address, schedule, budget and landing page.

    Raises:
        CampaignNotFound (404), CampaignNotEditable / CampaignSlugTaken (409),
        EndsBeforeStart, PreheatNotBeforeStart, CampaignProductNotFound (422).
    """
    row = await _get_row(session, campaign_id)
    before = _view(row)
    values = await _check(session, data)
    try:
        async with session.begin_nested():
            changed = (
                await session.execute(
                    update(Campaign)
                    .where(Campaign.id == campaign_id, Campaign.status != str(C.ended))
                    .values(**values, updated_at=clock.now())
                    .returning(Campaign.id)
                    .execution_options(synchronize_session=False)
                )
            ).scalar_one_or_none()
    except IntegrityError as exc:
        raise CampaignSlugTaken(
            fields=[FieldError(("body", "slug"), CampaignSlugTaken.code, CampaignSlugTaken.message)]
        ) from exc
    if changed is None:
        raise CampaignNotEditable()
    row = await _get_row(session, campaign_id)
    await identity.record_audit(
        session,
        actor=actor,
        action="campaign.update",
        object_type="campaign",
        object_id=str(campaign_id),
        before=before,
        after=_view(row),
    )
    return (await _reads(session, [row]))[0]


async def _move(
    session: AsyncSession, *, campaign_id: int, target: CampaignStatus, actor: identity.Actor, reason: str
) -> Campaign:
    """Move the campaign to ``target`` (one conditional UPDATE), recorded and audited.

    Raises:
        CampaignNotFound (404), IllegalTransition (409, ``promotions.illegal_transition``).
    """
    row = await _get_row(session, campaign_id)
    current = row.status
    moved = (
        await session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status.in_(CAMPAIGN.sources(target)))
            .values(status=str(target), updated_at=clock.now())
            .returning(Campaign.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:  # not allowed from where it is (or a concurrent move won)
        CAMPAIGN.check(C((await _get_row(session, campaign_id)).status), target)
    _record(
        session,
        subject="campaign",
        subject_id=campaign_id,
        from_status=current,
        to_status=str(target),
        actor=actor,
        reason=reason,
    )
    await identity.record_audit(
        session,
        actor=actor,
        action=f"campaign.{'publish' if target == C.published else 'end'}",
        object_type="campaign",
        object_id=str(campaign_id),
        before={"status": current},
        after={"status": str(target), "reason": reason},
    )
    return await _get_row(session, campaign_id)


async def publish_campaign(
    session: AsyncSession, *, campaign_id: int, actor: identity.Actor, reason: str = ""
) -> CampaignRead:
    """Publish a draft: shown from its pre-heat (or start) until its end.

    Raises:
        CampaignNotFound (404), IllegalTransition (409): not a draft.
    """
    row = await _move(session, campaign_id=campaign_id, target=C.published, actor=actor, reason=reason)
    return (await _reads(session, [row]))[0]


async def move_members(
    session: AsyncSession,
    *,
    model: type[Promotion] | type[CouponTemplate],
    subject: str,
    sources: Sequence[str],
    target: str,
    where: ColumnElement[bool],
    actor: identity.Actor,
    reason: str,
) -> list[int]:
    """Move every row of ``model`` matching ``where`` from one of ``sources`` to ``target``: one
    conditional UPDATE per source status (so each change records where it came from); return
    the ids moved."""
    moved: list[int] = []
    now = clock.now()
    for source in sources:
        ids = (
            (
                await session.execute(
                    update(model)
                    .where(where, model.status == source)
                    .values(status=target, updated_at=now)
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
            )
            .scalars()
            .all()
        )
        for subject_id in sorted(ids):
            _record(
                session,
                subject=subject,
                subject_id=subject_id,
                from_status=source,
                to_status=target,
                actor=actor,
                reason=reason,
            )
        moved.extend(ids)
    await session.flush()
    return sorted(moved)


async def end_campaign(
    session: AsyncSession, *, campaign_id: int, actor: identity.Actor, reason: str = ""
) -> CampaignRead:
    """End a draft or published campaign now, with its promotions and coupon templates (coupons
    already claimed stay usable until their own end).

    Raises:
        CampaignNotFound (404), IllegalTransition (409): already ended.
    """
    row = await _move(session, campaign_id=campaign_id, target=C.ended, actor=actor, reason=reason)
    promotions = await move_members(
        session,
        model=Promotion,
        subject="promotion",
        sources=PROMOTION.sources(PromotionStatus.ended),
        target=str(PromotionStatus.ended),
        where=Promotion.campaign_id == campaign_id,
        actor=actor,
        reason=CAMPAIGN_ENDED,
    )
    templates = await move_members(
        session,
        model=CouponTemplate,
        subject="coupon_template",
        sources=COUPON_TEMPLATE.sources(CouponTemplateStatus.ended),
        target=str(CouponTemplateStatus.ended),
        where=CouponTemplate.campaign_id == campaign_id,
        actor=actor,
        reason=CAMPAIGN_ENDED,
    )
    if promotions:
        await invalidate(session)  # the live set priced them
    if promotions or templates:
        await identity.record_audit(
            session,
            actor=actor,
            action="campaign.end_members",
            object_type="campaign",
            object_id=str(campaign_id),
            after={"promotion_ids": promotions, "coupon_template_ids": templates},
        )
    return (await _reads(session, [row]))[0]


async def get_campaign(session: AsyncSession, *, campaign_id: int) -> CampaignRead:
    """Any campaign, whatever its status (for staff).

    Raises:
        CampaignNotFound (404).
    """
    return (await _reads(session, [await _get_row(session, campaign_id)]))[0]


async def get_live_campaign(session: AsyncSession, *, slug: str) -> CampaignRead:
    """A published campaign shown now (in preheat or running); else CampaignNotFound."""
    now = clock.now()
    row = (
        await session.execute(
            select(Campaign).where(
                Campaign.slug == slug,
                Campaign.status == str(C.published),
                _shown_from() <= now,
                Campaign.ends_at > now,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise CampaignNotFound()
    return (await _reads(session, [row]))[0]


async def list_campaigns(
    session: AsyncSession, *, phase: Phase | None = None, cursor: str | None = None, limit: int = 50
) -> Page[CampaignRead]:
    """Campaigns, newest first, optionally only those in ``phase`` now.

    Raises:
        InvalidCursor (400).
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = select(Campaign).order_by(Campaign.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Campaign.id < after)
    if phase is not None:
        stmt = stmt.where(_in_phase(Phase(phase), clock.now()))
    rows = list((await session.execute(stmt)).scalars())
    items = await _reads(session, rows[:size])
    return Page[CampaignRead](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


async def campaign_calendar(session: AsyncSession, *, start: dt.date, end: dt.date) -> list[CampaignRead]:
    """Campaigns overlapping [start, end] (the console's calendar): days in the shop's time zone,
    a campaign from its pre-heat (or start) to its end, drafts included; earliest first.

    Raises:
        ValueError: ``end`` is before ``start``.
    """
    if end < start:
        raise ValueError("end must not be before start")
    tz = ZoneInfo((await shop.get_settings(session)).timezone)
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    rows = (
        await session.execute(
            select(Campaign)
            .where(_shown_from() < until, Campaign.ends_at > since)
            .order_by(_shown_from(), Campaign.id)
            .limit(MAX_CALENDAR)
        )
    ).scalars()
    return await _reads(session, list(rows))
