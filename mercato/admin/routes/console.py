"""The console's own pages: staff sign-in and sign-out, and the audit log (the dashboard is in
``dashboard.py``; the staff check every console page shares is in ``_shared.py``).

The staff cookie is separate from the shop's and limited to ``/admin``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.admin.routes._shared import LOGIN, form_page, next_page, problem_of, staff_for, to_login
from mercato.core.db import uow
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
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

HOME = "/admin/"
LOGIN_PAGE = "admin/login.html"
AUDIT_PAGE_SIZE = 50
AUDIT_FILTERS = ("action", "object_type", "object_id")


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


@router.get("/audit/")
async def audit_log(request: Request) -> Response:
    """The audit log, newest first, filtered by action, object type and object id (audit.read)."""
    filters = {name: request.query_params.get(name, "").strip() for name in AUDIT_FILTERS}
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "audit.read")
        if auth is None:
            return to_login(request)
        page = await identity.list_audit_entries(
            session,
            action=filters["action"] or None,
            object_type=filters["object_type"] or None,
            object_id=filters["object_id"] or None,
            actor_id=None,
            cursor=request.query_params.get("cursor") or None,
            limit=AUDIT_PAGE_SIZE,
        )
    return render(
        request,
        "admin/audit/list.html",
        staff=auth.staff,
        entries=page.items,
        filters=filters,
        next_url=next_page("/admin/audit/", filters, page.next_cursor),
    )
