"""Private: promotion rows as schemas, with the phase computed from status and the clock."""

from __future__ import annotations

import datetime as dt

from pydantic import TypeAdapter

from mercato.promotions.models import Promotion
from mercato.promotions.schemas import (
    Conditions,
    Phase,
    PromotionKind,
    PromotionRead,
    PromotionRule,
    PromotionStatus,
    Scope,
)

RULE: TypeAdapter[PromotionRule] = TypeAdapter(PromotionRule)


def phase(status: PromotionStatus, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> Phase:
    """Where a promotion stands at ``now``: one whose end has passed reads as ended whatever its
    status (the row is closed by staff or left as it was)."""
    if status is PromotionStatus.draft:
        return Phase.draft
    if status is PromotionStatus.ended or now >= ends_at:
        return Phase.ended
    if status is PromotionStatus.paused:
        return Phase.paused
    return Phase.running if now >= starts_at else Phase.scheduled


def promotion_read(row: Promotion, now: dt.datetime) -> PromotionRead:
    status = PromotionStatus(row.status)
    return PromotionRead(
        id=row.id,
        name=row.name,
        kind=PromotionKind(row.kind),
        status=status,
        phase=phase(status, row.starts_at, row.ends_at, now),
        rule=RULE.validate_python(row.rule),
        scope=Scope.model_validate(row.scope),
        conditions=Conditions.model_validate(row.conditions),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        exclusive_group=row.exclusive_group,
        priority=row.priority,
        allow_coupons=row.allow_coupons,
        campaign_id=row.campaign_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
