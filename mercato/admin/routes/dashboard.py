"""The console's dashboard: the to-dos the staff member may act on (orders to ship, after-sales
requests waiting for an answer, listings to review, low stock), each a count linking to the list
that shows exactly those; who is signed in with which permissions; and — for staff holding
``analytics.read`` ("See reports and dashboards") — today's and the last 30 days' paid orders,
GMV, paying customers and average order value, with a daily chart (ECharts) and the same numbers
in a table. The figures come from ``orders.sales_summary`` (which orders count is defined there);
each count from its domain's front door.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mercato import aftersales, catalog, identity, inventory, orders
from mercato.admin.routes._shared import staff_for, to_login
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.core.money import Money, exponent
from mercato.core.settings import get_settings
from mercato.web.forms import locale_of
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

SALES_PERMISSION = "analytics.read"
DAYS = 30


async def _to_ship(session: AsyncSession) -> int:
    counts = await orders.count_orders_by_status(session, customer_id=None)
    return counts[orders.OrderStatus.paid]


@dataclass(frozen=True)
class Task:
    """A dashboard to-do: its label (msgid), the permission that shows it, the list it links to
    (which lists exactly what ``count`` counts) and the count."""

    key: str
    label: str
    permission: str
    url: str
    count: Callable[[AsyncSession], Awaitable[int]]


TASKS = (
    Task("to_ship", N_("Orders to ship"), "orders.read", "/admin/orders/?status=paid", _to_ship),
    Task(
        "aftersales",
        N_("After-sales waiting for you"),
        "aftersales.read",
        "/admin/aftersales/?waiting=1",
        aftersales.count_waiting_requests,
    ),
    Task(
        "review",
        N_("Listings to review"),
        "catalog.review",
        "/admin/catalog/review",
        catalog.count_review_queue,
    ),
    Task(
        "low_stock",
        N_("Low stock"),
        "inventory.read",
        "/admin/inventory/low-stock",
        inventory.count_low_stock,
    ),
)


def chart_data(summary: orders.SalesSummary, locale: str) -> dict[str, Any]:
    """What dashboard.js draws: one label per day, orders and GMV (minor units, with the
    formatted amount for the tooltip); ``scale`` turns minor units into the axis' major units."""
    return {
        "labels": [format_date(day.day, format="MMM d", locale=locale) for day in summary.daily],
        "orders": [day.orders for day in summary.daily],
        "gmv": [day.gmv_amount for day in summary.daily],
        "gmv_text": [Money(day.gmv_amount, summary.currency).format(locale) for day in summary.daily],
        "scale": 10 ** exponent(summary.currency),
    }


@router.get("/")
async def dashboard(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, None)
        if auth is None:
            return to_login(request)
        tasks = [(task, await task.count(session)) for task in TASKS if auth.staff.has(task.permission)]
        summary = None
        if auth.staff.has(SALES_PERMISSION):
            today = clock.now().astimezone(get_settings().tz).date()
            summary = await orders.sales_summary(session, today=today, days=DAYS)
    permissions = sorted(identity.PERMISSIONS) if auth.staff.is_superuser else auth.staff.permissions
    return render(
        request,
        "admin/dashboard.html",
        staff=auth.staff,
        tasks=tasks,
        permissions=permissions,
        summary=summary,
        chart=chart_data(summary, locale_of(request)) if summary else None,
    )
