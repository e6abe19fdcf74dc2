"""The console cancels an unpaid order; money the gateway still takes for it is refunded by the
system, and the order page shows it: the payment refunded, the refund's row with its reason."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from httpx import AsyncClient

from mercato import payments
from mercato.core import events
from mercato.core.db import uow
from mercato.payments.providers.base import CloseResult, ProviderUnavailable
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.factories.payments import pay_on_gateway, read_payment
from tests.service.aftersales.support import read_order
from tests.web.pages import EN, csrf_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")


class GatewayClosesTooLate(SandboxProvider):
    async def close(self, provider_payment_id: str) -> CloseResult:
        raise ProviderUnavailable()


@pytest.fixture
def close_too_late() -> Iterator[None]:
    set_provider("sandbox", GatewayClosesTooLate())
    yield
    set_provider("sandbox", None)


async def test_money_after_a_console_cancel_is_refunded_and_shown_on_the_order_page(
    client: AsyncClient, close_too_late: None
) -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=3000, stock=5)
    order = await place(customer.id, (red, 1))
    async with uow() as s:
        opened = await payments.create_payment(
            s,
            reference=f"order:{order.id}",
            customer_id=customer.id,
            amount=order.total_amount,
            currency=order.currency,
            provider="sandbox",
            expires_in=dt.timedelta(minutes=30),
        )
    payment = await read_payment(opened.id)
    await staff_sign_in(client, "ops@example.com", "orders.read", "orders.write")
    url = f"/admin/orders/{order.number}"
    page = await client.get(url, headers=EN)

    done = await client.post(f"{url}/cancel", data={"csrf_token": csrf_of(page), "reason": "缺货"})
    closed_at_once = (await read_payment(payment.id)).status
    await pay_on_gateway(client, payment)
    for _ in range(3):
        await events.deliver_pending()
    shown = await client.get(url, headers=EN)

    assert done.status_code == 303
    assert closed_at_once is payments.PaymentStatus.closed
    assert (await read_order(order.id)).status.value == "cancelled"
    assert shown.status_code == 200
    text = re.sub(r"\s+", " ", shown.text)
    assert f"#{payment.id}</td>" in text
    assert '<td data-label="Status">Refunded</td>' in text
    assert "paid after the payment was closed: refunded automatically" in text
    assert '<td data-label="Refunded">System</td>' in text
