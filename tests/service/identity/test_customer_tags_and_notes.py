"""Customer tags and notes (identity): a vocabulary that grows on first use with normalised names,
idempotent tagging, the per-customer cap in one conditional statement, notes newest first, every
write audited, refused writes changing nothing, and account deletion erasing both."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core.db import uow
from mercato.identity.models import AuditEntry, Customer, CustomerNote, CustomerTag, CustomerTagging
from tests.factories.identity import PASSWORD, make_customer

ACTOR = identity.Actor(staff_id=None, label="ops@example.com", ip="198.51.100.7")


async def count(model: type[object]) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def tag_count(customer_id: int) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(Customer.tag_count).where(Customer.id == customer_id))).scalar_one()


async def audits() -> list[tuple[str, str, dict[str, object] | None, dict[str, object] | None]]:
    async with uow(write=False) as s:
        rows = (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [(row.action, row.object_id, row.before, row.after) for row in rows]


async def tag(customer_id: int, name: str) -> list[identity.CustomerTagRead]:
    async with uow() as s:
        return await identity.tag_customer(s, customer_id=customer_id, tag=name, actor=ACTOR)


async def test_tagging_twice_is_one_tag_and_one_audit_entry() -> None:
    alice = await make_customer()

    first = await tag(alice.id, "VIP")
    again = await tag(alice.id, " vip ")
    full_width = await tag(alice.id, "ＶＩＰ")

    assert [t.name for t in first] == ["VIP"]
    assert again == first == full_width
    assert await count(CustomerTag) == 1
    assert await count(CustomerTagging) == 1
    assert await tag_count(alice.id) == 1
    assert await audits() == [("customer.tag", str(alice.id), None, {"tag": "VIP"})]


async def test_the_vocabulary_is_shared_and_counts_customers(session: AsyncSession) -> None:
    alice, bob = await make_customer(), await make_customer()
    await tag(alice.id, "批发")
    await tag(alice.id, "VIP")
    await tag(bob.id, "vip")
    await tag(bob.id, "投诉过   一次")

    vocabulary = await identity.list_tags(session)
    bobs = await identity.list_customer_tags(session, customer_id=bob.id)

    assert [(t.name, t.customers) for t in vocabulary] == [("VIP", 2), ("批发", 1), ("投诉过 一次", 1)]
    assert [t.name for t in bobs] == ["VIP", "投诉过 一次"]
    vip = vocabulary[0].id
    tagged = await identity.list_customers(session, tag_id=vip)
    assert [c.id for c in tagged.items] == [bob.id, alice.id]


@pytest.mark.parametrize(("_case", "name"), [("blank", "   "), ("too long", "长" * 21)])
async def test_a_blank_or_long_tag_is_refused_and_nothing_is_written(_case: str, name: str) -> None:
    alice = await make_customer()

    with pytest.raises(identity.TagInvalid) as refused:
        await tag(alice.id, name)

    assert refused.value.code == "identity.tag_invalid"
    assert refused.value.params == {"max_length": 20}
    assert (await count(CustomerTag), await count(CustomerTagging), await tag_count(alice.id)) == (0, 0, 0)
    assert await audits() == []


async def test_twenty_characters_is_the_longest_tag() -> None:
    alice = await make_customer()

    tags = await tag(alice.id, "长" * 20)

    assert [t.name for t in tags] == ["长" * 20]


async def test_a_customer_carries_at_most_twenty_tags() -> None:
    alice = await make_customer()
    for n in range(identity.MAX_TAGS_PER_CUSTOMER):
        await tag(alice.id, f"tag {n}")
    entries = len(await audits())

    with pytest.raises(identity.TagLimitReached) as refused:
        await tag(alice.id, "one more")
    again = await tag(alice.id, "TAG 3")  # one the customer carries: idempotent even at the cap

    assert refused.value.params == {"limit": 20}
    assert await tag_count(alice.id) == 20
    assert await count(CustomerTagging) == 20
    assert await count(CustomerTag) == 20  # "one more" was rolled back with the refusal
    assert len(again) == 20
    assert len(await audits()) == entries == 20


async def test_untagging_frees_a_place_and_is_idempotent() -> None:
    alice = await make_customer()
    vip = (await tag(alice.id, "VIP"))[0]
    await tag(alice.id, "批发")

    async with uow() as s:
        left = await identity.untag_customer(s, customer_id=alice.id, tag_id=vip.id, actor=ACTOR)
    async with uow() as s:
        again = await identity.untag_customer(s, customer_id=alice.id, tag_id=vip.id, actor=ACTOR)

    assert [t.name for t in left] == [t.name for t in again] == ["批发"]
    assert await tag_count(alice.id) == 1
    assert await count(CustomerTag) == 2  # the vocabulary keeps the tag
    assert [a[0] for a in await audits()] == ["customer.tag", "customer.tag", "customer.untag"]
    assert (await audits())[-1] == ("customer.untag", str(alice.id), {"tag": "VIP"}, None)


async def test_unknown_or_deleted_customers_take_no_tags_or_notes() -> None:
    deleted = await make_customer()
    async with uow() as s:
        await identity.delete_customer(
            s, customer_id=deleted.id, data=identity.DeleteAccount(password=PASSWORD)
        )

    for customer_id in (deleted.id, 999_999):
        with pytest.raises(identity.CustomerNotFound):
            await tag(customer_id, "VIP")
        with pytest.raises(identity.CustomerNotFound):
            async with uow() as s:
                await identity.add_customer_note(
                    s, customer_id=customer_id, data=identity.CustomerNoteWrite(body="hi"), actor=ACTOR
                )

    assert (await count(CustomerTag), await count(CustomerTagging), await count(CustomerNote)) == (0, 0, 0)
    assert await audits() == []


async def test_notes_are_signed_listed_newest_first_and_audited(session: AsyncSession) -> None:
    alice, bob = await make_customer(), await make_customer()
    async with uow() as s:
        first = await identity.add_customer_note(
            s,
            customer_id=alice.id,
            data=identity.CustomerNoteWrite(body="Called about\nthe parcel"),
            actor=ACTOR,
        )
        second = await identity.add_customer_note(
            s, customer_id=alice.id, data=identity.CustomerNoteWrite(body="Prefers SF Express"), actor=ACTOR
        )
        await identity.add_customer_note(
            s, customer_id=bob.id, data=identity.CustomerNoteWrite(body="Bob's"), actor=ACTOR
        )

    page = await identity.list_customer_notes(session, customer_id=alice.id, limit=1)
    rest = await identity.list_customer_notes(session, customer_id=alice.id, limit=1, cursor=page.next_cursor)

    assert [n.id for n in page.items] == [second.id]
    assert [n.id for n in rest.items] == [first.id]
    assert rest.next_cursor is None
    assert (first.author_id, first.author_label, first.body) == (
        None,
        "ops@example.com",
        "Called about\nthe parcel",
    )
    assert (await audits())[0] == (
        "customer.note",
        str(alice.id),
        None,
        {"note_id": first.id, "body": "Called about\nthe parcel"},
    )


def test_a_note_is_one_to_two_thousand_characters() -> None:
    assert identity.CustomerNoteWrite(body="x" * 2000).body == "x" * 2000
    for body in ("", "x" * 2001):
        with pytest.raises(ValueError, match="body"):
            identity.CustomerNoteWrite(body=body)


async def test_deleting_the_account_erases_its_notes_and_tags() -> None:
    alice, bob = await make_customer(), await make_customer()
    await tag(alice.id, "VIP")
    await tag(bob.id, "VIP")
    async with uow() as s:
        await identity.add_customer_note(
            s, customer_id=alice.id, data=identity.CustomerNoteWrite(body="note"), actor=ACTOR
        )

    async with uow() as s:
        await identity.delete_customer(
            s, customer_id=alice.id, data=identity.DeleteAccount(password=PASSWORD)
        )

    assert await count(CustomerNote) == 0
    assert await count(CustomerTagging) == 1
    assert await tag_count(alice.id) == 0


async def test_match_customers_names_accounts_exactly(session: AsyncSession) -> None:
    alice = await make_customer(phone="+8613812345678", email="alice@example.com", name="李雷")
    bob = await make_customer(phone="+8613900001111", name="李雷")
    await make_customer(phone="+8613700002222", name="李雷雷")

    by_phone = await identity.match_customers(session, term="138 1234 5678")
    by_e164 = await identity.match_customers(session, term="+86 138-1234-5678")
    by_email = await identity.match_customers(session, term="ALICE@example.com")
    by_name = await identity.match_customers(session, term=" 李雷 ")
    partial = await identity.match_customers(session, term="1381234")
    nobody = await identity.match_customers(session, term="nobody@example.com")

    assert (by_phone.customer_ids, by_phone.phone) == ([alice.id], "+8613812345678")
    assert by_e164.customer_ids == [alice.id]
    assert (by_email.customer_ids, by_email.phone) == ([alice.id], None)
    assert (by_name.customer_ids, by_name.name) == ([bob.id, alice.id], "李雷")
    assert (partial.customer_ids, partial.phone) == ([], None)
    assert nobody.customer_ids == []
