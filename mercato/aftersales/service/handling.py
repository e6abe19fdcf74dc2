"""The shop's and the platform's side: decide, receive and grade returned goods, refund, ship
the replacement of an exchange, and arbitrate disputes. Every step is audited.

Refunds start by themselves once a request is refundable: a refund-only request when it is
approved (by the shop or by an arbiter: the decision drives the refund), a return when its goods
are received. ``refund_request`` issues the refund again after the provider refused it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, inventory
from mercato.aftersales.errors import KindNotAllowed, TooManyUnitsGraded, UnitsNotGraded
from mercato.aftersales.events import AftersalesDecided
from mercato.aftersales.models import AftersalesRequest
from mercato.aftersales.schemas import (
    ActorKind,
    AftersalesKind,
    AftersalesRead,
    Arbitrate,
    ArbitrationDecision,
    Decide,
    ReceiveReturn,
    Reject,
    ShipReplacement,
)
from mercato.aftersales.service.common import (
    REFUND_KINDS,
    REPLACEMENT_SHIPPED,
    Who,
    audit,
    load,
    move,
    read,
    release_claim,
)
from mercato.aftersales.service.refunds import complete, issue_refund
from mercato.aftersales.states import AftersalesStatus
from mercato.core import clock
from mercato.core.events import record_event


async def _decided(
    session: AsyncSession, row: AftersalesRequest, *, outcome: str, arbitrated: bool, reason: str
) -> None:
    await record_event(
        session,
        AftersalesDecided(
            request_id=row.id,
            number=row.number,
            order_id=row.order_id,
            order_number=row.order_number,
            customer_id=row.customer_id,
            kind=row.kind,
            outcome=outcome,
            arbitrated=arbitrated,
            reason=reason,
        ),
    )


async def _proceed(session: AsyncSession, row: AftersalesRequest, *, who: Who, actor: identity.Actor) -> None:
    """After approval: a refund-only request is refunded at once; the others wait for the goods."""
    if AftersalesKind(row.kind) is AftersalesKind.refund_only:
        await issue_refund(session, row, who=who, actor=actor)


async def approve_request(
    session: AsyncSession, *, request_id: int, data: Decide, actor: identity.Actor
) -> AftersalesRead:
    """The shop agrees (also while the shopper's dispute is open: the shop may give in before the
    platform decides); a refund-only request is refunded at once.

    Raises:
        RequestNotFound (404), IllegalTransition (409): not waiting for a decision,
        and the refund's errors (see ``issue_refund``).
    """
    row = await load(session, request_id)
    before = row.status
    who = Who.staff(actor)
    await move(
        session,
        row,
        AftersalesStatus.approved,
        who=who,
        reason=data.reason,
        decision_reason=data.reason,
        decided_at=clock.now(),
    )
    await _decided(session, row, outcome="approved", arbitrated=False, reason=data.reason)
    await _proceed(session, row, who=who, actor=actor)
    await audit(session, actor=actor, action="approve", row=row, before=before, after={"reason": data.reason})
    return await read(session, row, staff_view=True)


async def reject_request(
    session: AsyncSession, *, request_id: int, data: Reject, actor: identity.Actor
) -> AftersalesRead:
    """The shop refuses, with a reason the shopper sees; they may escalate it or withdraw.

    Raises:
        RequestNotFound (404), IllegalTransition (409): not waiting for a decision.
    """
    row = await load(session, request_id)
    before = row.status
    await move(
        session,
        row,
        AftersalesStatus.rejected,
        who=Who.staff(actor),
        reason=data.reason,
        decision_reason=data.reason,
        decided_at=clock.now(),
    )
    await _decided(session, row, outcome="rejected", arbitrated=False, reason=data.reason)
    await audit(session, actor=actor, action="reject", row=row, before=before, after={"reason": data.reason})
    return await read(session, row, staff_view=True)


async def arbitrate_request(
    session: AsyncSession, *, request_id: int, data: Arbitrate, actor: identity.Actor
) -> AftersalesRead:
    """Decide a dispute: for the shopper the request proceeds as approved (a refund-only request
    is refunded at once); for the shop it is closed and its units are free again.

    Raises:
        RequestNotFound (404), IllegalTransition (409): not disputed; the refund's errors.
    """
    row = await load(session, request_id)
    before = row.status
    who = Who.staff(actor, ActorKind.platform)
    for_shopper = data.decision is ArbitrationDecision.shopper
    await move(
        session,
        row,
        AftersalesStatus.approved if for_shopper else AftersalesStatus.closed,
        who=who,
        reason=data.reason,
        details={"decision": str(data.decision)},
        arbitration=str(data.decision),
        arbitration_reason=data.reason,
        arbitrated_at=clock.now(),
    )
    await _decided(
        session, row, outcome="approved" if for_shopper else "rejected", arbitrated=True, reason=data.reason
    )
    if for_shopper:
        await _proceed(session, row, who=who, actor=actor)
    else:
        await release_claim(session, row)
    await audit(
        session,
        actor=actor,
        action="arbitrate",
        row=row,
        before=before,
        after={"decision": str(data.decision), "reason": data.reason},
    )
    return await read(session, row, staff_view=True)


async def receive_return(
    session: AsyncSession, *, request_id: int, data: ReceiveReturn, actor: identity.Actor
) -> AftersalesRead:
    """The warehouse received the goods sent back and graded every unit: resellable units go back
    to stock through the ledger (reference ``aftersales:<id>``); defective and scrapped ones do
    not. A return is then refunded; an exchange waits for its replacement.

    Raises:
        RequestNotFound (404).
        TooManyUnitsGraded (422): more units graded than were returned.
        UnitsNotGraded (422): fewer units graded than were returned.
        IllegalTransition (409): nothing was sent back (yet), or it was received already.
        WarehouseNotFound (404), WarehouseInactive (409): the receiving warehouse.
        The refund's errors (see ``issue_refund``).
    """
    row = await load(session, request_id)
    graded = data.resellable + data.defective + data.scrap
    if graded > row.quantity:
        raise TooManyUnitsGraded(graded=graded, returned=row.quantity)
    if graded < row.quantity:
        raise UnitsNotGraded(graded=graded, returned=row.quantity)
    before = row.status
    warehouse_id = data.warehouse_id or row.warehouse_id
    who = Who.staff(actor)
    grades = {"resellable": data.resellable, "defective": data.defective, "scrap": data.scrap}
    await move(
        session,
        row,
        AftersalesStatus.received,
        who=who,
        reason=data.note,
        details={**grades, "warehouse_id": warehouse_id},
        receiving_warehouse_id=warehouse_id,
        resellable_quantity=data.resellable,
        defective_quantity=data.defective,
        scrap_quantity=data.scrap,
        received_at=clock.now(),
    )
    if data.resellable:
        await inventory.receive_stock(
            session,
            data=inventory.ReceiveStock(
                sku_id=row.sku_id,
                warehouse_id=warehouse_id,
                quantity=data.resellable,
                reason=f"after-sales return {row.number}: resellable",
                reference=f"aftersales:{row.id}",
            ),
            actor=actor,
        )
    if AftersalesKind(row.kind) is AftersalesKind.return_refund:
        await issue_refund(session, row, who=who, actor=actor)
    await audit(session, actor=actor, action="receive", row=row, before=before, after=grades)
    return await read(session, row, staff_view=True)


async def refund_request(session: AsyncSession, *, request_id: int, actor: identity.Actor) -> AftersalesRead:
    """Issue the refund again after the provider refused it (a new attempt, a new key).

    Raises:
        RequestNotFound (404), KindNotAllowed (422): an exchange has nothing to refund,
        IllegalTransition (409): no failed refund to issue again; the refund's errors.
    """
    row = await load(session, request_id)
    if AftersalesKind(row.kind) not in REFUND_KINDS:
        raise KindNotAllowed()
    before = row.status
    await issue_refund(session, row, who=Who.staff(actor), actor=actor)
    await audit(
        session, actor=actor, action="refund", row=row, before=before, after={"refund_id": row.refund_id}
    )
    return await read(session, row, staff_view=True)


async def ship_replacement(
    session: AsyncSession, *, request_id: int, data: ShipReplacement, actor: identity.Actor
) -> AftersalesRead:
    """An exchange's replacement left the warehouse: the units leave stock through the ledger (an
    adjustment noting ``aftersales:<id>``) and the request completes.

    Raises:
        RequestNotFound (404), KindNotAllowed (422): not an exchange,
        IllegalTransition (409): the goods have not been received back yet,
        WarehouseNotFound (404), BelowReserved (409 inventory.below_reserved): not enough stock.
    """
    row = await load(session, request_id)
    if AftersalesKind(row.kind) is not AftersalesKind.exchange:
        raise KindNotAllowed()
    before = row.status
    warehouse_id = data.warehouse_id or row.warehouse_id
    who = Who.staff(actor)
    parcel = {"carrier": data.carrier, "tracking_number": data.tracking_number, "warehouse_id": warehouse_id}
    await move(
        session,
        row,
        AftersalesStatus.replacement_shipped,
        who=who,
        reason=f"{data.carrier} {data.tracking_number}",
        details=parcel,
        replacement_warehouse_id=warehouse_id,
        replacement_carrier=data.carrier,
        replacement_tracking_number=data.tracking_number,
        replacement_shipped_at=clock.now(),
    )
    await inventory.adjust_stock(
        session,
        data=inventory.AdjustStock(
            sku_id=row.sku_id,
            warehouse_id=warehouse_id,
            delta=-row.quantity,
            reason=inventory.AdjustmentReason.other,
            note=f"aftersales:{row.id} exchange {row.number}: replacement shipped",
        ),
        actor=actor,
    )
    await complete(session, row, who=who, note=REPLACEMENT_SHIPPED)
    await audit(session, actor=actor, action="ship_replacement", row=row, before=before, after=parcel)
    return await read(session, row, staff_view=True)
