"""Batch shipping: a spreadsheet of order number + carrier + tracking number ships many orders.

Columns (English or Chinese names): ``order_number`` (订单号), ``carrier`` (快递公司: a code of
``list_carriers`` or its name, e.g. ``shunfeng`` or 顺丰速运), ``tracking_number`` (快递单号), and
an optional ``warehouse`` (仓库: a warehouse code). A row ships **one sub-order** — one parcel, as
a tracking number names one parcel: the order's only sub-order, or its only one still to ship;
an order shipping from several warehouses needs the ``warehouse`` column, one row per warehouse.

Every row is checked before anything is written (the order exists, is paid and not collected
at a store, its part has not shipped, the carrier is known, the tracking number is well formed
and unused, no row repeats another, no order part or tracking number appears twice). If any row
is refused, nothing ships and the problems are reported per row (``BatchRejected``). Otherwise
every row ships through ``ship_sub_order`` — exactly what the order page's Ship button does
(stock holds consumed, order moved on, audited, tracking subscribed after the commit) — in the
caller's one transaction. The file's SHA-256 is kept (``fulfillment_ship_batch``): uploading the
same accepted file again ships nothing (``BatchAlreadyShipped``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, inventory, orders
from mercato.core import clock, tabular
from mercato.core.db import insert_ignore
from mercato.core.i18n import N_
from mercato.fulfillment.carriers.registry import CARRIERS, Carrier
from mercato.fulfillment.errors import (
    BatchAlreadyShipped,
    BatchColumnsMissing,
    BatchRejected,
    BatchRowProblem,
)
from mercato.fulfillment.models import ShipBatch, Shipment
from mercato.fulfillment.schemas import BatchShipped, ShipmentCreate, ShippedRow
from mercato.fulfillment.service.shipments import ship_sub_order

#: The columns of the template, and the names each may go by in a file.
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_number": ("order_number", "订单号", "订单编号"),
    "carrier": ("carrier", "快递公司", "物流公司"),
    "tracking_number": ("tracking_number", "快递单号", "运单号"),
    "warehouse": ("warehouse", "仓库", "仓库编码"),
}
REQUIRED = ("order_number", "carrier", "tracking_number")
#: Rows one file may hold (everything ships in one transaction).
BATCH_MAX_ROWS = 2000
_TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{6,32}$")
_NOT_SHIPPABLE = {"pending_payment", "cancelled", "closed"}


@dataclass(frozen=True)
class _Plan:
    row: int
    order_number: str
    order_id: int
    sub_order_id: int
    carrier: str
    tracking_number: str


def batch_template(file_format: tabular.FileFormat) -> tabular.ExportedFile:
    """The empty file to fill in: the header row only."""
    content = tabular.write_table(file_format, list(COLUMNS), [])
    return tabular.ExportedFile(f"batch-shipping.{file_format}", file_format.media_type, content)


def _columns(header: list[str]) -> dict[str, str]:
    """Our column name → the file's, for the columns the file has.

    Raises:
        BatchColumnsMissing (422): a required column is missing.
    """
    found: dict[str, str] = {}
    for name, aliases in COLUMNS.items():
        for title in header:
            if title.strip().lower() in aliases:
                found[name] = title
                break
    if any(name not in found for name in REQUIRED):
        raise BatchColumnsMissing()
    return found


def _carrier(text: str) -> Carrier | None:
    return CARRIERS.get(text.lower()) or next((c for c in CARRIERS.values() if c.name == text), None)


class _Checker:
    """Checks rows one by one, remembering what earlier rows took."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.problems: list[BatchRowProblem] = []
        self.orders: dict[str, orders.OrderRead | None] = {}
        self.warehouses: dict[str, int] | None = None
        self.rows: dict[tuple[str, str, str, str], int] = {}
        self.parts: dict[int, int] = {}
        self.numbers: dict[tuple[str, str], int] = {}

    def refuse(self, row: tabular.Row, number: str, column: str, message: str, /, **params: object) -> None:
        code = "fulfillment.batch_" + column
        self.problems.append(BatchRowProblem(row.number, number, column, code, message, params))

    async def order(self, number: str) -> orders.OrderRead | None:
        if number not in self.orders:
            found = await orders.list_orders(self.session, number=number[:32], limit=1)
            self.orders[number] = (
                await orders.read_order(self.session, order_id=found.items[0].id) if found.items else None
            )
        return self.orders[number]

    async def warehouse_id(self, code: str) -> int | None:
        if self.warehouses is None:
            self.warehouses = {w.code: w.id for w in await inventory.list_warehouses(self.session)}
        return self.warehouses.get(code)

    async def check(self, row: tabular.Row, columns: dict[str, str]) -> _Plan | None:
        """The sub-order this row ships, or None once its problems are noted."""
        number = row.get(columns["order_number"])
        carrier_text = row.get(columns["carrier"])
        tracking = row.get(columns["tracking_number"]).upper()
        warehouse = row.get(columns["warehouse"]) if "warehouse" in columns else ""
        before = len(self.problems)
        key = (number, carrier_text.lower(), tracking, warehouse)
        if key in self.rows:
            self.refuse(row, number, "row", N_("This row repeats row {row}."), row=self.rows[key])
            return None
        self.rows[key] = row.number
        carrier = _carrier(carrier_text)
        if not carrier_text:
            self.refuse(row, number, "carrier", N_("Enter the carrier."))
        elif carrier is None:
            self.refuse(
                row,
                number,
                "carrier",
                N_("Unknown carrier {carrier}: use a code or name from the list."),
                carrier=carrier_text[:40],
            )
        if not tracking:
            self.refuse(row, number, "tracking_number", N_("Enter the tracking number."))
        elif not _TRACKING_NUMBER.match(tracking):
            self.refuse(
                row, number, "tracking_number", N_("A tracking number has 6 to 32 letters, digits or dashes.")
            )
        sub = await self._sub_order(row, number, warehouse)
        if len(self.problems) > before or sub is None or carrier is None:
            return None
        order = self.orders[number]
        assert order is not None
        if sub.id in self.parts:
            self.refuse(
                row, number, "order_number", N_("Row {row} already ships this order."), row=self.parts[sub.id]
            )
            return None
        self.parts[sub.id] = row.number
        if (carrier.code, tracking) in self.numbers:
            self.refuse(
                row,
                number,
                "tracking_number",
                N_("Row {row} already uses this tracking number."),
                row=self.numbers[(carrier.code, tracking)],
            )
            return None
        self.numbers[(carrier.code, tracking)] = row.number
        return _Plan(row.number, number, order.id, sub.id, carrier.code, tracking)

    async def _sub_order(self, row: tabular.Row, number: str, warehouse: str) -> orders.SubOrderRead | None:
        if not number:
            self.refuse(row, number, "order_number", N_("Enter the order number."))
            return None
        order = await self.order(number)
        if order is None:
            self.refuse(
                row, number, "order_number", N_("No order has the number {number}."), number=number[:40]
            )
            return None
        if order.delivery == "pickup":
            self.refuse(
                row, number, "order_number", N_("This order is collected at a store: it is not shipped.")
            )
            return None
        if warehouse:
            warehouse_id = await self.warehouse_id(warehouse)
            sub = next((s for s in order.sub_orders if s.warehouse_id == warehouse_id), None)
            if sub is None:
                self.refuse(
                    row,
                    number,
                    "warehouse",
                    N_("This order ships nothing from warehouse {code}."),
                    code=warehouse[:40],
                )
                return None
        else:
            waiting = [s for s in order.sub_orders if s.status == orders.OrderStatus.paid]
            if len(order.sub_orders) == 1:
                sub = order.sub_orders[0]
            elif len(waiting) == 1:
                sub = waiting[0]
            elif waiting:
                self.refuse(
                    row,
                    number,
                    "warehouse",
                    N_("This order ships from {count} warehouses: add the warehouse code, one row each."),
                    count=len(waiting),
                )
                return None
            else:
                sub = order.sub_orders[0]
        if sub.status in _NOT_SHIPPABLE:
            self.refuse(
                row, number, "order_number", N_("This order is not paid, or was cancelled: it cannot ship.")
            )
            return None
        if sub.status != orders.OrderStatus.paid:
            self.refuse(row, number, "order_number", N_("This order has already been shipped."))
            return None
        return sub


async def _numbers_in_use(session: AsyncSession, plans: list[_Plan]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    pairs = [(p.carrier, p.tracking_number) for p in plans]
    for start in range(0, len(pairs), 500):
        rows = await session.execute(
            select(Shipment.carrier, Shipment.tracking_number).where(
                tuple_(Shipment.carrier, Shipment.tracking_number).in_(pairs[start : start + 500])
            )
        )
        found.update((carrier, number) for carrier, number in rows)
    return found


async def ship_batch(
    session: AsyncSession,
    *,
    table: tabular.Table,
    file_sha256: str,
    filename: str,
    actor: identity.Actor,
) -> BatchShipped:
    """Check every row of a batch-shipping file, then ship them all (see the module docstring).

    Raises:
        BatchColumnsMissing (422), BatchAlreadyShipped (409): this very file was shipped;
        BatchRejected (422): some rows cannot ship, nothing shipped.
    """
    columns = _columns(table.header)
    previous = (
        await session.execute(select(ShipBatch.rows).where(ShipBatch.file_sha256 == file_sha256))
    ).scalar_one_or_none()
    if previous is not None:
        raise BatchAlreadyShipped(rows=previous)
    checker = _Checker(session)
    plans = [plan for row in table.rows if (plan := await checker.check(row, columns)) is not None]
    taken = await _numbers_in_use(session, plans)
    for plan in plans:
        if (plan.carrier, plan.tracking_number) in taken:
            checker.problems.append(
                BatchRowProblem(
                    plan.row,
                    plan.order_number,
                    "tracking_number",
                    "fulfillment.batch_tracking_number",
                    N_("This tracking number is already used by another shipment."),
                )
            )
    if checker.problems:
        raise BatchRejected(sorted(checker.problems, key=lambda p: p.row))
    if not await insert_ignore(
        session,
        ShipBatch.__table__,
        {
            "file_sha256": file_sha256,
            "filename": filename[:100],
            "rows": len(plans),
            "actor_id": actor.staff_id,
            "actor_label": actor.label[:200],
            "created_at": clock.now(),
        },
    ):  # the same file, shipped by a concurrent request
        raise BatchAlreadyShipped(rows=len(plans))
    batch_id = (
        await session.execute(select(ShipBatch.id).where(ShipBatch.file_sha256 == file_sha256))
    ).scalar_one()
    shipped: list[ShippedRow] = []
    for plan in plans:
        shipment = await ship_sub_order(
            session,
            data=ShipmentCreate(
                order_id=plan.order_id,
                sub_order_id=plan.sub_order_id,
                carrier=plan.carrier,
                tracking_number=plan.tracking_number,
            ),
            actor=actor,
        )
        shipped.append(
            ShippedRow(
                row=plan.row,
                order_number=plan.order_number,
                carrier=shipment.carrier_name,
                tracking_number=shipment.tracking_number,
                shipment_id=shipment.id,
            )
        )
    await identity.record_audit(
        session,
        actor=actor,
        action="shipment.batch",
        object_type="ship_batch",
        object_id=str(batch_id),
        after={
            "filename": filename[:100],
            "sha256": file_sha256,
            "shipments": [s.shipment_id for s in shipped],
        },
    )
    return BatchShipped(batch_id=batch_id, filename=filename[:100], shipped=shipped)
