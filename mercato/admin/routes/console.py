"""The console's own pages: staff sign-in and sign-out, and the audit log (the dashboard is in
``dashboard.py``), plus the staff check the other console pages share (``to_login``, ``staff_for``).

The staff cookie is separate from the shop's and limited to ``/admin``. Pages that need a
permission call ``identity.require_permission``; its refusal is rendered as a 403 page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.core.db import uow
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, read_form, validate
from mercato.web.session import (
    SESSION_KIND,
    STAFF_COOKIE,
    STAFF_COOKIE_PATH,
    StaffSession,
    clear_session_cookie,
    current_staff,
    login_redirect,
    request_meta,
    safe_next,
    set_session_cookie,
)
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

HOME = "/admin/"
LOGIN = "/admin/login"
LOGIN_PAGE = "admin/login.html"
AUDIT_PAGE_SIZE = 50
AUDIT_FILTERS = ("action", "object_type", "object_id")


def to_login(request: Request) -> RedirectResponse:
    """To the sign-in page and back here afterwards (a stale staff cookie is cleared)."""
    response = login_redirect(LOGIN, request)
    if STAFF_COOKIE in request.cookies:
        clear_session_cookie(response, STAFF_COOKIE, path=STAFF_COOKIE_PATH)
    return response


async def staff_for(request: Request, session: AsyncSession, permission: str | None) -> StaffSession | None:
    """The signed-in staff member once ``permission`` is checked (None: not signed in).

    Raises:
        MissingPermission (403 page): signed in without ``permission``.
    """
    auth = await current_staff(request, session)
    if auth is not None and permission is not None:
        identity.require_permission(auth.staff, permission)
    return auth


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
        problem = form_problem(exc, locale_of(request))
        return render(
            request,
            LOGIN_PAGE,
            problem.status,
            headers=problem.headers,
            next_url=next_url,
            problem=problem,
            values=values,
        )
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
        auth = await current_staff(request, session)
        if auth is None:
            return to_login(request)
        identity.require_permission(auth.staff, "audit.read")
        page = await identity.list_audit_entries(
            session,
            action=filters["action"] or None,
            object_type=filters["object_type"] or None,
            object_id=filters["object_id"] or None,
            actor_id=None,
            cursor=request.query_params.get("cursor") or None,
            limit=AUDIT_PAGE_SIZE,
        )
    next_url = None
    if page.next_cursor:
        query = {name: value for name, value in filters.items() if value}
        next_url = f"/admin/audit/?{urlencode({**query, 'cursor': page.next_cursor})}"
    return render(
        request,
        "admin/audit/list.html",
        staff=auth.staff,
        entries=page.items,
        filters=filters,
        next_url=next_url,
    )
