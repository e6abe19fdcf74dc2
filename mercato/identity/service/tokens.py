"""Sessions and bearer tokens for customers and staff, stored as SHA-256 digests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.security import hash_token, new_token
from mercato.core.settings import get_settings
from mercato.identity.models import AuthToken
from mercato.identity.schemas import IssuedToken, RequestMeta, TokenRead

#: Prefixes make leaked tokens recognisable by secret scanners.
PREFIX = {
    ("customer", "session"): "mcs_",
    ("customer", "bearer"): "mct_",
    ("staff", "session"): "mss_",
    ("staff", "bearer"): "mst_",
}
_TOUCH_EVERY = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class ResolvedToken:
    token_id: int
    subject_id: int
    kind: str
    #: last use recorded more than ten minutes ago (or never): ``touch_token`` has work to do
    stale: bool = True


async def issue_token(
    session: AsyncSession, *, subject_kind: str, subject_id: int, kind: str, meta: RequestMeta, name: str = ""
) -> IssuedToken:
    """Create a session (cookie) or bearer token; the raw secret is returned once."""
    settings = get_settings()
    days = settings.session_days if kind == "session" else settings.token_days
    raw = new_token(PREFIX[(subject_kind, kind)])
    now = clock.now()
    row = AuthToken(
        token_hash=hash_token(raw),
        subject_kind=subject_kind,
        subject_id=subject_id,
        kind=kind,
        name=name[:100],
        ip=meta.ip,
        user_agent=meta.user_agent[:300],
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(token=raw, token_id=row.id, expires_at=row.expires_at)


async def resolve_token(session: AsyncSession, *, token: str, subject_kind: str) -> ResolvedToken | None:
    """Return the live token's subject, or None if unknown, expired or revoked."""
    row = (
        await session.execute(select(AuthToken).where(AuthToken.token_hash == hash_token(token)))
    ).scalar_one_or_none()
    now = clock.now()
    if row is None or row.subject_kind != subject_kind or row.revoked_at is not None or row.expires_at <= now:
        return None
    stale = row.last_used_at is None or row.last_used_at < now - _TOUCH_EVERY
    return ResolvedToken(token_id=row.id, subject_id=row.subject_id, kind=row.kind, stale=stale)


async def touch_token(session: AsyncSession, *, token_id: int) -> None:
    """Record use at most every ten minutes (keeps reads from writing on every request)."""
    now = clock.now()
    await session.execute(
        update(AuthToken)
        .where(AuthToken.id == token_id)
        .where((AuthToken.last_used_at.is_(None)) | (AuthToken.last_used_at < now - _TOUCH_EVERY))
        .values(last_used_at=now)
    )


async def revoke_token(session: AsyncSession, *, token_id: int) -> None:
    await session.execute(
        update(AuthToken)
        .where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


async def revoke_all_tokens(
    session: AsyncSession, *, subject_kind: str, subject_id: int, except_token_id: int | None = None
) -> int:
    """Revoke every live token of the subject (sign out everywhere); return how many."""
    stmt = update(AuthToken).where(
        AuthToken.subject_kind == subject_kind,
        AuthToken.subject_id == subject_id,
        AuthToken.revoked_at.is_(None),
    )
    if except_token_id is not None:
        stmt = stmt.where(AuthToken.id != except_token_id)
    result = await session.execute(stmt.values(revoked_at=clock.now()))
    return int(getattr(result, "rowcount", 0))


async def list_live_tokens(session: AsyncSession, *, subject_kind: str, subject_id: int) -> list[TokenRead]:
    rows = (
        await session.execute(
            select(AuthToken)
            .where(
                AuthToken.subject_kind == subject_kind,
                AuthToken.subject_id == subject_id,
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > clock.now(),
            )
            .order_by(AuthToken.id.desc())
        )
    ).scalars()
    return [TokenRead.model_validate(row) for row in rows]
