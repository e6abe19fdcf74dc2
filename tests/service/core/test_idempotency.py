"""Idempotency keys: a retry returns the stored response; a reused key with another body is refused."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.core.idempotency import (
    IdempotencyInProgress,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotencyRecord,
    StoredResponse,
    claim,
    store_response,
)


async def _records() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(IdempotencyRecord))).scalar_one()


async def test_first_claim_acts_and_a_retry_gets_the_stored_response() -> None:
    async with uow() as s:
        assert await claim(s, scope="checkout", key="k-1", payload={"cart": 1}) is None
        await store_response(s, scope="checkout", key="k-1", status_code=201, body={"order": 9})

    async with uow() as s:
        replay = await claim(s, scope="checkout", key="k-1", payload={"cart": 1})

    assert replay == StoredResponse(201, {"order": 9})
    assert await _records() == 1


async def test_same_key_in_another_scope_is_independent() -> None:
    async with uow() as s:
        assert await claim(s, scope="a", key="k", payload={}) is None
        assert await claim(s, scope="b", key="k", payload={}) is None

    assert await _records() == 2


async def test_reused_key_with_a_different_body_is_refused() -> None:
    async with uow() as s:
        await claim(s, scope="checkout", key="k-2", payload={"cart": 1})
        await store_response(s, scope="checkout", key="k-2", status_code=201, body={})

    with pytest.raises(IdempotencyKeyReused) as caught:
        async with uow() as s:
            await claim(s, scope="checkout", key="k-2", payload={"cart": 2})

    assert caught.value.code == "core.idempotency_key_reused"


async def test_unfinished_first_request_is_reported_in_progress() -> None:
    async with uow() as s:
        await claim(s, scope="checkout", key="k-3", payload={})

    with pytest.raises(IdempotencyInProgress):
        async with uow() as s:
            await claim(s, scope="checkout", key="k-3", payload={})


async def test_a_rolled_back_claim_leaves_the_key_free() -> None:
    async def failing_use_case() -> None:
        async with uow() as s:
            await claim(s, scope="checkout", key="k-4", payload={})
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()

    async with uow() as s:
        assert await claim(s, scope="checkout", key="k-4", payload={}) is None


@pytest.mark.parametrize("key", ["", "x" * 201, "has space", "中文"])
async def test_invalid_keys_are_refused(key: str) -> None:
    with pytest.raises(IdempotencyKeyInvalid):
        async with uow() as s:
            await claim(s, scope="checkout", key=key, payload={})

    assert await _records() == 0


async def test_concurrent_duplicates_act_once() -> None:
    acted: list[int] = []

    async def attempt(n: int) -> str:
        try:
            async with uow() as s:
                stored = await claim(s, scope="pay", key="same", payload={"amount": 100})
                if stored is None:
                    acted.append(n)
                    await store_response(s, scope="pay", key="same", status_code=200, body={"n": n})
                    return "acted"
                return "replayed"
        except IdempotencyInProgress:
            return "in_progress"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(8)))

    assert len(acted) == 1
    assert outcomes.count("acted") == 1
    assert await _records() == 1
