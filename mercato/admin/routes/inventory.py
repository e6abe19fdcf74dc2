"""The console's inventory pages under ``/admin/inventory`` (inventory.read / inventory.write):
warehouses (create, edit) and the stocktake import and export here; the lists (stock, low stock,
ledger, warehouses) in ``inventory_lists.py``; receive, adjust, transfer and safety stock in
``inventory_operations.py``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import RedirectResponse, Response

from mercato import inventory
from mercato.admin.routes import inventory_lists, inventory_operations
from mercato.admin.routes._shared import (
    AmountInvalid,
    download,
    form_page,
    invalid,
    major_units,
    parse_amount,
    signed_in,
    staff_for,
    to_login,
)
from mercato.admin.routes.inventory_lists import WAREHOUSE_KINDS
from mercato.admin.routes.inventory_operations import problem_for
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.i18n import gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import (
    FORM_ERRORS,
    FormProblem,
    form_problem,
    locale_of,
    parse_id,
    read_form,
    read_upload,
)
from mercato.web.problems import field_message
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/inventory", include_in_schema=False)
router.include_router(inventory_lists.router)
router.include_router(inventory_operations.router)

READ = "inventory.read"
WRITE = "inventory.write"
WAREHOUSES = "/admin/inventory/warehouses"
WAREHOUSE_PAGE = "admin/inventory/warehouse_edit.html"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


# --- Warehouse create and edit (inventory.write) ----------------------------------------------

#: The create form's fields (the cost is typed in yuan as ``cost``); the edit form has the ones
#: ``WarehouseUpdate`` takes (code, kind and location are fixed once created).
CREATE_FIELDS = ("code", "name", "kind", "province", "city", "district", "detail", "priority")
UPDATE_FIELDS = ("name", "district", "detail", "priority")
_REGION_SPLIT = re.compile(r"[\n\r,，、;；]+")


def _regions(text: str) -> list[str]:
    """Regions typed one per line or comma separated ("*": everywhere); blanks dropped."""
    return [part.strip() for part in _REGION_SPLIT.split(text) if part.strip()]


M = TypeVar("M", bound=BaseModel)


def _warehouse_input(
    request: Request, model: type[M], values: dict[str, str], names: tuple[str, ...], *, edit: bool
) -> M | FormProblem:
    """The posted warehouse as ``model``, or the problem with each message next to its field.

    The cost is typed in yuan and converted exactly (Decimal) to fen; a malformed cost is a field
    error like any other, and nothing is saved.
    """
    locale = locale_of(request)
    data: dict[str, Any] = {name: values[name].strip() for name in names if values.get(name, "").strip()}
    data["regions"] = _regions(values.get("regions", ""))
    fields: dict[str, str] = {}
    cost = values.get("cost", "").strip()
    if cost:
        try:
            data["cost_amount"] = parse_amount(cost, get_settings().currency)
        except AmountInvalid as exc:
            fields["cost"] = gettext(exc.message, locale, **exc.params)
    if edit:
        data["is_active"] = "is_active" in values
        data.setdefault("name", "")  # blank is refused, not "keep"
        data.setdefault("district", "")
        data.setdefault("detail", "")
    try:
        parsed = model.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            fields.setdefault("cost" if name == "cost_amount" else name, field_message(error, locale))
        return invalid(request, fields)
    if fields:
        return invalid(request, fields)
    return parsed


def _warehouse_values(warehouse: inventory.WarehouseRead) -> dict[str, str]:
    """A warehouse as the text of its edit form (the cost in yuan)."""
    return {
        "name": warehouse.name,
        "district": warehouse.district,
        "detail": warehouse.detail,
        "regions": "\n".join(warehouse.regions),
        "priority": str(warehouse.priority),
        "cost": major_units(warehouse.cost_amount, warehouse.currency),
        "is_active": "1" if warehouse.is_active else "",
    }


def _warehouse_form(
    request: Request,
    auth: StaffSession,
    *,
    values: dict[str, str],
    warehouse: inventory.WarehouseRead | None = None,
    problem: FormProblem | None = None,
) -> Response:
    locale = locale_of(request)
    return form_page(
        request,
        WAREHOUSE_PAGE,
        problem,
        staff=auth.staff,
        warehouse=warehouse,
        warehouse_kinds=WAREHOUSE_KINDS,
        kind_options=[
            (kind.value, gettext(WAREHOUSE_KINDS[kind.value], locale)) for kind in inventory.WarehouseKind
        ],
        values=values,
    )


@router.get("/warehouses/new")
async def new_warehouse_form(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return _warehouse_form(request, auth, values={"priority": "100", "regions": "*", "cost": "0"})


@router.post("/warehouses")
async def create_warehouse(request: Request) -> Response:
    """Create a warehouse (it starts active)."""
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    data = _warehouse_input(request, inventory.WarehouseWrite, values, CREATE_FIELDS, edit=False)
    if isinstance(data, FormProblem):
        return _warehouse_form(request, auth, values=values, problem=data)
    try:
        async with uow() as session:
            await inventory.create_warehouse(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return _warehouse_form(request, auth, values=values, problem=problem_for(request, exc))
    return RedirectResponse(f"{WAREHOUSES}?notice=created", status_code=303)


@router.get("/warehouses/{warehouse_id}")
async def edit_warehouse_form(request: Request, warehouse_id: Id) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, WRITE)
        if auth is None:
            return to_login(request)
        warehouse = await inventory.get_warehouse(session, warehouse_id=warehouse_id)
    return _warehouse_form(request, auth, values=_warehouse_values(warehouse), warehouse=warehouse)


@router.post("/warehouses/{warehouse_id}")
async def update_warehouse(request: Request, warehouse_id: Id) -> Response:
    """Change a warehouse's name, address detail, regions, priority, cost or active flag."""
    values = await read_form(request)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, WRITE)
        if auth is None:
            return to_login(request)
        warehouse = await inventory.get_warehouse(session, warehouse_id=warehouse_id)
    data = _warehouse_input(request, inventory.WarehouseUpdate, values, UPDATE_FIELDS, edit=True)
    if isinstance(data, FormProblem):
        return _warehouse_form(request, auth, values=values, warehouse=warehouse, problem=data)
    try:
        async with uow() as session:
            await inventory.update_warehouse(session, warehouse_id=warehouse_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, inventory.WarehouseNotFound):
            raise
        problem = problem_for(request, exc)
        return _warehouse_form(request, auth, values=values, warehouse=warehouse, problem=problem)
    return RedirectResponse(f"{WAREHOUSES}?notice=saved", status_code=303)


# --- Stocktake import and export -------------------------------------------------------------


@router.get("/import")
async def import_form(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return render(request, "admin/inventory/import.html", staff=auth.staff, values={})


@router.post("/import")
async def import_file(request: Request) -> Response:
    """Upload a stocktake (CSV or XLSX); ``dry_run`` reports what would change and writes nothing.

    The result (or the problems per row) is shown on the page at once: there is nothing to
    redirect to, and reloading a finished import repeats nothing but the same counted levels.
    """
    values = await read_form(request)
    file = await read_upload(request, "file")
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    dry_run = "dry_run" in values
    result: inventory.StockImportResult | None = None
    problem: FormProblem | None = None
    rows: list[dict[str, Any]] = []
    if file is None:
        problem = invalid(request, {"file": gettext("Choose a CSV or XLSX file.", locale_of(request))})
    else:
        try:
            async with uow() as session:
                result = await inventory.import_stock(
                    session,
                    data=file.data,
                    filename=file.filename,
                    content_type=file.content_type,
                    dry_run=dry_run,
                    actor=auth.actor,
                )
        except FORM_ERRORS as exc:
            locale = locale_of(request)
            problem = form_problem(exc, locale)
            if isinstance(exc, DomainError):
                rows = [
                    {"where": [str(part) for part in item.loc], "message": gettext(item.message, locale)}
                    for item in exc.fields
                ]
    return form_page(
        request,
        "admin/inventory/import.html",
        problem,
        staff=auth.staff,
        values=values,
        result=result,
        rows=rows,
    )


@router.get("/export")
async def export(request: Request) -> Response:
    """Download the stock levels (the import's columns) as CSV or XLSX."""
    file_format = request.query_params.get("format", "csv")
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        exported = await inventory.export_stock(
            session,
            file_format=tabular.FileFormat(file_format if file_format in {"csv", "xlsx"} else "csv"),
            warehouse_id=parse_id(request.query_params.get("warehouse")),
        )
    return download(exported.content, exported.media_type, exported.filename)
