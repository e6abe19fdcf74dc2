"""Cursor pagination: opaque cursors over a unique, ordered key (usually the id, newest first)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from mercato.core.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(InvalidInput):
    code = "core.invalid_cursor"
    message = "The cursor is not valid."


class Page(BaseModel, Generic[T]):
    """One page of results and the cursor of the next page (``None`` on the last page)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """Decode a cursor from a previous page; raise ``core.invalid_cursor`` on garbage."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc


MAX_ID = 2**63 - 1


def id_cursor(cursor: str | None) -> int | None:
    """The id a ``next_cursor`` holds (None for the first page), for lists ordered by id.

    Raises:
        InvalidCursor (422): not a cursor of ours, or out of the id range.
    """
    after = decode_cursor(cursor)
    if after is None:
        return None
    if type(after) is not int or not 0 <= after <= MAX_ID:
        raise InvalidCursor()
    return after


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))
