"""Reasons the system writes on an order's timeline ("placed", "payment 3 captured", "completed
automatically after delivery", "refunded in full by after-sales …") are translated in the console;
a cancellation's typed reason is shown as typed, and steps written before are still recognised."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from httpx import AsyncClient
from sqlalchemy import update

from mercato import aftersales, checkout, fulfillment, identity, orders
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.orders.models import Order, OrderStatusChange
from tests.factories.orders import place
from tests.service.aftersales.support import SHOP, paid_order, read_order, request_for
from tests.service.fulfillment.factories import STAFF, ship
from tests.web.pages import EN, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")

ZH = {"Accept-Language": "zh-CN"}
SYSTEM = identity.Actor(staff_id=None, label="system")


def notes(page: str) -> list[str]:
    return re.findall(r"<span> · ([^<]*)</span></li>", page)


async def completed_order() -> orders.OrderRead:
    """Paid, shipped with YTO, signed for by hand and completed automatically after delivery."""
    bought = await paid_order()
    order = bought.order
    shipment = await ship(order.id, order.sub_orders[0].id, "YT1000000001")
    async with uow() as s:
        await fulfillment.add_tracking_event(
            s,
            shipment_id=shipment.id,
            data=fulfillment.TrackingEventCreate(
                status=fulfillment.TrackingStatus.delivered, context="已签收"
            ),
            actor=STAFF,
        )
    async with uow() as s:
        await s.execute(
            update(Order).where(Order.id == order.id).values(delivered_at=clock.now() - dt.timedelta(days=30))
        )
        assert await orders.complete_delivered_orders(s) == 1
    return await read_order(order.id)


async def console_page(client: AsyncClient, number: str, headers: dict[str, str]) -> str:
    page = await client.get(f"/admin/orders/{number}", headers=headers)
    assert page.status_code == 200
    return page.text


async def test_system_notes_are_translated_in_the_console(client: AsyncClient) -> None:
    order = await completed_order()
    payment_id = order.payment_id
    assert [(step.note, step.details) for step in order.history] == [
        ("placed", {}),
        ("payment %(payment_id)s captured", {"payment_id": str(payment_id)}),
        (
            "shipped with %(carrier)s %(tracking_number)s",
            {"carrier": "yuantong", "tracking_number": "YT1000000001"},
        ),
        ("signed for (recorded by hand)", {}),
        ("completed automatically after delivery", {}),
    ]
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    zh = await console_page(client, order.number, ZH)
    en = await console_page(client, order.number, EN)

    assert notes(zh) == [
        "下单",
        f"支付 {payment_id} 已到账",
        "已发货（yuantong YT1000000001）",
        "已签收（人工录入）",
        "签收后自动确认收货",
    ]
    assert notes(en) == [
        "placed",
        f"payment {payment_id} captured",
        "shipped with yuantong YT1000000001",
        "signed for (recorded by hand)",
        "completed automatically after delivery",
    ]


async def test_a_typed_cancel_reason_is_shown_as_typed_and_not_paid_in_time_translated(
    client: AsyncClient,
) -> None:
    bought = await paid_order()
    typed = await place(bought.customer_id, (bought.red, 1))
    timed_out = await place(bought.customer_id, (bought.red, 1))
    async with uow() as s:
        await checkout.cancel_order(s, order_id=typed.id, reason="placed", actor=STAFF)
        await checkout.cancel_order(s, order_id=timed_out.id, reason=orders.NOT_PAID_IN_TIME, actor=SYSTEM)
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    typed_page = await console_page(client, typed.number, ZH)
    timed_out_page = await console_page(client, timed_out.number, ZH)

    assert notes(typed_page) == ["下单", "placed"]
    assert notes(timed_out_page) == ["下单", "超时未支付"]


async def test_an_order_refunded_in_full_by_after_sales_says_so_in_words(client: AsyncClient) -> None:
    bought = await paid_order(units=2)
    async with uow() as s:
        opened = await aftersales.create_request(
            s,
            customer_id=bought.customer_id,
            data=request_for(bought, aftersales.AftersalesKind.refund_only, quantity=2),
        )
    async with uow() as s:
        await aftersales.approve_request(s, request_id=opened.id, data=aftersales.Decide(), actor=SHOP)
    await events.deliver_pending()
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    zh = await console_page(client, bought.order.number, ZH)
    en = await console_page(client, bought.order.number, EN)

    assert notes(zh)[-1] == f"售后 {opened.number} 已全额退款"
    assert notes(en)[-1] == f"refunded in full by after-sales {opened.number}"


async def test_steps_written_before_are_still_translated(client: AsyncClient) -> None:
    order = await completed_order()
    async with uow() as s:  # as the manual tracker's signed-for step was worded before
        await s.execute(
            update(OrderStatusChange)
            .where(OrderStatusChange.order_id == order.id, OrderStatusChange.to_status == "delivered")
            .values(reason="signed for (manual)")
        )
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    zh = await console_page(client, order.number, ZH)

    assert notes(zh)[3] == "已签收（人工录入）"
