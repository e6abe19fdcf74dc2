"""Spreadsheet transfer in the console API: import and export products (catalog) and stock levels
(inventory) as CSV or XLSX.

Imports are multipart uploads of up to ``tabular.MAX_UPLOAD_BYTES``; the middleware allows these
paths that much (plus a multipart envelope) and refuses anything bigger with 413 before the body
is read. An import is all or nothing: a file with problems answers 422 with one entry per problem
in ``errors`` (``loc`` = ``["row", <row number>, <column>]``) and changes nothing; ``dry_run``
checks the file and reports what would change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from mercato import catalog, inventory
from mercato.api.deps import DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core import tabular
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/admin")

CatalogReader = Annotated[StaffAuth, Depends(require("catalog.read"))]
CatalogWriter = Annotated[StaffAuth, Depends(require("catalog.write"))]
StockReader = Annotated[StaffAuth, Depends(require("inventory.read"))]
StockWriter = Annotated[StaffAuth, Depends(require("inventory.write"))]
Upload = Annotated[UploadFile, File(description="A CSV (UTF-8 or GB18030) or XLSX file, at most 20 MB")]
DryRun = Annotated[bool, Query(description="Check the file and report what would change; write nothing")]
Format = Annotated[tabular.FileFormat, Query(alias="format", description="csv or xlsx")]
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {
            tabular.CSV_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            tabular.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The file, as an attachment",
    }
}


def _attachment(exported: tabular.ExportedFile) -> Response:
    return Response(
        content=exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.post("/catalog/imports/products", tags=["catalog admin"])
@raises(tabular.MalformedFile, catalog.ImportRejected, catalog.SlugTaken, catalog.DuplicateSkuCode)
async def import_products(
    file: Upload, auth: CatalogWriter, session: DbSession, dry_run: DryRun = False
) -> catalog.ProductImportResult:
    """Create and update products and SKUs from a spreadsheet, one row per SKU (all or nothing)."""
    return await catalog.import_products(
        session,
        data=await file.read(),
        filename=file.filename,
        content_type=file.content_type,
        dry_run=dry_run,
        actor=auth.actor,
    )


@router.get(
    "/catalog/exports/products",
    tags=["catalog admin"],
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def export_products(
    auth: CatalogReader,
    session: DbSession,
    file_format: Format = tabular.FileFormat.csv,
    category_id: OptionalId = None,
    status: catalog.ListingStatus | None = None,
) -> Response:
    """Products and their active SKUs in the import's columns (importing it unchanged is a no-op)."""
    return _attachment(
        await catalog.export_products(
            session, file_format=file_format, category_id=category_id, status=status
        )
    )


@router.post("/inventory/imports/stock", tags=["inventory"])
@raises(
    tabular.MalformedFile,
    inventory.StockImportRejected,
    inventory.BelowReserved,
    inventory.StockChangedDuringImport,
)
async def import_stock(
    file: Upload, auth: StockWriter, session: DbSession, dry_run: DryRun = False
) -> inventory.StockImportResult:
    """Set counted stock (a stocktake) and safety stock per SKU and warehouse; every change is a
    ledger adjustment (all or nothing)."""
    return await inventory.import_stock(
        session,
        data=await file.read(),
        filename=file.filename,
        content_type=file.content_type,
        dry_run=dry_run,
        actor=auth.actor,
    )


@router.get(
    "/inventory/exports/stock",
    tags=["inventory"],
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def export_stock(
    auth: StockReader,
    session: DbSession,
    file_format: Format = tabular.FileFormat.csv,
    warehouse_id: OptionalId = None,
) -> Response:
    """Stock levels per SKU and warehouse (edit ``on_hand`` / ``safety_stock`` and import it back)."""
    return _attachment(
        await inventory.export_stock(session, file_format=file_format, warehouse_id=warehouse_id)
    )
