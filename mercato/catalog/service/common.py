"""Helpers shared by the catalog services: unique-constraint races, id-based slugs, audit views."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.errors import SlugReserved
from mercato.core.errors import DomainError, FieldError
from mercato.core.i18n import N_

#: A unique constraint, as (table, columns), and the error a violation of it becomes.
UniqueKey = tuple[str, tuple[str, ...]]
Conflicts = Mapping[UniqueKey, Callable[[], DomainError]]


def _violated(exc: IntegrityError, key: UniqueKey) -> bool:
    """Whether ``exc`` violates ``key``: PostgreSQL names the constraint, SQLite lists the columns."""
    table, columns = key
    text = str(exc.orig)
    named = f"uq_{table}_{'_'.join(columns)}"
    listed = ", ".join(f"{table}.{column}" for column in columns)
    return f'"{named}"' in text or text.rstrip().endswith(listed)


@asynccontextmanager
async def unique_guard(session: AsyncSession, conflicts: Conflicts) -> AsyncIterator[None]:
    """Run the block and flush it inside a SAVEPOINT; turn a listed unique violation into its error.

    The constraint decides, not a prior SELECT, so two concurrent writers cannot both win; the
    SAVEPOINT keeps the rest of the unit of work usable (the error rolls it back anyway).
    """
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError as exc:
        for key, error in conflicts.items():
            if _violated(exc, key):
                raise error() from exc
        raise


def temporary_slug() -> str:
    """A unique placeholder until the row's id is known (then ``<prefix>-<id>``)."""
    return f"tmp-{uuid.uuid4().hex}"


def check_slug(slug: str, *, prefix: str, own_id: int | None, loc: tuple[str | int, ...]) -> None:
    """Refuse ``<prefix>-<digits>`` unless it is the row's own default: it belongs to another row.

    Raises:
        SlugReserved (422).
    """
    match = re.fullmatch(rf"{prefix}-(\d+)", slug)
    if match and (own_id is None or int(match.group(1)) != own_id):
        raise SlugReserved(
            fields=[FieldError(loc=loc, code=SlugReserved.code, message=N_("This slug is reserved."))]
        )


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entries that differ, as (before, after) views for the audit log."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}
