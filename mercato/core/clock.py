"""The one place that reads the wall clock, so tests can move time."""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return dt.datetime.now(dt.UTC) + _offset


def advance(delta: dt.timedelta) -> None:
    """Move the clock forward (tests only: expiry, lockouts, schedules)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Put the clock back to real time."""
    global _offset
    _offset = dt.timedelta(0)
