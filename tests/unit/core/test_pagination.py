"""Opaque cursors round-trip; garbage is a clear 400, never a 500."""

from __future__ import annotations

import base64
import inspect
import sys

import pytest

from mercato.core.errors import ErrorKind
from mercato.core.pagination import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    id_cursor,
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor({"id": 42})) == {"id": 42}
    assert decode_cursor(None) is None


@pytest.mark.parametrize(
    ("_case", "cursor"),
    [
        ("not base64", "***"),
        ("not json", "bm90IGpzb24"),
        ("percent signs", "%%%%"),
        ("deeply nested json, past the length cap", _b64(b"[" * 700 + b"]" * 700)),
        ("unclosed nesting", _b64(b"[" * 760)),
        ("longer than any of ours", encode_cursor("x" * MAX_CURSOR_LENGTH)),
        ("not utf-8", _b64(b"\xff\xfe")),
    ],
)
def test_garbage_cursor_is_invalid(_case: str, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


@pytest.mark.parametrize(
    ("_case", "value"), [("nested", [[1]]), ("text", "12"), ("boolean", True), ("past bigint", 2**63)]
)
def test_id_cursor_refuses_other_shapes(_case: str, value: object) -> None:
    with pytest.raises(InvalidCursor):
        id_cursor(encode_cursor(value))


def test_nesting_deeper_than_the_stack_allows_is_invalid() -> None:
    nested = _b64(b"[" * 300 + b"]" * 300)  # within the length cap
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)  # what a deep request stack leaves json
    try:
        with pytest.raises(InvalidCursor):
            decode_cursor(nested)
    finally:
        sys.setrecursionlimit(limit)


def test_invalid_cursor_is_a_bad_request() -> None:
    assert (InvalidCursor.kind, InvalidCursor.code) == (ErrorKind.bad_request, "core.invalid_cursor")


def test_a_brand_cursor_with_a_long_chinese_name_fits() -> None:
    cursor = encode_cursor(["品" * 60, 2**63 - 1])

    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert decode_cursor(cursor) == ["品" * 60, 2**63 - 1]


def test_limit_is_clamped() -> None:
    assert (clamp_limit(None), clamp_limit(0), clamp_limit(50), clamp_limit(10_000)) == (20, 1, 50, 100)
