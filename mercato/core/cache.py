"""Cache and rate-limit helpers with a Redis backend (production) and an in-memory one (embedded).

Rate limits use the ``limits`` library's moving window, so "5 per 10 minutes" means any 10
minutes, not a calendar bucket.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from mercato.core.errors import RateLimited
from mercato.core.settings import Settings, get_settings


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...
    async def get_many(self, keys: list[str]) -> list[Any | None]: ...
    async def set(self, key: str, value: Any, ttl: int) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def aclose(self) -> None: ...


class MemoryCache:
    """A per-process cache of JSON values with expiry; for embedded mode and tests."""

    def __init__(self, max_items: int = 10_000) -> None:
        self._items: dict[str, tuple[float, str]] = {}
        self._max = max_items

    async def get(self, key: str) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, raw = item
        if expires < time.monotonic():
            self._items.pop(key, None)
            return None
        return json.loads(raw)

    async def get_many(self, keys: list[str]) -> list[Any | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: Any, ttl: int) -> None:
        if len(self._items) >= self._max:
            now = time.monotonic()
            for stale in [k for k, (exp, _) in self._items.items() if exp < now]:
                del self._items[stale]
            if len(self._items) >= self._max:
                self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + ttl, json.dumps(value))

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def aclose(self) -> None:
        self._items.clear()


class RedisCache:
    """A shared cache of JSON values in Redis, namespaced under ``mercato:cache:``."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis  # noqa: PLC0415 - only needed with Redis

        self._redis = Redis.from_url(url)

    async def get(self, key: str) -> Any | None:
        raw = await self._redis.get(f"mercato:cache:{key}")
        return None if raw is None else json.loads(raw)

    async def get_many(self, keys: list[str]) -> list[Any | None]:
        """Several values in one round trip (MGET)."""
        raws = await self._redis.mget([f"mercato:cache:{key}" for key in keys])
        return [None if raw is None else json.loads(raw) for raw in raws]

    async def set(self, key: str, value: Any, ttl: int) -> None:
        await self._redis.set(f"mercato:cache:{key}", json.dumps(value), ex=ttl)

    async def delete(self, key: str) -> None:
        await self._redis.delete(f"mercato:cache:{key}")

    async def aclose(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True)
class Limit:
    """A named rate limit such as ``Limit("sms.per_number", "5/hour")``."""

    name: str
    rule: str

    @property
    def item(self) -> RateLimitItem:
        return parse(self.rule)


class RateLimiter:
    """Counts hits per (limit, identifier) and refuses with ``core.rate_limited`` past the rule."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, limit: Limit, identifier: str, *, error: type[RateLimited] = RateLimited) -> None:
        """Count one attempt; raise ``RateLimited`` (with retry_after) when over the limit."""
        if not await self._limiter.hit(limit.item, limit.name, identifier):
            stats = await self._limiter.get_window_stats(limit.item, limit.name, identifier)
            seconds = max(1, math.ceil(stats.reset_time - time.time()))
            raise error(retry_after=seconds, seconds=seconds)

    async def count(self, limit: Limit, identifier: str) -> bool:
        """Count one attempt without raising; return False once over the limit."""
        return await self._limiter.hit(limit.item, limit.name, identifier)

    async def check(self, limit: Limit, identifier: str, *, error: type[RateLimited] = RateLimited) -> None:
        """Raise ``RateLimited`` if one more attempt would exceed the limit, without counting."""
        if not await self._limiter.test(limit.item, limit.name, identifier):
            stats = await self._limiter.get_window_stats(limit.item, limit.name, identifier)
            seconds = max(1, math.ceil(stats.reset_time - time.time()))
            raise error(retry_after=seconds, seconds=seconds)

    async def reset(self) -> None:
        await self._storage.reset()

    async def aclose(self) -> None:
        """Close the Redis connections of a Redis-backed limiter (no-op in memory)."""
        bridge = getattr(self._storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None:
            await client.aclose()


_cache: Cache | None = None
_limiter: RateLimiter | None = None
_redis: Any = None  # redis.asyncio.Redis, when configured


def _build(settings: Settings) -> tuple[Cache, RateLimiter]:
    if settings.redis_url:
        uri = "async+" + settings.redis_url
        storage = storage_from_string(uri, implementation="redispy")  # redis-py, which we already use
        assert isinstance(storage, Storage)  # an async+ scheme always gives an asyncio storage
        return RedisCache(settings.redis_url), RateLimiter(storage)
    return MemoryCache(), RateLimiter(MemoryStorage())


def get_cache() -> Cache:
    global _cache, _limiter
    if _cache is None:
        _cache, _limiter = _build(get_settings())
    return _cache


def get_rate_limiter() -> RateLimiter:
    global _cache, _limiter
    if _limiter is None:
        _cache, _limiter = _build(get_settings())
    return _limiter


def get_redis() -> Any | None:
    """The shared ``redis.asyncio.Redis`` client for atomic scripts (a flash sale's admission),
    or None in embedded mode (no ``MERCATO_REDIS_URL``): callers then use the database."""
    global _redis
    url = get_settings().redis_url
    if not url:
        return None
    if _redis is None:
        from redis.asyncio import Redis  # noqa: PLC0415 - only needed with Redis

        _redis = Redis.from_url(url)
    return _redis


async def close_backends() -> None:
    """Close the backends' connections (a process shutting down; tests that used Redis) and
    forget them."""
    if _cache is not None:
        await _cache.aclose()
    if _limiter is not None:
        await _limiter.aclose()
    if _redis is not None:
        await _redis.aclose()
    reset_backends()


def reset_backends() -> None:
    """Forget the backends (tests start each case with empty ones)."""
    global _cache, _limiter, _redis
    _cache = None
    _limiter = None
    _redis = None
