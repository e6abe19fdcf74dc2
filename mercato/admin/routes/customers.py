"""The console's customer pages: a searchable list and the customer 360 (customers.read), where
staff with customers.write also tag the account and write notes on it.

Phone numbers and email addresses are masked on every page (``mask_phone`` / ``mask_email``), and
so are the street lines of addresses: staff see enough to recognise an account, never the full
contact details. The 360 brings together the profile and consents, the order figures
(``orders.customer_order_stats``) and a page of orders, addresses, after-sales requests, the
messages sent, tags and notes, each from its domain's front door. Every POST checks the CSRF
token, then the permission; the identity services audit the writes. Deleted (anonymised)
accounts take no tags or notes. The domain has no disabled state for customers (only active and
deleted), so there is nothing to switch here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import aftersales, identity, notify, orders
from mercato.admin.routes._shared import (
    form_page,
    next_page,
    notice_of,
    problem_of,
    signed_in,
    staff_for,
    to_login,
)
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.core.security import mask_text
from mercato.web.forms import FORM_ERRORS, FormProblem, parse_id, read_form, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/customers", include_in_schema=False)

READ, WRITE = "customers.read", "customers.write"
LIST = "/admin/customers/"
DETAIL_PAGE = "admin/customers/detail.html"
PAGE_SIZE = 50
#: Orders and notes per page of the 360; after-sales requests, messages and consents shown.
ORDERS_PER_PAGE, NOTES_PER_PAGE, RECENT = 10, 10, 10
STATUSES = {status.value for status in identity.CustomerStatus}
#: How each account status is named on the pages.
STATUS_LABELS = {"active": N_("Active"), "deleted": N_("Deleted")}
#: Notices a redirect may ask the 360 to show (by key, never free text from the URL).
NOTICES = frozenset({"tagged", "untagged", "noted"})
CustomerId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/")
async def customer_list(request: Request) -> Response:
    """Accounts newest first; search by part of the name, email or phone number, or by tag."""
    query = request.query_params.get("q", "").strip()[:100]
    status_text = request.query_params.get("status", "")
    status = identity.CustomerStatus(status_text) if status_text in STATUSES else None
    tag_id = parse_id(request.query_params.get("tag"))
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        page = await identity.list_customers(
            session,
            query=query or None,
            status=status,
            tag_id=tag_id,
            cursor=request.query_params.get("cursor") or None,
            limit=PAGE_SIZE,
        )
        tags = await identity.list_tags(session)
    filters = {"q": query, "status": status.value if status else "", "tag": str(tag_id) if tag_id else ""}
    return render(
        request,
        "admin/customers/list.html",
        staff=auth.staff,
        customers=page.items,
        filters=filters,
        statuses=sorted(STATUSES),
        status_labels=STATUS_LABELS,
        tags=tags,
        next_url=next_page(LIST, filters, page.next_cursor),
    )


def _masked(address: identity.AddressRead) -> dict[str, Any]:
    """An address as the console shows it: region in full, recipient, phone and street masked."""
    return {
        "recipient": mask_text(address.recipient),
        "phone": address.phone,
        "region": f"{address.province} {address.city} {address.district}",
        "detail": mask_text(address.detail, keep=2),
        "is_default": address.is_default,
    }


def _more(path: str, name: str, cursor: str | None, anchor: str) -> str | None:
    """The link to the next page of one of the 360's lists (None: last page)."""
    return f"{path}?{urlencode({name: cursor})}#{anchor}" if cursor else None


async def _context(
    request: Request, session: AsyncSession, auth: StaffSession, customer_id: int
) -> dict[str, Any]:
    """Everything the 360 shows, from each domain's front door.

    Raises:
        CustomerNotFound (404 page), InvalidCursor (400 page).
    """
    customer = await identity.get_customer_record(session, customer_id=customer_id)
    orders_cursor = request.query_params.get("orders_cursor") or None
    notes_cursor = request.query_params.get("notes_cursor") or None
    order_page = await orders.list_orders(
        session, customer_id=customer_id, cursor=orders_cursor, limit=ORDERS_PER_PAGE
    )
    note_page = await identity.list_customer_notes(
        session, customer_id=customer_id, cursor=notes_cursor, limit=NOTES_PER_PAGE
    )
    path = f"{LIST}{customer_id}"
    consents = await identity.list_consents(session, customer_id=customer_id)
    return {
        "staff": auth.staff,
        "customer": customer,
        "status_labels": STATUS_LABELS,
        "stats": await orders.customer_order_stats(session, customer_id=customer_id),
        "orders": order_page.items,
        "orders_next": _more(path, "orders_cursor", order_page.next_cursor, "orders-title"),
        "addresses": [_masked(a) for a in await identity.list_addresses(session, customer_id=customer_id)],
        "requests": (await aftersales.list_requests(session, customer_id=customer_id, limit=RECENT)).items,
        "messages": (await notify.list_messages(session, customer_id=customer_id, limit=RECENT)).items,
        "consents": list(reversed(consents))[:RECENT],
        "tags": await identity.list_customer_tags(session, customer_id=customer_id),
        "vocabulary": await identity.list_tags(session),
        "notes": note_page.items,
        "notes_next": _more(path, "notes_cursor", note_page.next_cursor, "notes-title"),
        "can_write": auth.staff.has(WRITE) and customer.status is identity.CustomerStatus.active,
        "max_tag_length": identity.MAX_TAG_LENGTH,
        "max_tags": identity.MAX_TAGS_PER_CUSTOMER,
        "notice": notice_of(request, NOTICES),
        "form": "",
        "values": {},
    }


@router.get("/{customer_id}")
async def customer_detail(request: Request, customer_id: CustomerId) -> Response:
    """The customer 360."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        context = await _context(request, session, auth, customer_id)
    return render(request, DETAIL_PAGE, **context)


def _done(customer_id: int, notice: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"{LIST}{customer_id}?notice={notice}#{anchor}", status_code=303)


async def _again(
    request: Request, auth: StaffSession, customer_id: int, exc: Exception, field: str, values: dict[str, str]
) -> Response:
    """The 360 again with what was posted and why it was refused, the reason next to ``field``."""
    if isinstance(exc, identity.CustomerNotFound):
        raise exc
    problem = problem_of(request, exc)
    if not problem.fields:
        problem = FormProblem(problem.status, problem.message, {field: problem.message})
    async with uow(write=False) as session:
        context = await _context(request, session, auth, customer_id)
    return form_page(request, DETAIL_PAGE, problem, **{**context, "form": field, "values": values})


async def _post(
    request: Request,
    customer_id: int,
    field: str,
    write: Callable[[AsyncSession, str, identity.Actor], Awaitable[object]],
    notice: str,
    anchor: str,
) -> Response:
    """Check the CSRF token and customers.write, then ``write`` the posted ``field`` in one unit of
    work: a 303 to the 360 with ``notice``, or the 360 again with the refusal next to the field."""
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    try:
        async with uow() as session:
            await write(session, values.get(field, ""), auth.actor)
    except FORM_ERRORS as exc:
        return await _again(request, auth, customer_id, exc, field, values)
    return _done(customer_id, notice, anchor)


@router.post("/{customer_id}/tags")
async def add_tag(request: Request, customer_id: CustomerId) -> Response:
    async def write(session: AsyncSession, text: str, actor: identity.Actor) -> object:
        data = validate(identity.TagCustomer, {"tag": text}, "tag")
        return await identity.tag_customer(session, customer_id=customer_id, tag=data.tag, actor=actor)

    return await _post(request, customer_id, "tag", write, "tagged", "tags-title")


@router.post("/{customer_id}/tags/{tag_id}/delete")
async def remove_tag(request: Request, customer_id: CustomerId, tag_id: CustomerId) -> Response:
    await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    async with uow() as session:
        await identity.untag_customer(session, customer_id=customer_id, tag_id=tag_id, actor=auth.actor)
    return _done(customer_id, "untagged", "tags-title")


@router.post("/{customer_id}/notes")
async def add_note(request: Request, customer_id: CustomerId) -> Response:
    async def write(session: AsyncSession, text: str, actor: identity.Actor) -> object:
        data = validate(identity.CustomerNoteWrite, {"body": text}, "body")
        return await identity.add_customer_note(session, customer_id=customer_id, data=data, actor=actor)

    return await _post(request, customer_id, "body", write, "noted", "notes-title")
