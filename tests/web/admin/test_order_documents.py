"""Packing lists and waybill sheets as PDFs (Chinese text, order numbers, the recipient masked
unless the staff member may see it in full, each full print audited), and the audited reveal of
a recipient's phone number on the order page."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato.core.db import uow
from mercato.fulfillment.models import Shipment
from tests.factories.spreadsheets import audit_entries
from tests.web.admin.order_tools_support import paid_orders, pdf_pages, pdf_text
from tests.web.pages import EN, csrf_of, hx_csrf_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")


async def print_documents(client: AsyncClient, kind: str, *numbers: str):  # type: ignore[no-untyped-def]
    page = await client.get("/admin/orders/", headers=EN)
    return await client.post(
        "/admin/orders/documents",
        data={"csrf_token": csrf_of(page), "kind": kind, "numbers": list(numbers)},
        headers=EN,
    )


async def test_packing_lists_of_the_chosen_orders(client: AsyncClient) -> None:
    first, second = await paid_orders(2, units=2)
    await staff_sign_in(client, "picker@example.com", "orders.read", "fulfillment.read")

    response = await print_documents(client, "packing", first.number, second.number)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="packings.pdf"'
    assert pdf_pages(response.content) == 2
    text = pdf_text(response.content)
    assert f"Order: {first.number}" in text
    assert f"Order: {second.number}" in text
    assert "纯棉圆领T恤（红色）" in text
    assert first.lines[0].sku_code in text
    assert "Recipient: 李** 138****8000  上海市 上海市 浦东新区" in text
    assert "李雷" not in text
    assert "13800138000" not in text
    assert "Pieces: 2" in text
    assert await audit_entries("orders.recipient_revealed") == []


async def test_waybills_show_the_recipient_in_full_only_with_the_permission(client: AsyncClient) -> None:
    (order,) = await paid_orders(1)
    async with uow() as s:
        s.add(
            Shipment(
                order_id=order.id,
                sub_order_id=order.sub_orders[0].id,
                warehouse_id=order.sub_orders[0].warehouse_id,
                customer_id=order.customer_id,
                carrier="shunfeng",
                tracking_number="SF1000000001",
                tracker="manual",
                status="shipped",
                carrier_state="",
                shipped_by="test",
                shipped_at=order.placed_at,
                subscribe_attempts=0,
                last_error="",
                updated_at=order.placed_at,
            )
        )
    staff_id = await staff_sign_in(
        client, "shipper@example.com", "orders.read", "fulfillment.read", "orders.reveal_pii"
    )

    full = await print_documents(client, "waybill", order.number)
    client.cookies.clear()
    await staff_sign_in(client, "clerk@example.com", "orders.read", "fulfillment.read")
    masked = await print_documents(client, "waybill", order.number)

    full_text = pdf_text(full.content)
    assert "李雷  13800138000" in full_text
    assert "上海市 上海市 浦东新区 世纪大道 100 号" in full_text
    assert "顺丰速运" in full_text
    assert "Tracking number: SF1000000001" in full_text
    assert f"Order: {order.number}" in full_text
    assert "仓库 W" in full_text  # the sender: the warehouse
    masked_text = pdf_text(masked.content)
    assert "李**  138****8000" in masked_text
    assert "李雷" not in masked_text
    assert "13800138000" not in masked_text
    entries = await audit_entries("orders.recipient_revealed")
    assert [(e.actor_id, e.object_id, e.after) for e in entries] == [
        (staff_id, str(order.id), {"number": order.number, "reason": "print"})
    ]


async def test_printing_needs_fulfillment_read_and_known_orders(client: AsyncClient) -> None:
    (order,) = await paid_orders(1)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    refused = await print_documents(client, "packing", order.number)
    client.cookies.clear()
    await staff_sign_in(client, "picker@example.com", "orders.read", "fulfillment.read")

    unknown = await print_documents(client, "packing", "NO-SUCH-1")

    assert refused.status_code == 403
    assert unknown.status_code == 404


async def test_the_full_phone_is_revealed_only_with_the_permission_and_audited(client: AsyncClient) -> None:
    (order,) = await paid_orders(1)
    url = f"/admin/orders/{order.number}"
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    page = await client.get(url, headers=EN)
    refused = await client.post(
        f"{url}/reveal", headers={**EN, "HX-Request": "true", "X-CSRF-Token": hx_csrf_of(page)}
    )

    assert "138****8000" in page.text
    assert "13800138000" not in page.text
    assert "Show full number" not in page.text
    assert refused.status_code == 403
    assert "13800138000" not in refused.text
    assert await audit_entries("orders.recipient_revealed") == []

    client.cookies.clear()
    staff_id = await staff_sign_in(client, "cs@example.com", "orders.read", "orders.reveal_pii")
    page = await client.get(url, headers=EN)
    no_token = await client.post(f"{url}/reveal", headers={**EN, "HX-Request": "true"})
    revealed = await client.post(
        f"{url}/reveal", headers={**EN, "HX-Request": "true", "X-CSRF-Token": hx_csrf_of(page)}
    )

    assert "Show full number" in page.text
    assert f'hx-post="{url}/reveal" hx-target="#recipient-contact" hx-swap="outerHTML"' in page.text
    assert "13800138000" not in page.text
    assert no_token.status_code == 403
    assert revealed.status_code == 200
    assert "<span data-revealed-phone>13800138000</span>" in revealed.text
    assert "<html" not in revealed.text
    entries = await audit_entries("orders.recipient_revealed")
    assert [(e.actor_id, e.object_id, e.after) for e in entries] == [
        (staff_id, str(order.id), {"number": order.number, "reason": "reveal"})
    ]


async def test_revealing_without_javascript_shows_the_order_page(client: AsyncClient) -> None:
    (order,) = await paid_orders(1)
    url = f"/admin/orders/{order.number}"
    await staff_sign_in(client, "cs@example.com", "orders.read", "orders.reveal_pii")
    page = await client.get(url, headers=EN)

    revealed = await client.post(f"{url}/reveal", data={"csrf_token": csrf_of(page)}, headers=EN)

    assert revealed.status_code == 200
    assert f"Order {order.number}" in revealed.text
    assert "<span data-revealed-phone>13800138000</span>" in revealed.text
