"""Stock levels as a spreadsheet (CSV or XLSX): a stocktake import through the ledger, and an export.

Import columns: ``sku_code``, ``warehouse_code``, ``on_hand`` (the counted quantity) and,
optionally, ``safety_stock`` (an empty cell keeps the current one). The export's other columns
(``product_title``, ``spec``, ``reserved``, ``available``) may stay in the file and are ignored, so
an exported file can be edited and imported back.

All or nothing: every row is checked first (the SKU and warehouse exist, whole numbers in range,
one row per SKU and warehouse, the count not below the units reserved for orders); any problem
rejects the whole file with 422 ``inventory.import_rejected`` listing each as a field error at
``("row", <row number>, <column>)``, and nothing changes. Then each row whose count differs from
on hand becomes one ``adjustment`` through ``levels.apply_change`` (reason ``stocktake: import
<file>``, reference ``stock-import:<id>``; missing stock rows are created first, as
``levels.ensure_stock_row`` does), in (SKU, warehouse) order, so the ledger explains every
unit and ``verify_stock`` stays clean; safety stocks are set in one executemany; one
``stock.import`` audit entry records the counts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import clock, tabular
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.inventory.errors import BelowReserved, StockChangedDuringImport, StockImportRejected
from mercato.inventory.models import Stock, Warehouse
from mercato.inventory.schemas import LedgerKind, StockImportResult
from mercato.inventory.service.levels import ChangeRequest, apply_changes

IMPORT_COLUMNS = ("sku_code", "warehouse_code", "on_hand", "safety_stock")
REQUIRED_COLUMNS = ("sku_code", "warehouse_code", "on_hand")
EXPORT_COLUMNS = (
    "sku_code",
    "product_title",
    "spec",
    "warehouse_code",
    "on_hand",
    "reserved",
    "available",
    "safety_stock",
)
MAX_ON_HAND = 1_000_000_000
MAX_SAFETY_STOCK = 1_000_000
IN_CHUNK = 1_000
_WHOLE = re.compile(r"\d+")
_REQUIRED = N_("This field is required.")
_BELOW_RESERVED = N_("The count is below the units reserved for orders.")

Pair = tuple[int, int]  # (sku id, warehouse id)


@dataclass(frozen=True)
class Level:
    on_hand: int
    reserved: int
    safety_stock: int


@dataclass(frozen=True)
class Line:
    """A checked row: set the level of ``pair`` to ``on_hand`` (and the safety stock, if given)."""

    number: int
    pair: Pair
    on_hand: int
    safety_stock: int | None


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _whole(text: str, high: int) -> int | None:
    return int(text) if _WHOLE.fullmatch(text) and int(text) <= high else None


async def import_stock(
    session: AsyncSession,
    *,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    dry_run: bool,
    actor: identity.Actor,
) -> StockImportResult:
    """Set counted stock levels (a stocktake) and safety stocks from a file, all or nothing.

    Raises:
        MalformedFile (422 core.malformed_file): the file is not a readable table.
        StockImportRejected (422 inventory.import_rejected): problems in rows; nothing changed.
        BelowReserved, StockChangedDuringImport (409): another writer changed a level meanwhile.
    """
    table = await tabular.read_upload(data, filename=filename, content_type=content_type)
    problems = tabular.RowProblems()
    for column in REQUIRED_COLUMNS:
        if column not in table.header:
            problems.add_header(column, "inventory.missing_column", N_("The file needs this column."))
    for column in table.header:
        if column not in EXPORT_COLUMNS:
            problems.add_header(
                column[:60], "inventory.unknown_column", N_("Not a column of the stock file.")
            )
    if problems:
        raise StockImportRejected(fields=problems.report(), count=problems.count)

    sku_ids = await catalog.get_sku_ids_by_code(
        session, codes={row.get("sku_code") for row in table.rows} - {""}
    )
    warehouses = await _warehouse_ids(session, {row.get("warehouse_code") for row in table.rows} - {""})
    lines = _check_rows(table, sku_ids, warehouses, problems)
    levels = await _levels(session, [line.pair for line in lines])
    for line in lines:
        current = levels.get(line.pair)
        if current is not None and line.on_hand < current.reserved:
            problems.add(line.number, "on_hand", "inventory.below_reserved", _BELOW_RESERVED)
    if problems:
        raise StockImportRejected(fields=problems.report(), count=problems.count)

    empty = Level(on_hand=0, reserved=0, safety_stock=0)
    counted = [line for line in lines if line.on_hand != levels.get(line.pair, empty).on_hand]
    safety = [
        line
        for line in lines
        if line.safety_stock is not None and line.safety_stock != levels.get(line.pair, empty).safety_stock
    ]
    changed = {line.pair for line in counted} | {line.pair for line in safety}
    reference = None if dry_run or not changed else f"stock-import:{uuid.uuid4().hex[:16]}"
    result = StockImportResult(
        rows=len(lines),
        levels_changed=len(counted),
        safety_stocks_changed=len(safety),
        unchanged=len(lines) - len(changed),
        dry_run=dry_run,
        reference=reference,
    )
    if reference is None:
        return result  # a dry run, or a file that matches the stock already: nothing to write

    name = tabular.safe_filename(filename)
    reason = f"stocktake: import {name}"[:200]
    await _ensure_stock_rows(session, sorted(changed - levels.keys()))
    ordered = sorted(counted, key=lambda line: line.pair)
    outcomes = await apply_changes(
        session,
        changes=[
            ChangeRequest(
                sku_id=line.pair[0],
                warehouse_id=line.pair[1],
                on_hand_delta=line.on_hand - levels.get(line.pair, empty).on_hand,
            )
            for line in ordered
        ],
        kind=LedgerKind.adjustment,
        reason=reason,
        reference=reference,
        actor_label=actor.label,
    )
    for line, change in zip(ordered, outcomes, strict=True):
        if change is None:  # units were reserved since the check
            raise BelowReserved(
                fields=[
                    FieldError(
                        loc=("row", line.number, "on_hand"),
                        code="inventory.below_reserved",
                        message=_BELOW_RESERVED,
                    )
                ]
            )
        if change.on_hand != line.on_hand:  # on hand moved since the check
            raise StockChangedDuringImport()
    await _set_safety_stocks(session, safety)
    await identity.record_audit(
        session,
        actor=actor,
        action="stock.import",
        object_type="stock_import",
        object_id=reference,
        after=result.model_dump(mode="json", exclude={"dry_run", "reference"}) | {"file": name},
    )
    return result


async def _warehouse_ids(session: AsyncSession, codes: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(codes)):
        rows = await session.execute(select(Warehouse.code, Warehouse.id).where(Warehouse.code.in_(chunk)))
        found.update(dict(rows.all()))
    return found


def _check_rows(
    table: tabular.Table,
    sku_ids: dict[str, int],
    warehouses: dict[str, int],
    problems: tabular.RowProblems,
) -> list[Line]:
    lines: list[Line] = []
    seen: set[Pair] = set()
    has_safety = "safety_stock" in table.header
    for row in table.rows:
        number = row.number
        code, warehouse_code = row.get("sku_code"), row.get("warehouse_code")
        sku_id, warehouse_id = sku_ids.get(code), warehouses.get(warehouse_code)
        if not code:
            problems.add(number, "sku_code", "inventory.required", _REQUIRED)
        elif sku_id is None:
            problems.add(number, "sku_code", "catalog.sku_not_found", N_("No SKU has this code."))
        if not warehouse_code:
            problems.add(number, "warehouse_code", "inventory.required", _REQUIRED)
        elif warehouse_id is None:
            problems.add(
                number, "warehouse_code", "inventory.warehouse_not_found", N_("No warehouse has this code.")
            )
        on_hand = _whole(row.get("on_hand"), MAX_ON_HAND)
        if not row.get("on_hand"):
            problems.add(number, "on_hand", "inventory.required", _REQUIRED)
        elif on_hand is None:
            problems.add(
                number,
                "on_hand",
                "inventory.invalid_quantity",
                N_("Write a whole number of units, zero or more."),
            )
        safety_text = row.get("safety_stock") if has_safety else ""
        safety = _whole(safety_text, MAX_SAFETY_STOCK) if safety_text else None
        if safety_text and safety is None:
            problems.add(
                number,
                "safety_stock",
                "inventory.invalid_quantity",
                N_("Write a whole number of units, zero or more."),
            )
        if sku_id is None or warehouse_id is None:
            continue
        pair = (sku_id, warehouse_id)
        if pair in seen:
            problems.add(
                number,
                "sku_code",
                "inventory.duplicate_row",
                N_("Another row of the file counts this SKU in this warehouse."),
            )
            continue
        seen.add(pair)
        if on_hand is not None:
            lines.append(Line(number=number, pair=pair, on_hand=on_hand, safety_stock=safety))
    return lines


async def _levels(session: AsyncSession, pairs: Sequence[Pair]) -> dict[Pair, Level]:
    wanted = set(pairs)
    found: dict[Pair, Level] = {}
    for chunk in _chunks(sorted({sku_id for sku_id, _ in wanted})):
        rows = await session.execute(
            select(Stock.sku_id, Stock.warehouse_id, Stock.on_hand, Stock.reserved, Stock.safety_stock).where(
                Stock.sku_id.in_(chunk)
            )
        )
        for sku_id, warehouse_id, on_hand, reserved, safety_stock in rows:
            if (sku_id, warehouse_id) in wanted:
                found[(sku_id, warehouse_id)] = Level(on_hand, reserved, safety_stock)
    return found


async def _ensure_stock_rows(session: AsyncSession, pairs: Sequence[Pair]) -> None:
    """``levels.ensure_stock_row`` for many rows: one executemany INSERT ... ON CONFLICT DO NOTHING
    of zero levels (a row a concurrent writer created meanwhile is kept as it is)."""
    if not pairs:
        return
    now = clock.now()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(_stock_table()).on_conflict_do_nothing(),
        [
            {
                "sku_id": sku_id,
                "warehouse_id": warehouse_id,
                "on_hand": 0,
                "reserved": 0,
                "safety_stock": 0,
                "updated_at": now,
            }
            for sku_id, warehouse_id in pairs
        ],
    )


def _stock_table() -> Table:
    table = Stock.__table__
    assert isinstance(table, Table)
    return table


async def _set_safety_stocks(session: AsyncSession, lines: Sequence[Line]) -> None:
    """One executemany UPDATE for every changed safety stock (the rows exist by now)."""
    if not lines:
        return
    stock = _stock_table()
    await session.execute(
        update(stock)
        .where(stock.c.sku_id == bindparam("b_sku_id"), stock.c.warehouse_id == bindparam("b_warehouse_id"))
        .values(safety_stock=bindparam("b_safety_stock"), updated_at=bindparam("b_updated_at")),
        [
            {
                "b_sku_id": line.pair[0],
                "b_warehouse_id": line.pair[1],
                "b_safety_stock": line.safety_stock,
                "b_updated_at": clock.now(),
            }
            for line in lines
        ],
    )


async def export_stock(
    session: AsyncSession, *, file_format: tabular.FileFormat, warehouse_id: int | None = None
) -> tabular.ExportedFile:
    """Every stock row (of one warehouse, if given) as ``EXPORT_COLUMNS``, by warehouse code then
    SKU code."""
    stmt = select(Stock, Warehouse.code).join(Warehouse, Warehouse.id == Stock.warehouse_id)
    if warehouse_id is not None:
        stmt = stmt.where(Stock.warehouse_id == warehouse_id)
    found = list((await session.execute(stmt)).all())
    labels = await catalog.get_sku_labels(session, sku_ids={stock.sku_id for stock, _ in found})
    rows: list[list[tabular.Cell]] = []
    for stock, warehouse_code in found:
        label = labels.get(stock.sku_id)
        if label is None:  # pragma: no cover - a foreign key keeps stock rows on real SKUs
            continue
        rows.append(
            [
                label.code,
                label.product_title,
                "|".join(f"{code}={value}" for code, value in label.spec.items()),
                warehouse_code,
                stock.on_hand,
                stock.reserved,
                stock.on_hand - stock.reserved,
                stock.safety_stock,
            ]
        )
    rows.sort(key=lambda row: (str(row[3]), str(row[0])))
    content = await tabular.write_table_async(file_format, EXPORT_COLUMNS, rows)
    return tabular.ExportedFile(
        filename=f"stock-{clock.now():%Y%m%d-%H%M%S}.{file_format.value}",
        media_type=file_format.media_type,
        content=content,
    )
