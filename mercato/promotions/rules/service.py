"""Promotions kept by staff: create, edit, publish, pause, resume, end (audited, each status change
recorded in ``promotions_status_change``; every write retires the live set, see ``live.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from mercato import catalog, identity
from mercato.core import clock
from mercato.core.errors import IllegalTransition
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.promotions.errors import (
    CampaignNotFound,
    EndsBeforeStart,
    InvalidRule,
    PromotionNotEditable,
    PromotionNotFound,
)
from mercato.promotions.models import Campaign, Promotion, StatusChange
from mercato.promotions.rules import live
from mercato.promotions.rules.reading import promotion_read
from mercato.promotions.schemas import (
    FullDiscountRule,
    FullReductionRule,
    GiftRule,
    Phase,
    PromotionKind,
    PromotionRead,
    PromotionStatus,
    PromotionWrite,
    TimedDiscountRule,
)
from mercato.promotions.states import PROMOTION


def _check_full_reduction(rule: FullReductionRule) -> None:
    tiers = rule.tiers
    for tier in tiers:
        if tier.amount_off >= tier.threshold_amount:
            raise InvalidRule(problem="each tier's amount off must be less than its threshold")
    for lower, higher in zip(tiers, tiers[1:], strict=False):
        if higher.threshold_amount <= lower.threshold_amount:
            raise InvalidRule(problem="tiers must go up by threshold")
        if higher.amount_off <= lower.amount_off:
            raise InvalidRule(problem="a higher tier must take more off")
    if rule.repeat and len(tiers) != 1:
        raise InvalidRule(problem="a repeating reduction has exactly one tier")
    if rule.cap_amount is not None:
        if not rule.repeat:
            raise InvalidRule(problem="only a repeating reduction has a cap")
        if rule.cap_amount < tiers[0].amount_off:
            raise InvalidRule(problem="the cap must be at least the amount off")


def _check_full_discount(rule: FullDiscountRule) -> None:
    tiers = rule.tiers
    for tier in tiers:
        if not tier.threshold_amount and not tier.threshold_pieces:
            raise InvalidRule(problem="each tier needs a threshold amount or number of pieces")
    for lower, higher in zip(tiers, tiers[1:], strict=False):
        if (higher.threshold_amount, higher.threshold_pieces) <= (
            lower.threshold_amount,
            lower.threshold_pieces,
        ):
            raise InvalidRule(problem="tiers must go up by threshold")
        if higher.percent_off <= lower.percent_off:
            raise InvalidRule(problem="a higher tier must take more off")


async def _check_timed(session: AsyncSession, rule: TimedDiscountRule) -> None:
    sku_ids = [item.sku_id for item in rule.items]
    if len(set(sku_ids)) != len(sku_ids):
        raise InvalidRule(problem="a SKU is listed twice")
    skus = await catalog.get_sellable_skus(session, sku_ids=sku_ids)
    for item in rule.items:
        if (item.price_amount is None) == (item.percent_off is None):
            raise InvalidRule(problem=f"SKU {item.sku_id} needs either a price or a percent off, not both")
        sku = skus.get(item.sku_id)
        if sku is None:
            raise InvalidRule(problem=f"SKU {item.sku_id} does not exist")
        if item.price_amount is not None and item.price_amount >= sku.price_amount:
            raise InvalidRule(problem=f"the timed price of SKU {item.sku_id} must be below its price")


async def _check_gift(session: AsyncSession, rule: GiftRule) -> None:
    sku = (await catalog.get_sellable_skus(session, sku_ids=[rule.gift_sku_id])).get(rule.gift_sku_id)
    if sku is None or not sku.is_sellable:
        raise InvalidRule(problem=f"the gift SKU {rule.gift_sku_id} is not on sale")


async def _check(session: AsyncSession, data: PromotionWrite) -> None:
    """Raises: EndsBeforeStart, InvalidRule (422), CampaignNotFound (404)."""
    if data.ends_at <= data.starts_at:
        raise EndsBeforeStart()
    rule = data.rule
    if isinstance(rule, FullReductionRule):
        _check_full_reduction(rule)
    elif isinstance(rule, FullDiscountRule):
        _check_full_discount(rule)
    elif isinstance(rule, TimedDiscountRule):
        await _check_timed(session, rule)
    elif isinstance(rule, GiftRule):
        await _check_gift(session, rule)
    if data.campaign_id is not None and await session.get(Campaign, data.campaign_id) is None:
        raise CampaignNotFound()


def _values(data: PromotionWrite) -> dict[str, Any]:
    return {
        "campaign_id": data.campaign_id,
        "name": data.name,
        "kind": data.rule.kind,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "rule": data.rule.model_dump(mode="json"),
        "scope": data.scope.model_dump(mode="json"),
        "conditions": data.conditions.model_dump(mode="json"),
        "exclusive_group": data.exclusive_group,
        "priority": data.priority,
        "allow_coupons": data.allow_coupons,
    }


def _view(promotion: PromotionRead) -> dict[str, Any]:
    return promotion.model_dump(mode="json", exclude={"id", "phase", "created_at", "updated_at"})


async def _load(session: AsyncSession, promotion_id: int) -> Promotion:
    row = (
        await session.execute(
            select(Promotion).where(Promotion.id == promotion_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise PromotionNotFound()
    return row


async def create_promotion(
    session: AsyncSession, *, data: PromotionWrite, actor: identity.Actor
) -> PromotionRead:
    """A draft promotion (priced only once published, between its start and end).

    Raises: EndsBeforeStart, InvalidRule (422), CampaignNotFound (404).
    """
    await _check(session, data)
    now = clock.now()
    row = Promotion(status=str(PromotionStatus.draft), created_at=now, updated_at=now, **_values(data))
    session.add(row)
    await session.flush()
    promotion = promotion_read(row, now)
    await identity.record_audit(
        session,
        actor=actor,
        action="promotion.create",
        object_type="promotion",
        object_id=str(row.id),
        after=_view(promotion),
    )
    await live.invalidate(session)
    return promotion


async def update_promotion(
    session: AsyncSession, *, promotion_id: int, data: PromotionWrite, actor: identity.Actor
) -> PromotionRead:
    """Replace a promotion's terms (a running one changes its prices at once).

    Raises: PromotionNotFound, CampaignNotFound (404), PromotionNotEditable (409: ended, or its
    end has passed), EndsBeforeStart, InvalidRule (422).
    """
    row = await _load(session, promotion_id)
    now = clock.now()
    before = promotion_read(row, now)
    if before.phase is Phase.ended:
        raise PromotionNotEditable()
    await _check(session, data)
    result = await session.execute(
        update(Promotion)
        .where(Promotion.id == promotion_id, Promotion.status == row.status)
        .values(updated_at=now, **_values(data))
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:  # ended by someone else meanwhile
        raise PromotionNotEditable()
    await session.refresh(row)
    after = promotion_read(row, now)
    await identity.record_audit(
        session,
        actor=actor,
        action="promotion.update",
        object_type="promotion",
        object_id=str(promotion_id),
        before=_view(before),
        after=_view(after),
    )
    await live.invalidate(session)
    return after


async def _move(
    session: AsyncSession,
    *,
    promotion_id: int,
    target: PromotionStatus,
    expected: PromotionStatus | None,
    action: str,
    actor: identity.Actor,
    reason: str,
) -> PromotionRead:
    row = await _load(session, promotion_id)
    current = PromotionStatus(row.status)
    now = clock.now()
    if expected is not None and current is not expected:
        raise IllegalTransition(
            code="promotions.illegal_transition", current=str(current), target=str(target)
        )
    PROMOTION.check(current, target)
    if target is PromotionStatus.active and now >= row.ends_at:
        raise PromotionNotEditable()  # its time is over: publishing or resuming would price nothing
    result = await session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            Promotion.status == str(current),
            Promotion.status.in_(PROMOTION.sources(target)),
        )
        .values(status=str(target), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:  # moved by someone else meanwhile
        fresh = await _load(session, promotion_id)
        raise IllegalTransition(
            code="promotions.illegal_transition", current=fresh.status, target=str(target)
        )
    session.add(
        StatusChange(
            subject="promotion",
            subject_id=promotion_id,
            from_status=str(current),
            to_status=str(target),
            actor_id=actor.staff_id,
            actor_label=actor.label[:254],
            reason=reason[:300],
            created_at=now,
        )
    )
    await session.flush()
    await session.refresh(row)
    await identity.record_audit(
        session,
        actor=actor,
        action=f"promotion.{action}",
        object_type="promotion",
        object_id=str(promotion_id),
        before={"status": str(current)},
        after={"status": str(target), "reason": reason},
    )
    await live.invalidate(session)
    return promotion_read(row, now)


async def publish_promotion(
    session: AsyncSession, *, promotion_id: int, actor: identity.Actor, reason: str = ""
) -> PromotionRead:
    """Draft → active: priced from its start to its end.

    Raises: PromotionNotFound (404), IllegalTransition (409: not a draft), PromotionNotEditable
    (409: its end has passed).
    """
    return await _move(
        session,
        promotion_id=promotion_id,
        target=PromotionStatus.active,
        expected=PromotionStatus.draft,
        action="publish",
        actor=actor,
        reason=reason,
    )


async def pause_promotion(
    session: AsyncSession, *, promotion_id: int, actor: identity.Actor, reason: str = ""
) -> PromotionRead:
    """Active → paused: no longer priced until resumed.

    Raises: PromotionNotFound (404), IllegalTransition (409).
    """
    return await _move(
        session,
        promotion_id=promotion_id,
        target=PromotionStatus.paused,
        expected=None,
        action="pause",
        actor=actor,
        reason=reason,
    )


async def resume_promotion(
    session: AsyncSession, *, promotion_id: int, actor: identity.Actor, reason: str = ""
) -> PromotionRead:
    """Paused → active.

    Raises: PromotionNotFound (404), IllegalTransition (409: not paused), PromotionNotEditable
    (409: its end has passed).
    """
    return await _move(
        session,
        promotion_id=promotion_id,
        target=PromotionStatus.active,
        expected=PromotionStatus.paused,
        action="resume",
        actor=actor,
        reason=reason,
    )


async def end_promotion(
    session: AsyncSession, *, promotion_id: int, actor: identity.Actor, reason: str = ""
) -> PromotionRead:
    """Any status but ended → ended (a draft is discarded this way): terminal.

    Raises: PromotionNotFound (404), IllegalTransition (409: already ended).
    """
    return await _move(
        session,
        promotion_id=promotion_id,
        target=PromotionStatus.ended,
        expected=None,
        action="end",
        actor=actor,
        reason=reason,
    )


async def get_promotion(session: AsyncSession, *, promotion_id: int) -> PromotionRead:
    """Raises: PromotionNotFound (404)."""
    return promotion_read(await _load(session, promotion_id), clock.now())


def _phase_condition(phase: Phase, now: dt.datetime) -> ColumnElement[bool]:
    """The SQL form of ``reading.phase``."""
    status = Promotion.status
    if phase is Phase.draft:
        return status == str(PromotionStatus.draft)
    if phase is Phase.ended:
        return or_(
            status == str(PromotionStatus.ended),
            and_(status != str(PromotionStatus.draft), Promotion.ends_at <= now),
        )
    not_over = Promotion.ends_at > now
    if phase is Phase.paused:
        return and_(status == str(PromotionStatus.paused), not_over)
    if phase is Phase.running:
        return and_(status == str(PromotionStatus.active), Promotion.starts_at <= now, not_over)
    if phase is Phase.scheduled:
        return and_(status == str(PromotionStatus.active), Promotion.starts_at > now)
    return false()  # promotions have no preheat of their own (their campaign has)


async def list_promotions(
    session: AsyncSession,
    *,
    phase: Phase | None = None,
    kind: PromotionKind | None = None,
    campaign_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[PromotionRead]:
    """Promotions for the console, newest first.

    Raises: InvalidCursor (400).
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    now = clock.now()
    stmt = select(Promotion).order_by(Promotion.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Promotion.id < after)
    if phase is not None:
        stmt = stmt.where(_phase_condition(phase, now))
    if kind is not None:
        stmt = stmt.where(Promotion.kind == str(kind))
    if campaign_id is not None:
        stmt = stmt.where(Promotion.campaign_id == campaign_id)
    rows = list((await session.execute(stmt)).scalars())
    page = rows[:size]
    return Page[PromotionRead](
        items=[promotion_read(row, now) for row in page],
        next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None,
    )
