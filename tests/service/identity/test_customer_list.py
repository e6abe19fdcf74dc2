"""identity.list_customers and identity.get_customer_record: the staff view of customer accounts."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core.pagination import InvalidCursor
from tests.factories.identity import PASSWORD, make_customer


async def test_customers_are_listed_newest_first_in_pages(session: AsyncSession) -> None:
    first = await make_customer(name="一")
    second = await make_customer(name="二")
    third = await make_customer(name="三")

    page = await identity.list_customers(session, limit=2)
    rest = await identity.list_customers(session, limit=2, cursor=page.next_cursor)

    assert [c.id for c in page.items] == [third.id, second.id]
    assert page.next_cursor is not None
    assert [c.id for c in rest.items] == [first.id]
    assert rest.next_cursor is None


async def test_the_query_matches_name_email_or_phone_digits(session: AsyncSession) -> None:
    alice = await make_customer(phone="+8613812345678", email="Alice@Example.com", name="Alice Wang")
    bob = await make_customer(phone="+8613900001111", email="bob@example.com", name="Bob 100%")

    assert [c.id for c in (await identity.list_customers(session, query="WANG")).items] == [alice.id]
    assert [c.id for c in (await identity.list_customers(session, query="alice@ex")).items] == [alice.id]
    assert [c.id for c in (await identity.list_customers(session, query="+86 139-0000")).items] == [bob.id]
    assert [c.id for c in (await identity.list_customers(session, query="100%")).items] == [bob.id]
    assert (await identity.list_customers(session, query="%")).items[0].id == bob.id
    assert (await identity.list_customers(session, query="nobody")).items == []
    assert len((await identity.list_customers(session, query="  ")).items) == 2


async def test_deleted_accounts_are_found_by_status_and_by_id(session: AsyncSession) -> None:
    kept = await make_customer()
    gone = await make_customer()
    await identity.delete_customer(
        session, customer_id=gone.id, data=identity.DeleteAccount(password=PASSWORD)
    )

    active = await identity.list_customers(session, status=identity.CustomerStatus.active)
    deleted = await identity.list_customers(session, status=identity.CustomerStatus.deleted)
    record = await identity.get_customer_record(session, customer_id=gone.id)

    assert [c.id for c in active.items] == [kept.id]
    assert [c.id for c in deleted.items] == [gone.id]
    assert record.status == identity.CustomerStatus.deleted
    assert record.phone is None


async def test_an_unknown_customer_or_cursor_is_refused(session: AsyncSession) -> None:
    with pytest.raises(identity.CustomerNotFound):
        await identity.get_customer_record(session, customer_id=424242)
    with pytest.raises(InvalidCursor):
        await identity.list_customers(session, cursor="not-a-cursor")
