"""The console's after-sales pages: the queue, oldest first, filtered by status and type
(aftersales.read), and a request's detail with the actions its status allows, each behind its
permission and the CSRF check: approve or reject with a reason (aftersales.write), receive and
grade the returned units (aftersales.receive; a return is then refunded), issue a refused refund
again and ship an exchange's replacement (aftersales.write), decide a dispute
(aftersales.arbitrate). The services (``mercato.aftersales``) enforce the rules and audit them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import aftersales, fulfillment, identity, inventory
from mercato.admin.routes._shared import form_page, invalid, next_page, problem_of, staff_for, to_login
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.i18n import N_, gettext
from mercato.web.forms import FORM_ERRORS, locale_of, parse_id, read_form, validate
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

QUEUE = "/admin/aftersales/"
PAGE_SIZE = 20
FILTERS = ("status", "kind", "order_id", "waiting")

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


def _queue_filters(filters: dict[str, str], locale: str) -> tuple[dict[str, Any], dict[str, str]]:
    args: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if filters["status"]:
        if filters["status"] in aftersales.AftersalesStatus.__members__:
            args["status"] = aftersales.AftersalesStatus(filters["status"])
        else:
            errors["status"] = gettext("Choose one of the statuses.", locale)
    if filters["kind"]:
        if filters["kind"] in aftersales.AftersalesKind.__members__:
            args["kind"] = aftersales.AftersalesKind(filters["kind"])
        else:
            errors["kind"] = gettext("Choose one of the types.", locale)
    if filters["order_id"]:
        if (order_id := parse_id(filters["order_id"])) is not None:
            args["order_id"] = order_id
        else:
            errors["order_id"] = gettext("This is not an order id.", locale)
    if filters["waiting"]:
        args["waiting"] = True
    return args, errors


@router.get("/aftersales/")
async def queue(request: Request) -> Response:
    """The after-sales queue, oldest first (the longest waiting at the top)."""
    locale = locale_of(request)
    filters = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    args, errors = _queue_filters(filters, locale)
    items: list[aftersales.AftersalesSummary] = []
    next_url = None
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "aftersales.read")
        if auth is None:
            return to_login(request)
        if not errors:
            page = await aftersales.list_requests(
                session,
                cursor=request.query_params.get("cursor") or None,
                limit=PAGE_SIZE,
                oldest_first=True,
                **args,
            )
            items = page.items
            next_url = next_page(QUEUE, filters, page.next_cursor)
    return form_page(
        request,
        "admin/aftersales/queue.html",
        invalid(request, errors) if errors else None,
        staff=auth.staff,
        requests=items,
        filters=filters,
        next_url=next_url,
        statuses=list(aftersales.AftersalesStatus),
        kinds=list(aftersales.AftersalesKind),
    )


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
