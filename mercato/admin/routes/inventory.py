"""The console's inventory pages: stock by warehouse, the low-stock list, receipts, adjustments,
transfers and safety stock, the stock ledger, warehouses (list, create, edit), and the stocktake
import (inventory.read / inventory.write).

Forms name a SKU by its code (people know codes, not ids); the page looks the id up through the
catalog and the inventory services do the rest (levels, ledger, audit). No business rules here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, inventory
from mercato.admin.routes._shared import (
    AmountInvalid,
    download,
    form_page,
    invalid,
    major_units,
    next_page,
    parse_amount,
    problem_of,
    signed_in,
    staff_for,
    to_login,
)
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.errors import DomainError, FieldError
from mercato.core.i18n import N_, gettext
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
    validate,
)
from mercato.web.problems import field_message
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/inventory", include_in_schema=False)

READ = "inventory.read"
WRITE = "inventory.write"
HOME = "/admin/inventory/"
LEDGER = "/admin/inventory/ledger"
WAREHOUSES = "/admin/inventory/warehouses"
WAREHOUSE_PAGE = "admin/inventory/warehouse_edit.html"
PAGE_SIZE = 50
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
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
#: Domain errors without a field of their own, shown next to this form field.
ERROR_FIELDS: dict[type[DomainError], str] = {
    inventory.BelowReserved: "delta",
    inventory.InsufficientStock: "quantity",
    inventory.SameWarehouse: "to_warehouse_id",
    inventory.WarehouseInactive: "warehouse_id",
    inventory.WarehouseNotFound: "warehouse_id",
    inventory.WarehouseCodeTaken: "code",
    catalog.SkuNotFound: "sku_code",
}


def _id(value: str | None) -> int | None:
    """A positive id from a query value, or None when blank or malformed."""
    return parse_id(value)


def _query(params: Mapping[str, str | None]) -> str:
    return urlencode({name: value for name, value in params.items() if value})


async def _sku_id(session: AsyncSession, code: str) -> str:
    """The id (as form text) of the SKU with this code; blank when no code was given.

    Raises:
        SkuNotFound: with a field error on ``sku_code``.
    """
    code = code.strip()
    if not code:
        return ""
    found = await catalog.get_sku_ids_by_code(session, codes=[code])
    if code not in found:
        raise catalog.SkuNotFound(
            sku_ids=code,
            fields=[FieldError(("body", "sku_code"), "catalog.sku_not_found", N_("No SKU has this code."))],
        )
    return str(found[code])


def _problem(request: Request, exc: Exception) -> FormProblem:
    """The form problem with every message next to its form field (``sku_id`` is ``sku_code``)."""
    problem = problem_of(request, exc)
    fields = {("sku_code" if name == "sku_id" else name): text for name, text in problem.fields.items()}
    if isinstance(exc, DomainError) and not fields:
        for kind, name in ERROR_FIELDS.items():
            if isinstance(exc, kind):
                fields[name] = problem.message
                break
    return dataclasses.replace(problem, fields=fields)


@dataclasses.dataclass(frozen=True)
class StockLine:
    """A stock row as the page shows it: the SKU's names and the warehouse's name with the levels."""

    stock: inventory.StockRead
    sku: catalog.SkuLabel | None
    warehouse: inventory.WarehouseRead | None


async def _stock_lines(
    session: AsyncSession, rows: list[inventory.StockRead], warehouses: list[inventory.WarehouseRead]
) -> list[StockLine]:
    labels = await catalog.get_sku_labels(session, sku_ids=[row.sku_id for row in rows])
    by_id = {warehouse.id: warehouse for warehouse in warehouses}
    return [StockLine(row, labels.get(row.sku_id), by_id.get(row.warehouse_id)) for row in rows]


async def _stock_page(request: Request, *, low_only: bool) -> Response:
    query = request.query_params.get("q", "").strip()[:100]
    warehouse_id = _id(request.query_params.get("warehouse"))
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        warehouses = await inventory.list_warehouses(session)
        sku_ids = await catalog.search_sku_ids(session, text=query) if query else None
        page = await inventory.list_stock(
            session,
            sku_ids=sku_ids,
            warehouse_id=warehouse_id,
            low_only=low_only,
            cursor=request.query_params.get("cursor") or None,
            limit=PAGE_SIZE,
        )
        lines = await _stock_lines(session, page.items, warehouses)
    path = "/admin/inventory/low-stock" if low_only else HOME
    filters = {"q": query, "warehouse": str(warehouse_id) if warehouse_id else ""}
    notice = request.query_params.get("notice")
    return render(
        request,
        "admin/inventory/stock.html",
        staff=auth.staff,
        lines=lines,
        warehouses=warehouses,
        filters=filters,
        low_only=low_only,
        path=path,
        next_url=next_page(path, filters, page.next_cursor),
        notice=NOTICES.get(notice or ""),
    )


@router.get("/")
async def stock(request: Request) -> Response:
    """Stock by warehouse: one row per SKU and warehouse, searchable by SKU code or title."""
    return await _stock_page(request, low_only=False)


@router.get("/low-stock")
async def low_stock(request: Request) -> Response:
    """Rows whose available units are at or below their safety stock (the domain's own line)."""
    return await _stock_page(request, low_only=True)


@router.get("/warehouses")
async def warehouses(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        rows = await inventory.list_warehouses(session)
    return render(
        request,
        "admin/inventory/warehouses.html",
        staff=auth.staff,
        warehouses=rows,
        warehouse_kinds=WAREHOUSE_KINDS,
        notice=WAREHOUSE_NOTICES.get(request.query_params.get("notice") or ""),
    )


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
        return _warehouse_form(request, auth, values=values, problem=_problem(request, exc))
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
        problem = _problem(request, exc)
        return _warehouse_form(request, auth, values=values, warehouse=warehouse, problem=problem)
    return RedirectResponse(f"{WAREHOUSES}?notice=saved", status_code=303)


@router.get("/ledger")
async def ledger(request: Request) -> Response:
    """Every stock movement, newest first, filtered by SKU code, warehouse and kind."""
    sku_code = request.query_params.get("sku", "").strip()[:64]
    warehouse_id = _id(request.query_params.get("warehouse"))
    kind_text = request.query_params.get("kind", "")
    kind = inventory.LedgerKind(kind_text) if kind_text in {k.value for k in inventory.LedgerKind} else None
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        warehouse_list = await inventory.list_warehouses(session)
        sku_ids = await catalog.get_sku_ids_by_code(session, codes=[sku_code]) if sku_code else {}
        entries: list[inventory.LedgerEntryRead] = []
        next_cursor = None
        if not sku_code or sku_code in sku_ids:
            page = await inventory.list_ledger(
                session,
                sku_id=sku_ids.get(sku_code),
                warehouse_id=warehouse_id,
                kind=kind,
                cursor=request.query_params.get("cursor") or None,
                limit=PAGE_SIZE,
            )
            entries, next_cursor = page.items, page.next_cursor
        labels = await catalog.get_sku_labels(session, sku_ids=[entry.sku_id for entry in entries])
    filters = {
        "sku": sku_code,
        "warehouse": str(warehouse_id) if warehouse_id else "",
        "kind": kind.value if kind else "",
    }
    return render(
        request,
        "admin/inventory/ledger.html",
        staff=auth.staff,
        entries=entries,
        labels=labels,
        warehouses={warehouse.id: warehouse for warehouse in warehouse_list},
        warehouse_list=warehouse_list,
        kinds=list(inventory.LedgerKind),
        kind_labels=KIND_LABELS,
        reason_labels=REASON_LABELS,
        filters=filters,
        next_url=next_page(LEDGER, filters, next_cursor),
        notice=NOTICES.get(request.query_params.get("notice") or ""),
    )


# --- Operations: receive, adjust, transfer (inventory.write) ---------------------------------

#: Each operation: its template, the input model, the fields it reads, and where success goes.
OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "receive": (
        "admin/inventory/receive.html",
        ("sku_id", "warehouse_id", "quantity", "reason", "reference"),
    ),
    "adjust": ("admin/inventory/adjust.html", ("sku_id", "warehouse_id", "delta", "reason", "note")),
    "transfer": (
        "admin/inventory/transfer.html",
        ("sku_id", "from_warehouse_id", "to_warehouse_id", "quantity", "reason"),
    ),
    "safety": ("admin/inventory/safety.html", ("sku_id", "warehouse_id", "safety_stock")),
}


async def _operation_form(
    request: Request,
    auth: StaffSession,
    name: str,
    *,
    values: dict[str, str],
    problem: FormProblem | None = None,
) -> Response:
    async with uow(write=False) as session:
        warehouse_list = await inventory.list_warehouses(session)
    template, _fields = OPERATIONS[name]
    return form_page(
        request,
        template,
        problem,
        staff=auth.staff,
        warehouse_options=[_option(warehouse) for warehouse in warehouse_list if warehouse.is_active],
        all_warehouse_options=[_option(warehouse) for warehouse in warehouse_list],
        reasons=[
            (reason.value, gettext(REASON_LABELS[reason.value], locale_of(request)))
            for reason in inventory.AdjustmentReason
        ],
        values=values,
    )


def _option(warehouse: inventory.WarehouseRead) -> tuple[int, str]:
    return warehouse.id, f"{warehouse.name} ({warehouse.code})"


async def _show_operation(request: Request, name: str) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    prefill = {
        key: request.query_params.get(key, "")[:64] for key in ("sku_code", "warehouse_id", "safety_stock")
    }
    if prefill["warehouse_id"]:
        prefill["from_warehouse_id"] = prefill["warehouse_id"]
    return await _operation_form(request, auth, name, values=prefill)


async def _run_operation(request: Request, name: str) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    _template, names = OPERATIONS[name]
    try:
        async with uow() as session:
            posted = {**values, "sku_id": await _sku_id(session, values.get("sku_code", ""))}
            if name == "receive":
                received = validate(inventory.ReceiveStock, posted, *names)
                await inventory.receive_stock(session, data=received, actor=auth.actor)
                warehouse_id = received.warehouse_id
            elif name == "adjust":
                adjustment = validate(inventory.AdjustStock, posted, *names)
                await inventory.adjust_stock(session, data=adjustment, actor=auth.actor)
                warehouse_id = adjustment.warehouse_id
            elif name == "safety":
                safety = validate(inventory.SetSafetyStock, posted, *names)
                await inventory.set_safety_stock(session, data=safety, actor=auth.actor)
                warehouse_id = safety.warehouse_id
            else:
                transfer = validate(inventory.TransferStock, posted, *names)
                await inventory.transfer_stock(session, data=transfer, actor=auth.actor)
                warehouse_id = 0
    except FORM_ERRORS as exc:
        return await _operation_form(request, auth, name, values=values, problem=_problem(request, exc))
    if name == "safety":
        query = {"q": values.get("sku_code", "").strip(), "warehouse": str(warehouse_id), "notice": "safety"}
        return RedirectResponse(f"{HOME}?{_query(query)}", status_code=303)
    notice = {"receive": "received", "adjust": "adjusted", "transfer": "transferred"}[name]
    query = {
        "sku": values.get("sku_code", "").strip(),
        "warehouse": str(warehouse_id or ""),
        "notice": notice,
    }
    return RedirectResponse(f"{LEDGER}?{_query(query)}", status_code=303)


@router.get("/receive")
async def receive_form(request: Request) -> Response:
    return await _show_operation(request, "receive")


@router.post("/receive")
async def receive(request: Request) -> Response:
    """Book goods in: on hand goes up by the quantity."""
    return await _run_operation(request, "receive")


RECEIVE_PRODUCT_PAGE = "admin/inventory/receive_product.html"


async def _product_skus(
    session: AsyncSession, query: str
) -> tuple[catalog.ProductRead, list[catalog.SkuRead]]:
    """The product named by one of its SKU codes (or its id), with its active SKUs.

    Raises:
        SkuNotFound, ProductNotFound: with a field error on ``product``.
    """
    query = query.strip()
    product_id = parse_id(query)
    if product_id is None:
        found = await catalog.get_sku_ids_by_code(session, codes=[query]) if query else {}
        if query not in found:
            raise catalog.SkuNotFound(
                sku_ids=query,
                fields=[
                    FieldError(("body", "product"), "catalog.sku_not_found", N_("No SKU has this code."))
                ],
            )
        product_id = (await catalog.get_sku_refs(session, sku_ids=[found[query]]))[found[query]].product_id
    try:
        product = await catalog.get_product(session, product_id=product_id)
    except catalog.ProductNotFound as exc:
        raise catalog.ProductNotFound(
            fields=[FieldError(("body", "product"), exc.code, N_("No product has this id."))]
        ) from exc
    skus = await catalog.list_skus(session, product_id=product_id)
    return product, [sku for sku in skus if sku.status == catalog.SkuStatus.active]


async def _receive_product_page(
    request: Request,
    auth: StaffSession,
    *,
    values: dict[str, str],
    problem: FormProblem | None = None,
) -> Response:
    """The by-product receive form: find a product, then a quantity field per SKU."""
    product: catalog.ProductRead | None = None
    skus: list[catalog.SkuRead] = []
    async with uow(write=False) as session:
        warehouse_list = await inventory.list_warehouses(session)
        if values.get("product", "").strip():
            try:
                product, skus = await _product_skus(session, values["product"])
            except (catalog.SkuNotFound, catalog.ProductNotFound) as exc:
                problem = problem or _problem(request, exc)
    return form_page(
        request,
        RECEIVE_PRODUCT_PAGE,
        problem,
        staff=auth.staff,
        warehouse_options=[_option(warehouse) for warehouse in warehouse_list if warehouse.is_active],
        product=product,
        skus=skus,
        values=values,
    )


@router.get("/receive/product")
async def receive_product_form(request: Request) -> Response:
    """Receive for every SKU of a product at once: ``?product=`` names it by a SKU code or its id."""
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return await _receive_product_page(
        request, auth, values={"product": request.query_params.get("product", "")[:64]}
    )


@router.post("/receive/product")
async def receive_product(request: Request) -> Response:
    """Book one receipt per SKU with a quantity (blank or 0 skips it) into one warehouse under one
    reference, all in one transaction: a bad line is a field error on that line and nothing is
    booked."""
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    locale = locale_of(request)
    errors: dict[str, str] = {}
    try:
        async with uow() as session:
            _product, skus = await _product_skus(session, values.get("product", ""))
            lines: list[inventory.ReceiveStock] = []
            for sku in skus:
                name = f"quantity-{sku.id}"
                if values.get(name, "").strip() in ("", "0"):
                    continue
                try:
                    lines.append(
                        validate(
                            inventory.ReceiveStock,
                            {**values, "sku_id": str(sku.id), "quantity": values[name]},
                            "sku_id",
                            "warehouse_id",
                            "quantity",
                            "reason",
                            "reference",
                        )
                    )
                except ValidationError as exc:
                    problem = form_problem(exc, locale)
                    errors.update(
                        {
                            (name if field == "quantity" else field): text
                            for field, text in problem.fields.items()
                        }
                    )
            if not lines and not errors:
                errors[""] = gettext("Type a quantity for at least one SKU.", locale)
            if errors:
                raise _LinesRefused()
            for line in lines:
                try:
                    await inventory.receive_stock(session, data=line, actor=auth.actor)
                except DomainError as exc:
                    problem = _problem(request, exc)
                    line_error = problem.fields.pop("sku_code", "")
                    errors.update(
                        problem.fields or {f"quantity-{line.sku_id}": line_error or problem.message}
                    )
                    raise _LinesRefused() from exc
    except _LinesRefused:
        return await _receive_product_page(request, auth, values=values, problem=invalid(request, errors))
    except FORM_ERRORS as exc:
        return await _receive_product_page(request, auth, values=values, problem=_problem(request, exc))
    query = {"warehouse": values.get("warehouse_id", ""), "notice": "received"}
    return RedirectResponse(f"{LEDGER}?{_query(query)}", status_code=303)


class _LinesRefused(Exception):
    """Some lines of the by-product receipt were refused: the transaction rolls back, nothing is booked."""


@router.get("/adjust")
async def adjust_form(request: Request) -> Response:
    return await _show_operation(request, "adjust")


@router.post("/adjust")
async def adjust(request: Request) -> Response:
    """Correct on hand by a signed quantity with a reason; never below the units reserved."""
    return await _run_operation(request, "adjust")


@router.get("/transfer")
async def transfer_form(request: Request) -> Response:
    return await _show_operation(request, "transfer")


@router.post("/transfer")
async def transfer(request: Request) -> Response:
    """Move available units from one warehouse to another."""
    return await _run_operation(request, "transfer")


@router.get("/safety-stock")
async def safety_stock_form(request: Request) -> Response:
    return await _show_operation(request, "safety")


@router.post("/safety-stock")
async def safety_stock(request: Request) -> Response:
    """Set the low-stock line of a SKU in a warehouse (the low-stock list follows it)."""
    return await _run_operation(request, "safety")


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
            warehouse_id=_id(request.query_params.get("warehouse")),
        )
    return download(exported.content, exported.media_type, exported.filename)
