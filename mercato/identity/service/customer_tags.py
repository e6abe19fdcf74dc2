"""Customer tags (用户标签): labels staff put on accounts ("VIP", "批发", "投诉过"), for the console's
filters now and for segments later.

The vocabulary grows on first use: a tag is normalised (NFKC, runs of spaces folded to one, trimmed)
and compared folded (``casefold``), so "VIP", "vip" and "ＶＩＰ " are one tag, spelt as first typed.
Every write is one atomic statement: the tag and the tagging are inserted with ``insert_ignore``
(tagging twice changes nothing), and the per-customer cap is a conditional ``UPDATE`` of
``identity_customer.tag_count`` whose row count decides.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.identity.errors import CustomerNotFound, TagInvalid, TagLimitReached
from mercato.identity.models import Customer, CustomerTag, CustomerTagging
from mercato.identity.schemas import Actor, CustomerStatus, CustomerTagRead
from mercato.identity.service.audit import record_audit

#: The longest tag, in characters, once normalised.
MAX_TAG_LENGTH = 20
#: How many tags one customer may carry.
MAX_TAGS_PER_CUSTOMER = 20
#: How many tags the vocabulary lists at most (the most used first).
MAX_LISTED_TAGS = 200


def normalize_tag(raw: str) -> str:
    """The tag as stored: NFKC (full-width letters become ASCII), spaces folded, trimmed.

    Raises:
        TagInvalid: blank, or longer than ``MAX_TAG_LENGTH`` characters.
    """
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not name or len(name) > MAX_TAG_LENGTH:
        raise TagInvalid(max_length=MAX_TAG_LENGTH)
    return name


async def check_active_customer(session: AsyncSession, customer_id: int) -> None:
    """Tags and notes describe a person: a deleted account (anonymised) takes none.

    Raises:
        CustomerNotFound (404): no such account, or a deleted one.
    """
    found = (
        await session.execute(
            select(Customer.id).where(
                Customer.id == customer_id, Customer.status == CustomerStatus.active.value
            )
        )
    ).first()
    if found is None:
        raise CustomerNotFound()


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    customer_id: int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await record_audit(
        session,
        actor=actor,
        action=action,
        object_type="customer",
        object_id=str(customer_id),
        before=before,
        after=after,
    )


async def list_customer_tags(session: AsyncSession, *, customer_id: int) -> list[CustomerTagRead]:
    """The tags a customer carries, in the order they were put on."""
    rows = (
        await session.execute(
            select(CustomerTag.id, CustomerTag.name)
            .join(CustomerTagging, CustomerTagging.tag_id == CustomerTag.id)
            .where(CustomerTagging.customer_id == customer_id)
            .order_by(CustomerTagging.id)
        )
    ).all()
    return [CustomerTagRead(id=row.id, name=row.name) for row in rows]


async def list_tags(session: AsyncSession) -> list[CustomerTagRead]:
    """The vocabulary with how many customers carry each tag, the most used first, then the
    oldest (at most ``MAX_LISTED_TAGS``); tags nobody carries any more are left out."""
    customers = func.count(CustomerTagging.id)
    rows = (
        await session.execute(
            select(CustomerTag.id, CustomerTag.name, customers.label("customers"))
            .join(CustomerTagging, CustomerTagging.tag_id == CustomerTag.id)
            .group_by(CustomerTag.id, CustomerTag.name)
            .order_by(customers.desc(), CustomerTag.id)
            .limit(MAX_LISTED_TAGS)
        )
    ).all()
    return [CustomerTagRead(id=row.id, name=row.name, customers=row.customers) for row in rows]


async def tag_customer(
    session: AsyncSession, *, customer_id: int, tag: str, actor: Actor
) -> list[CustomerTagRead]:
    """Put ``tag`` on the customer (created in the vocabulary on first use); the customer's tags.

    A tag the customer already carries changes nothing and is not audited again.

    Raises:
        TagInvalid (422), CustomerNotFound (404; deleted accounts too), TagLimitReached (409:
        the customer carries ``MAX_TAGS_PER_CUSTOMER`` tags; the caller's transaction rolls
        back, so nothing is written).
    """
    name = normalize_tag(tag)
    key = name.casefold()
    await check_active_customer(session, customer_id)
    now = clock.now()
    await insert_ignore(session, CustomerTag.__table__, {"key": key, "name": name, "created_at": now})
    tag_id = (await session.execute(select(CustomerTag.id).where(CustomerTag.key == key))).scalar_one()
    added = await insert_ignore(
        session,
        CustomerTagging.__table__,
        {"customer_id": customer_id, "tag_id": tag_id, "created_at": now},
    )
    if added:
        counted = await session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.tag_count < MAX_TAGS_PER_CUSTOMER)
            .values(tag_count=Customer.tag_count + 1)
        )
        if getattr(counted, "rowcount", 0) != 1:
            raise TagLimitReached(limit=MAX_TAGS_PER_CUSTOMER)
        await _audit(session, actor, "customer.tag", customer_id, after={"tag": name})
    return await list_customer_tags(session, customer_id=customer_id)


async def untag_customer(
    session: AsyncSession, *, customer_id: int, tag_id: int, actor: Actor
) -> list[CustomerTagRead]:
    """Take the tag off the customer; the customer's tags. A tag the customer does not carry
    changes nothing (the vocabulary keeps the tag for next time).

    Raises:
        CustomerNotFound (404; deleted accounts too).
    """
    await check_active_customer(session, customer_id)
    removed = await session.execute(
        delete(CustomerTagging).where(
            CustomerTagging.customer_id == customer_id, CustomerTagging.tag_id == tag_id
        )
    )
    if getattr(removed, "rowcount", 0) == 1:
        await session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.tag_count > 0)
            .values(tag_count=Customer.tag_count - 1)
        )
        name = (await session.execute(select(CustomerTag.name).where(CustomerTag.id == tag_id))).scalar_one()
        await _audit(session, actor, "customer.untag", customer_id, before={"tag": name})
    return await list_customer_tags(session, customer_id=customer_id)
