"""Invites (邀请有礼): every customer's personal invite code, the share links that carry it, the
invitation recorded when a friend registers through it, and the rewards of both sides.

Rewards are coupons: operators create coupon templates issued on ``invite_inviter`` (the one
who invited) and ``invite_invitee`` (the friend); ``promotions.issue_for_trigger`` issues every
active one once per (template, customer, key). Two moments issue them, each once per invitee:

- the friend registers (key ``invite:<invitee>:registered``), in the registration's transaction;
- the friend's first paid order (key ``invite:<invitee>:first_order``), from ``orders.order_paid``
  through one conditional UPDATE of ``first_paid_at`` (so a repeated event issues nothing more).

What counts as a self-invite, checked before anything is written:

- the same customer (their own code);
- the same mobile number as the inviter's (identity keeps one account per number, so today this
  only guards against that rule changing);
- the same device as one the inviter shared from: the storefront and the API pass an opaque
  device id (a first-party cookie or the app's ``X-Device-Id``), and each share by a signed-in
  customer remembers a hash of it for ``DEVICE_TTL`` in the cache (Redis in production; in
  embedded mode per process, so a restart forgets it). A cache outage skips this check. Someone
  who clears their cookies or uses a second phone is not caught: it is a speed bump, not proof.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from urllib.parse import quote

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders, promotions
from mercato.core import clock
from mercato.core.cache import get_cache
from mercato.core.db import insert_ignore
from mercato.core.settings import get_settings
from mercato.social.errors import AlreadyInvited, InvitationTooLate, InviteCodeInvalid, SelfInvite
from mercato.social.models import Invitation, InviteCode
from mercato.social.schemas_invites import InvitationRead, InviteSummary, ShareKind

log = structlog.get_logger(__name__)

#: Invite codes: 8 characters without look-alikes (no 0/O, 1/I/L): 31**8, about 8.5e11 codes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_PATTERN = re.compile(r"[2-9A-HJKMNP-Z]{8}")
#: Attempts at a code nobody holds before giving up (a clash is about one in a billion).
CODE_ATTEMPTS = 5
#: How long after registering a code may still be entered (the API's ``/me/invitation``).
RECORD_WINDOW = dt.timedelta(hours=1)
#: How long a device a customer shared from counts as theirs, and how many are remembered.
DEVICE_TTL = dt.timedelta(days=30)
MAX_DEVICES = 5
#: Where each kind of share link leads (the target: a product's slug, else an id).
SHARE_PATHS = {
    ShareKind.product: "/p/{target}",
    ShareKind.flash: "/flash-sale/items/{target}",
    ShareKind.group: "/groups/{target}",
    ShareKind.bargain: "/bargains/{target}",
    ShareKind.invite: "/account/register",
}


def new_invite_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str | None:
    """The code as stored (upper case, without spaces and dashes), or None if it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", code).upper()
    return cleaned if CODE_PATTERN.fullmatch(cleaned) else None


def _with_ref(path: str, code: str | None) -> str:
    return f"{path}?ref={code}" if code else path


def share_path(kind: ShareKind, *, target: int | str, code: str | None) -> str:
    """The share link within the shop: ``/p/<slug>``, ``/flash-sale/items/<id>``, ``/groups/<id>``,
    ``/bargains/<id>`` or, for an invitation, ``/account/register``, with ``?ref=<code>`` when the
    sharer has one."""
    return _with_ref(SHARE_PATHS[kind].format(target=quote(str(target), safe="")), code)


def share_link(kind: ShareKind, *, target: int | str, code: str | None) -> str:
    """``share_path`` as an absolute URL (what a QR code and a copied link hold)."""
    return f"{get_settings().public_base_url}{share_path(kind, target=target, code=code)}"


def invite_link(code: str) -> str:
    """The link of an invitation: the registration page with the code."""
    return share_link(ShareKind.invite, target="", code=code)


async def find_invite_code(session: AsyncSession, *, customer_id: int) -> str | None:
    """The customer's invite code, or None when they have none yet (read-only)."""
    found: str | None = await session.scalar(
        select(InviteCode.code).where(InviteCode.customer_id == customer_id)
    )
    return found


async def invite_code_of(session: AsyncSession, *, customer_id: int) -> str:
    """The customer's invite code, made on first use: unique and stable from then on.

    One ``INSERT ... ON CONFLICT DO NOTHING`` per attempt: a concurrent twin's code (same
    customer) or another customer's (same code, about one in a billion) makes the insert a no-op,
    and the code is read back or drawn again.
    """
    if (found := await find_invite_code(session, customer_id=customer_id)) is not None:
        return found
    for _ in range(CODE_ATTEMPTS):
        code = new_invite_code()
        values = {"customer_id": customer_id, "code": code, "created_at": clock.now()}
        if await insert_ignore(session, InviteCode.__table__, values):
            return code
        if (found := await find_invite_code(session, customer_id=customer_id)) is not None:
            return found
    raise RuntimeError(f"no free invite code found in {CODE_ATTEMPTS} attempts")


def _device_hash(device: str) -> str:
    return hashlib.sha256(f"mercato-device:{device}".encode()).hexdigest()[:32]


def _devices_key(customer_id: int) -> str:
    return f"social:invite:devices:{customer_id}"


async def _devices_of(customer_id: int) -> list[str]:
    try:
        cached = await get_cache().get(_devices_key(customer_id))
    except Exception as exc:  # the device check is a speed bump; an outage skips it
        log.warning("social.invite_devices_unavailable", error=repr(exc))
        return []
    return [str(d) for d in cached] if isinstance(cached, list) else []


async def remember_sharer_device(*, customer_id: int, device: str | None) -> None:
    """Remember (a hash of) the device a signed-in customer shares from, for the self-invite
    check: at most ``MAX_DEVICES``, the latest first, for ``DEVICE_TTL``."""
    if not device:
        return
    hashed = _device_hash(device)
    known = await _devices_of(customer_id)
    if known[:1] == [hashed]:
        return
    devices = [hashed, *(d for d in known if d != hashed)][:MAX_DEVICES]
    try:
        await get_cache().set(_devices_key(customer_id), devices, int(DEVICE_TTL.total_seconds()))
    except Exception as exc:
        log.warning("social.invite_devices_unavailable", error=repr(exc))


def _read(row: Invitation) -> InvitationRead:
    return InvitationRead.model_validate(row)


async def _inviter_of(session: AsyncSession, code: str) -> identity.CustomerRead:
    """The active customer holding ``code``. Raises InviteCodeInvalid."""
    normalized = normalize_code(code)
    if normalized is None:
        raise InviteCodeInvalid()
    inviter_id = await session.scalar(select(InviteCode.customer_id).where(InviteCode.code == normalized))
    if inviter_id is None:
        raise InviteCodeInvalid()
    try:
        return await identity.get_customer(session, customer_id=inviter_id)
    except identity.SessionInvalid as exc:  # the inviter's account was deleted
        raise InviteCodeInvalid() from exc


async def _issue_rewards(session: AsyncSession, *, inviter_id: int, invitee_id: int, moment: str) -> None:
    key = f"invite:{invitee_id}:{moment}"
    await promotions.issue_for_trigger(
        session, trigger=promotions.IssueTrigger.invite_inviter, customer_id=inviter_id, key=key
    )
    await promotions.issue_for_trigger(
        session, trigger=promotions.IssueTrigger.invite_invitee, customer_id=invitee_id, key=key
    )


async def record_invitation(
    session: AsyncSession, *, invitee_id: int, code: str, device: str | None = None
) -> InvitationRead:
    """Record that ``code``'s holder invited ``invitee_id`` (at registration, or within
    ``RECORD_WINDOW`` of it before a first paid order), and issue both sides' registration
    rewards. Recording the same code again is a no-op returning the invitation; every refusal
    is raised before anything is written.

    Raises:
        InviteCodeInvalid (422): not a code, nobody's code, or its holder's account is gone.
        SelfInvite (422): the invitee's own code, mobile number, or a device the inviter shared from.
        InvitationTooLate (409): registered more than ``RECORD_WINDOW`` ago, or has paid an order.
        AlreadyInvited (409): another code is recorded for the invitee.
        identity.SessionInvalid (401): the invitee is not an active customer.
    """
    inviter = await _inviter_of(session, code)
    if inviter.id == invitee_id:
        raise SelfInvite()
    invitee = await identity.get_customer(session, customer_id=invitee_id)
    existing = await session.get(Invitation, invitee_id)
    if existing is not None:
        if existing.inviter_id == inviter.id:
            return _read(existing)
        raise AlreadyInvited()
    if invitee.phone is not None and invitee.phone == inviter.phone:
        raise SelfInvite()
    if device and _device_hash(device) in await _devices_of(inviter.id):
        raise SelfInvite()
    now = clock.now()
    minutes = int(RECORD_WINDOW.total_seconds() // 60)
    if now - invitee.created_at > RECORD_WINDOW:
        raise InvitationTooLate(minutes=minutes)
    if (await orders.customer_order_stats(session, customer_id=invitee_id)).last_purchase_at is not None:
        raise InvitationTooLate(minutes=minutes)
    values = {
        "invitee_id": invitee_id,
        "inviter_id": inviter.id,
        "code": normalize_code(code),
        "registered_at": invitee.created_at,
        "first_paid_at": None,
        "created_at": now,
    }
    if not await insert_ignore(session, Invitation.__table__, values):  # a concurrent twin won
        twin = await session.get(Invitation, invitee_id, populate_existing=True)
        if twin is not None and twin.inviter_id == inviter.id:
            return _read(twin)
        raise AlreadyInvited()
    await _issue_rewards(session, inviter_id=inviter.id, invitee_id=invitee_id, moment="registered")
    row = await session.get(Invitation, invitee_id, populate_existing=True)
    assert row is not None
    return _read(row)


async def find_invitation(session: AsyncSession, *, invitee_id: int) -> InvitationRead | None:
    """Who invited the customer, if anyone."""
    row = await session.get(Invitation, invitee_id)
    return _read(row) if row is not None else None


async def on_order_paid(session: AsyncSession, *, order_id: int) -> bool:
    """An order was paid: if it is an invited customer's first, issue both sides' first-order
    rewards, once (one conditional UPDATE of ``first_paid_at``); True when they were issued."""
    order = await orders.read_order(session, order_id=order_id)
    inviter_id = (
        await session.execute(
            update(Invitation)
            .where(Invitation.invitee_id == order.customer_id, Invitation.first_paid_at.is_(None))
            .values(first_paid_at=clock.now())
            .returning(Invitation.inviter_id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if inviter_id is None:
        return False
    await _issue_rewards(session, inviter_id=inviter_id, invitee_id=order.customer_id, moment="first_order")
    return True


async def _coupons_for_inviting(session: AsyncSession, customer_id: int) -> int:
    """The customer's coupons (any status) of templates issued to inviters."""
    wallet = await promotions.list_wallet(session, customer_id=customer_id)
    inviting: dict[int, bool] = {}
    for template_id in {c.template_id for c in wallet if c.source is promotions.CouponSource.event}:
        template = await promotions.get_coupon_template(session, template_id=template_id)
        inviting[template_id] = template.issue_on is promotions.IssueTrigger.invite_inviter
    return sum(1 for c in wallet if inviting.get(c.template_id, False))


async def invite_summary(session: AsyncSession, *, customer_id: int) -> InviteSummary:
    """The shopper's invite page (read-only: ``code`` is None until ``invite_code_of`` made it)."""
    code = await find_invite_code(session, customer_id=customer_id)
    registered, ordered = (
        await session.execute(
            select(func.count(), func.count(Invitation.first_paid_at)).where(
                Invitation.inviter_id == customer_id
            )
        )
    ).one()
    return InviteSummary(
        code=code,
        link=invite_link(code) if code else None,
        registered=int(registered),
        ordered=int(ordered),
        coupons_earned=await _coupons_for_inviting(session, customer_id),
    )
