"""The console's stock operations (inventory.write): receive (one SKU, or every SKU of a product
at once), adjust, transfer and safety stock.

Forms name a SKU by its code (people know codes, not ids); the page looks the id up through the
catalog and the inventory services do the rest (levels, ledger, audit). No business rules here.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, inventory
from mercato.admin.routes._shared import form_page, invalid, problem_of, signed_in, to_login
from mercato.admin.routes.inventory_lists import REASON_LABELS
from mercato.core.db import uow
from mercato.core.errors import DomainError, FieldError
from mercato.core.i18n import N_, gettext
from mercato.web.forms import (
    FORM_ERRORS,
    FormProblem,
    form_problem,
    locale_of,
    parse_id,
    read_form,
    validate,
)
from mercato.web.session import StaffSession

#: Included by ``inventory.py`` under ``/admin/inventory``.
router = APIRouter(include_in_schema=False)

WRITE = "inventory.write"
HOME = "/admin/inventory/"
LEDGER = "/admin/inventory/ledger"

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


def problem_for(request: Request, exc: Exception) -> FormProblem:
    """The form problem with every message next to its form field (``sku_id`` is ``sku_code``)."""
    problem = problem_of(request, exc)
    fields = {("sku_code" if name == "sku_id" else name): text for name, text in problem.fields.items()}
    if isinstance(exc, DomainError) and not fields:
        for kind, name in ERROR_FIELDS.items():
            if isinstance(exc, kind):
                fields[name] = problem.message
                break
    return dataclasses.replace(problem, fields=fields)


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


def _with_submission(values: dict[str, str]) -> dict[str, str]:
    """The form's values with its submission id: kept when shown again, else a fresh one."""
    if values.get("submission", "").isalnum():
        return values
    return {**values, "submission": uuid.uuid4().hex}


def _submission(auth: StaffSession, values: dict[str, str], *, part: str = "") -> str | None:
    """The idempotency key of a receipt form's submission: the form carries a fresh random id
    (``submission``) each time it is shown, so a double click or a resent POST books once. A form
    shown again after a refusal keeps its id (nothing was booked under it)."""
    submission = values.get("submission", "").strip()
    if not submission or len(submission) > 64 or not submission.isalnum():
        return None
    return ":".join(filter(None, ["console", str(auth.staff.id), submission, part]))


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
    values = _with_submission(values)
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
                await inventory.receive_stock(
                    session, data=received, actor=auth.actor, idempotency_key=_submission(auth, values)
                )
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
        return await _operation_form(request, auth, name, values=values, problem=problem_for(request, exc))
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
    values = _with_submission(values)
    async with uow(write=False) as session:
        warehouse_list = await inventory.list_warehouses(session)
        if values.get("product", "").strip():
            try:
                product, skus = await _product_skus(session, values["product"])
            except (catalog.SkuNotFound, catalog.ProductNotFound) as exc:
                problem = problem or problem_for(request, exc)
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
                    await inventory.receive_stock(
                        session,
                        data=line,
                        actor=auth.actor,
                        idempotency_key=_submission(auth, values, part=str(line.sku_id)),
                    )
                except DomainError as exc:
                    problem = problem_for(request, exc)
                    line_error = problem.fields.pop("sku_code", "")
                    errors.update(
                        problem.fields or {f"quantity-{line.sku_id}": line_error or problem.message}
                    )
                    raise _LinesRefused() from exc
    except _LinesRefused:
        return await _receive_product_page(request, auth, values=values, problem=invalid(request, errors))
    except FORM_ERRORS as exc:
        return await _receive_product_page(request, auth, values=values, problem=problem_for(request, exc))
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
