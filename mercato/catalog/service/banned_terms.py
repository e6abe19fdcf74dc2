"""The banned-term dictionary the listing checks use: defaults, listing, adding, deactivating.

Terms are stored NFKC-normalised; English terms also lower-cased (they match case-insensitively).
A term is never deleted, only deactivated, so the findings of past reviews stay explainable.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import BannedTermExists, BannedTermInvalid, BannedTermNotFound
from mercato.catalog.models import BannedTerm
from mercato.catalog.schemas import BannedTermCreate, BannedTermRead, TermLanguage
from mercato.catalog.service.compliance import DEFAULT_BANNED_TERMS, TermRule
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.errors import FieldError
from mercato.core.i18n import N_

MAX_TERM_LENGTH = 60


def _stored_form(term: str, language: TermLanguage) -> str:
    """Raises: BannedTermInvalid (422) when normalising leaves nothing or more than 60 characters."""
    text = unicodedata.normalize("NFKC", term).strip()
    text = text.lower() if language == TermLanguage.en else text
    if not text or len(text) > MAX_TERM_LENGTH:
        raise BannedTermInvalid(
            fields=[
                FieldError(
                    loc=("body", "term"),
                    code=BannedTermInvalid.code,
                    message=N_("Write the term in at most 60 characters."),
                )
            ]
        )
    return text


async def ensure_default_banned_terms(session: AsyncSession) -> int:
    """Insert the default dictionary's terms that are missing (idempotent); return how many were new.

    A default term staff deactivated stays deactivated.
    """
    now = clock.now()
    added = 0
    for term, language in DEFAULT_BANNED_TERMS:
        values = {
            "term": _stored_form(term, language),
            "language": language.value,
            "rule": "absolute_term",
            "is_active": True,
            "created_at": now,
        }
        added += await insert_ignore(session, BannedTerm.__table__, values)
    return added


async def load_default_banned_terms(session: AsyncSession, *, actor: identity.Actor) -> list[BannedTermRead]:
    """``ensure_default_banned_terms`` for staff (audited); returns the whole dictionary."""
    added = await ensure_default_banned_terms(session)
    if added:
        await identity.record_audit(
            session,
            actor=actor,
            action="banned_term.load_defaults",
            object_type="banned_term",
            after={"added": added},
        )
    return await list_banned_terms(session)


async def list_banned_terms(session: AsyncSession, *, include_inactive: bool = True) -> list[BannedTermRead]:
    """The dictionary, by language then term (a few hundred entries at most: no pagination)."""
    stmt = select(BannedTerm).order_by(BannedTerm.language, BannedTerm.term)
    if not include_inactive:
        stmt = stmt.where(BannedTerm.is_active.is_(True))
    return [BannedTermRead.model_validate(row) for row in (await session.execute(stmt)).scalars()]


async def active_term_rules(session: AsyncSession) -> list[TermRule]:
    """The active terms as the checks take them."""
    rows = (
        await session.execute(
            select(BannedTerm.term, BannedTerm.language)
            .where(BannedTerm.is_active.is_(True))
            .order_by(BannedTerm.id)
        )
    ).all()
    return [TermRule(term=term, language=TermLanguage(language)) for term, language in rows]


async def add_banned_term(
    session: AsyncSession, *, data: BannedTermCreate, actor: identity.Actor
) -> BannedTermRead:
    """Add a term, or reactivate it if it was deactivated.

    Raises:
        BannedTermExists (409): the term is already active.
    """
    term = _stored_form(data.term, data.language)
    values = {
        "term": term,
        "language": data.language.value,
        "rule": "absolute_term",
        "is_active": True,
        "created_at": clock.now(),
    }
    if not await insert_ignore(session, BannedTerm.__table__, values):
        reactivated = (
            await session.execute(
                update(BannedTerm)
                .where(BannedTerm.term == term, BannedTerm.is_active.is_(False))
                .values(is_active=True, language=data.language.value)
                .returning(BannedTerm.id)
            )
        ).scalar_one_or_none()
        if reactivated is None:
            raise BannedTermExists()
    row = (await session.execute(select(BannedTerm).where(BannedTerm.term == term))).scalar_one()
    await session.refresh(row)
    read = BannedTermRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="banned_term.add",
        object_type="banned_term",
        object_id=str(read.id),
        after={"term": read.term, "language": read.language.value},
    )
    return read


async def deactivate_banned_term(
    session: AsyncSession, *, term_id: int, actor: identity.Actor
) -> BannedTermRead:
    """Stop checking a term (it stays in the dictionary, inactive).

    Raises:
        BannedTermNotFound.
    """
    row = await session.get(BannedTerm, term_id)
    if row is None:
        raise BannedTermNotFound()
    if row.is_active:
        row.is_active = False
        await session.flush()
        await identity.record_audit(
            session,
            actor=actor,
            action="banned_term.deactivate",
            object_type="banned_term",
            object_id=str(term_id),
            before={"term": row.term, "is_active": True},
            after={"term": row.term, "is_active": False},
        )
    return BannedTermRead.model_validate(row)
