"""The return path end to end at the service level: request → approve → ship back → receive and
grade → refund through the sandbox gateway → refunded and completed, with stock, ledger, payment
and timeline checked exactly; and the exchange path."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mercato import aftersales, inventory, payments
from mercato.aftersales.models import AftersalesStatusChange
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import AuditEntry
from tests.service.aftersales.support import (
    SHOP,
    WAREHOUSE,
    delivered_order,
    payment_of,
    request_for,
    stock,
)

R = aftersales.AftersalesStatus


pytestmark = pytest.mark.usefixtures("handlers")


async def last_audit_id() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.coalesce(func.max(AuditEntry.id), 0)))).scalar_one()


def steps(view: aftersales.AftersalesRead) -> list[tuple[str | None, str, str]]:
    return [(s.from_status, s.status, s.actor) for s in view.timeline]


async def test_a_returned_unit_goes_back_to_stock_and_the_payment_is_refunded() -> None:
    bought = await delivered_order(units=2)
    assert await stock(bought.red, bought.warehouse_id) == (3, 0)  # 2 of 5 shipped
    first_audit = await last_audit_id()

    async with uow() as s:
        opened = await aftersales.create_request(
            s, customer_id=bought.customer_id, data=request_for(bought, quantity=1, description="太大了")
        )
    clock.advance(dt.timedelta(minutes=30))
    async with uow() as s:
        await aftersales.approve_request(
            s, request_id=opened.id, data=aftersales.Decide(reason="同意"), actor=SHOP
        )
    async with uow() as s:
        await aftersales.ship_back(
            s,
            request_id=opened.id,
            customer_id=bought.customer_id,
            data=aftersales.ShipBack(carrier="SF", tracking_number="SF1234567890"),
        )
    clock.advance(dt.timedelta(minutes=90))
    async with uow() as s:
        received = await aftersales.receive_return(
            s, request_id=opened.id, data=aftersales.ReceiveReturn(resellable=1), actor=WAREHOUSE
        )
    await events.deliver_pending()  # PaymentRefunded → refunded → completed

    async with uow(write=False) as s:
        done = await aftersales.get_request(s, request_id=opened.id, customer_id=bought.customer_id)
        ledger = await inventory.list_ledger(s, sku_id=bought.red, warehouse_id=bought.warehouse_id)
        refunds = await payments.list_refunds(s, payment_id=bought.order.payment_id)
        responses = (
            await s.execute(
                select(AftersalesStatusChange.to_status, AftersalesStatusChange.response_seconds)
                .where(AftersalesStatusChange.response_seconds.is_not(None))
                .order_by(AftersalesStatusChange.id)
            )
        ).all()
        audits = (
            (
                await s.execute(
                    select(AuditEntry.action).where(AuditEntry.id > first_audit).order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
        published = (
            (
                await s.execute(
                    select(OutboxEvent.name)
                    .where(OutboxEvent.name.like("aftersales.%"))
                    .order_by(OutboxEvent.id)
                )
            )
            .scalars()
            .all()
        )
    payment = await payment_of(bought.order)

    assert (opened.status, opened.refund_amount, opened.max_refund_amount) == (R.requested, 3000, 3000)
    assert (received.status, received.refund_status) == (R.refunding, "pending")
    assert (done.status, done.total_refund_amount, done.refund_status) == (R.completed, 3000, "succeeded")
    assert steps(done) == [
        (None, R.requested, "customer"),
        (R.requested, R.approved, "shop"),
        (R.approved, R.shipped_back, "customer"),
        (R.shipped_back, R.received, "shop"),
        (R.received, R.refunding, "shop"),
        (R.refunding, R.refunded, "system"),
        (R.refunded, R.completed, "system"),
    ]
    assert [s.actor_label for s in done.timeline] == [None] * 7  # staff names are not shown to shoppers
    assert done.timeline[2].details == {"carrier": "SF", "tracking_number": "SF1234567890"}
    assert done.timeline[3].details == {
        "resellable": 1,
        "defective": 0,
        "scrap": 0,
        "warehouse_id": bought.warehouse_id,
    }
    assert responses == [("approved", 1800), ("received", 5400)]
    assert await stock(bought.red, bought.warehouse_id) == (4, 0)
    entry = ledger.items[0]
    assert (entry.kind, entry.on_hand_delta, entry.on_hand_after, entry.reference) == (
        inventory.LedgerKind.receipt,
        1,
        4,
        f"aftersales:{opened.id}",
    )
    assert [(r.amount, r.status) for r in refunds] == [(3000, payments.RefundStatus.succeeded)]
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.partially_refunded, 3000)
    assert audits == ["aftersales.approve", "stock.receive", "payment.refund", "aftersales.receive"]
    assert published == [
        "aftersales.requested.v1",
        "aftersales.decided.v1",
        "aftersales.refunded.v1",
        "aftersales.completed.v1",
    ]


async def test_an_exchange_ships_a_replacement_out_of_stock_and_refunds_nothing() -> None:
    bought = await delivered_order(units=2)
    async with uow() as s:
        opened = await aftersales.create_request(
            s,
            customer_id=bought.customer_id,
            data=request_for(
                bought, aftersales.AftersalesKind.exchange, reason_code=aftersales.ReasonCode.size_fit
            ),
        )
    async with uow() as s:
        approved = await aftersales.approve_request(
            s, request_id=opened.id, data=aftersales.Decide(), actor=SHOP
        )
    async with uow() as s:
        await aftersales.ship_back(
            s,
            request_id=opened.id,
            customer_id=bought.customer_id,
            data=aftersales.ShipBack(carrier="YTO", tracking_number="YT9000001"),
        )
    async with uow() as s:
        received = await aftersales.receive_return(
            s, request_id=opened.id, data=aftersales.ReceiveReturn(defective=1), actor=WAREHOUSE
        )
    assert await stock(bought.red, bought.warehouse_id) == (3, 0)  # a defective unit is not resellable
    async with uow() as s:
        shipped = await aftersales.ship_replacement(
            s,
            request_id=opened.id,
            data=aftersales.ShipReplacement(carrier="JD", tracking_number="JD0001234"),
            actor=SHOP,
        )
    await events.deliver_pending()

    async with uow(write=False) as s:
        ledger = await inventory.list_ledger(s, sku_id=bought.red, warehouse_id=bought.warehouse_id)
        completed = (
            await s.execute(select(OutboxEvent.payload).where(OutboxEvent.name == "aftersales.completed.v1"))
        ).scalar_one()
    payment = await payment_of(bought.order)
    assert (opened.refund_amount, opened.max_refund_amount) == (0, 0)
    assert (approved.status, received.status, shipped.status) == (R.approved, R.received, R.completed)
    assert steps(shipped)[-2:] == [
        (R.received, R.replacement_shipped, "shop"),
        (R.replacement_shipped, R.completed, "shop"),
    ]
    assert shipped.grading is not None
    assert (shipped.grading.resellable, shipped.grading.defective, shipped.grading.scrap) == (0, 1, 0)
    assert shipped.replacement_parcel is not None
    assert (shipped.replacement_parcel.carrier, shipped.replacement_parcel.tracking_number) == (
        "JD",
        "JD0001234",
    )
    assert await stock(bought.red, bought.warehouse_id) == (2, 0)
    entry = ledger.items[0]
    assert (entry.kind, entry.on_hand_delta, entry.reason) == (
        inventory.LedgerKind.adjustment,
        -1,
        f"other: aftersales:{opened.id} exchange {opened.number}: replacement shipped",
    )
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.paid, 0)
    assert (
        completed["kind"],
        completed["replacement_carrier"],
        completed["replacement_tracking_number"],
    ) == (
        "exchange",
        "JD",
        "JD0001234",
    )
