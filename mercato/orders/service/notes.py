"""The reasons the system writes on an order's timeline ("placed", "payment 3 captured", "shipped
with sf SF123"), as English message ids with their numbers as parameters.

A step's reason is stored as the English text (``note % params``); reading it back recognises the
text against these ids (``recognise``), so the page translates it with the parameters, and steps
written before the ids existed are recognised the same way. A reason a person typed (cancelling
an order) is never recognised: it is shown as typed."""

from __future__ import annotations

import functools
import re

from mercato.core.i18n import N_

PLACED = N_("placed")
PAYMENT_CAPTURED = N_("payment %(payment_id)s captured")
SHIPPED = N_("shipped")
SHIPPED_WITH = N_("shipped with %(carrier)s %(tracking_number)s")
DELIVERED = N_("delivered")
SIGNED_FOR = N_("signed for (%(source)s)")  # the tracking service that reported it
SIGNED_FOR_BY_HAND = N_("signed for (recorded by hand)")
PICKED_UP = N_("picked up at the store")
PICKUP_VERIFIED = N_("pickup verified")
RECEIPT_CONFIRMED = N_("receipt confirmed by the shopper")
COMPLETED_AUTOMATICALLY = N_("completed automatically after delivery")
NOT_PAID_IN_TIME = N_("not paid in time")
REFUNDED_IN_FULL = N_("refunded in full by after-sales %(number)s")
GROUP_COMPLETE = N_("group %(group_id)s complete: ready to ship")
GROUP_FAILED = N_("group %(group_id)s failed: refunded in full")
GROUP_FULL = N_("group %(group_id)s was full: refunded in full")
# a sub-order closed by ``drop_units_before_shipping`` for after-sales (its reason "after-sales <number>")
NOTHING_LEFT_TO_SHIP = N_("nothing left to ship: after-sales %(number)s")
SYSTEM_NOTES = (
    PLACED,
    PAYMENT_CAPTURED,
    SHIPPED,
    SHIPPED_WITH,
    DELIVERED,
    SIGNED_FOR_BY_HAND,
    SIGNED_FOR,
    PICKED_UP,
    PICKUP_VERIFIED,
    RECEIPT_CONFIRMED,
    COMPLETED_AUTOMATICALLY,
    NOT_PAID_IN_TIME,
    REFUNDED_IN_FULL,
    NOTHING_LEFT_TO_SHIP,
    GROUP_COMPLETE,
    GROUP_FAILED,
    GROUP_FULL,
)
_PARAM = re.compile(r"%\((\w+)\)s")
_WRITTEN_BEFORE = {"signed for (manual)": SIGNED_FOR_BY_HAND}  # old rows' text for a note now worded apart


@functools.cache
def _pattern(note: str) -> re.Pattern[str]:
    parts = _PARAM.split(note)  # literal, name, literal, name, …, literal
    return re.compile(
        "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    )


def recognise(reason: str, *, typed: bool) -> tuple[str | None, dict[str, str]]:
    """The message id and parameters of a system-written ``reason``; ``(None, {})`` for a reason
    a person ``typed`` or one no id matches (shown as stored)."""
    if typed or not reason:
        return None, {}
    if reason in _WRITTEN_BEFORE:
        return _WRITTEN_BEFORE[reason], {}
    for note in SYSTEM_NOTES:
        found = _pattern(note).fullmatch(reason)
        if found is not None:
            return note, found.groupdict()
    return None, {}
