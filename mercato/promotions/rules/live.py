"""Private: the live set — every promotion priced now — as one immutable, per-process snapshot.

A snapshot is loaded in one query (active promotions that have not ended) and kept in this
process until the first of: the earliest next start or end among them, ``MAX_AGE`` after it was
loaded, or a write to a promotion or a coupon template (product pages price the claimable
templates' 券后价 by the same token). Writes replace a version token in ``core.cache`` (right after
their flush and again after their commit, like the catalog's cache); a reader fetches the token
(one cache round trip, in memory when Redis is off) and reloads when it changed. So a price never
outlives a start or an end time in this process, and another process sees a write on its next
read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.cache import get_cache
from mercato.core.db import after_commit
from mercato.promotions.models import Promotion
from mercato.promotions.rules.reading import promotion_read
from mercato.promotions.schemas import PromotionKind, PromotionRead, PromotionStatus

log = structlog.get_logger(__name__)

VERSION_KEY = "promotions:live-version"
VERSION_TTL = 86_400
MAX_AGE = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class LiveSet:
    """The promotions priced between ``loaded_at`` and ``valid_until`` (by kind, priority order:
    higher priority first, then lower id)."""

    version: str
    loaded_at: dt.datetime
    valid_until: dt.datetime
    promotions: tuple[PromotionRead, ...]

    def covers(self, now: dt.datetime) -> bool:
        return self.loaded_at <= now < self.valid_until

    def of_kind(self, *kinds: PromotionKind) -> tuple[PromotionRead, ...]:
        return tuple(p for p in self.promotions if p.kind in kinds)

    def by_id(self) -> dict[int, PromotionRead]:
        return {p.id: p for p in self.promotions}


_current: LiveSet | None = None


async def _version() -> str:
    cache = get_cache()
    try:
        version = await cache.get(VERSION_KEY)
        if isinstance(version, str):
            return version
        version = uuid.uuid4().hex
        await cache.set(VERSION_KEY, version, VERSION_TTL)
        return version
    except Exception as exc:  # a cache outage must not stop pricing: reload every time instead
        log.warning("promotions.cache_failed", error=repr(exc))
        return uuid.uuid4().hex


def order(promotions: list[PromotionRead]) -> tuple[PromotionRead, ...]:
    """Priority order: higher priority first, then the older (lower id) first."""
    return tuple(sorted(promotions, key=lambda p: (-p.priority, p.id)))


async def live_set(session: AsyncSession, *, now: dt.datetime | None = None) -> LiveSet:
    """The promotions live at ``now`` (the clock's now by default): the cached snapshot when it
    is current, else a fresh one from one query."""
    global _current
    at = now or clock.now()
    version = await _version()
    current = _current
    if current is not None and current.version == version and current.covers(at):
        return current
    rows = (
        await session.execute(
            select(Promotion).where(Promotion.status == str(PromotionStatus.active), Promotion.ends_at > at)
        )
    ).scalars()
    upcoming = [promotion_read(row, at) for row in rows]
    live = [p for p in upcoming if p.starts_at <= at]
    boundaries = [p.starts_at for p in upcoming if p.starts_at > at] + [p.ends_at for p in live]
    # no start or end falls inside [at, valid_until): the snapshot is right for any time in it
    _current = LiveSet(
        version=version,
        loaded_at=at,
        valid_until=min([at + MAX_AGE, *boundaries]),
        promotions=order(live),
    )
    return _current


async def invalidate(session: AsyncSession) -> None:
    """Retire every process's snapshot: now, and once more after the commit (a reader that
    reloaded from the old committed state in between is retired too)."""

    async def bump() -> None:
        try:
            await get_cache().set(VERSION_KEY, uuid.uuid4().hex, VERSION_TTL)
        except Exception as exc:
            log.warning("promotions.cache_failed", error=repr(exc))

    await bump()
    after_commit(session, bump)
