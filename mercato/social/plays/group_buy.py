"""Opening and joining groups (拼团), seats taken by paying, completion, failure and refunds.

- **Opening**: a shopper orders the offer's SKU at the leader's price (团长价, else the group
  price) through ``checkout.buy_now`` with an ``orders.Deal`` that holds shipping; the group is
  ``pending`` until that order is paid, then ``forming`` with its clock started (``hours``).
- **Joining**: a forming group with a seat left, not one's own, within the per-customer limit and,
  for 老带新 offers, only for customers without a paid order; the order is at the group price.
- **Seats are taken by paying** (the ``orders.order_paid`` event): one conditional UPDATE
  ``seats = seats + 1 WHERE seats < size AND status = 'forming' AND expires_at > now`` per paid
  member, so however many pay for the last seat at once exactly one gets it; the last seat
  completes the group in the same statement. Anyone who paid without getting a seat (full, ended)
  is refunded in full at once through the gateway that took the money (``payments.refund_payment``,
  idempotent by key) and their order closes (its stock back on sale).
- **Complete**: every seated member's order is released for shipping together
  (``orders.release_ship_hold``); unpaid orders still open for the group are cancelled.
- **Failed**: at its end (the ``social-groups`` job) a forming group that is not full fails and
  every seated member is refunded and their order closed; with 模拟成团 (off by default, disclosed
  on the offer) it completes instead with its seats left empty.
- **The sweep** (same job) finds anyone left paid in a failed group (a refund that was never
  started, a payment that arrived after the failure was processed) and refunds them, logging
  each case as ``social.group_member_repaired``.
"""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import checkout, identity, orders, payments, promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.events import record_event
from mercato.social.errors import (
    GroupClosed,
    GroupFull,
    GroupLimitReached,
    GroupNewJoinersOnly,
    GroupNotFound,
    GroupOfferClosed,
    GroupOfferNotFound,
    GroupOwn,
)
from mercato.social.events import GroupCompleted, GroupFailed
from mercato.social.models import Group, GroupMember, GroupOffer
from mercato.social.plays.groups import deal_code, offer_read
from mercato.social.schemas_groups import (
    GroupBuy,
    GroupOfferFigures,
    GroupOfferRead,
    GroupStatus,
    MemberStatus,
)
from mercato.social.states import GROUP, MEMBER

log = structlog.get_logger(__name__)

SYSTEM = identity.Actor(staff_id=None, label="system")
LEADER_PRICE = "团长价"
GROUP_PRICE = "拼团价"
#: Statuses in which a customer counts as in a group (for "own group" and the per-customer limit).
_IN = (str(MemberStatus.pending), str(MemberStatus.seated))


class GroupOrder(checkout.CheckoutResult):
    """The order (and its payment) placed to open or join a group, and the group."""

    group_id: int


def _deal(offer: GroupOfferRead, *, leader: bool) -> orders.Deal:
    leads = leader and offer.leader_price_amount is not None
    price = (
        offer.leader_price_amount if leads and offer.leader_price_amount is not None else offer.price_amount
    )
    return orders.Deal(
        price=promotions.DealPrice(
            code=deal_code(offer.id),
            name=LEADER_PRICE if leads else GROUP_PRICE,
            sku_id=offer.sku_id,
            unit_price_amount=price,
        ),
        max_quantity=1,
        hold_shipping=True,
    )


async def _open_offer(session: AsyncSession, offer_id: int) -> GroupOfferRead:
    row = await session.get(GroupOffer, offer_id)
    if row is None or row.status == "draft":
        raise GroupOfferNotFound()
    offer = offer_read(row)
    if not offer.is_open(clock.now()):
        raise GroupOfferClosed()
    return offer


async def _check_limit(session: AsyncSession, offer: GroupOfferRead, customer_id: int) -> None:
    """Refuse a customer already in ``per_customer`` groups of the offer (pending or seated)."""
    count = (
        await session.execute(
            select(func.count())
            .select_from(GroupMember)
            .join(Group, Group.id == GroupMember.group_id)
            .where(
                Group.offer_id == offer.id,
                GroupMember.customer_id == customer_id,
                GroupMember.status.in_(_IN),
            )
        )
    ).scalar_one()
    if count >= offer.per_customer:
        raise GroupLimitReached(limit=offer.per_customer)


async def _joinable(session: AsyncSession, group_id: int, customer_id: int) -> tuple[Group, GroupOfferRead]:
    group = await session.get(Group, group_id)
    if group is None or group.status in {str(GroupStatus.pending), str(GroupStatus.abandoned)}:
        raise GroupNotFound()
    if group.status == str(GroupStatus.complete) or group.seats >= group.size:
        raise GroupFull()
    if group.status != str(GroupStatus.forming) or (
        group.expires_at is not None and group.expires_at <= clock.now()
    ):
        raise GroupClosed()
    member = (
        await session.execute(
            select(GroupMember.id).where(
                GroupMember.group_id == group_id,
                GroupMember.customer_id == customer_id,
                GroupMember.status.in_(_IN),
            )
        )
    ).first()
    if member is not None or group.leader_id == customer_id:
        raise GroupOwn()
    offer_row = await session.get(GroupOffer, group.offer_id)
    assert offer_row is not None  # a foreign key
    offer = offer_read(offer_row)
    if offer.new_joiners_only:
        stats = await orders.customer_order_stats(session, customer_id=customer_id)
        if stats.paid_orders > 0:
            raise GroupNewJoinersOnly()
    return group, offer


async def _default_address(session: AsyncSession, customer_id: int, address_id: int | None) -> int:
    if address_id is not None:
        return address_id
    addresses = await identity.list_addresses(session, customer_id=customer_id)
    if not addresses:
        raise checkout.NoAddress()
    return addresses[0].id


async def confirm_group(
    session: AsyncSession,
    *,
    customer_id: int,
    offer_id: int | None = None,
    group_id: int | None = None,
    address_id: int | None = None,
    channel: promotions.Channel = promotions.Channel.web,
) -> checkout.CheckoutQuote:
    """The price to open a group of ``offer_id`` (the leader's) or to join ``group_id``, to the
    customer's address, shipping included; nothing is held.

    Raises: GroupOfferNotFound / GroupNotFound (404), GroupOfferClosed / GroupClosed / GroupFull
    / GroupOwn / GroupNewJoinersOnly / GroupLimitReached (409), checkout.NoAddress (409),
    identity.AddressNotFound (404), inventory.InsufficientStock / NotDeliverable (409).
    """
    if group_id is not None:
        _group, offer = await _joinable(session, group_id, customer_id)
        leader = False
    else:
        offer = await _open_offer(session, offer_id or 0)
        leader = True
    await _check_limit(session, offer, customer_id)
    return await checkout.confirm_buy_now(
        session,
        customer_id=customer_id,
        sku_id=offer.sku_id,
        quantity=1,
        data=checkout.ConfirmCheckout(
            address_id=await _default_address(session, customer_id, address_id), coupon="none"
        ),
        channel=channel,
        deal=_deal(offer, leader=leader),
    )


async def _buy(
    session: AsyncSession,
    *,
    customer_id: int,
    offer: GroupOfferRead,
    leader: bool,
    data: GroupBuy,
    idempotency_key: str,
    channel: promotions.Channel,
) -> checkout.CheckoutResult:
    return await checkout.buy_now(
        session,
        customer_id=customer_id,
        data=checkout.BuyNow(
            sku_id=offer.sku_id,
            quantity=1,
            address_id=data.address_id,
            expected_total_amount=data.expected_total_amount,
            provider=data.provider,
            note=data.note,
            coupon="none",
        ),
        idempotency_key=idempotency_key,
        channel=channel,
        deal=_deal(offer, leader=leader),
    )


async def _member_of(session: AsyncSession, order_id: int) -> GroupMember | None:
    return (
        await session.execute(select(GroupMember).where(GroupMember.order_id == order_id))
    ).scalar_one_or_none()


async def open_group(
    session: AsyncSession,
    *,
    customer_id: int,
    offer_id: int,
    data: GroupBuy,
    idempotency_key: str,
    channel: promotions.Channel = promotions.Channel.web,
) -> GroupOrder:
    """Open a group: the leader's order (pay it and the group starts forming). A retry with the
    same Idempotency-Key returns the same order and group.

    Raises: GroupOfferNotFound (404), GroupOfferClosed (409), GroupLimitReached (409), and what
    ``checkout.buy_now`` refuses (no address, price changed, out of stock, unpaid-order caps …).
    """
    offer = await _open_offer(session, offer_id)
    result = await _buy(
        session,
        customer_id=customer_id,
        offer=offer,
        leader=True,
        data=data,
        idempotency_key=idempotency_key,
        channel=channel,
    )
    existing = await _member_of(session, result.order_id)
    if existing is not None:  # a retry
        return GroupOrder(**result.model_dump(), group_id=existing.group_id)
    await _check_limit(session, offer, customer_id)
    now = clock.now()
    group = Group(
        offer_id=offer.id,
        leader_id=customer_id,
        size=offer.size,
        seats=0,
        status=str(GroupStatus.pending),
        created_at=now,
        updated_at=now,
    )
    session.add(group)
    await session.flush()
    session.add(
        GroupMember(
            group_id=group.id,
            customer_id=customer_id,
            order_id=result.order_id,
            is_leader=True,
            status=str(MemberStatus.pending),
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return GroupOrder(**result.model_dump(), group_id=group.id)


async def join_group(
    session: AsyncSession,
    *,
    customer_id: int,
    group_id: int,
    data: GroupBuy,
    idempotency_key: str,
    channel: promotions.Channel = promotions.Channel.web,
) -> GroupOrder:
    """Join a forming group with a seat left: the order at the group price; the seat is taken
    when it is paid (or the money comes back at once if the group filled meanwhile).

    Raises: GroupNotFound (404), GroupClosed / GroupFull / GroupOwn / GroupNewJoinersOnly /
    GroupLimitReached (409), and what ``checkout.buy_now`` refuses.
    """
    found = await session.get(Group, group_id)
    if found is None or found.status in {str(GroupStatus.pending), str(GroupStatus.abandoned)}:
        raise GroupNotFound()
    # Placed first, checked after: a retry with the same Idempotency-Key finds its own order
    # (and is answered with it); any refusal below rolls the new order back with the request.
    result = await _buy(
        session,
        customer_id=customer_id,
        offer=offer_read(await _offer_row(session, found.offer_id)),
        leader=False,
        data=data,
        idempotency_key=idempotency_key,
        channel=channel,
    )
    existing = await _member_of(session, result.order_id)
    if existing is not None:
        return GroupOrder(**result.model_dump(), group_id=existing.group_id)
    group, offer = await _joinable(session, group_id, customer_id)
    await _check_limit(session, offer, customer_id)
    now = clock.now()
    session.add(
        GroupMember(
            group_id=group.id,
            customer_id=customer_id,
            order_id=result.order_id,
            is_leader=False,
            status=str(MemberStatus.pending),
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return GroupOrder(**result.model_dump(), group_id=group.id)


async def _offer_row(session: AsyncSession, offer_id: int) -> GroupOffer:
    row = await session.get(GroupOffer, offer_id)
    assert row is not None
    return row


async def _move_member(session: AsyncSession, member_id: int, target: MemberStatus) -> bool:
    """One conditional UPDATE along ``MEMBER``; False when the member was not in a source status."""
    moved = (
        await session.execute(
            update(GroupMember)
            .where(GroupMember.id == member_id, GroupMember.status.in_(MEMBER.sources(target)))
            .values(status=str(target), updated_at=clock.now())
            .returning(GroupMember.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    return moved is not None


async def _refund(session: AsyncSession, *, member: GroupMember, note: str) -> None:
    """Give a member's money back in full through the gateway that took it (sent after the
    commit; idempotent by its key) and close their order (its stock back on sale)."""
    order = await orders.read_order(session, order_id=member.order_id)
    if order.payment_id is not None:
        payment = await payments.get_payment(session, payment_id=order.payment_id)
        left = payment.amount - payment.refunded_amount
        if left > 0:
            await payments.refund_payment(
                session,
                payment_id=payment.id,
                amount=left,
                reason=note[:200],
                idempotency_key=f"group-refund:{member.order_id}",
                actor=SYSTEM,
            )
    if order.status is orders.OrderStatus.paid:
        await orders.close_paid_order(session, order_id=member.order_id, actor=SYSTEM, reason=note)


async def _cancel_unpaid(session: AsyncSession, group_id: int, reason: str) -> None:
    """Cancel the unpaid orders still open for a group that is complete or over."""
    pending = (
        await session.execute(
            select(GroupMember).where(
                GroupMember.group_id == group_id, GroupMember.status == str(MemberStatus.pending)
            )
        )
    ).scalars()
    for member in list(pending):
        try:
            await checkout.cancel_order(session, order_id=member.order_id, reason=reason, actor=SYSTEM)
        except (orders.CannotCancel, orders.OrderNotFound):
            continue  # paid at this moment: its payment event refuses it a seat and refunds it
        await _move_member(session, member.id, MemberStatus.cancelled)


async def _complete(session: AsyncSession, group: Group) -> None:
    """Every seated member's order may ship now; unpaid ones are cancelled."""
    seated = (
        await session.execute(
            select(GroupMember).where(
                GroupMember.group_id == group.id, GroupMember.status == str(MemberStatus.seated)
            )
        )
    ).scalars()
    note = orders.GROUP_COMPLETE % {"group_id": group.id}
    members = list(seated)
    for member in members:
        await orders.release_ship_hold(session, order_id=member.order_id, actor=SYSTEM, reason=note)
    await _cancel_unpaid(session, group.id, "group complete")
    await record_event(
        session,
        GroupCompleted(
            group_id=group.id, offer_id=group.offer_id, customer_ids=[m.customer_id for m in members]
        ),
    )


async def on_order_paid(session: AsyncSession, *, order_id: int) -> None:
    """A group order was paid (no-op for other orders): the leader's starts the group's clock;
    a member's takes a seat if one is left, else is refunded at once."""
    member = await _member_of(session, order_id)
    if member is None or member.status != str(MemberStatus.pending):
        return
    group = await session.get(Group, member.group_id)
    assert group is not None
    now = clock.now()
    if member.is_leader:
        offer = await _offer_row(session, group.offer_id)
        started = (
            await session.execute(
                update(Group)
                .where(Group.id == group.id, Group.status == str(GroupStatus.pending))
                .values(
                    status=str(GroupStatus.forming),
                    seats=1,
                    expires_at=now + dt.timedelta(hours=offer.hours),
                    updated_at=now,
                )
                .returning(Group.id)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if started is not None:
            await _move_member(session, member.id, MemberStatus.seated)
            return
        # the group was abandoned meanwhile (the leader's order was cancelled, then paid late)
        await _move_member(session, member.id, MemberStatus.refused)
        await _refund(session, member=member, note=orders.GROUP_FULL % {"group_id": group.id})
        return
    # one conditional UPDATE: of many paying for the last seat at once, exactly one gets it
    seated = (
        await session.execute(
            update(Group)
            .where(
                Group.id == group.id,
                Group.status == str(GroupStatus.forming),
                Group.seats < Group.size,
                Group.expires_at > now,
            )
            .values(
                seats=Group.seats + 1,
                status=case((Group.seats + 1 >= Group.size, str(GroupStatus.complete)), else_=Group.status),
                closed_at=case((Group.seats + 1 >= Group.size, now), else_=Group.closed_at),
                updated_at=now,
            )
            .returning(Group.seats, Group.status)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if seated is None:
        await _move_member(session, member.id, MemberStatus.refused)
        await _refund(session, member=member, note=orders.GROUP_FULL % {"group_id": group.id})
        return
    await _move_member(session, member.id, MemberStatus.seated)
    if seated.status == str(GroupStatus.complete):
        await session.refresh(group)
        await _complete(session, group)


async def on_order_released(session: AsyncSession, *, order_id: int) -> None:
    """A group order was cancelled or not paid in time (no-op for other orders and for orders
    the group itself closed): the member leaves; a leader's group is abandoned."""
    member = await _member_of(session, order_id)
    if member is None or not await _move_member(session, member.id, MemberStatus.cancelled):
        return
    if member.is_leader:
        now = clock.now()
        await session.execute(
            update(Group)
            .where(Group.id == member.group_id, Group.status == str(GroupStatus.pending))
            .values(status=str(GroupStatus.abandoned), updated_at=now, closed_at=now)
            .execution_options(synchronize_session=False)
        )


async def _fail_or_complete(session: AsyncSession, group_id: int) -> str | None:
    """A forming group whose time ran out: complete (模拟成团 offers) or failed with every seated
    member refunded. Returns the new status, or None when it had moved already."""
    group = await session.get(Group, group_id)
    if group is None or group.status != str(GroupStatus.forming) or group.expires_at is None:
        return None
    offer = await _offer_row(session, group.offer_id)
    target = GroupStatus.complete if offer.simulated else GroupStatus.failed
    GROUP.check(GroupStatus.forming, target)
    now = clock.now()
    moved = (
        await session.execute(
            update(Group)
            .where(Group.id == group_id, Group.status == str(GroupStatus.forming), Group.expires_at <= now)
            .values(status=str(target), closed_at=now, updated_at=now)
            .returning(Group.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        return None
    await session.refresh(group)
    if target is GroupStatus.complete:
        await _complete(session, group)
        return str(target)
    await _refund_seated(session, group)
    await _cancel_unpaid(session, group.id, "group failed")
    return str(target)


async def _refund_seated(session: AsyncSession, group: Group) -> int:
    seated = list(
        (
            await session.execute(
                select(GroupMember).where(
                    GroupMember.group_id == group.id, GroupMember.status == str(MemberStatus.seated)
                )
            )
        ).scalars()
    )
    note = orders.GROUP_FAILED % {"group_id": group.id}
    for member in seated:
        if await _move_member(session, member.id, MemberStatus.refunded):
            await _refund(session, member=member, note=note)
    if seated:
        await record_event(
            session,
            GroupFailed(
                group_id=group.id, offer_id=group.offer_id, customer_ids=[m.customer_id for m in seated]
            ),
        )
    return len(seated)


async def settle_due_groups(*, limit: int = 200) -> dict[str, int]:
    """The ``social-groups`` job: groups whose time ran out fail (everyone refunded) or, with
    模拟成团, complete — each in its own transaction; then the sweep. Returns the counts."""
    async with uow(write=False) as session:
        due = list(
            (
                await session.execute(
                    select(Group.id)
                    .where(Group.status == str(GroupStatus.forming), Group.expires_at <= clock.now())
                    .order_by(Group.expires_at)
                    .limit(limit)
                )
            ).scalars()
        )
    counts = {"failed": 0, "complete": 0, "repaired": 0}
    for group_id in due:
        async with uow() as session:
            moved = await _fail_or_complete(session, group_id)
        if moved is not None:
            counts[moved] += 1
    async with uow() as session:
        counts["repaired"] = await sweep_paid_members(session)
    return counts


async def sweep_paid_members(session: AsyncSession, *, limit: int = 200) -> int:
    """Find anyone left paid in a group that is over without a seat for them — a seated member of
    a failed group not refunded, or a pending member of a closed group whose order was paid —
    refund them and report each (``social.group_member_repaired``). Returns how many."""
    closed = (str(GroupStatus.failed), str(GroupStatus.complete), str(GroupStatus.abandoned))
    rows = (
        await session.execute(
            select(GroupMember, Group.status)
            .join(Group, Group.id == GroupMember.group_id)
            .where(
                Group.status.in_(closed),
                (
                    and_(
                        Group.status == str(GroupStatus.failed),
                        GroupMember.status == str(MemberStatus.seated),
                    )
                    | (GroupMember.status == str(MemberStatus.pending))
                ),
            )
            .limit(limit)
        )
    ).all()
    repaired = 0
    for member, status in rows:
        order = await orders.read_order(session, order_id=member.order_id)
        if order.status is not orders.OrderStatus.paid:
            continue  # unpaid: the order's own deadline cancels it
        target = MemberStatus.refunded if member.status == str(MemberStatus.seated) else MemberStatus.refused
        if not await _move_member(session, member.id, target):
            continue
        await _refund(session, member=member, note=orders.GROUP_FAILED % {"group_id": member.group_id})
        log.warning(
            "social.group_member_repaired", group_id=member.group_id, order_id=member.order_id, group=status
        )
        repaired += 1
    return repaired


async def refunded_amount(session: AsyncSession, *, offer_id: int) -> int:
    """Money given back to an offer's refunded or refused members (their orders' totals)."""
    order_ids = (
        await session.execute(
            select(GroupMember.order_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(
                Group.offer_id == offer_id,
                GroupMember.status.in_([str(MemberStatus.refunded), str(MemberStatus.refused)]),
            )
        )
    ).scalars()
    return sum([(await orders.read_order(session, order_id=order_id)).total_amount for order_id in order_ids])


async def group_offer_figures(session: AsyncSession, *, offer_id: int) -> GroupOfferFigures:
    """Live counts: groups by status, paying members, refunds and their amount."""
    if await session.get(GroupOffer, offer_id) is None:
        raise GroupOfferNotFound()
    groups = {
        status: int(n)
        for status, n in await session.execute(
            select(Group.status, func.count()).where(Group.offer_id == offer_id).group_by(Group.status)
        )
    }
    members = {
        status: int(n)
        for status, n in await session.execute(
            select(GroupMember.status, func.count())
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.offer_id == offer_id)
            .group_by(GroupMember.status)
        )
    }
    return GroupOfferFigures(
        offer_id=offer_id,
        forming=groups.get(str(GroupStatus.forming), 0),
        complete=groups.get(str(GroupStatus.complete), 0),
        failed=groups.get(str(GroupStatus.failed), 0),
        abandoned=groups.get(str(GroupStatus.abandoned), 0),
        seated=members.get(str(MemberStatus.seated), 0),
        refunds=members.get(str(MemberStatus.refunded), 0) + members.get(str(MemberStatus.refused), 0),
        refunded_amount=await refunded_amount(session, offer_id=offer_id),
    )
