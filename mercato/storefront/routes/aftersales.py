"""The shopper's after-sales (售后): their requests with status, a new request for one line of an
order (refund only, return and refund, or exchange; quantity, reason, description, photos), and
one request with its progress timeline, the "ship back" form once a return is approved, and
withdrawing a request the shop has not approved, or taking a rejected one to the platform.

What is possible is the domain's call: a refused request (too many units, after the window, on
its way) shows the domain's message next to the field it concerns. Another customer's request
or order line is a 404 and nothing changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from mercato import aftersales, fulfillment, orders
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.settings import get_settings
from mercato.storefront.routes.account import account_nav, to_login
from mercato.storefront.routes.orders import find_order
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.session import CustomerSession, current_customer
from mercato.web.templates import render

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
    session: AsyncSession, auth: CustomerSession, number: str | None, line_id: str | None
) -> dict[str, Any]:
    try:
        order = await find_order(session, customer_id=auth.customer.id, number=(number or "").strip()[:32])
    except orders.OrderNotFound:
        raise aftersales.LineNotFound() from None
    line = _line_of(order, line_id)
    sub_order = next(s for s in order.sub_orders if s.id == line.sub_order_id)
    return {
        **await account_nav(session, auth, "aftersales"),
        "order": order,
        "line": line,
        "sub_order_status": sub_order.status,
        "kinds": KINDS_BY_SUB_ORDER.get(orders.OrderStatus(sub_order.status), ()),
        "reasons": list(aftersales.ReasonCode),
        "max_photos": get_settings().aftersales_max_photos,
    }


@router.get("/account/aftersales")
async def request_list(request: Request) -> Response:
    cursor = request.query_params.get("cursor") or None
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        nav = await account_nav(session, auth, "aftersales")
        page = await aftersales.list_requests(
            session, customer_id=auth.customer.id, cursor=cursor, limit=PAGE_SIZE
        )
    return render(
        request,
        LIST_PAGE,
        **nav,
        requests=page.items,
        next_cursor=page.next_cursor,
        first_page=cursor is None,
    )


@router.get("/account/aftersales/new")
async def new_request_page(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        context = await _new_context(
            session, auth, request.query_params.get("order"), request.query_params.get("line")
        )
    return render(request, NEW_PAGE, values={}, **context)


async def _photos(request: Request) -> list[bytes]:
    """The uploaded photos' bytes (empty file inputs skipped); the form's temporary files are closed."""
    form = await request.form()  # parsed once by read_form; this is the same form
    try:
        return [
            await item.read()
            for item in form.getlist("photos")
            if isinstance(item, UploadFile) and item.filename
        ]
    finally:
        await form.close()


@router.post("/account/aftersales/new")
async def create_request(request: Request) -> Response:
    values = await read_form(request)
    photos = await _photos(request)
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
            created = await aftersales.create_request(session, customer_id=auth.customer.id, data=data)
            for photo in photos:
                await aftersales.add_photo(
                    session, request_id=created.id, customer_id=auth.customer.id, data=photo
                )
    except (orders.OrderNotFound, aftersales.LineNotFound):
        raise aftersales.LineNotFound() from None
    except FORM_ERRORS as exc:
        problem = _problem(exc, locale_of(request))
        async with uow(write=False) as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            context = await _new_context(session, auth, values.get("order"), values.get("line"))
        return render(
            request,
            NEW_PAGE,
            problem.status,
            headers=problem.headers,
            problem=problem,
            values=values,
            **context,
        )
    return RedirectResponse(f"/account/aftersales/{created.id}?notice=created", status_code=303)


async def _detail_context(session: AsyncSession, auth: CustomerSession, request_id: int) -> dict[str, Any]:
    found = await aftersales.get_request(session, request_id=request_id, customer_id=auth.customer.id)
    return {
        **await account_nav(session, auth, "aftersales"),
        "item": found,
        "can_ship_back": found.status is aftersales.AftersalesStatus.approved
        and found.kind in {K.return_refund, K.exchange},
        "can_withdraw": found.status in WITHDRAWABLE,
        "can_escalate": found.status is aftersales.AftersalesStatus.rejected,
        "carriers": fulfillment.list_carriers(),
    }


@router.get("/account/aftersales/{request_id}")
async def request_detail(request: Request, request_id: RequestId) -> Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        context = await _detail_context(session, auth, request_id)
    notice = request.query_params.get("notice")
    return render(request, DETAIL_PAGE, notice=notice if notice in NOTICES else None, values={}, **context)


async def _refused(
    request: Request, request_id: int, exc: Exception, form: str, values: dict[str, str]
) -> Response:
    problem = _problem(exc, locale_of(request))
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        context = await _detail_context(session, auth, request_id)
    return render(
        request,
        DETAIL_PAGE,
        problem.status,
        headers=problem.headers,
        problem=problem,
        problem_form=form,
        values=values,
        **context,
    )


@router.post("/account/aftersales/{request_id}/ship-back")
async def ship_back(request: Request, request_id: RequestId) -> Response:
    values = await read_form(request)
    try:
        data = validate(aftersales.ShipBack, values, "carrier", "tracking_number")
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            await aftersales.ship_back(
                session, request_id=request_id, customer_id=auth.customer.id, data=data
            )
    except aftersales.RequestNotFound:
        raise
    except FORM_ERRORS as exc:
        return await _refused(request, request_id, exc, "ship_back", values)
    return RedirectResponse(f"/account/aftersales/{request_id}?notice=shipped_back", status_code=303)


@router.post("/account/aftersales/{request_id}/withdraw")
async def withdraw(request: Request, request_id: RequestId) -> Response:
    values = await read_form(request)
    try:
        data = validate(aftersales.CancelRequest, values, "reason")
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            await aftersales.cancel_request(
                session, request_id=request_id, customer_id=auth.customer.id, data=data
            )
    except aftersales.RequestNotFound:
        raise
    except FORM_ERRORS as exc:
        return await _refused(request, request_id, exc, "withdraw", values)
    return RedirectResponse(f"/account/aftersales/{request_id}?notice=withdrawn", status_code=303)


@router.post("/account/aftersales/{request_id}/escalate")
async def escalate(request: Request, request_id: RequestId) -> Response:
    """平台介入: ask the platform to decide a rejected request, with the shopper's statement."""
    values = await read_form(request)
    try:
        data = validate(aftersales.Escalate, values, "statement")
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            await aftersales.escalate_request(
                session, request_id=request_id, customer_id=auth.customer.id, data=data
            )
    except aftersales.RequestNotFound:
        raise
    except FORM_ERRORS as exc:
        return await _refused(request, request_id, exc, "escalate", values)
    return RedirectResponse(f"/account/aftersales/{request_id}?notice=escalated", status_code=303)
