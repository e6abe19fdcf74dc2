"""Spreadsheet transfer factories: a small catalog to import into, files to upload, and the row
counts a refused import must leave alone."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from httpx import AsyncClient, Response
from openpyxl import Workbook
from sqlalchemy import func, select

from mercato import catalog
from mercato.catalog.models import ListingStatusChange, PriceBreak, Product, Sku
from mercato.catalog.service.spreadsheets import COLUMNS
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import AuditEntry
from mercato.inventory.models import LedgerEntry, Stock
from tests.factories.catalog import make_brand, make_category, make_product_type
from tests.factories.identity import make_staff, staff_headers

PRODUCTS_URL = "/api/v1/admin/catalog/imports/products"
PRODUCTS_EXPORT_URL = "/api/v1/admin/catalog/exports/products"
STOCK_URL = "/api/v1/admin/inventory/imports/stock"
STOCK_EXPORT_URL = "/api/v1/admin/inventory/exports/stock"


@dataclass(frozen=True)
class Shop:
    """What product rows refer to: category ``tops`` (under ``clothing``), brand ``acme`` and the
    product type ``服装`` (specs colour 红色/黑色/白色 and size S/M/L; params material 棉/麻, origin)."""

    category: catalog.CategoryRead
    brand: catalog.BrandRead
    product_type: catalog.ProductTypeRead


async def make_shop() -> Shop:
    parent = await make_category("服装", slug="clothing")
    return Shop(
        category=await make_category("上衣", slug="tops", parent_id=parent.id),
        brand=await make_brand("艾克美", slug="acme"),
        product_type=await make_product_type("服装"),
    )


async def editor(*permissions: str) -> dict[str, str]:
    granted = list(permissions) or ["catalog.read", "catalog.write", "inventory.read", "inventory.write"]
    staff = await make_staff(email="importer@example.com", permissions=granted)
    return await staff_headers(staff.id) | {"Accept-Language": "en"}


def product_row(**cells: str) -> dict[str, str]:
    """A valid row of product ``tee`` (SKU ``TEE-RED-M``), overridden by ``cells``."""
    row = {
        "product_slug": "tee",
        "title": "纯棉圆领T恤",
        "title_en": "Cotton tee",
        "subtitle": "",
        "category": "tops",
        "brand": "acme",
        "product_type": "服装",
        "description_html": "<p>柔软</p>",
        "tags": "新品|纯棉",
        "params": "material=棉|origin=新疆",
        "spec": "colour=红色|size=M",
        "sku_code": "TEE-RED-M",
        "barcode": "6901234567890",
        "price": "99.00",
        "market_price": "129.00",
        "cost_price": "40.50",
        "weight_grams": "200",
        "min_order_quantity": "1",
    }
    return row | cells


def csv_bytes(rows: Sequence[Mapping[str, str]], columns: Sequence[str] = COLUMNS) -> bytes:
    """A CSV as a user saves it (UTF-8, quoted by the csv module)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode()


def xlsx_bytes(rows: Sequence[Sequence[object]], columns: Sequence[str] = COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(columns))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(
    client: AsyncClient,
    url: str,
    data: bytes,
    headers: dict[str, str],
    *,
    filename: str = "products.csv",
    content_type: str = "text/csv",
    dry_run: bool = False,
) -> Response:
    return await client.post(
        url,
        files={"file": (filename, data, content_type)},
        params={"dry_run": "true"} if dry_run else None,
        headers=headers,
    )


async def count(model: type) -> int:
    async with uow(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def snapshot() -> dict[str, int]:
    """Row counts a refused import must leave alone."""
    return {
        model.__name__: await count(model)
        for model in (
            Product,
            Sku,
            PriceBreak,
            ListingStatusChange,
            AuditEntry,
            OutboxEvent,
            Stock,
            LedgerEntry,
        )
    }


async def audit_entries(action: str) -> list[AuditEntry]:
    async with uow(write=False) as session:
        return list(
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
                )
            ).scalars()
        )


async def products_by_slug() -> dict[str, catalog.ProductRead]:
    async with uow(write=False) as session:
        rows = (await session.execute(select(Product).order_by(Product.id))).scalars()
        return {row.slug: catalog.ProductRead.model_validate(row) for row in rows}


async def skus_by_code() -> dict[str, Sku]:
    async with uow(write=False) as session:
        return {row.code: row for row in (await session.execute(select(Sku).order_by(Sku.id))).scalars()}


async def sku_codes(sku_ids: Sequence[int]) -> list[str]:
    async with uow(write=False) as session:
        labels = await catalog.get_sku_labels(session, sku_ids=sku_ids)
    return [labels[sku_id].code for sku_id in sku_ids]


async def ledger(reference: str | None = None) -> list[LedgerEntry]:
    async with uow(write=False) as session:
        stmt = select(LedgerEntry).order_by(LedgerEntry.id)
        if reference is not None:
            stmt = stmt.where(LedgerEntry.reference == reference)
        return list((await session.execute(stmt)).scalars())


async def stock_rows() -> dict[tuple[int, int], tuple[int, int, int]]:
    """(SKU id, warehouse id) -> (on hand, reserved, safety stock) of every stock row."""
    async with uow(write=False) as session:
        rows = await session.execute(
            select(Stock.sku_id, Stock.warehouse_id, Stock.on_hand, Stock.reserved, Stock.safety_stock)
        )
        return {(sku, wh): (on_hand, reserved, safety) for sku, wh, on_hand, reserved, safety in rows}
