"""The console's customer pages: a searchable list and one account's facts (customers.read).

Phone numbers and email addresses are masked on every page (``mask_phone`` / ``mask_email``):
staff see enough to recognise an account, never the full contact details. The domain has no
disabled state for customers (only active and deleted), so there is nothing to switch here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from mercato import identity
from mercato.admin.routes._shared import next_page, staff_for, to_login
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.web.templates import render

router = APIRouter(prefix="/admin/customers", include_in_schema=False)

READ = "customers.read"
LIST = "/admin/customers/"
PAGE_SIZE = 50
STATUSES = {status.value for status in identity.CustomerStatus}
#: How each account status is named on the pages.
STATUS_LABELS = {"active": N_("Active"), "deleted": N_("Deleted")}
CustomerId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/")
async def customer_list(request: Request) -> Response:
    """Accounts newest first; search by part of the name, email or phone number."""
    query = request.query_params.get("q", "").strip()[:100]
    status_text = request.query_params.get("status", "")
    status = identity.CustomerStatus(status_text) if status_text in STATUSES else None
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        page = await identity.list_customers(
            session,
            query=query or None,
            status=status,
            cursor=request.query_params.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    filters = {"q": query, "status": status.value if status else ""}
    return render(
        request,
        "admin/customers/list.html",
        staff=auth.staff,
        customers=page.items,
        filters=filters,
        statuses=sorted(STATUSES),
        status_labels=STATUS_LABELS,
        next_url=next_page(LIST, filters, page.next_cursor),
    )


@router.get("/{customer_id}")
async def customer_detail(request: Request, customer_id: CustomerId) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        customer = await identity.get_customer_record(session, customer_id=customer_id)
    return render(
        request,
        "admin/customers/detail.html",
        staff=auth.staff,
        customer=customer,
        status_labels=STATUS_LABELS,
    )
