"""Checkout for signed-in customers in at most four steps: 1 address → 2 delivery → 3 invoice,
payment method and review with the confirmed price → place the order (then the pay page).

The choices travel from step to step in the query string (GET forms), never in server state.
The review page renders a fresh idempotency key into its form, so a double submit places one
order; if the price moved since the review, nothing is placed and the review shows the new
price. ``POST /checkout/buy-now`` (立即购买) starts the same steps for one SKU, without the cart.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import cart, catalog, checkout, identity, orders, payments, promotions
from mercato.core.db import uow
from mercato.core.errors import DomainError, InvalidInput
from mercato.storefront.routes.addresses import (
    address_problem,
    form_again,
    new_address_values,
    read_address,
    regions_for,
)
from mercato.storefront.routes.cart import current_cart, forget_guest_cart
from mercato.storefront.routes.offers import channel_of, message_text
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, parse_id, read_form, validate
from mercato.web.html_errors import error_page
from mercato.web.session import CustomerSession, current_customer, login_redirect
from mercato.web.templates import render, shop_of

router = APIRouter(include_in_schema=False)

LOGIN = "/account/login"
ADDRESS_PAGE = "storefront/checkout/address.html"
DELIVERY_PAGE = "storefront/checkout/delivery.html"
REVIEW_PAGE = "storefront/checkout/review.html"
RESULT_PAGE = "storefront/checkout/result.html"
RESULT_FRAGMENT = "storefront/checkout/partials/_result_status.html"
#: The providers these pages can take a shopper through (Stripe needs Stripe.js from a CDN).
WEB_PROVIDERS = ("sandbox", "alipay", "wechatpay")
DELIVERY_FIELDS = ("address_id", "delivery", "slot_starts_at", "pickup_store_id")
BUY_NOW_FIELDS = ("sku_id", "quantity")
INVOICE_FIELDS = ("kind", "title", "tax_id", "email")
COUPON_FIELD = "coupon"  # a wallet coupon's id, "best" (the default) or "none"
#: A coupon the shopper picked that cannot be used (any more): the review shows why, with the best.
COUPON_ERRORS = (
    promotions.CouponNotFound,
    promotions.CouponUnavailable,
    promotions.CouponExpired,
    promotions.CouponNotYetValid,
    promotions.CouponNotApplicable,
    promotions.CouponsNotCombinable,
)
KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")
OrderNumber = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-]+$")]


class ReviewAgain(InvalidInput):
    """The place form did not come from a review page (no idempotency key): review it again."""

    code = "checkout.review_again"
    message = "Review your order and confirm it again."


def offered_providers(request: Request) -> list[str]:
    """The payment methods these pages offer: configured, and switched on in the shop's settings."""
    off = shop_of(request).payment_methods_off
    return [name for name in payments.offered_providers() if name in WEB_PROVIDERS and name not in off]


def _state(values: dict[str, str], *names: str) -> dict[str, str]:
    """The non-blank choices among ``names`` (what the next step carries along)."""
    return {name: values[name].strip() for name in names if values.get(name, "").strip()}


def _buy_now(values: dict[str, str]) -> cart.AddLine | None:
    """The SKU and quantity of a buy-now checkout, or None for the cart's ticked lines.

    Raises: ValidationError.
    """
    if not values.get("sku_id", "").strip():
        return None
    return validate(cart.AddLine, values, *BUY_NOW_FIELDS)


def _bad_item(request: Request, exc: ValidationError) -> Response:
    """The error page for a buy-now SKU or quantity that is not valid, naming the field's problem."""
    problem = form_problem(exc, locale_of(request))
    return error_page(request, 422, next(iter(problem.fields.values()), problem.message))


def _query(state: dict[str, str]) -> str:
    return f"?{urlencode(state)}" if state else ""


# -- step 1: address -------------------------------------------------------------------------


async def _start(request: Request, session: AsyncSession) -> CustomerSession | Response:
    auth = await current_customer(request, session)
    if auth is None:
        return login_redirect(LOGIN, request)
    return auth


async def _address_page(
    request: Request, session: AsyncSession, auth: CustomerSession, state: dict[str, str], **context: Any
) -> Response:
    addresses = await identity.list_addresses(session, customer_id=auth.customer.id)
    chosen = state.get("address_id") or (str(addresses[0].id) if addresses else "")
    context.setdefault("values", new_address_values(auth.customer))
    context.setdefault("problem", None)
    context.setdefault("regions", regions_for(context["values"]))
    status = context.pop("status_code", 200)
    return render(
        request,
        ADDRESS_PAGE,
        status,
        customer=auth.customer,
        addresses=addresses,
        chosen=chosen,
        state=_state(state, *BUY_NOW_FIELDS),
        step=1,
        **context,
    )


@router.get("/checkout")
async def address_step(request: Request) -> Response:
    values = dict(request.query_params)
    try:
        buy_now = _buy_now(values)
    except ValidationError as exc:
        return _bad_item(request, exc)
    async with uow() as session:  # merges a guest cart into the customer's: a write
        auth = await _start(request, session)
        if isinstance(auth, Response):
            return auth
        if buy_now is None:
            found = await current_cart(request, session, auth.customer.id)
            view = await cart.view_cart(
                session,
                cart_id=found.id if found else None,
                locale=locale_of(request),
                channel=channel_of(request),
            )
            if not view.can_checkout:
                return RedirectResponse("/cart", status_code=303)
        response = await _address_page(request, session, auth, values)
    forget_guest_cart(request, response)
    return response


@router.post("/checkout/address")
async def add_address_in_checkout(request: Request) -> Response:
    """Add an address inline (step 1), then go on to the delivery step with it."""
    values = await read_form(request)
    state = _state(values, *BUY_NOW_FIELDS)
    again = form_again(values)
    if again is not None:  # 识别 or the no-script pickers' step: the form again, nothing saved
        async with uow(write=False) as session:
            auth = await _start(request, session)
            if isinstance(auth, Response):
                return auth
            return await _address_page(request, session, auth, state, open_form=True, **again)
    try:
        data = read_address(values)
        async with uow() as session:
            auth = await _start(request, session)
            if isinstance(auth, Response):
                return auth
            address = await identity.add_address(session, customer_id=auth.customer.id, data=data)
    except FORM_ERRORS as exc:
        problem = address_problem(exc, locale_of(request))
        async with uow(write=False) as session:
            auth = await _start(request, session)
            if isinstance(auth, Response):
                return auth
            return await _address_page(
                request, session, auth, state, values=values, problem=problem, status_code=problem.status
            )
    return RedirectResponse(f"/checkout/delivery{_query({**state, 'address_id': str(address.id)})}", 303)


# -- step 2: delivery ------------------------------------------------------------------------


async def _delivery_page(
    request: Request, session: AsyncSession, auth: CustomerSession, values: dict[str, str], **context: Any
) -> Response:
    address = await identity.get_address(
        session, customer_id=auth.customer.id, address_id=parse_id(values.get("address_id")) or 0
    )
    status = context.pop("status_code", 200)
    context.setdefault("problem", None)
    try:
        buy_now = _buy_now(values)
    except ValidationError:
        buy_now = None
    fees = await checkout.delivery_fees(
        session,
        customer_id=auth.customer.id,
        address_id=address.id,
        sku_id=buy_now.sku_id if buy_now else None,
        quantity=buy_now.quantity if buy_now else 1,
    )
    return render(
        request,
        DELIVERY_PAGE,
        status,
        customer=auth.customer,
        address=address,
        slots=checkout.delivery_slots(),
        stores=await checkout.pickup_stores(
            session,
            customer_id=auth.customer.id,
            sku_id=buy_now.sku_id if buy_now else None,
            quantity=buy_now.quantity if buy_now else 1,
        ),
        fees=fees,
        values=values,
        state=_state(values, "address_id", *BUY_NOW_FIELDS),
        back=f"/checkout{_query(_state(values, 'address_id', *BUY_NOW_FIELDS))}",
        step=2,
        **context,
    )


@router.get("/checkout/delivery")
async def delivery_step(request: Request) -> Response:
    values = dict(request.query_params)
    if parse_id(values.get("address_id")) is None:
        return RedirectResponse(f"/checkout{_query(_state(values, *BUY_NOW_FIELDS))}", status_code=303)
    async with uow(write=False) as session:
        auth = await _start(request, session)
        if isinstance(auth, Response):
            return auth
        return await _delivery_page(request, session, auth, values)


# -- step 3: review --------------------------------------------------------------------------


async def _quote(
    request: Request, session: AsyncSession, auth: CustomerSession, values: dict[str, str]
) -> tuple[checkout.CheckoutQuote, cart.AddLine | None]:
    """Raises: ValidationError, DomainError (the delivery, the address, the items, the coupon)."""
    buy_now = _buy_now(values)
    data = validate(checkout.ConfirmCheckout, values, *DELIVERY_FIELDS, COUPON_FIELD)
    channel = channel_of(request)
    if buy_now is not None:
        quote = await checkout.confirm_buy_now(
            session,
            customer_id=auth.customer.id,
            sku_id=buy_now.sku_id,
            quantity=buy_now.quantity,
            data=data,
            channel=channel,
        )
    else:
        quote = await checkout.confirm_checkout(
            session, customer_id=auth.customer.id, data=data, channel=channel
        )
    return quote, buy_now


def _coupon_reasons(quote: checkout.CheckoutQuote, locale: str) -> dict[int, str]:
    """Why each unusable coupon cannot be used here ("还差 ¥12.00"), worded, by coupon id."""
    return {
        option.coupon.id: message_text(option.reason.message, option.reason.params, locale)
        for option in quote.coupon_options
        if not option.usable and option.reason is not None
    }


async def _review_page(
    request: Request,
    session: AsyncSession,
    auth: CustomerSession,
    values: dict[str, str],
    quote: checkout.CheckoutQuote,
    **context: Any,
) -> Response:
    skus = await catalog.get_sellable_skus(session, sku_ids=[line.sku_id for line in quote.price.lines])
    specs = await catalog.name_specs(session, specs={sku_id: sku.spec for sku_id, sku in skus.items()})
    address = await identity.get_address(session, customer_id=auth.customer.id, address_id=quote.address_id)
    store = None
    if quote.pickup_store_id is not None:
        store = next(
            (s for s in await checkout.pickup_stores(session) if s.id == quote.pickup_store_id), None
        )
    state = _state(values, *DELIVERY_FIELDS, *BUY_NOW_FIELDS)
    status = context.pop("status_code", 200)
    context.setdefault("problem", None)
    context.setdefault("notice", None)
    key = values.get("idempotency_key", "")
    return render(
        request,
        REVIEW_PAGE,
        status,
        customer=auth.customer,
        quote=quote,
        skus=skus,
        specs=specs,
        address=address,
        store=store,
        locale_en=locale_of(request) == "en",
        state=state,
        coupon_reasons=_coupon_reasons(quote, locale_of(request)),
        chosen_coupon=str(quote.coupon_id) if quote.coupon_id is not None else "none",
        back=f"/checkout/delivery{_query(_state(values, 'address_id', *BUY_NOW_FIELDS))}",
        values=values,
        providers=offered_providers(request),
        idempotency_key=key if KEY.match(key) else secrets.token_urlsafe(24),
        step=3,
        **context,
    )


@router.get("/checkout/review")
async def review_step(request: Request) -> Response:
    values = dict(request.query_params)
    values.pop("idempotency_key", None)  # a fresh one for every review
    async with uow(write=False) as session:
        auth = await _start(request, session)
        if isinstance(auth, Response):
            return auth
        coupon_problem = None
        try:
            try:
                quote, _buy = await _quote(request, session, auth, values)
            except COUPON_ERRORS as exc:  # the coupon picked cannot be used: why, with the best one
                coupon_problem = form_problem(exc, locale_of(request))
                values.pop(COUPON_FIELD, None)
                quote, _buy = await _quote(request, session, auth, values)
        except FORM_ERRORS as exc:
            if isinstance(exc, checkout.EmptyCart):
                return RedirectResponse("/cart", status_code=303)
            problem = form_problem(exc, locale_of(request))
            return await _delivery_page(
                request, session, auth, values, problem=problem, status_code=problem.status
            )
        return await _review_page(
            request,
            session,
            auth,
            values,
            quote,
            problem=coupon_problem,
            status_code=coupon_problem.status if coupon_problem else 200,
        )


# -- step 4: place the order -----------------------------------------------------------------


def _invoice(values: dict[str, str]) -> orders.InvoiceRequest | None:
    """Raises: ValidationError (a company invoice's missing or bad tax id shows at ``tax_id``)."""
    if values.get("kind", "none") in {"", "none"}:
        return None
    return validate(orders.InvoiceRequest, values, *INVOICE_FIELDS)


@router.post("/checkout/place")
async def place_order(request: Request) -> Response:
    values = await read_form(request)
    locale = locale_of(request)
    key = values.get("idempotency_key", "")
    try:
        if not KEY.match(key):
            raise ReviewAgain()
        invoice = _invoice(values)
        fields = (*DELIVERY_FIELDS, COUPON_FIELD, "note", "expected_total_amount", "provider")
        async with uow() as session:
            auth = await _start(request, session)
            if isinstance(auth, Response):  # signed out meanwhile: back to checkout after signing in
                return RedirectResponse(f"{LOGIN}?next=/checkout", status_code=303)
            buy_now = _buy_now(values)
            if buy_now is not None:
                data = validate(checkout.BuyNow, values, *fields, *BUY_NOW_FIELDS)
                data = data.model_copy(update={"invoice": invoice})
                result = await checkout.buy_now(
                    session,
                    customer_id=auth.customer.id,
                    data=data,
                    idempotency_key=key,
                    channel=channel_of(request),
                )
            else:
                complete = validate(checkout.CompleteCheckout, values, *fields)
                complete = complete.model_copy(update={"invoice": invoice})
                result = await checkout.complete_checkout(
                    session,
                    customer_id=auth.customer.id,
                    data=complete,
                    idempotency_key=key,
                    channel=channel_of(request),
                )
    except FORM_ERRORS as exc:
        return await _refused(request, values, exc, locale)
    return RedirectResponse(f"/pay/{result.payment_id}", status_code=303)


async def _refused(
    request: Request, values: dict[str, str], exc: ValidationError | DomainError, locale: str
) -> Response:
    """The review again, with the price as it is now; a changed price gets a fresh key."""
    problem: FormProblem | None = form_problem(exc, locale)
    assert problem is not None
    if "" in problem.fields:  # the invoice as a whole: a company's tax id is missing or wrong
        fields = {**problem.fields, "tax_id": problem.fields[""]}
        problem = FormProblem(problem.status, problem.message, fields)
    notice = None
    if isinstance(exc, orders.PriceChanged):
        values = {k: v for k, v in values.items() if k != "idempotency_key"}
        notice = problem.message
        problem = None
    elif isinstance(exc, COUPON_ERRORS):  # taken or gone meanwhile: the review with the best one now
        values = {k: v for k, v in values.items() if k not in {"idempotency_key", COUPON_FIELD}}
    async with uow(write=False) as session:
        auth = await _start(request, session)
        if isinstance(auth, Response):
            return auth
        try:
            quote, _buy = await _quote(request, session, auth, values)
        except FORM_ERRORS as again:
            if isinstance(again, checkout.EmptyCart):
                return RedirectResponse("/cart", status_code=303)
            again_problem = form_problem(again, locale)
            return await _delivery_page(
                request, session, auth, values, problem=again_problem, status_code=again_problem.status
            )
        return await _review_page(
            request,
            session,
            auth,
            values,
            quote,
            problem=problem,
            notice=notice,
            status_code=409 if notice else problem.status if problem else 200,
        )


@router.post("/checkout/buy-now")
async def buy_now(request: Request) -> Response:
    """立即购买 from a product page: checkout for this SKU and quantity, the cart untouched."""
    values = await read_form(request)
    try:
        data = validate(cart.AddLine, values, *BUY_NOW_FIELDS)
    except ValidationError as exc:
        return _bad_item(request, exc)
    return RedirectResponse(
        f"/checkout{_query({'sku_id': str(data.sku_id), 'quantity': str(data.quantity)})}", 303
    )


# -- the result ------------------------------------------------------------------------------


async def _outcome(
    request: Request, **where: str
) -> tuple[CustomerSession, checkout.OrderOutcome] | Response:
    async with uow(write=False) as session:
        auth = await _start(request, session)
        if isinstance(auth, Response):
            return auth
        found = await checkout.get_order_outcome(session, customer_id=auth.customer.id, **where)
    return auth, found


@router.get("/checkout/return")
async def gateway_return(request: Request) -> Response:
    """Where a gateway's page sends the shopper back (``?reference=order:42``)."""
    reference = request.query_params.get("reference", "")[:80]
    found = await _outcome(request, reference=reference)
    if isinstance(found, Response):
        return found
    return RedirectResponse(f"/checkout/result/{found[1].order.number}", status_code=303)


@router.get("/checkout/result/{order_number}")
async def result_page(request: Request, order_number: OrderNumber) -> Response:
    """Paid, waiting (polls every 3 s) or failed (pay again), with the way to the order."""
    found = await _outcome(request, number=order_number)
    if isinstance(found, Response):
        return found
    auth, outcome = found
    fragment = request.headers.get("hx-request") == "true"
    return render(
        request,
        RESULT_FRAGMENT if fragment else RESULT_PAGE,
        customer=auth.customer,
        result=outcome,
        providers=offered_providers(request),
    )
