"""Customer accounts as staff see them: a searchable list and one account in any status.

Reads only; pages show the phone and email masked (``mask_phone`` / ``mask_email``).
"""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.identity.errors import CustomerNotFound, EmailInvalid, PhoneInvalid
from mercato.identity.models import Customer, CustomerTagging
from mercato.identity.schemas import CustomerMatch, CustomerRead, CustomerStatus
from mercato.identity.service.customers import to_read
from mercato.identity.service.normalize import normalize_email, normalize_phone

_PHONE_PUNCTUATION = str.maketrans("", "", " -()+")
#: How many accounts one exact search term may name (a common name): the newest are kept.
MAX_MATCHED_CUSTOMERS = 500


async def list_customers(
    session: AsyncSession,
    *,
    query: str | None = None,
    status: CustomerStatus | None = None,
    tag_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[CustomerRead]:
    """Customer accounts, newest first. ``query`` matches part of the name or email
    (case-insensitive) or, when it is made of digits (spaces, ``-``, ``+`` and brackets
    ignored), part of the phone number; ``tag_id`` keeps the accounts carrying that tag.

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
    if tag_id is not None:
        stmt = stmt.where(
            exists().where(CustomerTagging.customer_id == Customer.id, CustomerTagging.tag_id == tag_id)
        )
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


async def match_customers(session: AsyncSession, *, term: str) -> CustomerMatch:
    """The accounts ``term`` names exactly: their mobile number (typed any way identity accepts
    it: ``138 1234 5678``, ``+86 138…``), email address (case-insensitive) or whole name.

    Exact, not partial: a console search for an order's buyer must not list strangers' orders.
    """
    text = term.strip()
    phone = email = None
    if "@" in text:
        try:
            email = normalize_email(text)
        except EmailInvalid:
            email = None
    elif text.translate(_PHONE_PUNCTUATION).isdigit():
        try:
            phone = normalize_phone(text)
        except PhoneInvalid:
            phone = None
    if not text:
        return CustomerMatch(customer_ids=[])
    matches = [Customer.name == text]
    if phone is not None:
        matches.append(Customer.phone == phone)
    if email is not None:
        matches.append(Customer.email == email)
    ids = (
        await session.execute(
            select(Customer.id).where(or_(*matches)).order_by(Customer.id.desc()).limit(MAX_MATCHED_CUSTOMERS)
        )
    ).scalars()
    return CustomerMatch(customer_ids=list(ids), phone=phone, name=text)
