"""The console dashboard: today's and the last 30 days' paid orders, GMV, paying customers and
average order value (analytics.read), with the daily series for the chart and the same numbers
in a table; unpaid and cancelled orders do not count."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from httpx import AsyncClient

from mercato import aftersales, catalog, identity, inventory, orders
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.catalog import make_priced_product
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.service.aftersales.support import Bought, paid_order, pay, request_for, ship_and_deliver
from tests.web.pages import EN, staff_sign_in

SYSTEM = identity.Actor(staff_id=None, label="system")


async def paid(order: orders.OrderRead) -> orders.OrderRead:
    async with uow() as s:
        assert await orders.mark_order_paid(
            s, reference=f"order:{order.id}", payment_id=1, amount=order.total_amount, currency=order.currency
        )
        return await orders.read_order(s, order_id=order.id)


def kpis(page: str, section: str) -> dict[str, str]:
    """The figures of the panel titled by ``section`` ("today-title" or "period-title")."""
    start = page.index(f'id="{section}"')
    block = page[start : page.index("</section>", start)]
    return dict(re.findall(r'<dd data-kpi="([a-z]+)">([^<]*)</dd>', block))


def chart_of(page: str) -> dict[str, object]:
    match = re.search(r"data-sales-chart='([^']*)'", page)
    assert match is not None
    data: dict[str, object] = json.loads(html.unescape(match.group(1)))
    return data


async def test_the_dashboard_shows_paid_orders_of_today_and_the_last_30_days(client: AsyncClient) -> None:
    alice, bob = await make_customer(), await make_customer()
    red, black = await listed_skus(price=1001, stock=50)
    yesterday_a = await paid(await place(alice.id, (red, 2)))
    yesterday_b = await paid(await place(bob.id, (black, 1)))
    clock.advance(dt.timedelta(days=1))
    today_a = await paid(await place(alice.id, (red, 1)))
    today_b = await paid(await place(alice.id, (black, 2)))
    await place(bob.id, (red, 5))  # unpaid: does not count
    cancelled = await place(bob.id, (black, 4))
    async with uow() as s:
        await orders.cancel_order(s, order_id=cancelled.id, reason="test", actor=SYSTEM)
    await staff_sign_in(client, "analyst@example.com", "analytics.read")

    page = await client.get("/admin/")

    assert page.status_code == 200
    assert [o.total_amount for o in (yesterday_a, yesterday_b, today_a, today_b)] == [2002, 1001, 1001, 2002]
    assert kpis(page.text, "today-title") == {
        "orders": "2",
        "gmv": "¥30.03",
        "customers": "1",
        "aov": "¥15.02",  # 3003 / 2 = 1501.5 → 1502 (half up)
    }
    assert kpis(page.text, "period-title") == {
        "orders": "4",
        "gmv": "¥60.06",
        "customers": "2",
        "aov": "¥15.02",
    }
    chart = chart_of(page.text)
    assert chart["orders"] == [0] * 28 + [2, 2]
    assert chart["gmv"] == [0] * 28 + [3003, 3003]
    assert chart["scale"] == 100
    gmv_text = chart["gmv_text"]
    assert isinstance(gmv_text, list)
    assert gmv_text[-2:] == ["¥30.03", "¥30.03"]
    assert page.text.count("<tr>") == 1 + 30  # the accessible table: header + one row per day
    assert 'src="/static/build/charts.min.js"' in page.text
    assert 'src="/static/dashboard.js"' in page.text
    assert "htmx.min.js" not in page.text  # the dashboard ships only the chart's JavaScript
    assert "<script>" not in page.text  # no inline script with data


async def test_without_analytics_read_the_dashboard_has_no_sales_figures(client: AsyncClient) -> None:
    customer = await make_customer()
    (red, _black) = await listed_skus(price=3000, stock=5)
    await paid(await place(customer.id, (red, 1)))
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    page = await client.get("/admin/", headers=EN)

    assert page.status_code == 200
    assert 'id="today-title"' not in page.text
    assert "data-sales-chart" not in page.text
    assert "charts.min.js" not in page.text
    assert 'href="/admin/orders/"' in page.text


async def test_an_empty_shop_shows_zeros(client: AsyncClient) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)

    page = await client.get("/admin/", headers=EN)

    assert kpis(page.text, "today-title") == {
        "orders": "0",
        "gmv": "CN¥0.00",
        "customers": "0",
        "aov": "CN¥0.00",
    }
    assert chart_of(page.text)["orders"] == [0] * 30


# --- To-dos: each count equals the rows of the list it links to --------------------------------


def _todos(page: str) -> dict[str, tuple[str, int]]:
    found = re.findall(r'<a href="([^"]+)" data-todo="([a-z_]+)"><span class="todo-count">(\d+)</span>', page)
    return {key: (html.unescape(url), int(count)) for url, key, count in found}


def _table_rows(page: str) -> int:
    body = page[page.index("<tbody>") : page.index("</tbody>")] if "<tbody>" in page else ""
    return body.count("<tr")


@pytest.mark.usefixtures("handlers")
async def test_the_to_dos_count_exactly_what_their_lists_show(client: AsyncClient) -> None:
    shipping = await paid_order()
    await pay(await place(shipping.customer_id, (shipping.red, 1)), shipping.customer_id)
    third = await pay(await place(shipping.customer_id, (shipping.black, 1)), shipping.customer_id)
    returned = Bought(
        shipping.customer_id,
        await ship_and_deliver(third.id),
        shipping.red,
        shipping.black,
        shipping.warehouse_id,
    )
    async with uow() as s:
        await aftersales.create_request(s, customer_id=returned.customer_id, data=request_for(returned))
        await inventory.set_safety_stock(
            s,
            data=inventory.SetSafetyStock(
                sku_id=shipping.red, warehouse_id=shipping.warehouse_id, safety_stock=100
            ),
            actor=SYSTEM,
        )
    product, _skus = await make_priced_product()
    async with uow() as s:
        await catalog.submit_for_review(s, product_id=product.id, actor=SYSTEM)
    await staff_sign_in(client, "root@example.com", superuser=True)

    page = await client.get("/admin/", headers=EN)
    todos = _todos(page.text)
    lists = {key: await client.get(url, headers=EN) for key, (url, _count) in todos.items()}

    assert todos == {
        "to_ship": ("/admin/orders/?status=paid", 2),
        "aftersales": ("/admin/aftersales/?waiting=1", 1),
        "review": ("/admin/catalog/review", 1),
        "low_stock": ("/admin/inventory/low-stock", 1),
    }
    assert _table_rows(lists["to_ship"].text) == 2
    assert _table_rows(lists["aftersales"].text) == 1
    assert lists["review"].text.count('class="panel review-item"') == 1
    assert _table_rows(lists["low_stock"].text) == 1


async def test_only_the_to_dos_the_staff_member_may_see_are_shown(client: AsyncClient) -> None:
    await staff_sign_in(client, "clerk@example.com", "orders.read", "inventory.read")

    page = await client.get("/admin/", headers=EN)

    assert _todos(page.text) == {
        "to_ship": ("/admin/orders/?status=paid", 0),
        "low_stock": ("/admin/inventory/low-stock", 0),
    }
    assert "Orders to ship" in page.text
    assert "Listings to review" not in page.text
