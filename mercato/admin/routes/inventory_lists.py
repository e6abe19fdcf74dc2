"""The console's inventory lists (inventory.read): stock by warehouse, the low-stock list, the
stock ledger and the warehouses, each a declared list page (``mercato/admin/listing.py``) with
its filters and CSV/XLSX export; the warehouses are sorted by priority, code or name.

The pages name SKUs and warehouses (the catalog's labels, the warehouses' names) next to the
inventory services' levels and movements. No business rules here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, inventory
from mercato.admin.listing import Choice, Column, ListPage, ListQuery, Search, Sort
from mercato.admin.routes._shared import major_units
from mercato.core.i18n import N_
from mercato.web.forms import parse_id

#: Included by ``inventory.py`` under ``/admin/inventory``.
router = APIRouter(include_in_schema=False)

PREFIX = "/admin/inventory"
READ = "inventory.read"
#: What a finished operation says on the page it redirects to (``?notice=``).
NOTICES = {
    "received": N_("Stock received."),
    "adjusted": N_("Stock adjusted."),
    "transferred": N_("Stock transferred."),
    "safety": N_("Safety stock saved."),
}
WAREHOUSE_NOTICES = {
    "created": N_("The warehouse was created."),
    "saved": N_("The warehouse was saved."),
}
#: How each kind of ledger movement and each adjustment reason is named on the pages.
KIND_LABELS = {
    "receipt": N_("Receipt"),
    "adjustment": N_("Adjustment"),
    "transfer_out": N_("Transfer out"),
    "transfer_in": N_("Transfer in"),
    "reserve": N_("Reserved for an order"),
    "release": N_("Hold released"),
    "expire": N_("Hold expired"),
    "ship": N_("Shipped"),
}
WAREHOUSE_KINDS = {
    "regional": N_("Regional warehouse"),
    "front": N_("Front warehouse"),
    "store": N_("Store"),
    "dropship": N_("Drop-ship supplier"),
}
REASON_LABELS = {
    "stocktake": N_("Stocktake"),
    "damage": N_("Damaged"),
    "loss": N_("Lost"),
    "found": N_("Found"),
    "correction": N_("Correction"),
    "other": N_("Other (explain in the note)"),
}
STATUSES = {"active": N_("Active"), "inactive": N_("Inactive")}
EVERYWHERE = {"*": N_("Everywhere")}


def warehouse_text(warehouse: inventory.WarehouseRead) -> str:
    """A warehouse as people name it: its name and code."""
    return f"{warehouse.name} ({warehouse.code})"


async def _warehouse_options(session: AsyncSession) -> tuple[tuple[str, str], ...]:
    return tuple((str(w.id), warehouse_text(w)) for w in await inventory.list_warehouses(session))


@dataclasses.dataclass(frozen=True)
class _Named:
    """A row naming its SKU (the catalog's label) and warehouse, or their ids when gone."""

    sku_id: int
    warehouse_id: int
    sku: catalog.SkuLabel | None
    warehouse: inventory.WarehouseRead | None

    @property
    def sku_code(self) -> str:
        return self.sku.code if self.sku else f"#{self.sku_id}"

    @property
    def warehouse_text(self) -> str:
        return warehouse_text(self.warehouse) if self.warehouse else f"#{self.warehouse_id}"


@dataclasses.dataclass(frozen=True)
class StockLine(_Named):
    """A stock row as the page shows it: the SKU's names and the warehouse with the levels."""

    stock: inventory.StockRead


@dataclasses.dataclass(frozen=True)
class LedgerLine(_Named):
    """A ledger entry as the page shows it: the SKU's names, the warehouse, and its reason as a
    known reason (``reason``, a key of ``REASON_LABELS``) and a note, or as written."""

    entry: inventory.LedgerEntryRead

    @property
    def reason(self) -> str:
        code, _sep, _note = (self.entry.reason or "").partition(": ")
        return code if code in REASON_LABELS else self.entry.reason or ""

    @property
    def note(self) -> str:
        code, _sep, note = (self.entry.reason or "").partition(": ")
        return note if code in REASON_LABELS else ""


async def _stock(
    session: AsyncSession, query: ListQuery, limit: int, *, low_only: bool
) -> tuple[Sequence[StockLine], str | None]:
    text = query.filters["q"]
    page = await inventory.list_stock(
        session,
        sku_ids=await catalog.search_sku_ids(session, text=text) if text else None,
        warehouse_id=parse_id(query.filters["warehouse"]),
        low_only=low_only,
        cursor=query.cursor,
        limit=limit,
    )
    labels = await catalog.get_sku_labels(session, sku_ids=[row.sku_id for row in page.items])
    by_id = {warehouse.id: warehouse for warehouse in await inventory.list_warehouses(session)}
    lines = [
        StockLine(row.sku_id, row.warehouse_id, labels.get(row.sku_id), by_id.get(row.warehouse_id), row)
        for row in page.items
    ]
    return lines, page.next_cursor


async def _all_stock(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    return await _stock(session, query, limit, low_only=False)


async def _low_stock(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    return await _stock(session, query, limit, low_only=True)


async def _ledger(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """Every movement, newest first; an unknown SKU code finds none."""
    code, kind = query.filters["sku"], query.filters["kind"]
    sku_ids = await catalog.get_sku_ids_by_code(session, codes=[code]) if code else {}
    if code and code not in sku_ids:
        return [], None
    page = await inventory.list_ledger(
        session,
        sku_id=sku_ids.get(code),
        warehouse_id=parse_id(query.filters["warehouse"]),
        kind=inventory.LedgerKind(kind) if kind else None,
        cursor=query.cursor,
        limit=limit,
    )
    labels = await catalog.get_sku_labels(session, sku_ids=[entry.sku_id for entry in page.items])
    by_id = {warehouse.id: warehouse for warehouse in await inventory.list_warehouses(session)}
    lines = [
        LedgerLine(e.sku_id, e.warehouse_id, labels.get(e.sku_id), by_id.get(e.warehouse_id), e)
        for e in page.items
    ]
    return lines, page.next_cursor


async def _warehouses(
    session: AsyncSession, query: ListQuery, limit: int
) -> tuple[Sequence[Any], str | None]:
    """Every warehouse (a short list), sorted by the list page."""
    return await inventory.list_warehouses(session), None


WAREHOUSE_FILTER = Choice("warehouse", N_("Warehouse"), N_("All warehouses"), load=_warehouse_options)
STOCK_COLUMNS = (
    Column("sku", N_("SKU"), lambda line: line.sku_code),
    Column("warehouse", N_("Warehouse"), lambda line: line.warehouse_text),
    Column("on_hand", N_("On hand"), lambda line: line.stock.on_hand, kind="number"),
    Column("reserved", N_("Reserved"), lambda line: line.stock.reserved, kind="number"),
    Column("available", N_("Available"), lambda line: line.stock.available, kind="number"),
    Column("safety_stock", N_("Safety stock"), lambda line: line.stock.safety_stock, kind="number"),
)
STOCK_FILTERS = (Search("q", N_("SKU code or title")), WAREHOUSE_FILTER)

STOCK = ListPage(
    key="stock",
    path=f"{PREFIX}/",
    title=N_("Stock by warehouse"),
    permission=READ,
    columns=STOCK_COLUMNS,
    fetch=_all_stock,
    filters=STOCK_FILTERS,
    export="stock",
    empty=N_("No stock rows match."),
    template="admin/inventory/stock.html",
)
LOW_STOCK = dataclasses.replace(
    STOCK,
    key="low-stock",
    path=f"{PREFIX}/low-stock",
    title=N_("Low stock"),
    fetch=_low_stock,
    export="low-stock",
)
LEDGER = ListPage(
    key="ledger",
    path=f"{PREFIX}/ledger",
    title=N_("Stock ledger"),
    permission=READ,
    columns=(
        Column("time", N_("Time"), lambda line: line.entry.created_at, kind="datetime"),
        Column("sku", N_("SKU"), lambda line: line.sku_code),
        Column("warehouse", N_("Warehouse"), lambda line: line.warehouse_text),
        Column("kind", N_("Kind"), lambda line: line.entry.kind.value, labels=KIND_LABELS),
        Column("on_hand_delta", N_("On hand change"), lambda line: line.entry.on_hand_delta, kind="number"),
        Column(
            "reserved_delta", N_("Reserved change"), lambda line: line.entry.reserved_delta, kind="number"
        ),
        Column("on_hand_after", N_("On hand after"), lambda line: line.entry.on_hand_after, kind="number"),
        Column("reason", N_("Reason"), lambda line: line.reason, labels=REASON_LABELS),
        Column("note", N_("Note"), lambda line: line.note),
        Column("reference", N_("Reference"), lambda line: line.entry.reference, kind="code"),
        Column("by", N_("By"), lambda line: line.entry.actor_label),
    ),
    fetch=_ledger,
    filters=(
        Search("sku", N_("SKU code"), maxlength=64),
        WAREHOUSE_FILTER,
        Choice("kind", N_("Kind"), N_("All kinds"), tuple(KIND_LABELS.items())),
    ),
    export="stock-ledger",
    empty=N_("No ledger entries match."),
    row_id=lambda line: int(line.entry.id),
    template="admin/inventory/ledger.html",
)
WAREHOUSES = ListPage(
    key="warehouses",
    path=f"{PREFIX}/warehouses",
    title=N_("Warehouses"),
    permission=READ,
    columns=(
        Column("code", N_("Code"), lambda w: w.code, kind="code"),
        Column("name", N_("Warehouse name"), lambda w: w.name),
        Column("kind", N_("Kind"), lambda w: w.kind.value, labels=WAREHOUSE_KINDS),
        Column(
            "location", N_("Location"), lambda w: " ".join(filter(None, (w.province, w.city, w.district)))
        ),
        Column(
            "regions",
            N_("Serves"),
            lambda w: "*" if "*" in w.regions else "、".join(w.regions),
            labels=EVERYWHERE,
        ),
        Column("priority", N_("Priority"), lambda w: w.priority, kind="number"),
        Column("cost", N_("Handling cost"), lambda w: major_units(w.cost_amount, w.currency), kind="number"),
        Column("status", N_("Status"), lambda w: "active" if w.is_active else "inactive", labels=STATUSES),
    ),
    fetch=_warehouses,
    sorts=(
        Sort("priority", N_("Priority"), lambda w: (w.priority, w.id)),
        Sort("code", N_("Code"), lambda w: w.code),
        Sort("name", N_("Warehouse name"), lambda w: (w.name, w.id)),
    ),
    export="warehouses",
    empty=N_("No warehouses yet."),
    template="admin/inventory/warehouses.html",
)

STOCK.register(router, PREFIX, notices=NOTICES)
LOW_STOCK.register(router, PREFIX, notices=NOTICES)
LEDGER.register(router, PREFIX, notices=NOTICES)
WAREHOUSES.register(router, PREFIX, notices=WAREHOUSE_NOTICES)
