"""The storefront read cache: keys, versions, and invalidation.

Cached: the storefront category tree under ``catalog:category-tree:<tree version>``; each
product page under ``catalog:product:<id>``, stored with the tree version it was built under
(the page holds breadcrumbs, so a category change must retire it too); list pages (a
category's or a search's page of cards) under ``catalog:list:<digest of the query>``, stored
with the tree version and the list version; and each product's sellable SKUs as a card prices
them (``get_card_skus``) under ``catalog:card-skus:<id>``, with the same two versions.
Versions are random tokens in the cache itself: a category write replaces the tree version, a
product write (content, listing, price, stock) the list version, which retires everything stored
under the old ones. A read fetches the versions and the value in one round trip
(``read_current``, ``read_many_current``). List pages also expire after ``LIST_TTL``: what a
product write does not announce (sales counts, for the "best-selling" sort) lags by that.

A write that changes what a cached read shows invalidates right after its flush and again
after its commit: the second pass drops a value that a concurrent reader cached from the old
committed state between the two. What remains is a reader that read before the commit and
stores after it, bounded by ``TTL``. The cache is an optimisation: when it fails, reads go to
the database and the failure is logged.
"""

from __future__ import annotations

import hashlib
import json
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
LIST_TTL = 60  # seconds a cached list page may be served
VERSION_TTL = 86_400
TREE_VERSION_KEY = "catalog:tree-version"
LIST_VERSION_KEY = "catalog:list-version"


def product_key(product_id: int) -> str:
    return f"catalog:product:v2:{product_id}"  # v2: a page carries its seller and SKU weights


def card_skus_key(product_id: int) -> str:
    return f"catalog:card-skus:{product_id}"


def list_key(query: dict[str, Any]) -> str:
    """The key of one list page: a digest of every parameter that shapes it."""
    text = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return "catalog:list:" + hashlib.sha256(text.encode()).hexdigest()[:32]


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


async def read_current(key: str, *version_keys: str) -> tuple[list[str], Any | None]:
    """The current versions (made when missing) and ``key``'s value if it was stored under them,
    in one round trip; the versions go back to ``store_current`` with the value built on a miss."""
    versions, values = await read_many_current([key], *version_keys)
    return versions, values[0]


async def read_many_current(keys: list[str], *version_keys: str) -> tuple[list[str], list[Any | None]]:
    """``read_current`` for several keys in one round trip: the versions, and per key its value
    if it was stored under them (else None)."""
    cache = get_cache()
    found = await _safely("get", lambda: cache.get_many([*version_keys, *keys]))
    values: list[Any] = found if isinstance(found, list) else [None] * (len(version_keys) + len(keys))
    versions: list[str] = []
    for version_key, version in zip(version_keys, values, strict=False):
        if not isinstance(version, str):
            version = uuid.uuid4().hex
            await _safely("set", partial(cache.set, version_key, version, VERSION_TTL))
        versions.append(version)
    return versions, [
        stored.get("value") if isinstance(stored, dict) and stored.get("versions") == versions else None
        for stored in values[len(version_keys) :]
    ]


async def store_current(key: str, versions: list[str], value: Any, ttl: int) -> None:
    await _safely("set", lambda: get_cache().set(key, {"versions": versions, "value": value}, ttl))


async def read(key: str) -> Any | None:
    return await _safely("get", lambda: get_cache().get(key))


async def store(key: str, value: Any) -> None:
    await _safely("set", lambda: get_cache().set(key, value, TTL))


async def invalidate_products(session: AsyncSession, product_ids: Iterable[int]) -> None:
    """Drop the cached pages of these products and retire every cached list page, now and once
    more after the commit."""
    ids = sorted(set(product_ids))
    if not ids:
        return

    async def drop() -> None:
        cache = get_cache()
        for product_id in ids:
            await _safely("delete", partial(cache.delete, product_key(product_id)))
        await _safely("set", partial(cache.set, LIST_VERSION_KEY, uuid.uuid4().hex, VERSION_TTL))

    await drop()
    after_commit(session, drop)


async def invalidate_category_tree(session: AsyncSession) -> None:
    """Retire the cached tree, every cached product page (breadcrumbs) and list page, now and
    after the commit."""

    async def bump() -> None:
        await _safely("set", lambda: get_cache().set(TREE_VERSION_KEY, uuid.uuid4().hex, VERSION_TTL))

    await bump()
    after_commit(session, bump)
