"""After-sales API test support: an order bought through checkout and paid at the sandbox gateway
(as tests/api/checkout/test_checkout_flow.py does), then shipped and delivered; staff clients."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from httpx import AsyncClient

from mercato import orders
from mercato.core import events
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_staff, staff_headers
from tests.factories.payments import pay_on_gateway, read_payment
from tests.service.aftersales.support import read_order, ship_and_deliver

_keys = itertools.count(1)


@dataclass(frozen=True)
class Purchase:
    auth: dict[str, str]
    order: orders.OrderRead
    red: int

    @property
    def line(self) -> orders.OrderLineRead:
        return self.order.lines[0]

    @property
    def warehouse_id(self) -> int:
        return self.order.sub_orders[0].warehouse_id

    def request(self, kind: str = "return_refund", quantity: int = 1, **fields: object) -> dict[str, object]:
        return {
            "order_id": self.order.id,
            "order_line_id": self.line.id,
            "kind": kind,
            "quantity": quantity,
            "reason_code": "no_reason",
            **fields,
        }


async def bought(client: AsyncClient, *, quantity: int = 2, deliver: bool = True) -> Purchase:
    """Two red T-shirts at 30 元 (shipping 10 元) bought and paid through checkout and the sandbox
    gateway, then shipped and delivered (``deliver=False``: paid only). Handlers must be registered."""
    auth, address_id, red = await shopper_with_cart(client, quantity=quantity)
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    done = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": f"aftersales-{next(_keys):04d}"},
    )
    assert done.status_code == 200, done.text
    await pay_on_gateway(client, await read_payment(done.json()["payment_id"]))
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → cart
    order_id = done.json()["order_id"]
    order = await (ship_and_deliver(order_id) if deliver else read_order(order_id))
    assert order.status is (orders.OrderStatus.delivered if deliver else orders.OrderStatus.paid)
    return Purchase(auth, order, red)


async def staff(email: str, *permissions: str) -> dict[str, str]:
    """Headers of a staff member holding exactly ``permissions``."""
    member = await make_staff(email=email, permissions=list(permissions))
    return await staff_headers(member.id)
