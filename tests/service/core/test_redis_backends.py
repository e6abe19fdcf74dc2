"""Production backends against a real Redis: cache, rate limits and the Taskiq job broker.

`scripts/test` starts a throwaway redis-server on loopback and sets MERCATO_TEST_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from taskiq.api import run_receiver_task

from mercato.core.cache import Limit, RedisCache, _build
from mercato.core.errors import RateLimited
from mercato.core.jobs import make_broker
from mercato.core.settings import Settings

REDIS_URL = os.environ.get("MERCATO_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs MERCATO_TEST_REDIS_URL (scripts/test sets it)")


@pytest.fixture
async def redis_db() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    yield REDIS_URL
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()


async def test_cache_shares_values_between_instances(redis_db: str) -> None:
    writer, reader = RedisCache(redis_db), RedisCache(redis_db)

    await writer.set("product:1", {"title": "茶", "price_amount": 1999}, ttl=60)
    shared = await reader.get("product:1")
    await writer.delete("product:1")

    gone = await reader.get("product:1")
    await writer.aclose()
    await reader.aclose()

    assert shared == {"title": "茶", "price_amount": 1999}
    assert gone is None


async def test_cache_reads_many_values_in_one_call_in_order(redis_db: str) -> None:
    cache = RedisCache(redis_db)
    await cache.set("a", "version-1", ttl=60)
    await cache.set("c", {"page": [1, 2]}, ttl=60)

    found = await cache.get_many(["a", "b", "c"])
    await cache.aclose()

    assert found == ["version-1", None, {"page": [1, 2]}]


async def test_rate_limit_is_shared_between_processes(redis_db: str) -> None:
    settings = Settings(redis_url=redis_db)
    cache_1, first = _build(settings)
    cache_2, second = _build(settings)
    limit = Limit(f"tests.shared.{uuid.uuid4().hex}", "2/minute")

    await first.hit(limit, "ip")
    await second.hit(limit, "ip")
    with pytest.raises(RateLimited) as caught:
        await first.hit(limit, "ip")
    for closable in (cache_1, cache_2, first, second):
        await closable.aclose()

    assert 1 <= (caught.value.retry_after or 0) <= 60


async def test_jobs_go_through_the_redis_broker(redis_db: str) -> None:
    broker = make_broker(Settings(redis_url=redis_db))
    done: asyncio.Queue[str] = asyncio.Queue()

    @broker.task(task_name="tests.echo")
    async def echo(value: str) -> None:
        await done.put(value)

    await broker.startup()
    receiver = asyncio.create_task(run_receiver_task(broker, run_startup=False))
    try:
        await echo.kiq("hello")
        assert await asyncio.wait_for(done.get(), timeout=10) == "hello"
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        await broker.shutdown()
