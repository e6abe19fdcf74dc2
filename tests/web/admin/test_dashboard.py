"""The console dashboard: today's and the last 30 days' paid orders, GMV, paying customers and
average order value (analytics.read), with the daily series for the chart and the same numbers
in a table; unpaid and cancelled orders do not count."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

from httpx import AsyncClient

from mercato import identity, orders
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place
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
