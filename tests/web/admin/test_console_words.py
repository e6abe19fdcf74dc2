"""Defect 5 (console): Chinese console pages name things in words, not codes — order timeline
actors, the payment provider, stock adjustment reasons, listing findings' fields, permissions."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import catalog, inventory
from mercato.core.db import uow
from tests.api.aftersales.support import bought
from tests.factories.catalog import SYSTEM, make_product
from tests.factories.inventory import make_skus, make_warehouse, receive
from tests.web.pages import staff_sign_in

ZH = {"Accept-Language": "zh-CN"}

pytestmark = pytest.mark.usefixtures("handlers")


async def test_the_order_page_names_the_actor_and_the_payment_provider(client: AsyncClient) -> None:
    purchase = await bought(client, deliver=False)
    client.cookies.clear()
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    page = await client.get(f"/admin/orders/{purchase.order.number}", headers=ZH)

    assert page.status_code == 200
    assert f"<span> · 顾客 #{purchase.order.customer_id}</span>" in page.text
    assert "customer:" not in page.text
    assert "沙箱（测试支付）" in page.text
    assert ">sandbox<" not in page.text


async def test_the_ledger_names_the_adjustment_reason(client: AsyncClient) -> None:
    (sku_id,) = await make_skus(1)
    warehouse = await make_warehouse("WH1")
    await receive(sku_id, warehouse.id, 5)
    async with uow() as s:
        await inventory.adjust_stock(
            s,
            data=inventory.AdjustStock(
                sku_id=sku_id,
                warehouse_id=warehouse.id,
                delta=-1,
                reason=inventory.AdjustmentReason.damage,
                note="箱子压坏",
            ),
            actor=SYSTEM,
        )
    await staff_sign_in(client, "keeper@example.com", "inventory.read")

    page = await client.get("/admin/inventory/ledger", headers=ZH)

    assert '<td data-label="原因">损坏</td>' in page.text
    assert '<td data-label="备注">箱子压坏</td>' in page.text
    assert "damage:" not in page.text


async def test_the_review_queue_names_the_fields_of_its_findings(client: AsyncClient) -> None:
    product = await make_product(title="全网最低价")
    async with uow() as s:
        await catalog.add_banned_term(
            s, data=catalog.BannedTermCreate(term="最低价", language=catalog.TermLanguage.zh), actor=SYSTEM
        )
    await staff_sign_in(client, "writer@example.com", "catalog.read", "catalog.write")
    page = await client.get(f"/admin/catalog/products/{product.id}", headers=ZH)
    refused = await client.post(
        f"/admin/catalog/products/{product.id}/submit",
        data={"csrf_token": page.text.split('name="csrf_token" value="')[1].split('"')[0]},
        headers=ZH,
    )

    assert refused.status_code == 422
    assert "<li>标题 · 最低价: " in refused.text
    assert "<li>SKU: 至少需要一个启用的 SKU。</li>" in refused.text
    assert "title ·" not in refused.text
    assert "skus:" not in refused.text


async def test_staff_pages_show_permissions_in_words(client: AsyncClient) -> None:
    await staff_sign_in(client, "boss@example.com", "staff.manage", "orders.read")

    roles = await client.get("/admin/staff/roles", headers=ZH)
    form = await client.get("/admin/staff/roles/new", headers=ZH)
    dashboard = await client.get("/admin/", headers=ZH)

    assert '<span class="tag" title="orders.read">查看订单</span>' in roles.text
    assert '<span class="tag" title="staff.manage">创建员工账号、分配角色、编辑角色</span>' in roles.text
    assert 'title="orders.read">查看订单</label>' in form.text
    assert "<code>orders.read</code>" not in form.text
    assert '<li title="orders.read">查看订单</li>' in dashboard.text
