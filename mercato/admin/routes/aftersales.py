"""The console's after-sales pages: the queue, oldest first, filtered by status and type
(aftersales.read), and a request's detail with the actions its status allows, each behind its
permission and the CSRF check: approve or reject with a reason (aftersales.write), receive and
grade the returned units (aftersales.receive; a return is then refunded), issue a refused refund
again and ship an exchange's replacement (aftersales.write), decide a dispute
(aftersales.arbitrate). The services (``mercato.aftersales``) enforce the rules and audit them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import aftersales, fulfillment, identity, inventory
from mercato.admin.listing import Choice, Column, ListPage, ListQuery, Search, Toggle
from mercato.admin.routes._shared import form_page, major_units, problem_of, staff_for, to_login
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.i18n import N_
from mercato.web.forms import FORM_ERRORS, parse_id, read_form, validate
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

QUEUE = "/admin/aftersales/"
PAGE_SIZE = 20

RequestId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Service = Callable[..., Awaitable[aftersales.AftersalesRead]]


@dataclass(frozen=True)
class Action:
    """One button (or form) on the detail page and the service behind it."""

    permission: str
    service: Service
    notice: str
    schema: type[BaseModel] | None = None
    fields: tuple[str, ...] = ()


ACTIONS: dict[str, Action] = {
    "approve": Action(
        "aftersales.write",
        aftersales.approve_request,
        N_("The request was approved."),
        aftersales.Decide,
        ("reason",),
    ),
    "reject": Action(
        "aftersales.write",
        aftersales.reject_request,
        N_("The request was rejected."),
        aftersales.Reject,
        ("reason",),
    ),
    "receive": Action(
        "aftersales.receive",
        aftersales.receive_return,
        N_("The returned goods were received."),
        aftersales.ReceiveReturn,
        ("resellable", "defective", "scrap", "warehouse_id", "note"),
    ),
    "refund": Action("aftersales.write", aftersales.refund_request, N_("The refund was issued again.")),
    "ship-replacement": Action(
        "aftersales.write",
        aftersales.ship_replacement,
        N_("The replacement was shipped."),
        aftersales.ShipReplacement,
        ("carrier", "tracking_number", "warehouse_id"),
    ),
    "arbitrate": Action(
        "aftersales.arbitrate",
        aftersales.arbitrate_request,
        N_("The dispute was decided."),
        aftersales.Arbitrate,
        ("decision", "reason"),
    ),
}


def detail_url(request_id: int, notice: str | None = None) -> str:
    return f"/admin/aftersales/{request_id}" + (f"?notice={notice}" if notice else "")


#: The statuses and types as the console names them (the queue's filters, cells and export).
STATUSES = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "disputed": N_("Disputed"),
    "shipped_back": N_("Sent back"),
    "received": N_("Received"),
    "refunding": N_("Refund in progress"),
    "refund_failed": N_("Refund failed"),
    "refunded": N_("Refunded"),
    "replacement_shipped": N_("Replacement shipped"),
    "completed": N_("Completed"),
    "cancelled": N_("Withdrawn"),
    "closed": N_("Closed"),
}
KINDS = {
    "refund_only": N_("Refund only"),
    "return_refund": N_("Return and refund"),
    "exchange": N_("Exchange"),
}


async def _fetch(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """One page of the queue, oldest first; an order id that is not one matches nothing."""
    status, kind, order_text, waiting = (
        query.filters[name] for name in ("status", "kind", "order_id", "waiting")
    )
    order_id = parse_id(order_text) if order_text else None
    if order_text and order_id is None:
        return [], None
    page = await aftersales.list_requests(
        session,
        status=aftersales.AftersalesStatus(status) if status else None,
        kind=aftersales.AftersalesKind(kind) if kind else None,
        order_id=order_id,
        waiting=True if waiting else None,
        cursor=query.cursor,
        limit=limit,
        oldest_first=True,
    )
    return page.items, page.next_cursor


LIST = ListPage(
    key="queue",
    path=QUEUE,
    title=N_("After-sales"),
    permission="aftersales.read",
    columns=(
        Column("number", N_("Request"), lambda r: r.number, kind="link", link=lambda r: detail_url(r.id)),
        Column("order", N_("Order"), lambda r: r.order_number),
        Column("product", N_("Product"), lambda r: r.title),
        Column("quantity", N_("Quantity"), lambda r: r.quantity, kind="number"),
        Column("kind", N_("Type"), lambda r: r.kind.value, labels=KINDS),
        Column("status", N_("Status"), lambda r: r.status.value, labels=STATUSES),
        Column(
            "refund", N_("Refund"), lambda r: Decimal(major_units(r.refund_amount, r.currency)), kind="number"
        ),
        Column("currency", N_("Currency"), lambda r: r.currency, kind="code"),
        Column("waiting_since", N_("Waiting since"), lambda r: r.waiting_since, kind="datetime"),
    ),
    fetch=_fetch,
    filters=(
        Choice("status", N_("Status"), N_("Any status"), tuple(STATUSES.items())),
        Choice("kind", N_("Type"), N_("Any type"), tuple(KINDS.items())),
        Search("order_id", N_("Order id"), maxlength=20),
        Toggle("waiting", N_("Only those waiting for the shop")),
    ),
    export="aftersales",
    empty=N_("No requests match."),
    page_size=PAGE_SIZE,
    template="admin/aftersales/queue.html",
)
LIST.register(router, "/admin")


async def _detail_context(session: AsyncSession, request_id: int) -> dict[str, Any]:
    item = await aftersales.get_request(session, request_id=request_id)
    return {
        "item": item,
        "warehouses": await inventory.list_warehouses(session, active_only=True),
        "carriers": fulfillment.list_carriers(),
    }


@router.get("/aftersales/{request_id}")
async def detail(request: Request, request_id: RequestId) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "aftersales.read")
        if auth is None:
            return to_login(request)
        context = await _detail_context(session, request_id)
    notice = request.query_params.get("notice", "")
    return render(
        request,
        "admin/aftersales/detail.html",
        staff=auth.staff,
        notice=ACTIONS[notice].notice if notice in ACTIONS else None,
        values={},
        **context,
    )


async def _refused(
    request: Request, request_id: int, exc: ValidationError | DomainError, form: str, values: dict[str, str]
) -> Response:
    problem = problem_of(request, exc)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "aftersales.read")
        assert auth is not None
        context = await _detail_context(session, request_id)
    return form_page(
        request,
        "admin/aftersales/detail.html",
        problem,
        staff=auth.staff,
        problem_form=form,
        values=values,
        **context,
    )


@router.post("/aftersales/{request_id}/{name}")
async def act(request: Request, request_id: RequestId, name: str) -> Response:
    """One of ``ACTIONS`` on the request (an unknown one is 404)."""
    action = ACTIONS.get(name)
    if action is None:
        raise aftersales.RequestNotFound()
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, action.permission)
            if auth is None:
                return to_login(request)
            kwargs: dict[str, Any] = {"request_id": request_id, "actor": auth.actor}
            if action.schema is not None:
                kwargs["data"] = validate(action.schema, values, *action.fields)
            await action.service(session, **kwargs)
    except FORM_ERRORS as exc:
        if isinstance(exc, identity.MissingPermission | aftersales.RequestNotFound):
            raise
        return await _refused(request, request_id, exc, name, values)
    return RedirectResponse(detail_url(request_id, name), status_code=303)
