"""Account page test support: a shopper signed in through the sign-in page, and their orders in
each state, reached through the services (placed, paid at the sandbox, shipped with a tracked
parcel, delivered, held at a store for pickup)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from httpx import AsyncClient, Response

from mercato import fulfillment, identity, orders
from mercato.core import events
from mercato.core.db import uow
from tests.factories.checkout import open_shop
from tests.factories.identity import PASSWORD, make_customer, next_phone
from tests.factories.orders import place
from tests.service.aftersales.support import pay, read_order, ship_and_deliver
from tests.service.fulfillment.factories import STAFF, ship
from tests.web.pages import EN, csrf_of, sign_in


async def signed_in_shopper(client: AsyncClient, *, name: str = "Alice") -> identity.CustomerRead:
    phone = next_phone()
    customer = await make_customer(phone=phone, name=name)
    await sign_in(client, phone, PASSWORD)
    return customer


async def other_customer() -> identity.CustomerRead:
    return await make_customer(name="Mallory")


async def unpaid_order(customer_id: int, sku: int, quantity: int = 2, *, note: str = "") -> orders.OrderRead:
    return await place(customer_id, (sku, quantity), note=note)


async def paid_order(customer_id: int, sku: int, quantity: int = 2) -> orders.OrderRead:
    """Paid at the sandbox (the ``handlers`` fixture must be on)."""
    order = await pay(await place(customer_id, (sku, quantity)), customer_id)
    assert order.status is orders.OrderStatus.paid
    return order


async def shipped_order(customer_id: int, sku: int, number: str = "YT1000000001") -> orders.OrderRead:
    """Paid, its one parcel handed to YTO with two tracking steps."""
    order = await paid_order(customer_id, sku)
    shipment = await ship(order.id, order.sub_orders[0].id, number)
    async with uow() as s:
        await fulfillment.add_tracking_event(
            s,
            shipment_id=shipment.id,
            data=fulfillment.TrackingEventCreate(
                status=fulfillment.TrackingStatus.in_transit,
                context="快件已到达【杭州转运中心】",
                location="杭州",
            ),
            actor=STAFF,
        )
    await events.deliver_pending()
    return await read_order(order.id)


async def delivered_order(customer_id: int, sku: int, quantity: int = 2) -> orders.OrderRead:
    order = await paid_order(customer_id, sku, quantity)
    delivered = await ship_and_deliver(order.id)
    assert delivered.status is orders.OrderStatus.delivered
    return delivered


async def shopper_with_order(
    client: AsyncClient, order_of: Callable[..., Awaitable[orders.OrderRead]], *args: object, **fields: object
) -> tuple[identity.CustomerRead, orders.OrderRead]:
    """A signed-in shopper and their order of the shop's red SKU, made by ``order_of``
    (``unpaid_order``, ``paid_order``, ``shipped_order``, ``delivered_order``) with ``args``."""
    customer = await signed_in_shopper(client)
    red, _black = await open_shop()
    return customer, await order_of(customer.id, red, *args, **fields)


async def post_on(client: AsyncClient, page: str, action: str, data: dict[str, str]) -> Response:
    """Open ``page`` (its CSRF token), then post ``data`` to ``action``."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    return await client.post(action, data={**data, "csrf_token": csrf_of(opened)}, headers=EN)
