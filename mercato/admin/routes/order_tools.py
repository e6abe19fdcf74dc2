"""The console's tools over many orders: export the listed orders (orders.read), ship orders by
uploading a spreadsheet (fulfillment.write), print packing lists and waybill sheets (orders.read
and fulfillment.read; the recipient in full only with orders.reveal_pii), and reveal one order's
recipient phone (orders.reveal_pii). Every action checks its permission and the CSRF token; the
services audit.

Exports of up to ``MERCATO_ORDER_EXPORT_SYNC_ROWS`` orders download at once; larger ones go to
a job, and their page polls the progress every second (htmx) until the file can be downloaded,
by the staff member who asked only. Registered before the order pages, whose ``/orders/{number}``
would otherwise take ``/orders/batch-ship``.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mercato import catalog, fulfillment, identity
from mercato.admin.routes._shared import download, invalid, problem_of, staff_for, to_login
from mercato.admin.routes.catalog_common import close_form
from mercato.admin.routes.orders import (
    FILTERS,
    LIST,
    _buyer_search,
    _detail_context,
    _list_filters,
    _order_by_number,
)
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.i18n import gettext
from mercato.core.schemas import IdInt
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, read_form, read_list, read_upload
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/orders", include_in_schema=False)

BATCH_PAGE = "admin/orders/batch_ship.html"
DOCUMENT_KINDS = ("packing", "waybill")


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _file_format(value: str | None) -> tabular.FileFormat:
    return tabular.FileFormat.xlsx if value == "xlsx" else tabular.FileFormat.csv


# --- Export ------------------------------------------------------------------------------------


@router.post("/export")
async def export_orders(request: Request) -> Response:
    """Export the orders the list shows for these filters: at once, or through a job (then to
    its progress page). Filters the list refuses send the operator back to the list."""
    values = await read_form(request)
    locale = locale_of(request)
    filters = {name: values.get(name, "").strip() for name in FILTERS}
    args, errors = _list_filters(filters, locale)
    kept = {name: value for name, value in filters.items() if value}
    back = RedirectResponse(f"{LIST}?{urlencode(kept)}" if kept else LIST, status_code=303)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "orders.read")
        if auth is None:
            return to_login(request)
        if errors:
            return back
        if filters["sku"]:
            found = await catalog.get_sku_ids_by_code(session, codes=[filters["sku"]])
            if filters["sku"] not in found:
                return back
            args["sku_id"] = found[filters["sku"]]
        if filters["customer"]:
            args["buyer"] = await _buyer_search(session, filters["customer"][:100])
        prepared = await fulfillment.prepare_order_export(
            session,
            filters=fulfillment.OrderExportFilters(**args),
            file_format=_file_format(values.get("format")),
            locale=locale,
        )
    async with uow() as session:
        auth = await staff_for(request, session, "orders.read")
        assert auth is not None
        export = await fulfillment.record_order_export(session, prepared=prepared, actor=auth.actor)
    if export is not None:
        return RedirectResponse(f"/admin/orders/exports/{export.id}", status_code=303)
    exported = await fulfillment.write_prepared_export(prepared)
    return download(exported.content, exported.media_type, exported.filename)


@router.get("/exports/{export_id}")
async def export_page(request: Request, export_id: IdInt) -> Response:
    """An export's progress; htmx asks again every second for the status part alone."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "orders.read")
        if auth is None:
            return to_login(request)
        export = await fulfillment.get_order_export(session, export_id=export_id, staff_id=auth.staff.id)
    template = "admin/orders/_export_status.html" if _htmx(request) else "admin/orders/export.html"
    return render(request, template, staff=auth.staff, export=export)


@router.get("/exports/{export_id}/file")
async def export_file(request: Request, export_id: IdInt) -> Response:
    """The export's file, for the staff member who asked for it (anyone else: 404)."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "orders.read")
        if auth is None:
            return to_login(request)
        exported = await fulfillment.open_order_export(session, export_id=export_id, staff_id=auth.staff.id)
    return download(exported.content, exported.media_type, exported.filename)


# --- Batch shipping ----------------------------------------------------------------------------


def _batch_page(request: Request, auth: StaffSession, status: int = 200, **context: Any) -> Response:
    return render(
        request,
        BATCH_PAGE,
        status,
        staff=auth.staff,
        carriers=fulfillment.list_carriers(),
        **context,
    )


@router.get("/batch-ship")
async def batch_ship_page(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "fulfillment.write")
        if auth is None:
            return to_login(request)
    return _batch_page(request, auth)


@router.get("/batch-ship/template.{extension}")
async def batch_ship_template(request: Request, extension: str) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "fulfillment.write")
        if auth is None:
            return to_login(request)
    template = fulfillment.batch_template(_file_format(extension))
    return download(template.content, template.media_type, template.filename)


def _row_reports(exc: fulfillment.BatchRejected, locale: str) -> list[tuple[int, str, str]]:
    """``(row, order number, message)`` per problem, in the request's language."""
    return [(p.row, p.order_number, gettext(p.message, locale, **p.params)) for p in exc.rows]


@router.post("/batch-ship")
async def batch_ship(request: Request) -> Response:
    """Ship every row of the uploaded file, or nothing: the problems are listed per row. The
    file is read before the transaction; the same accepted file twice ships once."""
    try:
        return await _batch_ship(request)
    finally:
        await close_form(request)


async def _batch_ship(request: Request) -> Response:
    await read_form(request)
    locale = locale_of(request)
    upload = await read_upload(request, "file")
    problem: FormProblem | None = None
    reports: list[tuple[int, str, str]] = []
    result = None
    try:
        if upload is None:
            async with uow(write=False) as session:
                if await staff_for(request, session, "fulfillment.write") is None:
                    return to_login(request)
            problem = invalid(request, {"file": gettext("Choose a CSV or XLSX file.", locale)})
        else:
            table = await tabular.read_upload(
                upload.data,
                filename=upload.filename,
                content_type=upload.content_type,
                max_rows=fulfillment.BATCH_MAX_ROWS,
            )
            async with uow() as session:
                auth = await staff_for(request, session, "fulfillment.write")
                if auth is None:
                    return to_login(request)
                result = await fulfillment.ship_batch(
                    session,
                    table=table,
                    file_sha256=hashlib.sha256(upload.data).hexdigest(),
                    filename=tabular.safe_filename(upload.filename),
                    actor=auth.actor,
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, fulfillment.BatchRejected):
            reports = _row_reports(exc, locale)
        problem = problem_of(request, exc)
        if not isinstance(exc, fulfillment.BatchRejected):
            problem = FormProblem(problem.status, problem.message, {"file": problem.message})
        else:
            problem = FormProblem(problem.status, problem.message)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "fulfillment.write")
        if auth is None:
            return to_login(request)
    if problem is not None:
        return _batch_page(
            request, auth, problem.status, headers=problem.headers, problem=problem, reports=reports
        )
    return _batch_page(request, auth, result=result)


# --- Packing lists and waybills ----------------------------------------------------------------


@router.post("/documents")
async def print_documents(request: Request) -> Response:
    """The PDF of packing lists or waybill sheets of the chosen orders. Waybills carry the
    recipient in full for staff with orders.reveal_pii (each order audited), masked otherwise."""
    values = await read_form(request)
    numbers = [n.strip() for n in await read_list(request, "numbers") if n.strip()]
    kind = values.get("kind", "")
    locale = locale_of(request)
    async with uow() as session:
        auth = await staff_for(request, session, "orders.read")
        if auth is None:
            return to_login(request)
        identity.require_permission(auth.staff, "fulfillment.read")
        if kind not in DOCUMENT_KINDS or not numbers:
            return RedirectResponse(LIST, status_code=303)
        documents = await fulfillment.read_order_documents(
            session,
            order_numbers=numbers,
            full_recipient=kind == "waybill" and auth.staff.has("orders.reveal_pii"),
            actor=auth.actor,
        )
    if kind == "waybill":
        content = await fulfillment.render_waybills(documents, locale=locale)
    else:
        content = await fulfillment.render_packing_lists(documents, locale=locale)
    name = f"{kind}-{numbers[0]}.pdf" if len(numbers) == 1 else f"{kind}s.pdf"
    return Response(
        content=content,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}"', "cache-control": "no-store"},
    )


# --- Reveal ------------------------------------------------------------------------------------


@router.post("/{number}/reveal")
async def reveal_recipient(request: Request, number: str) -> Response:
    """The recipient's full phone number (orders.reveal_pii; audited): the fragment for htmx,
    the order page with it shown otherwise. Without the permission: 403, nothing recorded."""
    await read_form(request)
    async with uow() as session:
        auth = await staff_for(request, session, "orders.reveal_pii")
        if auth is None:
            return to_login(request)
        order = await _order_by_number(session, number)
        revealed = await fulfillment.reveal_recipient(session, order_id=order.id, actor=auth.actor)
    if _htmx(request):
        return render(request, "admin/orders/_recipient.html", order=order, revealed=revealed)
    async with uow(write=False) as session:
        context = await _detail_context(session, auth, number)
    return render(request, "admin/orders/detail.html", notice=None, values={}, revealed=revealed, **context)
