"""The shared cached copy of the shop's settings (``core.cache``): its key, its lifetime, and
its deletion once a change is committed."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.cache import get_cache
from mercato.core.db import after_commit

log = structlog.get_logger(__name__)

KEY = "shop:settings"
#: Seconds a cached copy may be served (a save deletes it at once; this bounds a lost delete).
TTL = 60


def forget_after_commit(session: AsyncSession) -> None:
    """Delete the cached copy once this transaction commits (every process then reads anew)."""

    async def forget() -> None:
        try:
            await get_cache().delete(KEY)
        except Exception as exc:  # a cache outage must not fail a committed save
            log.warning("shop.cache_failed", operation="delete", error=repr(exc))

    after_commit(session, forget)
