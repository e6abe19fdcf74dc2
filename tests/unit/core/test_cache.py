"""The in-memory cache and the moving-window rate limiter."""

from __future__ import annotations

import pytest

from mercato.core.cache import Limit, MemoryCache, get_rate_limiter
from mercato.core.errors import RateLimited


async def test_cache_round_trips_json_and_expires() -> None:
    cache = MemoryCache()
    await cache.set("k", {"a": [1, 2]}, ttl=60)
    await cache.set("gone", 1, ttl=-1)

    assert await cache.get("k") == {"a": [1, 2]}
    assert await cache.get("gone") is None
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_cache_evicts_when_full() -> None:
    cache = MemoryCache(max_items=2)
    for key in ("a", "b", "c"):
        await cache.set(key, key, ttl=60)

    assert [await cache.get(k) for k in ("a", "b", "c")] == [None, "b", "c"]


async def test_limiter_refuses_past_the_rule_with_retry_after() -> None:
    limiter = get_rate_limiter()
    limit = Limit("tests.limit", "3/minute")
    for _ in range(3):
        await limiter.hit(limit, "who")

    with pytest.raises(RateLimited) as caught:
        await limiter.hit(limit, "who")

    assert caught.value.code == "core.rate_limited"
    assert 1 <= (caught.value.retry_after or 0) <= 60
    await limiter.hit(limit, "someone-else")
