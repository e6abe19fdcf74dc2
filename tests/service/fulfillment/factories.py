"""Fulfilment test helpers: paid orders split over two warehouses or held at a store, shipping
through the service, and row counts for "nothing changed" checks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from mercato import fulfillment, identity, inventory, orders
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.fulfillment.models import PickupCode, Shipment, ShipmentItem, StatusChange, TrackingEvent
from mercato.identity.models import AuditEntry
from mercato.orders.models import OrderStatusChange
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.inventory import level, make_warehouse, receive
from tests.factories.orders import place

STAFF = identity.Actor(staff_id=None, label="warehouse@example.com")
_numbers = itertools.count(1)


@dataclass(frozen=True)
class SplitOrder:
    """A paid order of 2 red (from ``near``) and 1 black (from ``far``): two sub-orders."""

    order: orders.OrderRead
    red: int
    black: int
    near: int
    far: int
    near_part: int  # sub-order ids
    far_part: int


async def pay(order_id: int) -> orders.OrderRead:
    order = await read_order(order_id)
    async with uow() as s:
        assert await orders.mark_order_paid(
            s, reference=f"order:{order_id}", payment_id=1, amount=order.total_amount, currency=order.currency
        )
    return await read_order(order_id)


async def read_order(order_id: int) -> orders.OrderRead:
    async with uow(write=False) as s:
        return await orders.read_order(s, order_id=order_id)


async def split_order(*, paid: bool = True, customer_id: int | None = None) -> SplitOrder:
    if customer_id is None:
        customer_id = (await make_customer(password=None)).id
    red, black = await listed_skus(price=3000, stock=0)
    n = next(_numbers)
    near = await make_warehouse(f"NEAR-{n}", priority=1)
    far = await make_warehouse(f"FAR-{n}", priority=50)
    await receive(red, near.id, 5)
    await receive(black, far.id, 5)
    order = await place(customer_id, (red, 2), (black, 1))
    if paid:
        order = await pay(order.id)
    parts = {s.warehouse_id: s.id for s in order.sub_orders}
    return SplitOrder(order, red, black, near.id, far.id, parts[near.id], parts[far.id])


async def store_order(
    *, paid: bool = True, customer_id: int | None = None
) -> tuple[orders.OrderRead, int, int]:
    """A store-pickup order of 2 red held at a store (5 in stock there): (order, red, store id)."""
    if customer_id is None:
        customer_id = (await make_customer(password=None)).id
    red, _black = await listed_skus(price=3000, stock=0)
    store = await make_warehouse(
        f"STORE-{next(_numbers)}", kind=inventory.WarehouseKind.store, regions=["上海市"]
    )
    await receive(red, store.id, 5)
    order = await place(customer_id, (red, 2), delivery="pickup", pickup_store_id=store.id)
    if paid:
        order = await pay(order.id)
    return order, red, store.id


async def ship(
    order_id: int,
    sub_order_id: int,
    number: str = "YT1000000001",
    *,
    carrier: str = "yuantong",
    key: str | None = None,
    actor: identity.Actor = STAFF,
) -> fulfillment.ShipmentRead:
    async with uow() as s:
        return await fulfillment.ship_sub_order(
            s,
            data=fulfillment.ShipmentCreate(
                order_id=order_id, sub_order_id=sub_order_id, carrier=carrier, tracking_number=number
            ),
            actor=actor,
            idempotency_key=key,
        )


async def shipment(shipment_id: int) -> fulfillment.ShipmentRead:
    async with uow(write=False) as s:
        return await fulfillment.get_shipment(s, shipment_id=shipment_id)


async def stock(sku_id: int, warehouse_id: int) -> tuple[int, int]:
    """(on hand, reserved)."""
    found = await level(sku_id, warehouse_id)
    return found.on_hand, found.reserved


async def counts() -> dict[str, int]:
    """Rows in every fulfilment table, the outbox, the audit log and the order history."""
    async with uow(write=False) as s:
        return {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (
                Shipment,
                ShipmentItem,
                TrackingEvent,
                StatusChange,
                PickupCode,
                OutboxEvent,
                AuditEntry,
                OrderStatusChange,
            )
        }


async def outbox(prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    async with uow(write=False) as s:
        rows = await s.execute(select(OutboxEvent.name, OutboxEvent.payload).order_by(OutboxEvent.id))
        return [(name, payload) for name, payload in rows if name.startswith(prefix)]


async def audit(action_prefix: str = "") -> list[tuple[str, str, str]]:
    """(action, object id, actor label) of each audit entry."""
    async with uow(write=False) as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_label).order_by(AuditEntry.id)
        )
        return [(a, o, label) for a, o, label in rows if a.startswith(action_prefix)]


async def verify_stock() -> list[str]:
    async with uow(write=False) as s:
        return [str(p) for p in (await inventory.verify_stock(s)).problems]
