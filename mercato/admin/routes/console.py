"""The console's own pages: staff sign-in and sign-out, and the audit log (the dashboard is in
``dashboard.py``; the staff check every console page shares is in ``_shared.py``).

The audit log is a declared list page (``mercato/admin/listing.py``): newest first, filtered by
action, object type and object id, exported as CSV or XLSX with emails and phone numbers masked.

The staff cookie is separate from the shop's and limited to ``/admin``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.admin.listing import Column, ListPage, ListQuery, Search
from mercato.admin.routes._shared import LOGIN, form_page, problem_of
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.core.security import mask_free_text
from mercato.web.forms import FORM_ERRORS, read_form, validate
from mercato.web.session import (
    SESSION_KIND,
    STAFF_COOKIE,
    STAFF_COOKIE_PATH,
    clear_session_cookie,
    current_staff,
    request_meta,
    safe_next,
    set_session_cookie,
)
from mercato.web.templates import audit_changes, render

router = APIRouter(prefix="/admin", include_in_schema=False)

HOME = "/admin/"
LOGIN_PAGE = "admin/login.html"


@router.get("/login")
async def login_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), HOME)
    async with uow(write=False) as session:
        auth = await current_staff(request, session)
    if auth is not None:
        return RedirectResponse(next_url, status_code=303)
    signed_out = request.query_params.get("notice") == "signed_out"
    return render(request, LOGIN_PAGE, next_url=next_url, signed_out=signed_out, values={})


@router.post("/login")
async def login(request: Request) -> Response:
    values = await read_form(request)
    next_url = safe_next(values.get("next"), HOME)
    meta = request_meta(request)
    try:
        data = validate(identity.StaffLogin, values, "email", "password")
        async with uow() as session:
            staff = await identity.authenticate_staff(session, data=data, meta=meta)
            issued = await identity.issue_token(
                session, subject_kind="staff", subject_id=staff.id, kind=SESSION_KIND, meta=meta
            )
    except FORM_ERRORS as exc:
        return form_page(request, LOGIN_PAGE, problem_of(request, exc), next_url=next_url, values=values)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, STAFF_COOKIE, issued, path=STAFF_COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await read_form(request)
    async with uow() as session:
        auth = await current_staff(request, session)
        if auth is not None:
            await identity.revoke_token(session, token_id=auth.token_id)
    response = RedirectResponse(f"{LOGIN}?notice=signed_out", status_code=303)
    clear_session_cookie(response, STAFF_COOKIE, path=STAFF_COOKIE_PATH)
    return response


async def _entries(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """One page of the audit log, newest first (the service's order and cursor)."""
    page = await identity.list_audit_entries(
        session,
        action=query.filters["action"] or None,
        object_type=query.filters["object_type"] or None,
        object_id=query.filters["object_id"] or None,
        actor_id=None,
        cursor=query.cursor,
        limit=limit,
    )
    return page.items, page.next_cursor


def _changes(entry: identity.AuditEntryRead) -> str:
    """The changed keys, one ``key: old → new`` a line, emails and phone numbers masked (the
    export leaves the console)."""
    return "\n".join(
        mask_free_text(f"{key}: {old} → {new}") for key, old, new in audit_changes(entry.before, entry.after)
    )


AUDIT_LOG = ListPage(
    key="audit-log",
    path="/admin/audit/",
    title=N_("Audit log"),
    permission="audit.read",
    columns=(
        Column("created_at", N_("Time"), lambda e: e.created_at, kind="datetime"),
        Column("actor", N_("Staff"), lambda e: mask_free_text(e.actor_label)),
        Column("action", N_("Action"), lambda e: e.action, kind="code"),
        Column(
            "object",
            N_("Object"),
            lambda e: f"{e.object_type} #{e.object_id}" if e.object_id else e.object_type,
        ),
        Column("changes", N_("Changes"), _changes),
        Column("ip", N_("IP address"), lambda e: e.ip or ""),
    ),
    fetch=_entries,
    filters=(
        Search("action", N_("Action"), N_("Exact, or a prefix ending with a dot (role.)")),
        Search("object_type", N_("Object type")),
        Search("object_id", N_("Object ID")),
    ),
    export="audit-log",
    empty=N_("No entries match."),
    template="admin/audit/list.html",
)
AUDIT_LOG.register(router, "/admin")
