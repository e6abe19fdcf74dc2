"""拼团 group-buying offers kept by staff, and what shoppers see of them.

An offer names one SKU, the group size, the group price (and optionally the leader's, 团长价), the
time a group has once its leader paid, who may join (老带新: customers without a paid order) and
how many groups one customer may be in. Drafts are edited; publishing makes the offer live
between its start and end; ending it stops new groups (those forming run to their own end).
Every status move is recorded (``social_status_change``) and every staff write audited. The
groups themselves (opening, joining, seats, refunds) are in ``group_buy.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import clock
from mercato.core.errors import IllegalTransition
from mercato.social.errors import (
    EndsBeforeStart,
    GroupNotFound,
    GroupOfferNotEditable,
    GroupOfferNotFound,
    GroupPriceNotBelow,
)
from mercato.social.models import Group, GroupMember, GroupOffer, StatusChange
from mercato.social.schemas_groups import (
    GroupMemberView,
    GroupOfferRead,
    GroupOfferStatus,
    GroupOfferView,
    GroupOfferWrite,
    GroupStatus,
    GroupView,
    MemberStatus,
)
from mercato.social.states import GROUP_OFFER

#: How many forming groups the product page lists (凑团).
NEARLY_FULL = 5
MAX_OFFERS = 200


def deal_code(offer_id: int) -> str:
    """The code a group-buying order's discount and ``OrderRead.deal`` carry."""
    return f"group:{offer_id}"


def offer_read(row: GroupOffer) -> GroupOfferRead:
    return GroupOfferRead.model_validate(row)


async def _row(session: AsyncSession, offer_id: int) -> GroupOffer:
    row = await session.get(GroupOffer, offer_id)
    if row is None:
        raise GroupOfferNotFound()
    return row


def _view(read: GroupOfferRead) -> dict[str, Any]:
    return read.model_dump(mode="json", exclude={"created_at", "updated_at"})


async def _check(session: AsyncSession, data: GroupOfferWrite) -> catalog.SellableSku:
    if data.ends_at <= data.starts_at:
        raise EndsBeforeStart()
    sku = (await catalog.get_sellable_skus(session, sku_ids=[data.sku_id])).get(data.sku_id)
    if sku is None or not sku.is_sellable:
        raise catalog.SkuNotFound()
    if data.price_amount >= sku.price_amount:
        raise GroupPriceNotBelow()
    return sku


async def create_group_offer(
    session: AsyncSession, *, data: GroupOfferWrite, actor: identity.Actor
) -> GroupOfferRead:
    """A draft offer.

    Raises: EndsBeforeStart (422), catalog.SkuNotFound (404), GroupPriceNotBelow (422).
    """
    sku = await _check(session, data)
    now = clock.now()
    row = GroupOffer(
        **data.model_dump(exclude={"note"}),
        product_id=sku.product_id,
        status=str(GroupOfferStatus.draft),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    read = offer_read(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="group_offer.create",
        object_type="group_offer",
        object_id=str(row.id),
        after=_view(read),
    )
    return read


async def update_group_offer(
    session: AsyncSession, *, offer_id: int, data: GroupOfferWrite, actor: identity.Actor
) -> GroupOfferRead:
    """Change a draft's terms.

    Raises: GroupOfferNotFound (404), GroupOfferNotEditable (409), EndsBeforeStart (422),
    catalog.SkuNotFound (404), GroupPriceNotBelow (422).
    """
    row = await _row(session, offer_id)
    if row.status != str(GroupOfferStatus.draft):
        raise GroupOfferNotEditable()
    sku = await _check(session, data)
    before = _view(offer_read(row))
    for name, value in data.model_dump(exclude={"note"}).items():
        setattr(row, name, value)
    row.product_id, row.updated_at = sku.product_id, clock.now()
    await session.flush()
    read = offer_read(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="group_offer.update",
        object_type="group_offer",
        object_id=str(row.id),
        before=before,
        after=_view(read),
    )
    return read


async def _move(
    session: AsyncSession,
    row: GroupOffer,
    *,
    target: GroupOfferStatus,
    actor: identity.Actor,
    reason: str = "",
) -> GroupOfferRead:
    current = GroupOfferStatus(row.status)
    GROUP_OFFER.check(current, target)
    now = clock.now()
    moved = (
        await session.execute(
            update(GroupOffer)
            .where(GroupOffer.id == row.id, GroupOffer.status.in_(GROUP_OFFER.sources(target)))
            .values(status=str(target), updated_at=now)
            .returning(GroupOffer.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        raise IllegalTransition(code="social.illegal_transition", current=str(current), target=str(target))
    session.add(
        StatusChange(
            subject="group_offer",
            subject_id=row.id,
            from_status=str(current),
            to_status=str(target),
            actor_id=actor.staff_id,
            actor_label=actor.label,
            reason=reason,
            created_at=now,
        )
    )
    await session.flush()
    await session.refresh(row)
    read = offer_read(row)
    await identity.record_audit(
        session,
        actor=actor,
        action=f"group_offer.{target}",
        object_type="group_offer",
        object_id=str(row.id),
        before={"status": str(current)},
        after={"status": str(target)},
    )
    return read


async def publish_group_offer(
    session: AsyncSession, *, offer_id: int, actor: identity.Actor
) -> GroupOfferRead:
    """Draft → active. Raises: GroupOfferNotFound (404), IllegalTransition (409), EndsBeforeStart
    (422: its end has passed)."""
    row = await _row(session, offer_id)
    if row.ends_at <= clock.now():
        raise EndsBeforeStart()
    return await _move(session, row, target=GroupOfferStatus.active, actor=actor)


async def end_group_offer(
    session: AsyncSession, *, offer_id: int, actor: identity.Actor, reason: str = ""
) -> GroupOfferRead:
    """Draft or active → ended: no new groups; groups forming run to their own end.
    Raises: GroupOfferNotFound (404), IllegalTransition (409)."""
    return await _move(
        session, await _row(session, offer_id), target=GroupOfferStatus.ended, actor=actor, reason=reason
    )


async def get_group_offer(session: AsyncSession, *, offer_id: int) -> GroupOfferRead:
    """Raises GroupOfferNotFound (404)."""
    return offer_read(await _row(session, offer_id))


async def list_group_offers(
    session: AsyncSession, *, status: GroupOfferStatus | None = None
) -> list[GroupOfferRead]:
    """Offers for the console, the latest start first (at most ``MAX_OFFERS``)."""
    stmt = select(GroupOffer).order_by(GroupOffer.starts_at.desc(), GroupOffer.id.desc()).limit(MAX_OFFERS)
    if status is not None:
        stmt = stmt.where(GroupOffer.status == str(status))
    return [offer_read(row) for row in (await session.execute(stmt)).scalars()]


async def group_views(session: AsyncSession, groups: list[Group], *, now: dt.datetime) -> list[GroupView]:
    """Groups as shoppers see them: seats, time left and the members' masked names."""
    if not groups:
        return []
    members = (
        await session.execute(
            select(GroupMember)
            .where(
                GroupMember.group_id.in_([g.id for g in groups]),
                GroupMember.status.in_([str(MemberStatus.seated), str(MemberStatus.refunded)]),
            )
            .order_by(GroupMember.id)
        )
    ).scalars()
    by_group: dict[int, list[GroupMember]] = {}
    for member in members:
        by_group.setdefault(member.group_id, []).append(member)
    names = await identity.masked_names(
        session, customer_ids=[m.customer_id for ms in by_group.values() for m in ms]
    )
    return [
        GroupView(
            id=g.id,
            offer_id=g.offer_id,
            status=GroupStatus(g.status),
            size=g.size,
            seats=g.seats,
            seats_left=max(0, g.size - g.seats),
            expires_at=g.expires_at,
            server_now=now,
            members=[
                GroupMemberView(name=names[m.customer_id], is_leader=m.is_leader, joined_at=m.updated_at)
                for m in by_group.get(g.id, [])
            ],
            simulated_completion=g.status == str(GroupStatus.complete) and g.seats < g.size,
        )
        for g in groups
    ]


async def get_group(session: AsyncSession, *, group_id: int) -> GroupView:
    """A group's page: anyone with the link sees it once its leader paid.

    Raises: GroupNotFound (404: unknown, or its leader has not paid).
    """
    row = await session.get(Group, group_id)
    if row is None or row.status in {str(GroupStatus.pending), str(GroupStatus.abandoned)}:
        raise GroupNotFound()
    (view,) = await group_views(session, [row], now=clock.now())
    return view


async def offers_for_product(
    session: AsyncSession, *, product_id: int, now: dt.datetime | None = None
) -> list[GroupOfferView]:
    """The live offers on a product's SKUs, each with its forming groups fewest seats left first
    (凑团: the product page shows them with the seats and time left)."""
    at = now or clock.now()
    rows = list(
        (
            await session.execute(
                select(GroupOffer)
                .where(
                    GroupOffer.product_id == product_id,
                    GroupOffer.status == str(GroupOfferStatus.active),
                    GroupOffer.starts_at <= at,
                    GroupOffer.ends_at > at,
                )
                .order_by(GroupOffer.price_amount, GroupOffer.id)
            )
        ).scalars()
    )
    return [await _offer_view(session, row, at) for row in rows]


async def _offer_view(session: AsyncSession, row: GroupOffer, at: dt.datetime) -> GroupOfferView:
    sku = (await catalog.get_sellable_skus(session, sku_ids=[row.sku_id])).get(row.sku_id)
    forming = list(
        (
            await session.execute(
                select(Group)
                .where(
                    Group.offer_id == row.id,
                    Group.status == str(GroupStatus.forming),
                    Group.expires_at > at,
                    Group.seats < Group.size,
                )
                .order_by((Group.size - Group.seats), Group.expires_at)
                .limit(NEARLY_FULL)
            )
        ).scalars()
    )
    return GroupOfferView(
        offer=offer_read(row),
        title=sku.title if sku else row.name,
        spec=sku.spec if sku else {},
        image_url=sku.image_url if sku else None,
        list_price_amount=sku.price_amount if sku else row.price_amount,
        groups=await group_views(session, forming, now=at),
    )


async def get_offer_view(session: AsyncSession, *, offer_id: int) -> GroupOfferView:
    """One live offer for shoppers. Raises GroupOfferNotFound (404: unknown, draft or not live)."""
    row = await _row(session, offer_id)
    at = clock.now()
    if not offer_read(row).is_open(at):
        raise GroupOfferNotFound()
    return await _offer_view(session, row, at)
