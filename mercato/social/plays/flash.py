"""Flash-sale sessions (秒杀场次) kept by staff, and what shoppers see of them.

A session is a draft while its items are set up; publishing carves each item's quota out of
stock (``inventory.carve_quota``: normal sales can no longer take those units) and shows the
session (即将开始 until its start, 抢购中 until its end); at its end (the ``social-flash`` job) or
when cancelled, what was not sold goes back to stock. Every status move is recorded
(``social_status_change``) and every staff write audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity, inventory
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.errors import IllegalTransition
from mercato.social.errors import (
    EndsBeforeStart,
    FlashEnded,
    FlashItemNotFound,
    FlashPriceNotBelow,
    FlashQuotaUnavailable,
    FlashSessionEmpty,
    FlashSessionNotEditable,
    FlashSessionNotFound,
    FlashSkuTaken,
)
from mercato.social.models import FlashItem, FlashPurchase, FlashReminder, FlashSession, StatusChange
from mercato.social.schemas import (
    FlashItemFigures,
    FlashItemRead,
    FlashItemWrite,
    FlashOffer,
    FlashPhase,
    FlashSessionRead,
    FlashSessionStatus,
    FlashSessionView,
    FlashSessionWrite,
    PurchaseStatus,
)
from mercato.social.states import FLASH_SESSION

#: How far ahead the flash-sale page shows upcoming sessions.
UPCOMING_WINDOW = dt.timedelta(days=2)
MAX_SESSIONS = 200


def quota_reference(item_id: int) -> str:
    """The inventory quota hold of a flash-sale item."""
    return f"flash:item:{item_id}"


def deal_code(item_id: int) -> str:
    """The code a flash-sale order's discount and ``OrderRead.deal`` carry."""
    return f"flash:{item_id}"


def _item(row: FlashItem) -> FlashItemRead:
    return FlashItemRead.model_validate(row)


async def _row(session: AsyncSession, flash_session_id: int) -> FlashSession:
    row = await session.get(FlashSession, flash_session_id)
    if row is None:
        raise FlashSessionNotFound()
    return row


async def _read(session: AsyncSession, row: FlashSession) -> FlashSessionRead:
    items = (
        await session.execute(
            select(FlashItem).where(FlashItem.session_id == row.id).order_by(FlashItem.position, FlashItem.id)
        )
    ).scalars()
    return FlashSessionRead(
        id=row.id,
        name=row.name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        note=row.note,
        human_check=row.human_check,
        status=FlashSessionStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        published_at=row.published_at,
        items=[_item(item) for item in items],
    )


def _audit_view(read: FlashSessionRead) -> dict[str, Any]:
    return read.model_dump(mode="json", exclude={"created_at", "updated_at"})


async def get_flash_session(session: AsyncSession, *, flash_session_id: int) -> FlashSessionRead:
    """Raises FlashSessionNotFound (404)."""
    return await _read(session, await _row(session, flash_session_id))


async def list_flash_sessions(
    session: AsyncSession, *, status: FlashSessionStatus | None = None
) -> list[FlashSessionRead]:
    """Sessions for the console, the latest start first (at most ``MAX_SESSIONS``)."""
    stmt = (
        select(FlashSession)
        .order_by(FlashSession.starts_at.desc(), FlashSession.id.desc())
        .limit(MAX_SESSIONS)
    )
    if status is not None:
        stmt = stmt.where(FlashSession.status == str(status))
    return [await _read(session, row) for row in (await session.execute(stmt)).scalars()]


def _check_window(data: FlashSessionWrite) -> None:
    if data.ends_at <= data.starts_at:
        raise EndsBeforeStart()


async def create_flash_session(
    session: AsyncSession, *, data: FlashSessionWrite, actor: identity.Actor
) -> FlashSessionRead:
    """A draft session. Raises EndsBeforeStart (422)."""
    _check_window(data)
    now = clock.now()
    row = FlashSession(
        name=data.name,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        note=data.note,
        human_check=data.human_check,
        status=str(FlashSessionStatus.draft),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    read = await _read(session, row)
    await identity.record_audit(
        session,
        actor=actor,
        action="flash_session.create",
        object_type="flash_session",
        object_id=str(row.id),
        after=_audit_view(read),
    )
    return read


async def _draft(session: AsyncSession, flash_session_id: int) -> FlashSession:
    row = await _row(session, flash_session_id)
    if row.status != str(FlashSessionStatus.draft):
        raise FlashSessionNotEditable()
    return row


async def update_flash_session(
    session: AsyncSession, *, flash_session_id: int, data: FlashSessionWrite, actor: identity.Actor
) -> FlashSessionRead:
    """Change a draft's name, times, note or human check.

    Raises: FlashSessionNotFound (404), FlashSessionNotEditable (409), EndsBeforeStart (422).
    """
    _check_window(data)
    row = await _draft(session, flash_session_id)
    before = _audit_view(await _read(session, row))
    row.name, row.starts_at, row.ends_at = data.name, data.starts_at, data.ends_at
    row.note, row.human_check, row.updated_at = data.note, data.human_check, clock.now()
    await session.flush()
    read = await _read(session, row)
    await identity.record_audit(
        session,
        actor=actor,
        action="flash_session.update",
        object_type="flash_session",
        object_id=str(row.id),
        before=before,
        after=_audit_view(read),
    )
    return read


async def add_flash_item(
    session: AsyncSession, *, flash_session_id: int, data: FlashItemWrite, actor: identity.Actor
) -> FlashItemRead:
    """Add a SKU to a draft session at a sale price below its own.

    Raises: FlashSessionNotFound (404), FlashSessionNotEditable (409), FlashSkuTaken (409),
    catalog.SkuNotFound (404: no such SKU, or not on sale), FlashPriceNotBelow (422).
    """
    row = await _draft(session, flash_session_id)
    sku = (await catalog.get_sellable_skus(session, sku_ids=[data.sku_id])).get(data.sku_id)
    if sku is None or not sku.is_sellable:
        raise catalog.SkuNotFound()
    if data.price_amount >= sku.price_amount:
        raise FlashPriceNotBelow()
    inserted = await insert_ignore(
        session,
        FlashItem.__table__,
        {
            "session_id": row.id,
            "sku_id": data.sku_id,
            "product_id": sku.product_id,
            "price_amount": data.price_amount,
            "quota": data.quota,
            "per_customer": data.per_customer,
            "position": data.position,
        },
    )
    if not inserted:
        raise FlashSkuTaken()
    item = (
        await session.execute(
            select(FlashItem).where(FlashItem.session_id == row.id, FlashItem.sku_id == data.sku_id)
        )
    ).scalar_one()
    row.updated_at = clock.now()
    read = _item(item)
    await identity.record_audit(
        session,
        actor=actor,
        action="flash_session.add_item",
        object_type="flash_session",
        object_id=str(row.id),
        after=read.model_dump(mode="json"),
    )
    return read


async def remove_flash_item(
    session: AsyncSession, *, flash_session_id: int, item_id: int, actor: identity.Actor
) -> None:
    """Take an item out of a draft session.

    Raises: FlashSessionNotFound (404), FlashSessionNotEditable (409), FlashItemNotFound (404).
    """
    row = await _draft(session, flash_session_id)
    item = await session.get(FlashItem, item_id)
    if item is None or item.session_id != row.id:
        raise FlashItemNotFound()
    before = _item(item).model_dump(mode="json")
    await session.execute(delete(FlashItem).where(FlashItem.id == item_id))
    row.updated_at = clock.now()
    await identity.record_audit(
        session,
        actor=actor,
        action="flash_session.remove_item",
        object_type="flash_session",
        object_id=str(row.id),
        before=before,
    )


async def _move(
    session: AsyncSession,
    row: FlashSession,
    *,
    target: FlashSessionStatus,
    actor_id: int | None,
    actor_label: str,
    reason: str = "",
) -> None:
    """Move the session along the transition table (one conditional UPDATE) and record it."""
    current = FlashSessionStatus(row.status)
    FLASH_SESSION.check(current, target)
    now = clock.now()
    moved = (
        await session.execute(
            update(FlashSession)
            .where(FlashSession.id == row.id, FlashSession.status.in_(FLASH_SESSION.sources(target)))
            .values(
                status=str(target),
                updated_at=now,
                **({"published_at": now} if target is FlashSessionStatus.published else {}),
            )
            .returning(FlashSession.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:  # moved meanwhile by another request
        raise IllegalTransition(code="social.illegal_transition", current=str(current), target=str(target))
    session.add(
        StatusChange(
            subject="flash_session",
            subject_id=row.id,
            from_status=str(current),
            to_status=str(target),
            actor_id=actor_id,
            actor_label=actor_label,
            reason=reason,
            created_at=now,
        )
    )
    await session.flush()
    await session.refresh(row)


async def publish_flash_session(
    session: AsyncSession, *, flash_session_id: int, actor: identity.Actor
) -> FlashSessionRead:
    """Draft → published: each item's quota is carved out of stock now, all or none.

    Raises: FlashSessionNotFound (404), FlashSessionNotEditable (409: not a draft),
    FlashSessionEmpty (422), EndsBeforeStart (422: its end has passed),
    FlashQuotaUnavailable (409: not enough stock for an item's quota; nothing is held).
    """
    row = await _draft(session, flash_session_id)
    draft = await _read(session, row)
    if not draft.items:
        raise FlashSessionEmpty()
    if row.ends_at <= clock.now():
        raise EndsBeforeStart()
    skus = await catalog.get_sellable_skus(session, sku_ids=[item.sku_id for item in draft.items])
    for item in sorted(draft.items, key=lambda i: i.sku_id):  # lock stock rows in one order
        try:
            await inventory.carve_quota(
                session,
                reference=quota_reference(item.id),
                sku_id=item.sku_id,
                quantity=item.quota,
                until=row.ends_at,
            )
        except (inventory.InsufficientStock, inventory.NotDeliverable) as exc:
            sku = skus.get(item.sku_id)
            raise FlashQuotaUnavailable(
                title=sku.title if sku else str(item.sku_id), quota=item.quota
            ) from exc
    await _move(
        session, row, target=FlashSessionStatus.published, actor_id=actor.staff_id, actor_label=actor.label
    )
    read = await _read(session, row)
    await identity.record_audit(
        session,
        actor=actor,
        action="flash_session.publish",
        object_type="flash_session",
        object_id=str(row.id),
        before=_audit_view(draft),
        after=_audit_view(read),
    )
    return read


async def _give_back_quotas(session: AsyncSession, flash_session_id: int, reason: str) -> None:
    item_ids = (
        await session.execute(select(FlashItem.id).where(FlashItem.session_id == flash_session_id))
    ).scalars()
    for item_id in sorted(item_ids):
        await inventory.release_reservations(session, reference=quota_reference(item_id), reason=reason)


async def cancel_flash_session(
    session: AsyncSession, *, flash_session_id: int, actor: identity.Actor, reason: str = ""
) -> FlashSessionRead:
    """Draft or published → cancelled: what was not sold goes back to stock; orders already
    placed stay (unpaid ones give their units to free stock if they are not paid).

    Raises: FlashSessionNotFound (404), IllegalTransition (409: ended or cancelled already).
    """
    row = await _row(session, flash_session_id)
    before = _audit_view(await _read(session, row))
    await _move(
        session,
        row,
        target=FlashSessionStatus.cancelled,
        actor_id=actor.staff_id,
        actor_label=actor.label,
        reason=reason,
    )
    await _give_back_quotas(session, row.id, "flash sale cancelled")
    read = await _read(session, row)
    await identity.record_audit(
        session,
        actor=actor,
        action="flash_session.cancel",
        object_type="flash_session",
        object_id=str(row.id),
        before=before,
        after=_audit_view(read),
    )
    return read


async def end_due_flash_sessions(session: AsyncSession, *, limit: int = 50) -> int:
    """Published sessions whose end has passed → ended, their unsold quota back to stock (the
    ``social-flash`` job); returns how many ended."""
    due = (
        await session.execute(
            select(FlashSession)
            .where(
                FlashSession.status == str(FlashSessionStatus.published), FlashSession.ends_at <= clock.now()
            )
            .order_by(FlashSession.ends_at)
            .limit(limit)
        )
    ).scalars()
    ended = 0
    for row in list(due):
        await _move(session, row, target=FlashSessionStatus.ended, actor_id=None, actor_label="system")
        await _give_back_quotas(session, row.id, "flash sale ended")
        ended += 1
    return ended


async def flash_figures(session: AsyncSession, *, flash_session_id: int) -> list[FlashItemFigures]:
    """What became of each item's quota, from the purchases and the quota holds (live counts)."""
    row = await _row(session, flash_session_id)
    items = (await _read(session, row)).items
    if not items:
        return []
    counts: dict[int, dict[str, int]] = {}
    buyers: dict[int, int] = {}
    orders: dict[int, int] = {}
    for item_id, status, units, placed in await session.execute(
        select(FlashPurchase.item_id, FlashPurchase.status, func.sum(FlashPurchase.quantity), func.count())
        .where(FlashPurchase.item_id.in_([i.id for i in items]))
        .group_by(FlashPurchase.item_id, FlashPurchase.status)
    ):
        counts.setdefault(item_id, {})[status] = int(units or 0)
        orders[item_id] = orders.get(item_id, 0) + int(placed)
    for item_id, distinct in await session.execute(
        select(FlashPurchase.item_id, func.count(func.distinct(FlashPurchase.customer_id)))
        .where(
            FlashPurchase.item_id.in_([i.id for i in items]),
            FlashPurchase.status.in_([str(PurchaseStatus.pending), str(PurchaseStatus.paid)]),
        )
        .group_by(FlashPurchase.item_id)
    ):
        buyers[item_id] = int(distinct)
    left = await inventory.held_units(session, references=[quota_reference(i.id) for i in items])
    return [
        FlashItemFigures(
            item_id=item.id,
            quota=item.quota,
            left=left[quota_reference(item.id)],
            pending=counts.get(item.id, {}).get(str(PurchaseStatus.pending), 0),
            paid=counts.get(item.id, {}).get(str(PurchaseStatus.paid), 0),
            released=counts.get(item.id, {}).get(str(PurchaseStatus.released), 0),
            refunded=counts.get(item.id, {}).get(str(PurchaseStatus.refunded), 0),
            orders=orders.get(item.id, 0),
            buyers=buyers.get(item.id, 0),
        )
        for item in items
    ]


async def _offers(session: AsyncSession, items: list[FlashItemRead], *, quota_open: bool) -> list[FlashOffer]:
    skus = await catalog.get_sellable_skus(session, sku_ids=[i.sku_id for i in items])
    left = (
        await inventory.held_units(session, references=[quota_reference(i.id) for i in items])
        if quota_open
        else {}
    )
    offers = []
    for item in items:
        sku = skus.get(item.sku_id)
        if sku is None:
            continue
        offers.append(
            FlashOffer(
                item_id=item.id,
                session_id=item.session_id,
                sku_id=item.sku_id,
                product_id=item.product_id,
                title=sku.title,
                spec=sku.spec,
                image_url=sku.image_url,
                list_price_amount=sku.price_amount,
                price_amount=item.price_amount,
                quota=item.quota,
                left=left.get(quota_reference(item.id), 0) if quota_open else 0,
                per_customer=item.per_customer,
            )
        )
    return offers


async def list_flash_sale(
    session: AsyncSession, *, customer_id: int | None = None, now: dt.datetime | None = None
) -> list[FlashSessionView]:
    """The flash-sale page: published sessions live now or starting within two days, by start,
    each with its phase from the server's clock and its offers with the units left."""
    at = now or clock.now()
    rows = list(
        (
            await session.execute(
                select(FlashSession)
                .where(
                    FlashSession.status == str(FlashSessionStatus.published),
                    FlashSession.ends_at > at,
                    FlashSession.starts_at <= at + UPCOMING_WINDOW,
                )
                .order_by(FlashSession.starts_at, FlashSession.id)
                .limit(20)
            )
        ).scalars()
    )
    reminded: set[int] = set()
    if customer_id is not None and rows:
        reminded = set(
            (
                await session.execute(
                    select(FlashReminder.session_id).where(
                        FlashReminder.customer_id == customer_id,
                        FlashReminder.session_id.in_([r.id for r in rows]),
                    )
                )
            ).scalars()
        )
    views = []
    for row in rows:
        read = await _read(session, row)
        views.append(
            FlashSessionView(
                id=row.id,
                name=row.name,
                note=row.note,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                phase=read.phase(at),
                server_now=at,
                human_check=row.human_check,
                offers=await _offers(session, read.items, quota_open=True),
                reminded=row.id in reminded,
            )
        )
    return views


async def remind_me(session: AsyncSession, *, flash_session_id: int, customer_id: int) -> bool:
    """Ask for a message when an upcoming published session starts; True when newly asked
    (asking twice is a no-op).

    Raises: FlashSessionNotFound (404: not published), FlashEnded (409: it has started or ended).
    """
    row = await session.get(FlashSession, flash_session_id)
    if row is None or row.status != str(FlashSessionStatus.published):
        raise FlashSessionNotFound()
    if (await _read(session, row)).phase(clock.now()) is not FlashPhase.upcoming:
        raise FlashEnded()
    return await insert_ignore(
        session,
        FlashReminder.__table__,
        {"session_id": row.id, "customer_id": customer_id, "created_at": clock.now(), "sent_at": None},
    )
