"""The shopper cancels on the order page, then pays on the gateway page still open in another tab:
the money goes back by itself, and the result page says so (in the shopper's language)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from httpx import AsyncClient

from mercato import orders, payments
from mercato.core import events
from mercato.core.db import uow
from mercato.payments.providers.base import CloseResult, ProviderUnavailable
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from tests.factories.payments import pay_on_gateway, read_payment
from tests.web.storefront.shopping import post_on, shopper_with_order, unpaid_order

pytestmark = pytest.mark.usefixtures("handlers")

REFUNDED_EN = (
    "This order was cancelled. The money paid for it is refunded automatically to where it came from."
)
REFUNDED_ZH = "该订单已取消。已支付的款项将自动原路退回。"


class GatewayClosesTooLate(SandboxProvider):
    async def close(self, provider_payment_id: str) -> CloseResult:
        raise ProviderUnavailable()


@pytest.fixture
def close_too_late() -> Iterator[None]:
    set_provider("sandbox", GatewayClosesTooLate())
    yield
    set_provider("sandbox", None)


async def test_money_paid_after_cancelling_on_the_order_page_is_refunded_and_said_so(
    client: AsyncClient, close_too_late: None
) -> None:
    customer, order = await shopper_with_order(client, unpaid_order, 1)
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
    url = f"/account/orders/{order.number}"

    cancelled = await post_on(client, url, f"{url}/cancel", {"reason": "I no longer want it"})
    await pay_on_gateway(client, payment)
    for _ in range(3):
        await events.deliver_pending()
    en = await client.get(f"/checkout/result/{order.number}", headers={"Accept-Language": "en"})
    zh = await client.get(f"/checkout/result/{order.number}", headers={"Accept-Language": "zh-CN"})

    assert (cancelled.status_code, cancelled.headers["location"]) == (303, f"{url}?notice=cancelled")
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.refunded, order.total_amount)
    async with uow(write=False) as s:
        assert (await orders.read_order(s, order_id=order.id)).status is orders.OrderStatus.cancelled
    assert (en.status_code, zh.status_code) == (200, 200)
    assert 'data-outcome="cancelled"' in en.text
    assert REFUNDED_EN in en.text
    assert REFUNDED_ZH in zh.text
