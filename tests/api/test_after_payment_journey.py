"""What happens after "pay", end to end over HTTP, for each gateway (the sandbox, Alipay, WeChat
Pay, Stripe — each with its own notification format): pay → staff ship → Kuaidi100 pushes the
parcel signed for → delivered → the shopper returns one of two units → approved, sent back,
received and graded → refunded through the same gateway. At the end stock, ledger, order,
payment and the shopper's messages are checked exactly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from httpx import AsyncClient

from mercato import inventory, orders, payments
from mercato.core import events
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_staff, staff_headers
from tests.factories.payments import pay_on_gateway, read_payment
from tests.providers.fake_alipay import FakeAlipay, running_fake_alipay
from tests.providers.fake_alipay import configure as use_fake_alipay
from tests.providers.fake_kuaidi100 import FakeKuaidi100, running_fake_kuaidi100, step, use_fake
from tests.providers.fake_stripe import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    running_fake_stripe,
)
from tests.providers.fake_stripe import sign as stripe_sign
from tests.providers.fake_wechatpay import FakeWeChatPay, running_fake_wechatpay
from tests.providers.fake_wechatpay import configure as use_fake_wechatpay

TOTAL = 7000  # two T-shirts at 30 元 and 10 元 shipping


pytestmark = pytest.mark.usefixtures("handlers")


@dataclass
class Gateways:
    alipay: FakeAlipay
    wechatpay: FakeWeChatPay
    stripe: FakeStripe
    kuaidi100: FakeKuaidi100


@pytest.fixture
async def gateways(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateways]:
    """Every gateway's local server, and the shop configured for all of them at once."""
    async with (
        running_fake_alipay() as alipay,
        running_fake_wechatpay() as wechatpay,
        running_fake_stripe() as stripe,
        running_fake_kuaidi100() as kuaidi100,
    ):
        use_fake_alipay(monkeypatch, alipay)
        use_fake_wechatpay(monkeypatch, wechatpay)
        use_fake(monkeypatch, kuaidi100)
        for name, value in {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": stripe.base_url,
            "PAYMENT_PROVIDERS": '["sandbox", "alipay", "wechatpay", "stripe"]',
        }.items():
            monkeypatch.setenv(f"MERCATO_{name}", value)
        get_settings.cache_clear()
        yield Gateways(alipay, wechatpay, stripe, kuaidi100)
    get_settings.cache_clear()


async def staff(email: str, *permissions: str) -> dict[str, str]:
    return await staff_headers((await make_staff(email=email, permissions=list(permissions))).id)


async def settle() -> None:
    """Deliver the outbox until nothing is left (handlers may write further events)."""
    for _ in range(4):
        await events.deliver_pending()


async def pay(client: AsyncClient, provider: str, fakes: Gateways, payment: payments.PaymentRead) -> None:
    """The shopper pays at the gateway, which then notifies the shop its own way."""
    if provider == "sandbox":
        await pay_on_gateway(client, payment)
        return
    if provider == "alipay":
        assert payment.pay_url is not None
        async with httpx.AsyncClient() as browser:  # the cashier page opens the trade at Alipay
            assert (await browser.get(payment.pay_url)).status_code == 200
        fakes.alipay.pay(str(payment.id))
        answer = await fakes.alipay.notify(client, str(payment.id))
    elif provider == "wechatpay":
        paid = fakes.wechatpay.pay(str(payment.id).zfill(6))  # the shopper scans the Native code
        answer = await fakes.wechatpay.notify(
            client, fakes.wechatpay.transaction_notification(paid.out_trade_no)
        )
    else:
        assert payment.provider_payment_id is not None
        event = json.dumps(
            fakes.stripe.event("payment_intent.succeeded", fakes.stripe.pay(payment.provider_payment_id))
        )
        answer = await client.post(
            "/api/v1/payments/notify/stripe",
            content=event.encode(),
            headers={"Stripe-Signature": stripe_sign(event.encode()), "Content-Type": "application/json"},
        )
    assert (answer.status_code, answer.text) == (200, "success")


@pytest.mark.parametrize("provider", ["sandbox", "alipay", "wechatpay", "stripe"])
async def test_paid_shipped_delivered_returned_and_refunded_through_the_same_gateway(
    client: AsyncClient, gateways: Gateways, provider: str
) -> None:
    auth, address_id, red = await shopper_with_cart(client, quantity=2)
    shipper = await staff("ship@example.com", "fulfillment.read", "fulfillment.write")
    service = await staff("cs@example.com", "aftersales.read", "aftersales.write", "aftersales.receive")

    placed = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": TOTAL, "provider": provider},
        headers={**auth, "Idempotency-Key": f"journey-{provider}"},
    )
    assert placed.status_code == 200, placed.text
    order_id, payment_id = placed.json()["order_id"], placed.json()["payment_id"]
    await pay(client, provider, gateways, await read_payment(payment_id))
    await settle()
    [part] = (await client.get(f"/api/v1/orders/{order_id}", headers=auth)).json()["sub_orders"]
    warehouse = part["warehouse_id"]

    shipped = await client.post(
        "/api/v1/admin/fulfillment/shipments",
        json={
            "order_id": order_id,
            "sub_order_id": part["id"],
            "carrier": "yuantong",
            "tracking_number": "YT8800000001",
        },
        headers=shipper,
    )
    await settle()  # the parcel is subscribed at Kuaidi100 after the commit
    signed_for = step("2026-11-28 12:00:00", "【杭州市】已签收，签收人：本人", "签收")
    pushed = await client.post(
        "/api/v1/fulfillment/notify/kuaidi100",
        data=gateways.kuaidi100.push_form("yuantong", "YT8800000001", state="3", data=[signed_for]),
    )
    await settle()
    delivered = (await client.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
    line = delivered["lines"][0]

    request = await client.post(
        "/api/v1/aftersales",
        json={
            "order_id": order_id,
            "order_line_id": line["id"],
            "kind": "return_refund",
            "quantity": 1,
            "reason_code": "no_reason",
            "description": "尺码不合适",
        },
        headers=auth,
    )
    request_id = request.json()["id"]
    await client.post(
        f"/api/v1/admin/aftersales/{request_id}/approve", json={"reason": "同意"}, headers=service
    )
    await client.post(
        f"/api/v1/aftersales/{request_id}/ship-back",
        json={"carrier": "圆通", "tracking_number": "YT9900000001"},
        headers=auth,
    )
    received = await client.post(
        f"/api/v1/admin/aftersales/{request_id}/receive", json={"resellable": 1}, headers=service
    )
    await settle()

    assert (shipped.status_code, pushed.status_code, request.status_code) == (201, 200, 201), (
        shipped.text,
        pushed.text,
        request.text,
    )
    assert received.status_code == 200, received.text
    assert delivered["status"] == "delivered"
    final = (await client.get(f"/api/v1/aftersales/{request_id}", headers=auth)).json()
    assert (final["status"], final["total_refund_amount"]) == ("completed", 3000)
    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=order_id)
        payment = await payments.get_payment(s, payment_id=payment_id)
        refunds = await payments.list_refunds(s, payment_id=payment_id)
        [level] = (await inventory.get_stock_levels(s, sku_ids=[red]))[red]
        ledger = await inventory.list_ledger(s, sku_id=red)
        problems = (await inventory.verify_stock(s)).problems
    assert order.status is orders.OrderStatus.delivered
    assert (payment.provider, payment.status, payment.amount, payment.refunded_amount) == (
        provider,
        payments.PaymentStatus.partially_refunded,
        TOTAL,
        3000,
    )
    assert [(r.amount, r.status) for r in refunds] == [(3000, payments.RefundStatus.succeeded)]
    assert (level.warehouse_id, level.on_hand, level.reserved) == (warehouse, 4, 0)  # 5 − 2 shipped + 1 back
    assert sorted((e.kind, e.on_hand_delta, e.reserved_delta, e.reference) for e in ledger.items) == sorted(
        [
            (inventory.LedgerKind.receipt, 5, 0, ""),
            (inventory.LedgerKind.reserve, 0, 2, f"order:{order_id}"),
            (inventory.LedgerKind.ship, -2, -2, f"order:{order_id}"),
            (inventory.LedgerKind.receipt, 1, 0, f"aftersales:{request_id}"),
        ]
    )
    assert problems == []
    messages = (await client.get("/api/v1/me/messages", headers=auth)).json()["items"]
    assert [m["kind"] for m in reversed(messages)] == [
        "order_paid",
        "order_shipped",
        "order_delivered",
        "aftersales_decided",
        "refund_succeeded",
    ]
