"""After-sales test support: a delivered order paid through the sandbox gateway, and the rows an
after-sales action may change (to prove a refused one changed nothing)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from mercato import aftersales, identity, inventory, orders, payments
from mercato.aftersales.models import (
    AftersalesLineClaim,
    AftersalesPhoto,
    AftersalesRequest,
    AftersalesStatusChange,
)
from mercato.core import events
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import AuditEntry
from mercato.inventory.models import LedgerEntry
from mercato.payments.models import Refund
from mercato.payments.schemas import SandboxOutcome, SandboxPay
from tests.factories.checkout import open_shop
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.factories.payments import make_payment

WAREHOUSE = identity.Actor(staff_id=None, label="warehouse")
SHOP = identity.Actor(staff_id=None, label="cs@example.com")
ARBITER = identity.Actor(staff_id=None, label="arbiter@example.com")


@dataclass(frozen=True)
class Bought:
    """A customer's paid order for ``units`` red T-shirts at 30 元 (shipping 8 元 + 2 元 a further piece)."""

    customer_id: int
    order: orders.OrderRead
    red: int
    black: int
    warehouse_id: int

    @property
    def line(self) -> orders.OrderLineRead:
        return self.order.lines[0]


async def pay(order: orders.OrderRead, customer_id: int) -> orders.OrderRead:
    """Pay the order at the sandbox gateway; the capture is applied by a query (no notify job)
    and ``PaymentCaptured`` marks the order paid."""
    payment = await make_payment(
        reference=f"order:{order.id}", customer_id=customer_id, amount=order.total_amount
    )
    assert payment.provider_payment_id is not None
    async with uow() as s:
        await payments.submit_sandbox_payment(
            s, trade_id=payment.provider_payment_id, data=SandboxPay(outcome=SandboxOutcome.pay)
        )
        s.info.pop("after_commit")
    await payments.query_payment(payment_id=payment.id)
    await events.deliver_pending()
    return await read_order(order.id)


async def read_order(order_id: int) -> orders.OrderRead:
    async with uow(write=False) as s:
        return await orders.read_order(s, order_id=order_id)


async def paid_order(*, units: int = 2, black: int = 0) -> Bought:
    """A paid, not yet shipped order (subscribe the handlers first)."""
    customer = await make_customer()
    red, black_sku = await open_shop(price=3000, stock=5)
    items = [(red, units)] + ([(black_sku, black)] if black else [])
    order = await pay(await place(customer.id, *items), customer.id)
    assert order.status is orders.OrderStatus.paid
    return Bought(customer.id, order, red, black_sku, order.sub_orders[0].warehouse_id)


async def ship_and_deliver(order_id: int) -> orders.OrderRead:
    order = await read_order(order_id)
    for sub in order.sub_orders:
        async with uow() as s:
            await orders.mark_sub_order_shipped(s, order_id=order_id, sub_order_id=sub.id, actor=WAREHOUSE)
        async with uow() as s:
            await orders.mark_sub_order_delivered(s, order_id=order_id, sub_order_id=sub.id, actor=WAREHOUSE)
    return await read_order(order_id)


async def delivered_order(*, units: int = 2, black: int = 0) -> Bought:
    bought = await paid_order(units=units, black=black)
    order = await ship_and_deliver(bought.order.id)
    assert order.status is orders.OrderStatus.delivered
    return Bought(bought.customer_id, order, bought.red, bought.black, bought.warehouse_id)


def request_for(
    bought: Bought,
    kind: aftersales.AftersalesKind = aftersales.AftersalesKind.return_refund,
    quantity: int = 1,
    **fields: Any,
) -> aftersales.CreateRequest:
    return aftersales.CreateRequest(
        order_id=bought.order.id,
        order_line_id=fields.pop("order_line_id", bought.line.id),
        kind=kind,
        quantity=quantity,
        reason_code=fields.pop("reason_code", aftersales.ReasonCode.no_reason),
        **fields,
    )


async def stock(sku_id: int, warehouse_id: int) -> tuple[int, int]:
    """(on hand, reserved) of the SKU in the warehouse."""
    async with uow(write=False) as s:
        levels = await inventory.get_stock_levels(s, sku_ids=[sku_id])
    level = next(x for x in levels[sku_id] if x.warehouse_id == warehouse_id)
    return level.on_hand, level.reserved


async def payment_of(order: orders.OrderRead) -> payments.PaymentRead:
    assert order.payment_id is not None
    async with uow(write=False) as s:
        return await payments.get_payment(s, payment_id=order.payment_id)


async def rows() -> dict[str, Any]:
    """Row counts of every table an after-sales action may touch, the requests' statuses and the
    claims (a refused action must leave all of them as they were)."""
    async with uow(write=False) as s:
        counts = {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (
                AftersalesRequest,
                AftersalesStatusChange,
                AftersalesPhoto,
                Refund,
                LedgerEntry,
                AuditEntry,
                OutboxEvent,
            )
        }
        statuses = (await s.execute(select(AftersalesRequest.id, AftersalesRequest.status))).all()
        claims = (
            await s.execute(
                select(
                    AftersalesLineClaim.order_line_id,
                    AftersalesLineClaim.claimed_quantity,
                    AftersalesLineClaim.refund_quantity,
                    AftersalesLineClaim.refund_share_amount,
                )
            )
        ).all()
    return {**counts, "statuses": sorted(statuses), "claims": sorted(claims)}


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)
