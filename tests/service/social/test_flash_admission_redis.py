"""Flash-sale admission on a real Redis (production): the Lua script admits at most the units
left, keeps each customer's limit, loads a missing count from the database, and a Redis that
admits too many (a lost update, a restart) still never sells more than the quota — the database
referees every order.

`scripts/test` starts a throwaway redis-server on loopback and sets MERCATO_TEST_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from mercato import social
from mercato.core import cache
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.social.plays.admission import RedisAdmission, get_admission
from tests.factories.inventory import verify
from tests.factories.orders import lift_unpaid_limits
from tests.factories.social import buy, buyer, deliver, flash_session, flash_shop, left

REDIS_URL = os.environ.get("MERCATO_TEST_REDIS_URL", "")
pytestmark = [
    pytest.mark.skipif(not REDIS_URL, reason="needs MERCATO_TEST_REDIS_URL (scripts/test sets it)"),
    pytest.mark.usefixtures("handlers"),
]
TOTAL = 990 + 800


@pytest.fixture
async def redis(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Redis]:
    monkeypatch.setenv("MERCATO_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
    await cache.close_backends()


async def test_the_script_admits_at_most_the_units_left_and_keeps_the_limit(redis: Redis) -> None:
    admission = RedisAdmission(redis)

    async def five() -> int:
        return 5

    async def none() -> int:
        return 0

    async def admit(customer: int, quantity: int = 1) -> str:
        verdict = await admission.admit(
            item_id=7, customer_id=customer, quantity=quantity, limit=2, ttl=600, load=five, bought=none
        )
        return str(verdict)

    first = [await admit(c) for c in (1, 1, 1)]
    rush = await asyncio.gather(*(admit(c) for c in range(10, 20)))
    given_back = await admission.give_back(item_id=7, customer_id=1, quantity=1)
    after = await admit(30)

    assert first == ["admitted", "admitted", "over_limit"]
    assert sorted(rush) == ["admitted"] * 3 + ["sold_out"] * 7
    assert given_back is None
    assert after == "admitted"
    assert int(await redis.get("mercato:flash:7:left") or -1) == 0


async def test_a_rush_through_redis_sells_exactly_the_quota(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    lift_unpaid_limits(monkeypatch)
    red, _black = await flash_shop(stock=30)
    session = await flash_session(red, quota=6)
    item_id = session.items[0].id
    customers = [await buyer() for _ in range(25)]

    async def attempt(customer_id: int) -> str:
        try:
            await buy(customer_id, item_id, total=TOTAL)
        except social.FlashSoldOut:
            return "sold out"
        return "ordered"

    outcomes = await asyncio.gather(*(attempt(c) for c in customers))

    assert (outcomes.count("ordered"), outcomes.count("sold out")) == (6, 19)
    assert int(await redis.get(f"mercato:flash:{item_id}:left") or -1) == 0
    assert await left(item_id) == 0
    assert isinstance(get_admission(), RedisAdmission)


async def test_a_redis_that_admits_too_many_still_never_oversells(redis: Redis) -> None:
    red, _black = await flash_shop(stock=30)
    session = await flash_session(red, quota=2)
    item_id = session.items[0].id
    await redis.set(f"mercato:flash:{item_id}:left", 50)  # lost updates: far more than the truth
    customers = [await buyer() for _ in range(5)]

    outcomes = []
    for customer in customers:
        try:
            await buy(customer, item_id, total=TOTAL)
            outcomes.append("ordered")
        except social.FlashSoldOut:
            outcomes.append("sold out")

    assert outcomes == ["ordered", "ordered", "sold out", "sold out", "sold out"]
    assert await left(item_id) == 0
    assert (await verify()).problems == []


async def test_a_lost_count_is_loaded_from_the_database_and_the_job_reconciles_it(redis: Redis) -> None:
    red, _black = await flash_shop(stock=30)
    session = await flash_session(red, quota=3)
    item_id = session.items[0].id
    await buy(await buyer(), item_id, total=TOTAL)
    await redis.flushdb()  # Redis restarted empty

    await buy(await buyer(), item_id, total=TOTAL)
    loaded = int(await redis.get(f"mercato:flash:{item_id}:left") or -1)
    await redis.set(f"mercato:flash:{item_id}:left", 0)  # now too low: it would undersell
    async with uow(write=False) as s:
        synced = await social.reconcile_admission(s)
    await deliver()

    assert loaded == 1
    assert synced == 1
    assert int(await redis.get(f"mercato:flash:{item_id}:left") or -1) == 1
