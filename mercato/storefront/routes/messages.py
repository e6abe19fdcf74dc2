"""The shopper's in-app messages (站内信): newest first with pages, one marked read in place
(htmx swaps the message; without JavaScript the form posts and comes back), or all at once.
Another customer's message is a 404 and stays unread."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import notify
from mercato.core.db import uow
from mercato.storefront.routes.account import account_nav, to_login
from mercato.web.forms import parse_id, read_form
from mercato.web.session import current_customer
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MESSAGES = "/account/messages"
MessageId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def link_of(message: notify.MessageRead) -> str | None:
    """The page a message is about: ``order:42`` → the order, ``aftersales:7`` → the request,
    ``flash:3`` → the flash-sale page at that session."""
    kind, _, ident = (message.link or "").partition(":")
    if not ident.isdigit():
        return None
    return {
        "order": f"/account/orders/by-id/{ident}",
        "aftersales": f"/account/aftersales/{ident}",
        "flash": f"/flash-sale?session={ident}",
        "group": f"/groups/{ident}",
    }.get(kind)


@router.get("/account/messages")
async def message_list(request: Request) -> Response:
    cursor = request.query_params.get("cursor") or None
    unread_only = request.query_params.get("unread") == "1"
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        nav = await account_nav(session, auth, "messages")
        page = await notify.list_messages(
            session, customer_id=auth.customer.id, unread_only=unread_only, cursor=cursor, limit=PAGE_SIZE
        )
    return render(
        request,
        "storefront/account/messages.html",
        **nav,
        messages=page.items,
        next_cursor=page.next_cursor,
        first_page=cursor is None,
        unread_only=unread_only,
        link_of=link_of,
    )


@router.post("/account/messages/read-all")
async def mark_all_read(request: Request) -> Response:
    values = await read_form(request)
    async with uow() as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        await notify.mark_all_read(
            session, customer_id=auth.customer.id, up_to_id=parse_id(values.get("up_to_id"))
        )
    return RedirectResponse(MESSAGES, status_code=303)


@router.post("/account/messages/{message_id}/read")
async def mark_read(request: Request, message_id: MessageId) -> Response:
    await read_form(request)
    async with uow() as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        message = await notify.mark_read(session, customer_id=auth.customer.id, message_id=message_id)
        unread = await notify.count_unread(session, customer_id=auth.customer.id)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(MESSAGES, status_code=303)
    return render(
        request,
        "storefront/account/partials/_message.html",
        message=message,
        link_of=link_of,
        unread_messages=unread.unread,
        oob_badge=True,
    )
