"""Caps on what one customer may hold without paying, checked when an order is placed.

An unpaid order holds its stock for ``order_pay_minutes``: without a cap one account could hold
a SKU's whole stock with a few orders it never pays, renewing them as they time out, while every
other shopper hears "insufficient stock". ``check_unpaid_limits`` is the one place the rule
lives: ``MERCATO_MAX_UNPAID_ORDERS`` unpaid orders per customer, and
``MERCATO_MAX_UNPAID_UNITS_PER_SKU`` units of one SKU across them. The risk rules to come (a
``risk`` domain: caps per product or campaign, trusted or suspicious customers) take the cap over
here, by giving placement another function with the same contract; placement itself need not
change.

Concurrency: the check counts, then placement inserts, so two placements by the same customer at
once must not both count before either has inserted. SQLite writers are serialised already
(``BEGIN IMMEDIATE``); on PostgreSQL ``lock_customer_placements`` takes a transaction advisory lock
keyed by the customer first, so the second placement waits until the first commits and then
counts its order (READ COMMITTED: each statement sees what committed before it). Other customers
never wait on it, so a flash sale's many buyers are not serialised.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.settings import get_settings
from mercato.orders.errors import UnpaidOrdersLimit, UnpaidUnitsLimit
from mercato.orders.models import Order, OrderLine
from mercato.orders.states import OrderStatus

#: The advisory lock namespace of placements ("ord_" in the high 32 bits); the customer id fills
#: the low 32 bits (two customers sharing a lock only wait on each other, never miscount).
_PLACEMENT_LOCK = 0x6F72645F << 32


async def lock_customer_placements(session: AsyncSession, *, customer_id: int) -> None:
    """Serialise this customer's placements until the commit (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(func.pg_advisory_xact_lock(_PLACEMENT_LOCK | (customer_id & 0xFFFFFFFF)))
        )


async def check_unpaid_limits(
    session: AsyncSession, *, customer_id: int, quantities: dict[int, int], titles: dict[int, str]
) -> None:
    """Refuse an order of ``quantities`` (SKU id → units) that would take the customer past the
    caps on unpaid orders; ``titles`` name the SKUs in the refusal. Call it after
    ``lock_customer_placements`` in the placing transaction.

    Raises:
        UnpaidOrdersLimit (409 orders.unpaid_orders_limit): ``max_unpaid_orders`` already unpaid.
        UnpaidUnitsLimit (409 orders.unpaid_units_limit): more than ``max_unpaid_units_per_sku``
            of a SKU would wait for payment.
    """
    settings = get_settings()
    unpaid = select(Order.id).where(
        Order.customer_id == customer_id, Order.status == str(OrderStatus.pending_payment)
    )
    count = (await session.execute(select(func.count()).select_from(unpaid.subquery()))).scalar_one()
    if count >= settings.max_unpaid_orders:
        raise UnpaidOrdersLimit(limit=settings.max_unpaid_orders)
    held: dict[int, int] = {
        sku_id: int(units or 0)
        for sku_id, units in await session.execute(
            select(OrderLine.sku_id, func.sum(OrderLine.quantity))
            .where(OrderLine.order_id.in_(unpaid), OrderLine.sku_id.in_(list(quantities)))
            .group_by(OrderLine.sku_id)
        )
    }
    cap = settings.max_unpaid_units_per_sku
    for sku_id in sorted(quantities):
        if held.get(sku_id, 0) + quantities[sku_id] > cap:
            raise UnpaidUnitsLimit(limit=cap, title=titles.get(sku_id, str(sku_id)), sku_id=sku_id)
