"""The shopper's after-sales (售后): their requests with status, a new request for one line of an
order (refund only, return and refund, or exchange; quantity, reason, description, photos), and
one request with its progress timeline, the "ship back" form once a return is approved, and
withdrawing a request the shop has not approved, or taking a rejected one to the platform.

What is possible is the domain's call: a refused request (too many units, after the window, on
its way) shows the domain's message next to the field it concerns. Another customer's request
or order line is a 404 and nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import aftersales, catalog, fulfillment, orders
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.settings import get_settings
from mercato.storefront.routes.account import account_action, account_nav, render_account, to_login
from mercato.storefront.routes.orders import find_order
from mercato.web.forms import (
    FORM_ERRORS,
    FormProblem,
    form_problem,
    locale_of,
    read_form,
    read_uploads,
    validate,
)
from mercato.web.session import CustomerSession, current_customer
from mercato.web.uploads import decode_upload

router = APIRouter(include_in_schema=False)

LIST_PAGE = "storefront/aftersales/list.html"
NEW_PAGE = "storefront/aftersales/new.html"
DETAIL_PAGE = "storefront/aftersales/detail.html"
PAGE_SIZE = 20
RequestId = Annotated[int, Path(ge=1, le=2**63 - 1)]
K = aftersales.AftersalesKind
#: Which request kinds the form offers for a line, by where its part of the order is (the domain
#: refuses anything else: only a refund before shipping, nothing while on the way).
KINDS_BY_SUB_ORDER = {
    orders.OrderStatus.paid: (K.refund_only,),
    orders.OrderStatus.delivered: (K.return_refund, K.refund_only, K.exchange),
    orders.OrderStatus.completed: (K.return_refund, K.refund_only, K.exchange),
}
#: The form field a refusal of the domain is shown next to.
FIELD_OF_ERROR = {
    "aftersales.quantity_exceeds_bought": "quantity",
    "aftersales.refund_too_large": "quantity",
    "aftersales.payment_exhausted": "quantity",
    "aftersales.kind_not_allowed": "kind",
    "aftersales.order_not_eligible": "kind",
    "aftersales.not_delivered_yet": "kind",
    "aftersales.window_closed": "kind",
    "aftersales.photo_invalid": "photos",
    "core.too_many_image_uploads": "photos",
    "core.image_decoders_busy": "photos",
    "aftersales.photo_too_large": "photos",
    "aftersales.too_many_photos": "photos",
    "aftersales.photos_closed": "photos",
}
#: Statuses in which the shopper may still withdraw the request.
WITHDRAWABLE = frozenset({aftersales.AftersalesStatus.requested, aftersales.AftersalesStatus.rejected})
NOTICES = frozenset({"created", "shipped_back", "withdrawn", "escalated"})


def _problem(exc: Exception, locale: str) -> FormProblem:
    """The refusal, with a domain error's message also next to the field it concerns."""
    assert isinstance(exc, FORM_ERRORS)
    problem = form_problem(exc, locale)
    if isinstance(exc, DomainError) and exc.code in FIELD_OF_ERROR:
        problem = replace(problem, fields={**problem.fields, FIELD_OF_ERROR[exc.code]: problem.message})
    return problem


def _line_of(order: orders.OrderRead, line_id: str | None) -> orders.OrderLineRead:
    """The order's line with this id (from the query string or the form).

    Raises:
        LineNotFound (404): not a line of this order.
    """
    line = next((x for x in order.lines if str(x.id) == (line_id or "").strip()), None)
    if line is None:
        raise aftersales.LineNotFound()
    return line


async def _new_context(
    session: AsyncSession, auth: CustomerSession, *, number: str | None, line_id: str | None
) -> dict[str, Any]:
    try:
        order = await find_order(session, customer_id=auth.customer.id, number=(number or "").strip()[:32])
    except orders.OrderNotFound:
        raise aftersales.LineNotFound() from None
    line = _line_of(order, line_id)
    sub_order = next(s for s in order.sub_orders if s.id == line.sub_order_id)
    windows = await aftersales.aftersales_windows(session, order=order)
    return {
        **await account_nav(session, auth, "aftersales"),
        "order": order,
        "line": line,
        "window": windows[sub_order.id],
        "specs": await catalog.name_specs(session, specs={line.sku_id: line.spec}),
        "sub_order_status": sub_order.status,
        "kinds": KINDS_BY_SUB_ORDER.get(orders.OrderStatus(sub_order.status), ()),
        "reasons": list(aftersales.ReasonCode),
        "max_photos": get_settings().aftersales_max_photos,
    }


@router.get("/account/aftersales")
async def request_list(request: Request) -> Response:
    cursor = request.query_params.get("cursor") or None

    async def load(session: AsyncSession, auth: CustomerSession) -> dict[str, Any]:
        page = await aftersales.list_requests(
            session, customer_id=auth.customer.id, cursor=cursor, limit=PAGE_SIZE
        )
        return {
            **await account_nav(session, auth, "aftersales"),
            "requests": page.items,
            "next_cursor": page.next_cursor,
        }

    return await render_account(request, LIST_PAGE, load, first_page=cursor is None)


@router.get("/account/aftersales/new")
async def new_request_page(request: Request) -> Response:
    load = partial(
        _new_context, number=request.query_params.get("order"), line_id=request.query_params.get("line")
    )
    return await render_account(request, NEW_PAGE, load, values={})


@router.post("/account/aftersales/new")
async def create_request(request: Request) -> Response:
    values = await read_form(request)
    photos = [upload.data for upload in await read_uploads(request, "photos")]
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            order = await find_order(
                session, customer_id=auth.customer.id, number=values.get("order", "").strip()[:32]
            )
            line = _line_of(order, values.get("line"))
            data = validate(
                aftersales.CreateRequest,
                {**values, "order_id": str(order.id), "order_line_id": str(line.id)},
                "order_id",
                "order_line_id",
                "kind",
                "quantity",
                "reason_code",
                "description",
            )
            await aftersales.check_new_request(session, customer_id=auth.customer.id, data=data)
            uploads = aftersales.check_new_photos(customer_id=auth.customer.id, photos=photos)
            # Every photo is decoded before the request is created, with no transaction open.
            images = [await decode_upload(session, upload) for upload in uploads]
            created = await aftersales.create_request(session, customer_id=auth.customer.id, data=data)
            for image in images:
                await aftersales.add_photo(
                    session, request_id=created.id, customer_id=auth.customer.id, image=image
                )
    except (orders.OrderNotFound, aftersales.LineNotFound):
        raise aftersales.LineNotFound() from None
    except FORM_ERRORS as exc:
        load = partial(_new_context, number=values.get("order"), line_id=values.get("line"))
        return await render_account(
            request, NEW_PAGE, load, problem=_problem(exc, locale_of(request)), values=values
        )
    return RedirectResponse(f"/account/aftersales/{created.id}?notice=created", status_code=303)


async def _detail_context(session: AsyncSession, auth: CustomerSession, *, request_id: int) -> dict[str, Any]:
    found = await aftersales.get_request(session, request_id=request_id, customer_id=auth.customer.id)
    return_address = await aftersales.get_return_address(
        session, request_id=request_id, customer_id=auth.customer.id
    )
    return {
        **await account_nav(session, auth, "aftersales"),
        "item": found,
        "return_address": return_address,
        "can_ship_back": found.status is aftersales.AftersalesStatus.approved
        and found.kind in {K.return_refund, K.exchange},
        "can_withdraw": found.status in WITHDRAWABLE,
        "can_escalate": found.status is aftersales.AftersalesStatus.rejected,
        "carriers": fulfillment.list_carriers(),
    }


@router.get("/account/aftersales/{request_id}")
async def request_detail(request: Request, request_id: RequestId) -> Response:
    notice = request.query_params.get("notice")
    return await render_account(
        request,
        DETAIL_PAGE,
        partial(_detail_context, request_id=request_id),
        notice=notice if notice in NOTICES else None,
        values={},
    )


@dataclass(frozen=True)
class _Action:
    """One of the shopper's actions on their request: the form, what it must hold, the domain's
    service (called ``(session, *, request_id, customer_id, data)``) and the notice on success."""

    form: str
    model: type[BaseModel]
    fields: tuple[str, ...]
    service: Callable[..., Awaitable[object]]
    notice: str


SHIP_BACK = _Action(
    "ship_back", aftersales.ShipBack, ("carrier", "tracking_number"), aftersales.ship_back, "shipped_back"
)
WITHDRAW = _Action("withdraw", aftersales.CancelRequest, ("reason",), aftersales.cancel_request, "withdrawn")
ESCALATE = _Action("escalate", aftersales.Escalate, ("statement",), aftersales.escalate_request, "escalated")


async def _request_action(request: Request, request_id: int, action: _Action) -> Response:
    """Do ``action`` on the customer's request, then back to it with its notice; a refusal shows
    the request again with it next to the form. Another customer's request is a 404."""
    values = await read_form(request)

    async def on_request(session: AsyncSession, auth: CustomerSession) -> None:
        data = validate(action.model, values, *action.fields)
        await action.service(session, request_id=request_id, customer_id=auth.customer.id, data=data)

    return await account_action(
        request,
        on_request,
        done=f"/account/aftersales/{request_id}?notice={action.notice}",
        not_found=aftersales.RequestNotFound,
        page=DETAIL_PAGE,
        load=partial(_detail_context, request_id=request_id),
        problem_of=_problem,
        problem_form=action.form,
        values=values,
    )


@router.post("/account/aftersales/{request_id}/ship-back")
async def ship_back(request: Request, request_id: RequestId) -> Response:
    return await _request_action(request, request_id, SHIP_BACK)


@router.post("/account/aftersales/{request_id}/withdraw")
async def withdraw(request: Request, request_id: RequestId) -> Response:
    return await _request_action(request, request_id, WITHDRAW)


@router.post("/account/aftersales/{request_id}/escalate")
async def escalate(request: Request, request_id: RequestId) -> Response:
    """平台介入: ask the platform to decide a rejected request, with the shopper's statement."""
    return await _request_action(request, request_id, ESCALATE)
