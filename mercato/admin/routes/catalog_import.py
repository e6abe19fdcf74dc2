"""Product import and export in the console (the catalog's spreadsheet services).

The import page takes a CSV or XLSX file (``catalog.write``); an import is all or nothing: a file
with problems changes nothing and its problems are listed by row and column. "Check only" runs
the import as a dry run. The export (``catalog.read``) downloads the products as CSV or XLSX.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from mercato import catalog
from mercato.admin.routes._shared import download, invalid, signed_in, staff_for, to_login
from mercato.admin.routes.catalog_common import close_form, parse_id
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.i18n import gettext
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, read_upload
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

IMPORT_PAGE = "admin/catalog/import.html"
STATUS_VALUES = frozenset(status.value for status in catalog.ListingStatus)


def _import_page(request: Request, auth: StaffSession, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    return render(request, IMPORT_PAGE, status_code, staff=auth.staff, **context)


@router.get("/import")
async def import_page(request: Request) -> Response:
    auth = await signed_in(request, "catalog.write")
    if auth is None:
        return to_login(request)
    return _import_page(request, auth)


@router.post("/import")
async def import_products(request: Request) -> Response:
    try:
        return await _import(request)
    finally:
        await close_form(request)


def _row_errors(exc: catalog.ImportRejected, locale: str) -> list[tuple[str, str, str]]:
    """``(row, column, message)`` per problem; the header's problems have the row "1"."""
    rows: list[tuple[str, str, str]] = []
    for item in exc.fields:
        loc = [str(part) for part in item.loc]
        if loc and loc[0] == "row" and len(loc) >= 3:
            rows.append((loc[1], loc[2], gettext(item.message, locale)))
        elif loc and loc[0] == "header":
            rows.append(("1", loc[1] if len(loc) > 1 else "", gettext(item.message, locale)))
        else:
            rows.append(("", " · ".join(loc), gettext(item.message, locale)))
    return rows


async def _import(request: Request) -> Response:
    values = await read_form(request)
    locale = locale_of(request)
    upload = await read_upload(request, "file")
    dry_run = "dry_run" in values
    problem: FormProblem | None = None
    row_errors: list[tuple[str, str, str]] = []
    result = None
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            if upload is None:
                problem = invalid(request, {"file": gettext("Choose a CSV or XLSX file.", locale)})
            else:
                result = await catalog.import_products(
                    session,
                    data=upload.data,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    dry_run=dry_run,
                    actor=auth.actor,
                )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale)
        if isinstance(exc, catalog.ImportRejected):
            row_errors = _row_errors(exc, locale)
            problem = FormProblem(problem.status, problem.message)
        elif not problem.fields or isinstance(exc, tabular.MalformedFile):
            problem = FormProblem(problem.status, problem.message, {"file": problem.message})
    auth = await signed_in(request, "catalog.write")
    if auth is None:
        return to_login(request)
    if problem is not None:
        return _import_page(
            request, auth, problem.status, problem=problem, row_errors=row_errors, values=values
        )
    return _import_page(request, auth, result=result, values=values)


@router.get("/export")
async def export_products(request: Request) -> Response:
    params = request.query_params
    file_format = tabular.FileFormat.xlsx if params.get("format") == "xlsx" else tabular.FileFormat.csv
    status_text = params.get("status", "")
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "catalog.read")
        if auth is None:
            return to_login(request)
        exported = await catalog.export_products(
            session,
            file_format=file_format,
            category_id=parse_id(params.get("category_id")),
            status=catalog.ListingStatus(status_text) if status_text in STATUS_VALUES else None,
        )
    return download(exported.content, exported.media_type, exported.filename)
