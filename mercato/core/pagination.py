"""Cursor pagination: opaque cursors over a unique, ordered key (usually the id, newest first)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from mercato.core.errors import DomainError, ErrorKind
from mercato.core.schemas import MAX_ID as MAX_ID  # re-exported: cursors hold ids

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: Longer than any cursor we hand out (the longest, a brand's, holds a 60-character name), and
#: short enough that decoding it stays cheap and shallow.
MAX_CURSOR_LENGTH = 1024


class InvalidCursor(DomainError):
    """A ``cursor`` that is not one of ours: a 400 for the API; list pages show the first page."""

    kind = ErrorKind.bad_request
    code = "core.invalid_cursor"
    message = "The cursor is not valid."


class Page(BaseModel, Generic[T]):
    """One page of results and the cursor of the next page (``None`` on the last page)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """Decode a cursor from a previous page.

    Raises:
        InvalidCursor (400): garbage, too long, or JSON nested too deep to decode.
    """
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeError, RecursionError) as exc:
        raise InvalidCursor() from exc


def id_cursor(cursor: str | None) -> int | None:
    """The id a ``next_cursor`` holds (None for the first page), for lists ordered by id.

    Raises:
        InvalidCursor (400): not a cursor of ours, or out of the id range.
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
