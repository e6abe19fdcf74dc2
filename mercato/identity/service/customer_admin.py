"""Customer accounts as staff see them: a searchable list and one account in any status.

Reads only; pages show the phone and email masked (``mask_phone`` / ``mask_email``).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.identity.errors import CustomerNotFound
from mercato.identity.models import Customer
from mercato.identity.schemas import CustomerRead, CustomerStatus
from mercato.identity.service.customers import to_read

_PHONE_PUNCTUATION = str.maketrans("", "", " -()+")


async def list_customers(
    session: AsyncSession,
    *,
    query: str | None = None,
    status: CustomerStatus | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[CustomerRead]:
    """Customer accounts, newest first. ``query`` matches part of the name or email
    (case-insensitive) or, when it is made of digits (spaces, ``-``, ``+`` and brackets
    ignored), part of the phone number.

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    stmt = select(Customer).order_by(Customer.id.desc()).limit(size + 1)
    after = id_cursor(cursor)
    if after is not None:
        stmt = stmt.where(Customer.id < after)
    if status is not None:
        stmt = stmt.where(Customer.status == status.value)
    needle = (query or "").strip().lower()
    if needle:
        matches = [
            func.lower(Customer.name).contains(needle, autoescape=True),
            func.lower(Customer.email).contains(needle, autoescape=True),
        ]
        digits = needle.translate(_PHONE_PUNCTUATION)
        if digits.isdigit():
            matches.append(Customer.phone.contains(digits, autoescape=True))
        stmt = stmt.where(or_(*matches))
    rows = list((await session.execute(stmt)).scalars())
    page = rows[:size]
    return Page[CustomerRead](
        items=[to_read(row) for row in page],
        next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None,
    )


async def get_customer_record(session: AsyncSession, *, customer_id: int) -> CustomerRead:
    """One customer account in any status (deleted ones too), for staff.

    Raises:
        CustomerNotFound.
    """
    row = await session.get(Customer, customer_id)
    if row is None:
        raise CustomerNotFound()
    return to_read(row)
