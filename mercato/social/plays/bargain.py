"""Bargaining (砍价): shoppers' bargains and their friends' helps.

A shopper starts a bargain on an open offer (``start_bargain``). Its number of helps and its cut
schedule are fixed then from a seed made of the shop's secret, the offer, the customer and a random
nonce (``plays/cuts.py``: positive cuts summing exactly to price − floor), so nobody can predict
them, and the floor is reached exactly at the last help. The per-customer limit is the unique
``(offer, customer, sequence)``: the customer's n-th bargain inserts sequence n, and a clash (two
starts at once) refuses, so no customer ever holds more than ``per_customer``.

A friend helps (``help_bargain``): a signed-in account, once per bargain, never the initiator, not
from the initiator's device nor an earlier helper's, and registered after the bargain started when
the offer asks for new helpers. The help takes the next cut with one conditional UPDATE of the
bargain (``helps_done + 1`` while active, short of its helps and not expired); the count it returns
is the help's position, and the help row is unique per (bargain, position) and (bargain, helper).
The device checks are a farming limit, not an invariant: the device is an HMAC of the storefront's
first-party device cookie (or the app's ``X-Device-Id``), never the id itself; the initiator's is
kept with the bargain's recorded start.

Every bargain's status move is recorded (``social_status_change``, subject ``bargain``). Offers are
in ``bargain_offers.py``; buying, the order's fate and expiry in ``bargain_buy.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.security import mask_text
from mercato.core.settings import get_settings
from mercato.social.errors import (
    BargainAlreadyHelped,
    BargainExpired,
    BargainFloorReached,
    BargainLimitReached,
    BargainNewHelpersOnly,
    BargainNotFound,
    BargainNotOpen,
    BargainOfferClosed,
    BargainOfferNotFound,
    BargainOwnHelp,
    BargainSameDevice,
    BargainSoldOut,
)
from mercato.social.models import Bargain, BargainHelp, BargainOffer
from mercato.social.plays.bargain_offers import offer_row, record_move
from mercato.social.plays.cuts import cut_schedule, helps_for
from mercato.social.schemas_bargains import (
    BargainHelpRead,
    BargainOfferRead,
    BargainOfferStatus,
    BargainRead,
    BargainStatus,
)
from mercato.social.states import BARGAIN

MAX_MY_BARGAINS = 50
#: The from-status of a bargain's recorded start (it had none before).
STARTED = ""


def deal_code(bargain_id: int) -> str:
    """The code a bargain's order discount and ``OrderRead.deal`` carry."""
    return f"bargain:{bargain_id}"


def device_hash(device: str) -> str:
    """The stored form of a device id (an HMAC under the shop's secret: the id itself is never
    kept); blank for no device."""
    if not device:
        return ""
    key = get_settings().effective_secret_key().encode()
    return hmac.new(key, f"bargain-device:{device}".encode(), hashlib.sha256).hexdigest()


def customer_label(customer_id: int) -> str:
    return f"customer:{customer_id}"


async def move_bargain(
    session: AsyncSession,
    row: Bargain,
    *,
    target: BargainStatus,
    actor_label: str,
    reason: str = "",
    values: dict[str, Any] | None = None,
) -> bool:
    """Move a bargain along ``BARGAIN`` with one conditional UPDATE from the status it was read
    in (and record it); False when it moved meanwhile (nothing changed)."""
    current = BargainStatus(row.status)
    BARGAIN.check(current, target)
    moved = (
        await session.execute(
            update(Bargain)
            .where(Bargain.id == row.id, Bargain.status == str(current))
            .values(status=str(target), updated_at=clock.now(), **(values or {}))
            .returning(Bargain.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        return False
    record_move(
        session,
        subject="bargain",
        subject_id=row.id,
        from_status=str(current),
        to_status=str(target),
        actor_id=None,
        actor_label=actor_label,
        reason=reason,
    )
    return True


# -- bargains ---------------------------------------------------------------------------------------


def _seed(offer_id: int, customer_id: int) -> str:
    """A bargain's seed: unpredictable without the shop's secret, different for every start."""
    key = get_settings().effective_secret_key().encode()
    nonce = secrets.token_hex(16)
    return hmac.new(key, f"bargain:{offer_id}:{customer_id}:{nonce}".encode(), hashlib.sha256).hexdigest()


async def start_bargain(
    session: AsyncSession, *, offer_id: int, customer_id: int, device: str = ""
) -> BargainRead:
    """Start a bargain on an open offer: its helps and cut schedule are fixed now.

    Raises: BargainOfferNotFound (404: no such offer, or a draft), BargainOfferClosed (409: not
    on now), BargainSoldOut (409), BargainLimitReached (409: the customer started as many as one
    may, or another start of theirs is under way).
    """
    offer = await session.get(BargainOffer, offer_id)
    if offer is None or offer.status == str(BargainOfferStatus.draft):
        raise BargainOfferNotFound()
    now = clock.now()
    if not BargainOfferRead.model_validate(offer).is_open(now):
        raise BargainOfferClosed()
    if offer.sold >= offer.stock:
        raise BargainSoldOut()
    started = (
        await session.execute(
            select(func.count()).where(Bargain.offer_id == offer_id, Bargain.customer_id == customer_id)
        )
    ).scalar_one()
    sequence = int(started) + 1
    if sequence > offer.per_customer:
        raise BargainLimitReached(limit=offer.per_customer)
    seed = _seed(offer_id, customer_id)
    helps = helps_for(seed=seed, low=offer.helps_min, high=offer.helps_max)
    schedule = cut_schedule(total_amount=offer.price_amount - offer.floor_amount, helps=helps, seed=seed)
    inserted = await insert_ignore(
        session,
        Bargain.__table__,
        {
            "offer_id": offer_id,
            "customer_id": customer_id,
            "sequence": sequence,
            "schedule": schedule,
            "helps_needed": helps,
            "helps_done": 0,
            "price_amount": offer.price_amount,
            "floor_amount": offer.floor_amount,
            "current_amount": offer.price_amount,
            "status": str(BargainStatus.active),
            "order_id": None,
            "expires_at": min(now + dt.timedelta(hours=offer.hours), offer.ends_at),
            "device": device_hash(device),
            "created_at": now,
            "updated_at": now,
        },
    )
    if not inserted:  # another start of this customer took the same sequence first
        raise BargainLimitReached(limit=offer.per_customer)
    row = (
        await session.execute(
            select(Bargain).where(
                Bargain.offer_id == offer_id, Bargain.customer_id == customer_id, Bargain.sequence == sequence
            )
        )
    ).scalar_one()
    record_move(
        session,
        subject="bargain",
        subject_id=row.id,
        from_status=STARTED,
        to_status=str(BargainStatus.active),
        actor_id=None,
        actor_label=customer_label(customer_id),
        reason="",
    )
    await session.flush()
    return await _read(session, row, viewer_id=customer_id)


async def _names(session: AsyncSession, customer_ids: set[int]) -> dict[int, str]:
    """Each customer's masked name, in one query (``identity.masked_names``)."""
    return await identity.masked_names(session, customer_ids=list(customer_ids))


async def _read(session: AsyncSession, row: Bargain, *, viewer_id: int | None) -> BargainRead:
    offer = await offer_row(session, row.offer_id)
    sku = (await catalog.get_sellable_skus(session, sku_ids=[offer.sku_id])).get(offer.sku_id)
    helps = list(
        (
            await session.execute(
                select(BargainHelp).where(BargainHelp.bargain_id == row.id).order_by(BargainHelp.position)
            )
        ).scalars()
    )
    names = await _names(session, {row.customer_id, *(h.helper_id for h in helps)})
    mine = viewer_id is not None and viewer_id == row.customer_id
    my_cut = next((h.amount for h in helps if viewer_id is not None and h.helper_id == viewer_id), None)
    return BargainRead(
        id=row.id,
        offer_id=offer.id,
        offer_name=offer.name,
        sku_id=offer.sku_id,
        product_id=offer.product_id,
        title=sku.title if sku else offer.name,
        spec=sku.spec if sku else {},
        image_url=sku.image_url if sku else None,
        initiator_name=names[row.customer_id],
        price_amount=row.price_amount,
        floor_amount=row.floor_amount,
        current_amount=row.current_amount,
        helps_needed=row.helps_needed,
        helps_done=row.helps_done,
        status=BargainStatus(row.status),
        expires_at=row.expires_at,
        created_at=row.created_at,
        server_now=clock.now(),
        helps=[
            BargainHelpRead(
                position=h.position, amount=h.amount, helper_name=names[h.helper_id], created_at=h.created_at
            )
            for h in helps
        ],
        is_mine=mine,
        helped=my_cut is not None,
        my_cut_amount=my_cut,
        order_id=row.order_id if mine else None,
    )


async def bargain_row(session: AsyncSession, bargain_id: int) -> Bargain:
    """The bargain as it is now in the database (never a stale copy)."""
    row = (
        await session.execute(
            select(Bargain).where(Bargain.id == bargain_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise BargainNotFound()
    return row


async def get_bargain(session: AsyncSession, *, bargain_id: int, viewer_id: int | None = None) -> BargainRead:
    """A bargain as anyone with its link sees it: the price now, the helps and every cut with its
    helper's masked name; ``viewer_id`` says whether it is theirs and whether they helped.

    Raises: BargainNotFound (404).
    """
    return await _read(session, await bargain_row(session, bargain_id), viewer_id=viewer_id)


async def list_my_bargains(session: AsyncSession, *, customer_id: int) -> list[BargainRead]:
    """The customer's bargains, the newest first (at most ``MAX_MY_BARGAINS``)."""
    rows = (
        await session.execute(
            select(Bargain)
            .where(Bargain.customer_id == customer_id)
            .order_by(Bargain.created_at.desc(), Bargain.id.desc())
            .limit(MAX_MY_BARGAINS)
        )
    ).scalars()
    return [await _read(session, row, viewer_id=customer_id) for row in list(rows)]


def refuse_closed(row: Bargain, now: dt.datetime) -> None:
    """Refuse acting on a bargain that no longer runs.

    Raises: BargainExpired, BargainNotOpen (ordered or bought).
    """
    status = BargainStatus(row.status)
    if status is BargainStatus.expired or (
        status in (BargainStatus.active, BargainStatus.floor_reached) and row.expires_at <= now
    ):
        raise BargainExpired()
    if status in (BargainStatus.ordered, BargainStatus.bought):
        raise BargainNotOpen()


def _refuse_help(row: Bargain, now: dt.datetime) -> None:
    refuse_closed(row, now)
    if row.status == str(BargainStatus.floor_reached) or row.helps_done >= row.helps_needed:
        raise BargainFloorReached()


async def _device_used(session: AsyncSession, bargain_id: int, hashed: str) -> bool:
    """Whether the initiator started the bargain, or someone helped it, from this device."""
    helped = select(BargainHelp.id).where(BargainHelp.bargain_id == bargain_id, BargainHelp.device == hashed)
    started = select(Bargain.id).where(Bargain.id == bargain_id, Bargain.device == hashed)
    return bool((await session.execute(select(or_(helped.exists(), started.exists())))).scalar_one())


async def help_bargain(
    session: AsyncSession, *, bargain_id: int, helper_id: int, device: str = ""
) -> BargainHelpRead:
    """Help cut a friend's bargain: take its next cut (see the module docstring).

    Raises:
        BargainNotFound (404), BargainOwnHelp (409), BargainExpired / BargainNotOpen (409),
        BargainFloorReached (409: every help is in), BargainAlreadyHelped (409),
        BargainNewHelpersOnly (409), BargainSameDevice (409), identity.CustomerNotFound (404).
    """
    row = await bargain_row(session, bargain_id)
    if row.customer_id == helper_id:
        raise BargainOwnHelp()
    now = clock.now()
    _refuse_help(row, now)
    helped = await session.execute(
        select(BargainHelp.id).where(BargainHelp.bargain_id == row.id, BargainHelp.helper_id == helper_id)
    )
    if helped.first() is not None:
        raise BargainAlreadyHelped()
    offer = await offer_row(session, row.offer_id)
    helper = await identity.get_customer_record(session, customer_id=helper_id)
    if offer.new_helpers_only and helper.created_at < row.created_at:
        raise BargainNewHelpersOnly()
    hashed = device_hash(device)
    if hashed and await _device_used(session, row.id, hashed):
        raise BargainSameDevice()
    position = (
        await session.execute(
            update(Bargain)
            .where(
                Bargain.id == row.id,
                Bargain.status == str(BargainStatus.active),
                Bargain.helps_done < Bargain.helps_needed,
                Bargain.expires_at > now,
            )
            .values(helps_done=Bargain.helps_done + 1, updated_at=now)
            .returning(Bargain.helps_done)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if position is None:  # the last help, an order or the clock came first
        _refuse_help(await bargain_row(session, bargain_id), now)
        raise BargainFloorReached()
    amount = row.schedule[position - 1]
    last = position == row.helps_needed
    values: dict[str, Any] = {"current_amount": Bargain.current_amount - amount}
    if last:
        BARGAIN.check(BargainStatus.active, BargainStatus.floor_reached)
        values["status"] = str(BargainStatus.floor_reached)
    current = (
        await session.execute(
            update(Bargain)
            .where(Bargain.id == row.id)
            .values(**values)
            .returning(Bargain.current_amount)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    if last:
        if current != row.floor_amount:  # the schedule sums to price − floor by construction
            raise RuntimeError(f"bargain {row.id} ended at {current}, not its floor {row.floor_amount}")
        record_move(
            session,
            subject="bargain",
            subject_id=row.id,
            from_status=str(BargainStatus.active),
            to_status=str(BargainStatus.floor_reached),
            actor_id=None,
            actor_label=customer_label(helper_id),
            reason=f"help {position}",
        )
    inserted = await insert_ignore(
        session,
        BargainHelp.__table__,
        {
            "bargain_id": row.id,
            "helper_id": helper_id,
            "position": position,
            "amount": amount,
            "device": hashed,
            "created_at": now,
        },
    )
    if not inserted:  # the same account helped at the same moment: this one rolls back
        raise BargainAlreadyHelped()
    await session.flush()
    return BargainHelpRead(
        position=position, amount=amount, helper_name=mask_text(helper.name) or "***", created_at=now
    )


async def refuse_sold_out(session: AsyncSession, offer_id: int) -> None:
    """Raise BargainSoldOut unless the offer has a unit left (a cheap first answer)."""
    offer = await offer_row(session, offer_id)
    if offer.sold >= offer.stock:
        raise BargainSoldOut()
