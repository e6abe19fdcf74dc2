"""Private: the timed prices coming in campaigns in preheat (预热), as a per-process snapshot kept
by the live set's turnover rules (``live.py``).

A snapshot holds the active timed discounts not yet started of published campaigns in preheat,
loaded in one query together with those of campaigns whose preheat is still to come, so it knows
its own boundaries: it is kept until the first of a preheat start, a campaign start or a
promotion start among them, ``live.MAX_AGE`` after it was loaded, or a promotion write (the live
set's version token changes). A campaign's own writes (publishing it, moving its preheat) do not
change the token: they show within ``live.MAX_AGE``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.promotions.models import Campaign, Promotion
from mercato.promotions.rules import live
from mercato.promotions.rules.reading import promotion_read
from mercato.promotions.schemas import CampaignStatus, PromotionKind, PromotionRead, PromotionStatus


@dataclass(frozen=True)
class Coming:
    """The timed discounts in preheat between ``loaded_at`` and ``valid_until`` (priority order)."""

    version: str
    loaded_at: dt.datetime
    valid_until: dt.datetime
    promotions: tuple[PromotionRead, ...]

    def covers(self, version: str, now: dt.datetime) -> bool:
        return self.version == version and self.loaded_at <= now < self.valid_until


_current: Coming | None = None


async def coming(session: AsyncSession, *, version: str, now: dt.datetime) -> Coming:
    """The timed discounts in preheat at ``now`` (``version``: the live set's token it goes with):
    the cached snapshot when it covers them, else a fresh one from one query."""
    global _current
    current = _current
    if current is not None and current.covers(version, now):
        return current
    rows = await session.execute(
        select(Promotion, Campaign.preheat_starts_at, Campaign.starts_at)
        .join(Campaign, Campaign.id == Promotion.campaign_id)
        .where(
            Promotion.status == str(PromotionStatus.active),
            Promotion.kind == str(PromotionKind.timed_discount),
            Promotion.starts_at > now,
            Campaign.status == str(CampaignStatus.published),
            Campaign.preheat_starts_at.is_not(None),
            Campaign.starts_at > now,
        )
    )
    shown: list[PromotionRead] = []
    boundaries: list[dt.datetime] = []
    for row, preheat_starts_at, starts_at in rows:
        boundaries += [starts_at, row.starts_at]
        if preheat_starts_at is not None and preheat_starts_at > now:
            boundaries.append(preheat_starts_at)  # its preheat is still to come
        else:
            shown.append(promotion_read(row, now))
    _current = Coming(
        version=version,
        loaded_at=now,
        valid_until=min([now + live.MAX_AGE, *boundaries]),
        promotions=live.order(shown),
    )
    return _current
