"""The console's customer pages: a searchable list and one account's facts (customers.read).

Phone numbers and email addresses are masked on every page (``mask_phone`` / ``mask_email``):
staff see enough to recognise an account, never the full contact details. The domain has no
disabled state for customers (only active and deleted), so there is nothing to switch here.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.web.session import (
    STAFF_COOKIE,
    STAFF_COOKIE_PATH,
    StaffSession,
    clear_session_cookie,
    current_staff,
    login_redirect,
)
from mercato.web.templates import render

router = APIRouter(prefix="/admin/customers", include_in_schema=False)

READ = "customers.read"
LIST = "/admin/customers/"
PAGE_SIZE = 50
STATUSES = {status.value for status in identity.CustomerStatus}
#: How each account status is named on the pages.
STATUS_LABELS = {"active": N_("Active"), "deleted": N_("Deleted")}
CustomerId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _to_login(request: Request) -> RedirectResponse:
    response = login_redirect("/admin/login", request)
    if STAFF_COOKIE in request.cookies:
        clear_session_cookie(response, STAFF_COOKIE, path=STAFF_COOKIE_PATH)
    return response


async def _staff(request: Request, session: AsyncSession, permission: str) -> StaffSession | None:
    """The signed-in staff member once ``permission`` is checked (None: not signed in).

    Raises:
        MissingPermission (403 page).
    """
    auth = await current_staff(request, session)
    if auth is not None:
        identity.require_permission(auth.staff, permission)
    return auth


@router.get("/")
async def customer_list(request: Request) -> Response:
    """Accounts newest first; search by part of the name, email or phone number."""
    query = request.query_params.get("q", "").strip()[:100]
    status_text = request.query_params.get("status", "")
    status = identity.CustomerStatus(status_text) if status_text in STATUSES else None
    async with uow(write=False) as session:
        auth = await _staff(request, session, READ)
        if auth is None:
            return _to_login(request)
        page = await identity.list_customers(
            session,
            query=query or None,
            status=status,
            cursor=request.query_params.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    filters = {"q": query, "status": status.value if status else ""}
    next_url = None
    if page.next_cursor:
        kept = {name: value for name, value in filters.items() if value}
        next_url = f"{LIST}?{urlencode({**kept, 'cursor': page.next_cursor})}"
    return render(
        request,
        "admin/customers/list.html",
        staff=auth.staff,
        customers=page.items,
        filters=filters,
        statuses=sorted(STATUSES),
        status_labels=STATUS_LABELS,
        next_url=next_url,
    )


@router.get("/{customer_id}")
async def customer_detail(request: Request, customer_id: CustomerId) -> Response:
    async with uow(write=False) as session:
        auth = await _staff(request, session, READ)
        if auth is None:
            return _to_login(request)
        customer = await identity.get_customer_record(session, customer_id=customer_id)
    return render(
        request,
        "admin/customers/detail.html",
        staff=auth.staff,
        customer=customer,
        status_labels=STATUS_LABELS,
    )
