"""Invites (邀请有礼): a personal code per customer, share links carrying it, one invitation per
invitee (never a forged code, never oneself), and both sides' coupons issued exactly once when the
friend registers and once on their first paid order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mercato import identity, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.social import invites
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.orders import place
from tests.factories.social import (
    code_of,
    deliver,
    flash_shop,
    invitation_rows,
    invite,
    invite_templates,
    paid_order,
    wallet_templates,
)

pytestmark = pytest.mark.usefixtures("handlers")


async def _outbox_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(OutboxEvent))).scalar_one()


async def test_each_customer_gets_one_stable_code_without_look_alikes() -> None:
    alice, bob = await make_customer(), await make_customer()

    first, again, other = await code_of(alice.id), await code_of(alice.id), await code_of(bob.id)

    assert first == again
    assert first != other
    assert all(invites.CODE_PATTERN.fullmatch(code) for code in (first, other))
    assert not set(first + other) & set("01OIL")
    async with uow(write=False) as s:
        assert await social.find_invite_code(s, customer_id=alice.id) == first


async def test_a_code_clash_draws_again(monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = await make_customer(), await make_customer()
    taken = await code_of(alice.id)
    drawn = iter([taken, "K7M3Q9XA"])
    monkeypatch.setattr(invites, "new_invite_code", lambda: next(drawn))

    assert await code_of(bob.id) == "K7M3Q9XA"
    assert await code_of(alice.id) == taken


async def test_share_links_carry_the_code() -> None:
    base = "http://127.0.0.1:8000"

    assert social.share_link(social.ShareKind.product, target="tee-1", code="K7M3Q9XA") == (
        f"{base}/p/tee-1?ref=K7M3Q9XA"
    )
    assert social.share_path(social.ShareKind.flash, target=4, code="K7M3Q9XA") == (
        "/flash-sale/items/4?ref=K7M3Q9XA"
    )
    assert social.share_path(social.ShareKind.group, target=5, code="K7M3Q9XA") == "/groups/5?ref=K7M3Q9XA"
    assert social.share_path(social.ShareKind.bargain, target=6, code=None) == "/bargains/6"
    assert social.invite_link("K7M3Q9XA") == f"{base}/account/register?ref=K7M3Q9XA"


@pytest.mark.parametrize(
    ("_case", "code"),
    [("unknown", "K7M3Q9XA"), ("not a code", "hello"), ("look-alikes", "O0O0O0O0")],
)
async def test_a_forged_code_is_refused_and_changes_nothing(_case: str, code: str) -> None:
    await invite_templates()
    inviter, invitee = await make_customer(), await make_customer()
    await code_of(inviter.id)
    events_before = await _outbox_count()

    with pytest.raises(social.InviteCodeInvalid) as refused:
        await invite(invitee.id, code)

    assert refused.value.code == "social.invite_code_invalid"
    assert await invitation_rows() == []
    assert (await wallet_templates(inviter.id), await wallet_templates(invitee.id)) == ([], [])
    assert await _outbox_count() == events_before


async def test_the_code_of_a_deleted_account_is_refused() -> None:
    inviter, invitee = await make_customer(), await make_customer()
    code = await code_of(inviter.id)
    async with uow() as s:
        await identity.delete_customer(
            s, customer_id=inviter.id, data=identity.DeleteAccount(password=PASSWORD)
        )

    with pytest.raises(social.InviteCodeInvalid):
        await invite(invitee.id, code)

    assert await invitation_rows() == []


async def test_codes_are_read_without_spaces_dashes_or_case() -> None:
    inviter, invitee = await make_customer(), await make_customer()
    code = await code_of(inviter.id)

    recorded = await invite(invitee.id, f" {code[:4].lower()}-{code[4:]} ")

    assert (recorded.inviter_id, recorded.code) == (inviter.id, code)


async def test_a_self_invite_is_refused_and_changes_nothing() -> None:
    inviter_templ, invitee_templ = await invite_templates()
    inviter, friend = await make_customer(), await make_customer()
    code = await code_of(inviter.id)
    await social.remember_sharer_device(customer_id=inviter.id, device="phone-of-the-inviter")

    with pytest.raises(social.SelfInvite) as own_code:
        await invite(inviter.id, code)
    with pytest.raises(social.SelfInvite) as own_device:
        await invite(friend.id, code, device="phone-of-the-inviter")

    assert (own_code.value.code, own_device.value.code) == ("social.self_invite", "social.self_invite")
    assert await invitation_rows() == []
    assert (await wallet_templates(inviter.id), await wallet_templates(friend.id)) == ([], [])
    recorded = await invite(friend.id, code, device="the-friends-own-phone")
    assert recorded.inviter_id == inviter.id
    assert (await wallet_templates(inviter.id), await wallet_templates(friend.id)) == (
        [inviter_templ],
        [invitee_templ],
    )


async def test_registration_rewards_both_sides_once_per_invitee() -> None:
    inviter_templ, invitee_templ = await invite_templates()
    inviter, other, invitee = await make_customer(), await make_customer(), await make_customer()
    code = await code_of(inviter.id)

    first = await invite(invitee.id, code)
    again = await invite(invitee.id, code)
    with pytest.raises(social.AlreadyInvited):
        await invite(invitee.id, await code_of(other.id))

    assert again == first
    assert (first.invitee_id, first.inviter_id, first.first_paid_at) == (invitee.id, inviter.id, None)
    assert await invitation_rows() == [(invitee.id, inviter.id, code, False)]
    assert await wallet_templates(inviter.id) == [inviter_templ]
    assert await wallet_templates(invitee.id) == [invitee_templ]
    assert await wallet_templates(other.id) == []


async def test_the_first_paid_order_rewards_both_sides_once_and_the_second_nothing() -> None:
    inviter_templ, invitee_templ = await invite_templates()
    red, _black = await flash_shop()
    inviter, invitee = await make_customer(), await make_customer()
    await invite(invitee.id, await code_of(inviter.id))

    await paid_order(invitee.id, red)
    await deliver()
    after_first = (await wallet_templates(inviter.id), await wallet_templates(invitee.id))
    await paid_order(invitee.id, red)
    await deliver()

    assert after_first == ([inviter_templ] * 2, [invitee_templ] * 2)
    assert (await wallet_templates(inviter.id), await wallet_templates(invitee.id)) == after_first
    assert await invitation_rows() == [(invitee.id, inviter.id, await code_of(inviter.id), True)]


async def test_a_repeated_paid_event_issues_nothing_more() -> None:
    await invite_templates()
    red, _black = await flash_shop()
    inviter, invitee = await make_customer(), await make_customer()
    await invite(invitee.id, await code_of(inviter.id))
    order_id = await paid_order(invitee.id, red)
    await deliver()

    async with uow() as s:
        again = await invites.on_order_paid(s, order_id=order_id)

    assert again is False
    assert len(await wallet_templates(inviter.id)) == 2


async def test_orders_of_customers_nobody_invited_issue_nothing() -> None:
    await invite_templates()
    red, _black = await flash_shop()
    shopper = await make_customer()

    await paid_order(shopper.id, red)
    await deliver()

    assert await wallet_templates(shopper.id) == []
    assert await invitation_rows() == []


async def test_a_code_entered_after_a_paid_order_or_too_late_is_refused() -> None:
    red, _black = await flash_shop()
    inviter, ordered, unpaid, late = [await make_customer() for _ in range(4)]
    code = await code_of(inviter.id)
    await paid_order(ordered.id, red)
    await place(unpaid.id, (red, 1))
    clock.advance(dt.timedelta(minutes=59))

    with pytest.raises(social.InvitationTooLate):
        await invite(ordered.id, code)
    accepted = await invite(unpaid.id, code)  # an unpaid order is no first order yet
    clock.advance(dt.timedelta(minutes=2))
    with pytest.raises(social.InvitationTooLate) as too_late:
        await invite(late.id, code)

    assert too_late.value.params == {"minutes": 60}
    assert await invitation_rows() == [(accepted.invitee_id, inviter.id, code, False)]


async def test_the_summary_counts_from_the_rows() -> None:
    inviter_templ, _invitee_templ = await invite_templates()
    red, _black = await flash_shop()
    inviter, first, second = await make_customer(), await make_customer(), await make_customer()
    code = await code_of(inviter.id)
    await invite(first.id, code)
    await invite(second.id, code)
    await paid_order(second.id, red)
    await deliver()

    async with uow(write=False) as s:
        summary = await social.invite_summary(s, customer_id=inviter.id)
        nobody = await social.invite_summary(s, customer_id=first.id)

    assert summary == social.InviteSummary(
        code=code,
        link=f"http://127.0.0.1:8000/account/register?ref={code}",
        registered=2,
        ordered=1,
        coupons_earned=3,
    )
    assert await wallet_templates(inviter.id) == [inviter_templ] * 3
    assert nobody == social.InviteSummary(code=None, link=None, registered=0, ordered=0, coupons_earned=0)
