"""A rush beyond what the database pool serves is answered 503 "busy, retry" with Retry-After,
never as a server error; a failing after-commit step is logged and the committed answer stands."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.db import after_commit, run_after_commit
from mercato.core.errors import RateLimited
from mercato.web import problems


async def test_an_exhausted_pool_is_a_503_with_retry_after() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/rush")
    async def rush() -> None:
        raise PoolTimeout("QueuePool limit of size 20 overflow 10 reached, connection timed out")

    async with AsyncClient(
        transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    ) as c:
        answer = await c.get("/rush")

    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "core.busy"


async def test_a_failing_after_commit_step_is_logged_and_the_others_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []
    session = AsyncSession()

    async def broken() -> None:
        raise PoolTimeout("pool exhausted")

    async def fine() -> None:
        ran.append("fine")

    after_commit(session, broken)
    after_commit(session, fine)
    await run_after_commit(session)

    assert ran == ["fine"]
    assert "after_commit" not in session.info


async def test_a_domain_error_after_commit_is_the_requests_answer() -> None:
    session = AsyncSession()

    async def refused() -> None:
        raise RateLimited(retry_after=60, seconds=60)

    after_commit(session, refused)
    with pytest.raises(RateLimited):
        await run_after_commit(session)
