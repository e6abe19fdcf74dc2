"""The storefront read cache: keys, the category-tree version, and invalidation.

Cached: the storefront category tree under ``catalog:category-tree:<tree version>`` and each
product page under ``catalog:product:<id>:<tree version>`` (the page holds breadcrumbs, so a
category change must retire it too). The tree version is a random token in the cache itself:
a category write replaces it, which orphans every tree and page cached before (they expire).

A write that changes what a cached read shows invalidates right after its flush and again
after its commit: the second pass drops a value that a concurrent reader cached from the old
committed state between the two. What remains is a reader that read before the commit and
stores after it, bounded by ``TTL``. The cache is an optimisation: when it fails, reads go to
the database and the failure is logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.cache import get_cache
from mercato.core.db import after_commit

log = structlog.get_logger(__name__)

TTL = 300  # seconds a cached page or tree may be served
VERSION_TTL = 86_400
TREE_VERSION_KEY = "catalog:tree-version"


def product_key(product_id: int, version: str) -> str:
    return f"catalog:product:{product_id}:{version}"


def tree_key(version: str) -> str:
    return f"catalog:category-tree:{version}"


async def _safely(what: str, operation: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await operation()
    except Exception as exc:  # a cache outage must not take the shop down
        log.warning("catalog.cache_failed", operation=what, error=repr(exc))
        return None


async def tree_version() -> str:
    """The current category-tree version, created on first use."""
    cache = get_cache()
    version = await _safely("get", lambda: cache.get(TREE_VERSION_KEY))
    if isinstance(version, str):
        return version
    version = uuid.uuid4().hex
    await _safely("set", lambda: cache.set(TREE_VERSION_KEY, version, VERSION_TTL))
    return version


async def read(key: str) -> Any | None:
    return await _safely("get", lambda: get_cache().get(key))


async def store(key: str, value: Any) -> None:
    await _safely("set", lambda: get_cache().set(key, value, TTL))


async def invalidate_products(session: AsyncSession, product_ids: Iterable[int]) -> None:
    """Drop the cached pages of these products now and once more after the commit."""
    ids = sorted(set(product_ids))
    if not ids:
        return

    async def drop() -> None:
        version = await tree_version()
        for product_id in ids:
            await _safely("delete", partial(get_cache().delete, product_key(product_id, version)))

    await drop()
    after_commit(session, drop)


async def invalidate_category_tree(session: AsyncSession) -> None:
    """Retire the cached tree and every cached product page (breadcrumbs), now and after the commit."""

    async def bump() -> None:
        await _safely("set", lambda: get_cache().set(TREE_VERSION_KEY, uuid.uuid4().hex, VERSION_TTL))

    await bump()
    after_commit(session, bump)
