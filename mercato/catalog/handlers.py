"""Private: catalog's event handlers, subscribed in mercato/worker.py.

Each runs in the delivery's transaction (the inbox row and the handler's writes commit
together), so a redelivered event is not applied twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.service.references import apply_stock_level
from mercato.core.events import EventEnvelope


async def on_stock_level_changed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep the SKU's available quantity and the product's in-stock flag (for list filters)."""
    event: Any = envelope.event  # inventory.StockLevelChanged; catalog does not import inventory
    await apply_stock_level(session, sku_id=event.sku_id, available=event.available, version=event.version)
