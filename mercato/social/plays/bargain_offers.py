"""Bargaining (砍价) offers kept by staff, and the offers open to shoppers.

Staff set an offer up as a draft (a SKU; the starting price, the SKU's own unless lower; the floor
(底价); the helps needed as a range; each bargain's time limit; the units the offer may sell; the
bargains one customer may start), publish it and end it. Every write is audited and every status
move recorded (``social_status_change``, subject ``bargain_offer``). Ending an offer stops new
bargains; running ones keep their own time limit, which never passes the offer's end. The
bargains themselves are in ``bargain.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import clock
from mercato.core.errors import IllegalTransition
from mercato.social.errors import (
    BargainCutsTooSmall,
    BargainFloorNotBelow,
    BargainOfferNotEditable,
    BargainOfferNotFound,
    BargainPriceAboveList,
    EndsBeforeStart,
)
from mercato.social.models import Bargain, BargainHelp, BargainOffer, StatusChange
from mercato.social.plays.cuts import MAX_TOTAL_AMOUNT
from mercato.social.schemas_bargains import (
    BargainOfferFigures,
    BargainOfferRead,
    BargainOfferStatus,
    BargainOfferView,
    BargainOfferWrite,
    BargainStatus,
)
from mercato.social.states import BARGAIN_OFFER

MAX_OFFERS = 200


def record_move(
    session: AsyncSession,
    *,
    subject: str,
    subject_id: int,
    from_status: str,
    to_status: str,
    actor_id: int | None,
    actor_label: str,
    reason: str = "",
) -> None:
    session.add(
        StatusChange(
            subject=subject,
            subject_id=subject_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            actor_label=actor_label,
            reason=reason[:300],
            created_at=clock.now(),
        )
    )


async def _move_offer(
    session: AsyncSession,
    row: BargainOffer,
    *,
    target: BargainOfferStatus,
    actor_id: int | None,
    actor_label: str,
    reason: str = "",
) -> None:
    current = BargainOfferStatus(row.status)
    BARGAIN_OFFER.check(current, target)
    moved = (
        await session.execute(
            update(BargainOffer)
            .where(BargainOffer.id == row.id, BargainOffer.status.in_(BARGAIN_OFFER.sources(target)))
            .values(status=str(target), updated_at=clock.now())
            .returning(BargainOffer.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:  # moved meanwhile by another request
        raise IllegalTransition(code="social.illegal_transition", current=str(current), target=str(target))
    record_move(
        session,
        subject="bargain_offer",
        subject_id=row.id,
        from_status=str(current),
        to_status=str(target),
        actor_id=actor_id,
        actor_label=actor_label,
        reason=reason,
    )
    await session.flush()
    await session.refresh(row)


# -- offers (staff) -------------------------------------------------------------------------------


async def offer_row(session: AsyncSession, offer_id: int) -> BargainOffer:
    row = await session.get(BargainOffer, offer_id)
    if row is None:
        raise BargainOfferNotFound()
    return row


def _audit_view(read: BargainOfferRead) -> dict[str, Any]:
    return read.model_dump(mode="json", exclude={"created_at", "updated_at"})


async def _checked(session: AsyncSession, data: BargainOfferWrite) -> tuple[int, int]:
    """The SKU's product and the starting price of a valid offer.

    Raises: EndsBeforeStart, catalog.SkuNotFound, BargainPriceAboveList, BargainFloorNotBelow,
    BargainCutsTooSmall.
    """
    if data.ends_at <= data.starts_at:
        raise EndsBeforeStart()
    sku = (await catalog.get_sellable_skus(session, sku_ids=[data.sku_id])).get(data.sku_id)
    if sku is None or not sku.is_sellable:
        raise catalog.SkuNotFound()
    price = sku.price_amount if data.price_amount is None else data.price_amount
    if price > sku.price_amount:
        raise BargainPriceAboveList()
    if data.floor_amount >= price:
        raise BargainFloorNotBelow()
    if price - data.floor_amount < data.helps_max or price - data.floor_amount > MAX_TOTAL_AMOUNT:
        raise BargainCutsTooSmall(helps=data.helps_max)
    return sku.product_id, price


def _offer_values(data: BargainOfferWrite, product_id: int, price: int) -> dict[str, Any]:
    return {
        "name": data.name,
        "sku_id": data.sku_id,
        "product_id": product_id,
        "price_amount": price,
        "floor_amount": data.floor_amount,
        "helps_min": data.helps_min,
        "helps_max": data.helps_max,
        "hours": data.hours,
        "stock": data.stock,
        "per_customer": data.per_customer,
        "new_helpers_only": data.new_helpers_only,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
    }


async def create_bargain_offer(
    session: AsyncSession, *, data: BargainOfferWrite, actor: identity.Actor
) -> BargainOfferRead:
    """A draft offer.

    Raises: EndsBeforeStart (422), catalog.SkuNotFound (404: no such SKU, or not on sale),
    BargainPriceAboveList (422), BargainFloorNotBelow (422), BargainCutsTooSmall (422: less than
    1 fen a help).
    """
    product_id, price = await _checked(session, data)
    now = clock.now()
    row = BargainOffer(
        **_offer_values(data, product_id, price),
        sold=0,
        status=str(BargainOfferStatus.draft),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    read = BargainOfferRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="bargain_offer.create",
        object_type="bargain_offer",
        object_id=str(row.id),
        after=_audit_view(read),
    )
    return read


async def update_bargain_offer(
    session: AsyncSession, *, offer_id: int, data: BargainOfferWrite, actor: identity.Actor
) -> BargainOfferRead:
    """Change a draft offer.

    Raises: BargainOfferNotFound (404), BargainOfferNotEditable (409), and what
    ``create_bargain_offer`` raises.
    """
    row = await offer_row(session, offer_id)
    if row.status != str(BargainOfferStatus.draft):
        raise BargainOfferNotEditable()
    product_id, price = await _checked(session, data)
    before = _audit_view(BargainOfferRead.model_validate(row))
    for name, value in _offer_values(data, product_id, price).items():
        setattr(row, name, value)
    row.updated_at = clock.now()
    await session.flush()
    read = BargainOfferRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="bargain_offer.update",
        object_type="bargain_offer",
        object_id=str(row.id),
        before=before,
        after=_audit_view(read),
    )
    return read


async def publish_bargain_offer(
    session: AsyncSession, *, offer_id: int, actor: identity.Actor
) -> BargainOfferRead:
    """Draft → active: shoppers may start bargains within its window.

    Raises: BargainOfferNotFound (404), BargainOfferNotEditable (409: not a draft),
    EndsBeforeStart (422: its end has passed), catalog.SkuNotFound (404: the SKU is off sale).
    """
    row = await offer_row(session, offer_id)
    if row.status != str(BargainOfferStatus.draft):
        raise BargainOfferNotEditable()
    if row.ends_at <= clock.now():
        raise EndsBeforeStart()
    sku = (await catalog.get_sellable_skus(session, sku_ids=[row.sku_id])).get(row.sku_id)
    if sku is None or not sku.is_sellable:
        raise catalog.SkuNotFound()
    before = _audit_view(BargainOfferRead.model_validate(row))
    await _move_offer(
        session, row, target=BargainOfferStatus.active, actor_id=actor.staff_id, actor_label=actor.label
    )
    read = BargainOfferRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="bargain_offer.publish",
        object_type="bargain_offer",
        object_id=str(row.id),
        before=before,
        after=_audit_view(read),
    )
    return read


async def end_bargain_offer(
    session: AsyncSession, *, offer_id: int, actor: identity.Actor, reason: str = ""
) -> BargainOfferRead:
    """Draft or active → ended: no new bargains; running ones keep their time limit.

    Raises: BargainOfferNotFound (404), IllegalTransition (409: ended already).
    """
    row = await offer_row(session, offer_id)
    before = _audit_view(BargainOfferRead.model_validate(row))
    await _move_offer(
        session,
        row,
        target=BargainOfferStatus.ended,
        actor_id=actor.staff_id,
        actor_label=actor.label,
        reason=reason,
    )
    read = BargainOfferRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="bargain_offer.end",
        object_type="bargain_offer",
        object_id=str(row.id),
        before=before,
        after=_audit_view(read),
    )
    return read


async def end_due_bargain_offers(session: AsyncSession, *, limit: int = 50) -> int:
    """Active offers whose end has passed → ended (the ``social-bargain`` job); returns how many."""
    due = (
        await session.execute(
            select(BargainOffer)
            .where(BargainOffer.status == str(BargainOfferStatus.active), BargainOffer.ends_at <= clock.now())
            .order_by(BargainOffer.ends_at)
            .limit(limit)
        )
    ).scalars()
    ended = 0
    for row in list(due):
        await _move_offer(session, row, target=BargainOfferStatus.ended, actor_id=None, actor_label="system")
        ended += 1
    return ended


async def get_bargain_offer(session: AsyncSession, *, offer_id: int) -> BargainOfferRead:
    """Raises BargainOfferNotFound (404)."""
    return BargainOfferRead.model_validate(await offer_row(session, offer_id))


async def list_all_bargain_offers(
    session: AsyncSession, *, status: BargainOfferStatus | None = None
) -> list[BargainOfferRead]:
    """Offers for the console, the latest start first (at most ``MAX_OFFERS``)."""
    stmt = (
        select(BargainOffer).order_by(BargainOffer.starts_at.desc(), BargainOffer.id.desc()).limit(MAX_OFFERS)
    )
    if status is not None:
        stmt = stmt.where(BargainOffer.status == str(status))
    return [BargainOfferRead.model_validate(row) for row in (await session.execute(stmt)).scalars()]


async def bargain_offer_figures(session: AsyncSession, *, offer_id: int) -> BargainOfferFigures:
    """The offer's live counts (see ``BargainOfferFigures``).

    Raises: BargainOfferNotFound (404).
    """
    row = await offer_row(session, offer_id)
    by_status: dict[str, int] = {
        status: int(count)
        for status, count in await session.execute(
            select(Bargain.status, func.count()).where(Bargain.offer_id == offer_id).group_by(Bargain.status)
        )
    }
    reached = (
        await session.execute(
            select(func.count()).where(
                Bargain.offer_id == offer_id, Bargain.helps_done == Bargain.helps_needed
            )
        )
    ).scalar_one()
    helps = (
        await session.execute(
            select(func.count())
            .select_from(BargainHelp)
            .join(Bargain, Bargain.id == BargainHelp.bargain_id)
            .where(Bargain.offer_id == offer_id)
        )
    ).scalar_one()
    return BargainOfferFigures(
        offer_id=offer_id,
        started=sum(by_status.values()),
        active=by_status.get(str(BargainStatus.active), 0),
        floor_reached=int(reached),
        ordered=by_status.get(str(BargainStatus.ordered), 0),
        bought=by_status.get(str(BargainStatus.bought), 0),
        expired=by_status.get(str(BargainStatus.expired), 0),
        helps=int(helps),
        stock=row.stock,
        sold=row.sold,
    )


# -- shoppers -------------------------------------------------------------------------------------


async def list_bargain_offers(
    session: AsyncSession, *, now: dt.datetime | None = None
) -> list[BargainOfferView]:
    """The offers shoppers may start a bargain on now, the soonest end first (SKUs off sale are
    left out)."""
    at = now or clock.now()
    rows = list(
        (
            await session.execute(
                select(BargainOffer)
                .where(
                    BargainOffer.status == str(BargainOfferStatus.active),
                    BargainOffer.starts_at <= at,
                    BargainOffer.ends_at > at,
                )
                .order_by(BargainOffer.ends_at, BargainOffer.id)
                .limit(MAX_OFFERS)
            )
        ).scalars()
    )
    skus = await catalog.get_sellable_skus(session, sku_ids=[row.sku_id for row in rows])
    views = []
    for row in rows:
        sku = skus.get(row.sku_id)
        if sku is None or not sku.is_sellable:
            continue
        views.append(
            BargainOfferView(
                id=row.id,
                name=row.name,
                sku_id=row.sku_id,
                product_id=row.product_id,
                title=sku.title,
                spec=sku.spec,
                image_url=sku.image_url,
                price_amount=row.price_amount,
                floor_amount=row.floor_amount,
                helps_min=row.helps_min,
                helps_max=row.helps_max,
                hours=row.hours,
                left=max(0, row.stock - row.sold),
                ends_at=row.ends_at,
            )
        )
    return views
