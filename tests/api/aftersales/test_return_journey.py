"""The shopper's return over the API, from a sandbox-paid, delivered order to the refund landing
back on the same payment: stock, ledger, payment, audit and timeline checked exactly at the end.
Also the exchange path and a refund before shipment that closes the whole order."""

from __future__ import annotations

import datetime as dt

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from mercato import inventory, orders, payments
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.api.aftersales.support import bought, staff
from tests.service.aftersales.support import payment_of, read_order, stock

ADMIN = "/api/v1/admin/aftersales"


pytestmark = pytest.mark.usefixtures("handlers")


async def test_a_shopper_returns_one_of_two_units_and_gets_the_money_back(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2)
    cs = await staff("cs@example.com", "aftersales.read", "aftersales.write")
    warehouse = await staff("wh@example.com", "aftersales.receive")
    assert await stock(purchase.red, purchase.warehouse_id) == (3, 0)

    created = await client.post(
        "/api/v1/aftersales",
        json=purchase.request(quantity=1, description="颜色不喜欢"),
        headers=purchase.auth,
    )
    request_id = created.json()["id"]
    clock.advance(dt.timedelta(hours=2))
    approved = await client.post(f"{ADMIN}/{request_id}/approve", json={"reason": "同意退货"}, headers=cs)
    sent = await client.post(
        f"/api/v1/aftersales/{request_id}/ship-back",
        json={"carrier": "顺丰", "tracking_number": "SF1029384756"},
        headers=purchase.auth,
    )
    clock.advance(dt.timedelta(hours=1))
    received = await client.post(
        f"{ADMIN}/{request_id}/receive", json={"resellable": 1, "note": "吊牌完好"}, headers=warehouse
    )
    await events.deliver_pending()  # PaymentRefunded → refunded → completed
    mine = await client.get(f"/api/v1/aftersales/{request_id}", headers=purchase.auth)
    listed = await client.get("/api/v1/aftersales", headers=purchase.auth)
    seen_by_staff = await client.get(f"{ADMIN}/{request_id}", headers=cs)

    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["refund_amount"], created.json()["number"][:2]) == (
        "requested",
        3000,
        "AS",
    )
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert (sent.status_code, sent.json()["return_parcel"]["tracking_number"]) == (200, "SF1029384756")
    assert (received.status_code, received.json()["status"]) == (200, "refunding")
    view = mine.json()
    assert (view["status"], view["total_refund_amount"], view["refund_status"]) == (
        "completed",
        3000,
        "succeeded",
    )
    assert view["grading"] | {"received_at": None} == {
        "warehouse_id": purchase.warehouse_id,
        "resellable": 1,
        "defective": 0,
        "scrap": 0,
        "received_at": None,
    }
    assert [
        (s["from_status"], s["status"], s["actor"], s["actor_label"], s["response_seconds"])
        for s in view["timeline"]
    ] == [
        (None, "requested", "customer", None, None),
        ("requested", "approved", "shop", None, 7200),
        ("approved", "shipped_back", "customer", None, None),
        ("shipped_back", "received", "shop", None, 3600),
        ("received", "refunding", "shop", None, None),
        ("refunding", "refunded", "system", None, None),
        ("refunded", "completed", "system", None, None),
    ]
    assert [s["reason"] for s in view["timeline"]][:2] == ["颜色不喜欢", "同意退货"]
    assert [s["actor_label"] for s in seen_by_staff.json()["timeline"]][1:2] == ["cs@example.com"]
    assert [(x["id"], x["status"]) for x in listed.json()["items"]] == [(request_id, "completed")]
    assert await stock(purchase.red, purchase.warehouse_id) == (4, 0)
    async with uow(write=False) as s:
        ledger = await inventory.list_ledger(s, reference=f"aftersales:{request_id}")
        refunds = await payments.list_refunds(s, payment_id=purchase.order.payment_id)
        audits = (
            await s.execute(
                select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.object_id)
                .where(AuditEntry.action.like("aftersales.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [
        (e.kind, e.sku_id, e.warehouse_id, e.on_hand_delta, e.on_hand_after, e.actor_label)
        for e in ledger.items
    ] == [(inventory.LedgerKind.receipt, purchase.red, purchase.warehouse_id, 1, 4, "wh@example.com")]
    assert [(r.amount, r.status, r.reason) for r in refunds] == [
        (3000, payments.RefundStatus.succeeded, f"after-sales {view['number']}")
    ]
    payment = await payment_of(purchase.order)
    assert (payment.status, payment.refunded_amount, payment.amount) == (
        payments.PaymentStatus.partially_refunded,
        3000,
        7000,
    )
    assert audits == [
        ("aftersales.approve", "cs@example.com", str(request_id)),
        ("aftersales.receive", "wh@example.com", str(request_id)),
    ]
    assert (await read_order(purchase.order.id)).status is orders.OrderStatus.delivered


async def test_an_exchange_over_the_api(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2)
    cs = await staff("cs@example.com", "aftersales.read", "aftersales.write", "aftersales.receive")

    request_id = (
        await client.post(
            "/api/v1/aftersales",
            json=purchase.request("exchange", reason_code="size_fit"),
            headers=purchase.auth,
        )
    ).json()["id"]
    await client.post(f"{ADMIN}/{request_id}/approve", json={}, headers=cs)
    await client.post(
        f"/api/v1/aftersales/{request_id}/ship-back",
        json={"carrier": "中通", "tracking_number": "ZT778899"},
        headers=purchase.auth,
    )
    await client.post(f"{ADMIN}/{request_id}/receive", json={"resellable": 1}, headers=cs)
    shipped = await client.post(
        f"{ADMIN}/{request_id}/ship-replacement",
        json={"carrier": "京东", "tracking_number": "JD5566"},
        headers=cs,
    )

    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert (body["status"], body["replacement_parcel"]["tracking_number"], body["total_refund_amount"]) == (
        "completed",
        "JD5566",
        0,
    )
    assert [s["status"] for s in body["timeline"]] == [
        "requested",
        "approved",
        "shipped_back",
        "received",
        "replacement_shipped",
        "completed",
    ]
    assert await stock(purchase.red, purchase.warehouse_id) == (3, 0)  # one back in, one out again
    assert (await payment_of(purchase.order)).refunded_amount == 0


async def test_a_refund_before_shipment_of_everything_closes_the_order(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2, deliver=False)
    cs = await staff("cs@example.com", "aftersales.write")
    assert await stock(purchase.red, purchase.warehouse_id) == (5, 2)

    request_id = (
        await client.post(
            "/api/v1/aftersales",
            json=purchase.request("refund_only", quantity=2, reason_code="not_wanted"),
            headers=purchase.auth,
        )
    ).json()["id"]
    approved = await client.post(f"{ADMIN}/{request_id}/approve", json={"reason": "未发货，同意"}, headers=cs)
    await events.deliver_pending()
    mine = (await client.get(f"/api/v1/aftersales/{request_id}", headers=purchase.auth)).json()

    assert (approved.json()["status"], approved.json()["shipping_refund_amount"]) == ("refunding", 1000)
    assert (mine["status"], mine["before_shipment"], mine["total_refund_amount"]) == ("completed", True, 7000)
    assert (await read_order(purchase.order.id)).status is orders.OrderStatus.closed
    assert await stock(purchase.red, purchase.warehouse_id) == (5, 0)
    payment = await payment_of(purchase.order)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.refunded, 7000)
