"""The console's order pages: the list with filters and search (orders.read), an order's detail
with its timeline, payments, sub-orders and parcels, and the actions on it, each behind its own
permission and the CSRF check: ship a sub-order, and per parcel record a tracking step by hand,
mark it signed for (manual tracking) or ask the tracking provider again (fulfillment.write);
cancel an unpaid order (orders.write), refund part or all of its payment (orders.refund). The
services audit them.

Refunds here go straight to the payment (``payments.refund_payment``: goodwill, price
adjustments); refunding goods (units of a line, returns) goes through after-sales, which also
updates the order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, checkout, fulfillment, identity, inventory, orders, payments, pricing
from mercato.admin.routes._shared import (
    AmountInvalid,
    form_page,
    invalid,
    next_page,
    parse_amount,
    problem_of,
    staff_for,
    to_login,
)
from mercato.core.db import uow
from mercato.core.errors import DomainError, FieldError, InvalidInput
from mercato.core.i18n import N_, gettext
from mercato.core.money import exponent
from mercato.core.schemas import IdInt
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, locale_of, read_form, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

LIST = "/admin/orders/"
PAGE_SIZE = 20
FILTERS = ("status", "delivery", "placed_from", "placed_to", "sku", "q", "customer")
NOTICES = {
    "shipped": N_("The sub-order was shipped."),
    "tracked": N_("The tracking step was added."),
    "delivered": N_("The parcel was marked as delivered."),
    "refreshing": N_("The tracking provider was asked for news; reload the page in a moment."),
    "cancelled": N_("The order was cancelled."),
    "refunded": N_("The refund was sent to the payment provider."),
}


class BadAmount(InvalidInput):
    code = "console.amount_invalid"
    message = "Enter an amount such as 12.50."

    def __init__(self) -> None:
        super().__init__(fields=[FieldError(("amount",), self.code, self.message)])


class BadTime(InvalidInput):
    code = "console.time_invalid"
    message = "Enter a date and time such as 2026-11-27 14:30."

    def __init__(self) -> None:
        super().__init__(fields=[FieldError(("occurred_at",), self.code, self.message)])


def detail_url(number: str, notice: str | None = None) -> str:
    return f"/admin/orders/{number}" + (f"?notice={notice}" if notice else "")


def _parse_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=get_settings().tz)


def _list_filters(filters: dict[str, str], locale: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The list_orders arguments from the filter form, and a message per field that is not valid."""
    errors: dict[str, str] = {}
    args: dict[str, Any] = {}
    if filters["status"]:
        if filters["status"] in orders.OrderStatus.__members__:
            args["status"] = filters["status"]
        else:
            errors["status"] = gettext("Choose one of the statuses.", locale)
    if filters["delivery"]:
        if filters["delivery"] in pricing.Delivery.__members__:
            args["delivery"] = pricing.Delivery(filters["delivery"])
        else:
            errors["delivery"] = gettext("Choose one of the delivery options.", locale)
    for name, key, shift in (("placed_from", "placed_from", 0), ("placed_to", "placed_before", 1)):
        if filters[name]:
            day = _parse_day(filters[name])
            if day is None:
                errors[name] = gettext("Enter a date such as 2026-11-27.", locale)
            else:
                args[key] = _day_start(day + dt.timedelta(days=shift))
    if filters["q"]:
        args["search"] = filters["q"][:100]
    return args, errors


async def _buyer_search(session: AsyncSession, term: str) -> orders.BuyerSearch:
    """The orders a customer search names: of the accounts whose mobile, email or name it is,
    or addressed to a recipient with that mobile number or name (all exact)."""
    match = await identity.match_customers(session, term=term)
    return orders.BuyerSearch(
        customer_ids=tuple(match.customer_ids), recipient_phone=match.phone, recipient_name=match.name
    )


@router.get("/orders/")
async def order_list(request: Request) -> Response:
    """Orders newest first, filtered by status, delivery, the day placed (shop time zone, both
    ends included), a SKU code, a search term (number prefix, SKU code, title words), or the
    customer (their mobile, email or name, or the recipient's mobile or name, exactly)."""
    locale = locale_of(request)
    filters = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    args, errors = _list_filters(filters, locale)
    items: list[orders.OrderSummary] = []
    next_url = None
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "orders.read")
        if auth is None:
            return to_login(request)
        sku_unknown = False
        if filters["sku"] and not errors:
            found = await catalog.get_sku_ids_by_code(session, codes=[filters["sku"]])
            sku_unknown = filters["sku"] not in found
            args["sku_id"] = found.get(filters["sku"])
        if filters["customer"] and not errors:
            args["buyer"] = await _buyer_search(session, filters["customer"][:100])
        if not errors and not sku_unknown:
            page = await orders.list_orders(
                session, cursor=request.query_params.get("cursor") or None, limit=PAGE_SIZE, **args
            )
            items = page.items
            next_url = next_page(LIST, filters, page.next_cursor)
    return form_page(
        request,
        "admin/orders/list.html",
        invalid(request, errors) if errors else None,
        staff=auth.staff,
        orders=items,
        filters=filters,
        next_url=next_url,
        statuses=list(orders.OrderStatus),
        deliveries=list(pricing.Delivery),
    )


async def _order_by_number(session: AsyncSession, number: str) -> orders.OrderRead:
    """Raises: OrderNotFound (404 page)."""
    found = await orders.list_orders(session, number=number[:32], limit=1)
    if not found.items:
        raise orders.OrderNotFound()
    return await orders.read_order(session, order_id=found.items[0].id)


async def _detail_context(session: AsyncSession, auth: StaffSession, number: str) -> dict[str, Any]:
    order = await _order_by_number(session, number)
    try:
        customer: identity.CustomerRead | None = await identity.get_customer_record(
            session, customer_id=order.customer_id
        )
    except identity.CustomerNotFound:
        customer = None
    order_payments = (await payments.list_payments(session, reference=f"order:{order.id}", limit=20)).items
    refunds = {p.id: await payments.list_refunds(session, payment_id=p.id) for p in order_payments}
    shipments = await fulfillment.list_order_shipments(session, order_id=order.id)
    trackers = {
        s.id: s.tracker
        for s in (await fulfillment.list_shipments(session, order_id=order.id, limit=100)).items
    }
    warehouses = {w.id: w for w in await inventory.list_warehouses(session)}
    staff = auth.staff
    refundable = [
        p
        for p in order_payments
        if p.status in (payments.PaymentStatus.paid, payments.PaymentStatus.partially_refunded)
        and p.amount > p.refunded_amount
    ]
    return {
        "staff": staff,
        "order": order,
        "specs": await catalog.name_specs(session, specs={line.sku_id: line.spec for line in order.lines}),
        "customer": customer,
        "payments": order_payments,
        "refunds": refunds,
        "refundable": refundable,
        "shipments": shipments,
        "warehouses": warehouses,
        "carriers": fulfillment.list_carriers() if staff.has("fulfillment.write") else [],
        "can_ship": staff.has("fulfillment.write"),
        "trackers": trackers,
        "tracking_statuses": list(fulfillment.TrackingStatus),
        "can_cancel": staff.has("orders.write") and order.status is orders.OrderStatus.pending_payment,
        "can_refund": staff.has("orders.refund") and bool(refundable),
        "refund_key": uuid.uuid4().hex,
        "minor_digits": exponent(order.currency),
    }


@router.get("/orders/{number}")
async def order_detail(request: Request, number: str) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "orders.read")
        if auth is None:
            return to_login(request)
        context = await _detail_context(session, auth, number)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(request, "admin/orders/detail.html", notice=notice, values={}, **context)


async def _refused(
    request: Request, number: str, exc: ValidationError | DomainError, form: str, values: dict[str, str]
) -> Response:
    """The detail page again with the refusal next to the fields of ``form`` (ship-<id>, cancel, refund)."""
    problem = problem_of(request, exc)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, "orders.read")
        assert auth is not None
        context = await _detail_context(session, auth, number)
    return form_page(
        request,
        "admin/orders/detail.html",
        problem,
        problem_form=form,
        values=values,
        **context,
    )


#: The work of one action on an order, inside its writing unit of work.
Work = Callable[[AsyncSession, StaffSession, orders.OrderRead], Awaitable[object]]


async def _act(
    request: Request,
    number: str,
    values: dict[str, str],
    *,
    permission: str,
    form: str,
    notice: str,
    work: Work,
) -> Response:
    """Run one console action on the order ``number``: the permission, then ``work`` in one
    writing unit of work, then back to the order page with ``notice`` (post-redirect-get). A
    refusal is shown next to the fields of ``form``; a missing permission or an unknown order
    or parcel is its own 403/404 page, and nothing is changed."""
    try:
        async with uow() as session:
            auth = await staff_for(request, session, permission)
            if auth is None:
                return to_login(request)
            order = await _order_by_number(session, number)
            await work(session, auth, order)
    except FORM_ERRORS as exc:
        if _passes_through(exc):
            raise
        return await _refused(request, number, exc, form, values)
    return RedirectResponse(detail_url(number, notice), status_code=303)


def _passes_through(exc: Exception) -> bool:
    """Refusals shown as their own page (403, 404) rather than next to a form."""
    return isinstance(exc, identity.MissingPermission | orders.OrderNotFound | fulfillment.ShipmentNotFound)


@router.post("/orders/{number}/ship")
async def ship(request: Request, number: str) -> Response:
    """Ship one paid sub-order with a carrier and tracking number (fulfillment.write)."""
    values = await read_form(request)

    async def work(session: AsyncSession, auth: StaffSession, order: orders.OrderRead) -> None:
        data = validate(
            fulfillment.ShipmentCreate,
            {**values, "order_id": str(order.id)},
            "order_id",
            "sub_order_id",
            "carrier",
            "tracking_number",
        )
        await fulfillment.ship_sub_order(session, data=data, actor=auth.actor, idempotency_key=None)

    form = f"ship-{values.get('sub_order_id', '')}"
    return await _act(
        request, number, values, permission="fulfillment.write", form=form, notice="shipped", work=work
    )


def _aware_time(value: str) -> str:
    """A ``datetime-local`` value (shop time zone) → ISO 8601 with its offset; blank stays
    blank (now); anything else → BadTime."""
    value = value.strip()
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadTime() from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=get_settings().tz)
    return moment.isoformat()


async def _order_shipment(session: AsyncSession, order: orders.OrderRead, shipment_id: int) -> int:
    """The id of a parcel of this order. Raises: ShipmentNotFound (404 page)."""
    found = await fulfillment.list_shipments(session, order_id=order.id, limit=100)
    if shipment_id not in {s.id for s in found.items}:
        raise fulfillment.ShipmentNotFound()
    return shipment_id


@router.post("/orders/{number}/shipments/{shipment_id}/events")
async def add_tracking_step(request: Request, number: str, shipment_id: IdInt) -> Response:
    """Record a tracking step of a parcel by hand: status, description, when (shop time, blank
    for now) and where (fulfillment.write); "delivered" delivers the sub-order."""
    values = await read_form(request)

    async def work(session: AsyncSession, auth: StaffSession, order: orders.OrderRead) -> None:
        await _order_shipment(session, order, shipment_id)
        occurred_at = _aware_time(values.get("occurred_at", ""))
        data = validate(
            fulfillment.TrackingEventCreate,
            {**values, "occurred_at": occurred_at},
            "status",
            "context",
            "occurred_at",
            "location",
        )
        await fulfillment.add_tracking_event(session, shipment_id=shipment_id, data=data, actor=auth.actor)

    return await _act(
        request,
        number,
        values,
        permission="fulfillment.write",
        form=f"track-{shipment_id}",
        notice="tracked",
        work=work,
    )


@router.post("/orders/{number}/shipments/{shipment_id}/deliver")
async def deliver(request: Request, number: str, shipment_id: IdInt) -> Response:
    """Record that the parcel was signed for (签收): the sub-order, and the order once every part
    has arrived, is delivered (fulfillment.write). A repeat changes nothing."""
    values = await read_form(request)

    async def work(session: AsyncSession, auth: StaffSession, order: orders.OrderRead) -> None:
        await _order_shipment(session, order, shipment_id)
        await fulfillment.mark_shipment_delivered(
            session, shipment_id=shipment_id, data=fulfillment.DeliverShipment(), actor=auth.actor
        )

    return await _act(
        request,
        number,
        values,
        permission="fulfillment.write",
        form=f"track-{shipment_id}",
        notice="delivered",
        work=work,
    )


@router.post("/orders/{number}/shipments/{shipment_id}/refresh")
async def refresh_tracking(request: Request, number: str, shipment_id: IdInt) -> Response:
    """Ask the parcel's tracking provider for its status once this request has committed
    (fulfillment.write); the answer shows on the page a moment later."""
    values = await read_form(request)

    async def work(session: AsyncSession, auth: StaffSession, order: orders.OrderRead) -> None:
        await _order_shipment(session, order, shipment_id)
        await fulfillment.request_tracking_refresh(session, shipment_id=shipment_id, actor=auth.actor)

    return await _act(
        request,
        number,
        values,
        permission="fulfillment.write",
        form=f"track-{shipment_id}",
        notice="refreshing",
        work=work,
    )


@router.post("/orders/{number}/cancel")
async def cancel(request: Request, number: str) -> Response:
    """Cancel an unpaid order with a reason (orders.write); its stock is released."""
    values = await read_form(request)

    async def work(session: AsyncSession, auth: StaffSession, order: orders.OrderRead) -> None:
        data = validate(orders.CancelOrder, values, "reason")
        await checkout.cancel_order(session, order_id=order.id, reason=data.reason, actor=auth.actor)

    return await _act(
        request, number, values, permission="orders.write", form="cancel", notice="cancelled", work=work
    )


def _refund_amount(value: str, currency: str) -> str:
    """``12.50`` (major units, as typed) → ``"1250"`` through the console's one amount parser;
    blank stays blank (the whole refundable amount); a malformed or zero amount → BadAmount."""
    if not value:
        return ""
    try:
        amount = parse_amount(value.replace(",", ""), currency)
    except AmountInvalid:
        raise BadAmount() from None
    if amount <= 0:
        raise BadAmount()
    return str(amount)


@router.post("/orders/{number}/refund")
async def refund(request: Request, number: str) -> Response:
    """Refund part or all of a paid payment of the order (orders.refund). The form carries a key
    made when it was shown, so a double submit refunds once."""
    values = await read_form(request)

    async def work(session: AsyncSession, auth: StaffSession, order: orders.OrderRead) -> None:
        order_payments = await payments.list_payments(session, reference=f"order:{order.id}", limit=20)
        payment = next((p for p in order_payments.items if str(p.id) == values.get("payment_id")), None)
        if payment is None:
            raise payments.PaymentNotFound()
        amount = _refund_amount(values.get("amount", "").strip(), payment.currency)
        data = validate(payments.RefundCreate, {**values, "amount": amount}, "amount", "reason")
        key = (values.get("refund_key") or uuid.uuid4().hex)[:64]
        await payments.refund_payment(
            session,
            payment_id=payment.id,
            amount=data.amount,
            reason=data.reason,
            idempotency_key=f"console-{key}",
            actor=auth.actor,
        )

    return await _act(
        request, number, values, permission="orders.refund", form="refund", notice="refunded", work=work
    )
