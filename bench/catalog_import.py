"""Benchmark: import 5,000 product rows (1,000 products x 5 SKUs) and a 5,000-row stocktake.

Runs on a throwaway database: a temporary SQLite file (default), or a fresh database created
next to the one ``--database-url postgresql+asyncpg://user@host/db`` names (dropped afterwards).
The catalog (category, brand, product type) and the warehouse are made through the services.
Each timed step is a whole unit of work (parse, check, write, commit), as a request does it.

    .venv/bin/python bench/catalog_import.py [--products 1000] [--skus 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seed import apparel_type  # noqa: E402

COLOURS = ["红色", "黑色", "白色", "蓝色", "绿色", "灰色", "黄色", "紫色"]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="", help="postgresql+asyncpg://... (default: temporary SQLite)"
    )
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--skus", type=int, default=5, help=f"SKUs per product (at most {len(COLOURS)})")
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


def product_csv(run: str, products: int, skus: int) -> bytes:
    from mercato.catalog.service.spreadsheets import COLUMNS  # noqa: PLC0415

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for p in range(products):
        for s in range(skus):
            row = {
                "product_slug": f"{run}-p{p}",
                "title": f"纯棉圆领T恤 {run} {p}",
                "title_en": f"Cotton tee {p}",
                "subtitle": "舒适透气",
                "category": "bench",
                "brand": "bench-brand",
                "product_type": "基准服装",
                "description_html": f"<p>第 {p} 款, <strong>纯棉</strong></p>",
                "tags": "新品|纯棉",
                "params": "material=棉|origin=新疆",
                "spec": f"colour={COLOURS[s]}",
                "sku_code": f"{run.upper()}-P{p}-{s}",
                "barcode": f"69{p:08d}{s:02d}",
                "price": f"{99 + s}.{p % 100:02d}",
                "market_price": f"{199 + s}.00",
                "cost_price": "40.50",
                "weight_grams": str(200 + s),
                "min_order_quantity": "1",
            }
            writer.writerow([row[column] for column in COLUMNS])
    return buffer.getvalue().encode()


def stock_csv(codes: list[str], seed: int) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - test data
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["sku_code", "warehouse_code", "on_hand", "safety_stock"])
    for code in codes:
        writer.writerow([code, "BENCH-1", rng.randint(1, 500), rng.choice(["", "5", "10"])])
    return buffer.getvalue().encode()


def in_thread(fn: Callable[[], object]) -> None:
    """Alembic's env.py runs its own event loop: give it a thread."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def create_pg_database(url: str) -> tuple[str, str]:
    import asyncpg  # noqa: PLC0415

    base, _, _name = url.rpartition("/")
    name = f"mercato_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{base}/{name}", name


async def drop_pg_database(url: str, name: str) -> None:
    import asyncpg  # noqa: PLC0415

    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def timed(step: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    started = time.perf_counter()
    result = await step()
    return time.perf_counter() - started, result


async def bench(args: argparse.Namespace, database: str) -> list[tuple[str, int, list[float]]]:
    from mercato import catalog, identity, inventory  # noqa: PLC0415
    from mercato.core import tabular  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    async with uow() as session:
        await catalog.create_category(
            session, data=catalog.CategoryCreate(name="基准", slug="bench"), actor=actor
        )
        await catalog.create_brand(
            session, data=catalog.BrandCreate(name="基准品牌", slug="bench-brand"), actor=actor
        )
        await catalog.create_product_type(session, data=apparel_type(COLOURS), actor=actor)
        await inventory.create_warehouse(
            session,
            data=inventory.WarehouseWrite(
                code="BENCH-1",
                name="基准仓",
                kind=inventory.WarehouseKind.regional,
                province="上海市",
                city="上海市",
            ),
            actor=actor,
        )

    async def import_products(data: bytes, filename: str) -> catalog.ProductImportResult:
        async with uow() as session:
            return await catalog.import_products(
                session, data=data, filename=filename, content_type=None, dry_run=False, actor=actor
            )

    async def import_stock(data: bytes) -> inventory.StockImportResult:
        async with uow() as session:
            return await inventory.import_stock(
                session, data=data, filename="stock.csv", content_type=None, dry_run=False, actor=actor
            )

    rows = args.products * args.skus
    results: list[tuple[str, int, list[float]]] = []
    created: list[float] = []
    first = b""
    for run in range(args.runs):
        data = product_csv(f"r{run}", args.products, args.skus)
        first = first or data
        seconds, result = await timed(lambda data=data, run=run: import_products(data, f"run{run}.csv"))
        assert isinstance(result, catalog.ProductImportResult)
        assert (result.products_created, result.skus_created) == (args.products, rows), result
        created.append(seconds)
    results.append(("product import, CSV (all new)", rows, created))

    xlsx_table = tabular.read_table(product_csv("x", args.products, args.skus), filename="x.csv")
    xlsx = tabular.write_table(
        tabular.FileFormat.xlsx,
        xlsx_table.header,
        [[r.cells[c] for c in xlsx_table.header] for r in xlsx_table.rows],
    )
    seconds, _ = await timed(lambda: import_products(xlsx, "x.xlsx"))
    results.append(("product import, XLSX (all new)", rows, [seconds]))

    seconds, result = await timed(lambda: import_products(first, "again.csv"))
    assert isinstance(result, catalog.ProductImportResult)
    assert (result.products_updated, result.skus_updated) == (0, 0), result
    results.append(("product re-import, unchanged (no-op)", rows, [seconds]))

    changed = first.replace(b",40.50,", b",41.00,")  # every SKU's cost price
    seconds, result = await timed(lambda: import_products(changed, "changed.csv"))
    assert isinstance(result, catalog.ProductImportResult)
    assert result.skus_updated == rows, result
    results.append(("product re-import, every SKU updated", rows, [seconds]))

    async def export() -> tabular.ExportedFile:
        async with uow(write=False) as session:
            return await catalog.export_products(session, file_format=tabular.FileFormat.csv)

    seconds, _ = await timed(export)
    results.append(("product export, CSV (all products)", rows * (args.runs + 1), [seconds]))

    codes = [f"R0-P{p}-{s}" for p in range(args.products) for s in range(args.skus)]
    stock_times: list[float] = []
    for run in range(args.runs):
        data = stock_csv(codes, seed=run)
        seconds, result = await timed(lambda data=data: import_stock(data))
        assert isinstance(result, inventory.StockImportResult)
        stock_times.append(seconds)
    results.append(("stock import (stocktake, via ledger)", len(codes), stock_times))

    async with uow(write=False) as session:
        report = await inventory.verify_stock(session)
    assert report.ok, report.problems[:5]
    await reset_database()
    say(f"database: {database}; verify_stock: ok ({report.ledger_entries} ledger entries)")
    return results


def main() -> None:
    args = parse_args()
    if not 1 <= args.skus <= len(COLOURS):
        sys.exit(f"--skus must be 1..{len(COLOURS)}")
    tmp = Path(tempfile.mkdtemp(prefix="mercato-bench-"))
    pg_name = ""
    if args.database_url:
        url, pg_name = asyncio.run(create_pg_database(args.database_url))
        shown = f"PostgreSQL ({pg_name}, dropped afterwards)"
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        shown = "SQLite (temporary file)"
    os.environ.update(
        {
            "MERCATO_DATABASE_URL": url,
            "MERCATO_VAR_DIR": str(tmp),
            "MERCATO_LOG_LEVEL": "WARNING",
            "MERCATO_RUN_JOBS_IN_WEB": "false",
        }
    )
    os.environ.pop("MERCATO_REDIS_URL", None)
    from mercato.core.migrate import upgrade  # noqa: PLC0415
    from mercato.core.settings import get_settings  # noqa: PLC0415

    get_settings.cache_clear()
    try:
        in_thread(lambda: upgrade(url))
        results = asyncio.run(bench(args, shown))
    finally:
        if pg_name:
            asyncio.run(drop_pg_database(args.database_url, pg_name))
    say(f"{'step':<40} {'rows':>6} {'median':>8}   runs (s)")
    for name, rows, times in results:
        runs = " ".join(f"{t:.2f}" for t in times)
        say(f"{name:<40} {rows:>6} {statistics.median(times):>7.2f}s   {runs}")


if __name__ == "__main__":
    main()
