"""Idempotency keys: a retried request returns the stored response instead of acting twice.

``claim`` inserts ``(scope, key)`` with a hash of the request in the caller's transaction. If the
key is new the caller acts and calls ``store_response``; the row and the effect commit together.
If the key exists with the same request hash, the stored response is returned; with a different
hash the retry is refused (``core.idempotency_key_reused``). Concurrent duplicates queue on the
unique constraint, so only one acts.

``bind_request`` is the lighter form for use cases that are idempotent by themselves (checkout
finds the order placed under the key): it only ties the key to a hash of the request, so that the
same key with another request is refused instead of answered with the first request's result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, Integer, String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core import clock
from mercato.core.db import Base, IdMixin, insert_ignore
from mercato.core.errors import Conflict, InvalidInput

MAX_KEY_LENGTH = 200


class IdempotencyKeyReused(Conflict):
    code = "core.idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


class IdempotencyKeyInvalid(InvalidInput):
    code = "core.idempotency_key_invalid"
    message = "The Idempotency-Key must be 1 to 200 printable ASCII characters."


class IdempotencyInProgress(Conflict):
    code = "core.idempotency_in_progress"
    message = "A request with this Idempotency-Key is still being processed."


class IdempotencyRecord(IdMixin, Base):
    """One claimed key and, once done, the response it produced."""

    __tablename__ = "core_idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def request_hash(payload: Any) -> str:
    """Return a stable hash of a JSON-able request body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    if not (1 <= len(key) <= MAX_KEY_LENGTH) or not all(32 < ord(ch) < 127 for ch in key):
        raise IdempotencyKeyInvalid()
    return key


async def claim(session: AsyncSession, *, scope: str, key: str, payload: Any) -> StoredResponse | None:
    """Claim ``key`` in ``scope``; return the stored response if it was already used.

    Raises:
        IdempotencyKeyInvalid: the key is empty, too long or not printable ASCII.
        IdempotencyKeyReused: the key was used with a different request body.
        IdempotencyInProgress: the first request with this key has not finished.
    """
    validate_key(key)
    digest = request_hash(payload)
    inserted = await insert_ignore(
        session,
        IdempotencyRecord.__table__,
        {"scope": scope, "key": key, "request_hash": digest, "created_at": clock.now()},
    )
    if inserted:
        return None
    record = (
        await session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        )
    ).scalar_one()
    if record.request_hash != digest:
        raise IdempotencyKeyReused()
    if record.status_code is None:
        raise IdempotencyInProgress()
    return StoredResponse(record.status_code, record.response)


async def bind_request(session: AsyncSession, *, scope: str, key: str, payload: Any) -> bool:
    """Tie ``key`` in ``scope`` to this request (a hash of ``payload``); True if the key was new.

    The row commits with the caller's transaction, so a request that failed leaves the key free
    for a corrected one. A concurrent request with the same key waits on the unique constraint
    and is then compared with the first.

    Raises:
        IdempotencyKeyInvalid (422): the key is empty, too long or not printable ASCII.
        IdempotencyKeyReused (409): the key was used with a different request body.
    """
    validate_key(key)
    digest = request_hash(payload)
    if await insert_ignore(
        session,
        IdempotencyRecord.__table__,
        {"scope": scope, "key": key, "request_hash": digest, "created_at": clock.now()},
    ):
        return True
    stored = (
        await session.execute(
            select(IdempotencyRecord.request_hash).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )
    ).scalar_one()
    if stored != digest:
        raise IdempotencyKeyReused()
    return False


async def store_response(session: AsyncSession, *, scope: str, key: str, status_code: int, body: Any) -> None:
    """Keep the response of a claimed key so a retry gets the same answer."""
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .values(status_code=status_code, response=body)
    )


M = TypeVar("M", bound=BaseModel)


async def run_once(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    model: type[M],
    act: Callable[[], Awaitable[M]],
    status_code: int = 200,
) -> M:
    """``act()`` once per ``key`` in ``scope``: a retry with the same key and ``payload`` gets the
    answer the first call gave (stored with the effect, in the caller's transaction); without a
    key, just ``act()``.

    Raises:
        IdempotencyKeyInvalid (422), IdempotencyKeyReused / IdempotencyInProgress (409).
    """
    if key is None:
        return await act()
    stored = await claim(session, scope=scope, key=key, payload=payload)
    if stored is not None:
        return model.model_validate(stored.body)
    result = await act()
    await store_response(
        session, scope=scope, key=key, status_code=status_code, body=result.model_dump(mode="json")
    )
    return result
