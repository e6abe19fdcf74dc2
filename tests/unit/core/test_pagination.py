"""Opaque cursors round-trip; garbage is a clear 422, never a 500."""

from __future__ import annotations

import pytest

from mercato.core.pagination import InvalidCursor, clamp_limit, decode_cursor, encode_cursor


def test_cursor_round_trips() -> None:
    assert decode_cursor(encode_cursor({"id": 42})) == {"id": 42}
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["***", "bm90IGpzb24", "%%%%"])
def test_garbage_cursor_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_limit_is_clamped() -> None:
    assert (clamp_limit(None), clamp_limit(0), clamp_limit(50), clamp_limit(10_000)) == (20, 1, 50, 100)
