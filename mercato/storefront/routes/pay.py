"""The pay page of an order's payment: go to the gateway (the sandbox's page, or Alipay's), or
scan the WeChat Pay Native QR code while the page polls for the result; pay another way.

Only the customer who owns the payment sees it (anyone else gets 404). Stripe is not offered
here: its card form needs Stripe.js from Stripe's CDN, which the pages' policy forbids.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import checkout, payments
from mercato.core.db import uow
from mercato.storefront.routes.checkout import offered_providers
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, read_form
from mercato.web.session import CustomerSession, current_customer, login_redirect
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

LOGIN = "/account/login"
PAY_PAGE = "storefront/pay/pay.html"
PAY_FRAGMENT = "storefront/pay/partials/_pay_action.html"
PaymentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def qr_svg(text: str) -> bytes:
    """``text`` as a QR code (SVG), the way the pickup codes are drawn."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return buffer.getvalue()


async def _load(
    request: Request, payment_id: int
) -> tuple[CustomerSession, checkout.OrderPayment] | Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return login_redirect(LOGIN, request)
        found = await checkout.get_order_payment(session, customer_id=auth.customer.id, payment_id=payment_id)
    return auth, found


def _result_url(found: checkout.OrderPayment) -> str:
    return f"/checkout/result/{found.order_number}"


def _page(request: Request, auth: CustomerSession, found: checkout.OrderPayment, **context: Any) -> Response:
    status = context.pop("status_code", 200)
    context.setdefault("problem", None)
    return render(
        request,
        PAY_PAGE,
        status,
        customer=auth.customer,
        found=found,
        payment=found.payment,
        providers=offered_providers(request),
        result_url=_result_url(found),
        **context,
    )


@router.get("/pay/{payment_id}")
async def pay_page(request: Request, payment_id: PaymentId) -> Response:
    loaded = await _load(request, payment_id)
    if isinstance(loaded, Response):
        return loaded
    auth, found = loaded
    if found.outcome in {checkout.PayOutcome.paid, checkout.PayOutcome.cancelled}:
        return RedirectResponse(_result_url(found), status_code=303)
    return _page(request, auth, found)


@router.get("/pay/{payment_id}/status")
async def pay_status(request: Request, payment_id: PaymentId) -> Response:
    """The pay action again (htmx polls it every 3 s); once settled, htmx goes to the result."""
    loaded = await _load(request, payment_id)
    if isinstance(loaded, Response):
        return loaded
    _auth, found = loaded
    headers = {}
    if (
        found.outcome is not checkout.PayOutcome.waiting
        or found.payment.status is not payments.PaymentStatus.pending
    ):
        headers["HX-Redirect"] = _result_url(found)
    return render(
        request,
        PAY_FRAGMENT,
        headers=headers,
        found=found,
        payment=found.payment,
        result_url=_result_url(found),
    )


@router.get("/pay/{payment_id}/go")
async def go_to_gateway(request: Request, payment_id: PaymentId) -> Response:
    """To the gateway's own pay page (the sandbox's, or Alipay's)."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return login_redirect(LOGIN, request)
        url = await checkout.pay_url(session, customer_id=auth.customer.id, payment_id=payment_id)
    return RedirectResponse(url or f"/pay/{payment_id}", status_code=303)


@router.get("/pay/{payment_id}/qr.svg")
async def qr_code(request: Request, payment_id: PaymentId) -> Response:
    """The WeChat Pay Native code URL as a QR code to scan with WeChat."""
    loaded = await _load(request, payment_id)
    if isinstance(loaded, Response):
        return loaded
    _auth, found = loaded
    code = found.payment.client_data.get("qr_code")
    if found.payment.provider != "wechatpay" or not isinstance(code, str) or not code:
        raise payments.PaymentNotFound()
    return Response(qr_svg(code), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.post("/pay/{payment_id}")
async def pay_another_way(request: Request, payment_id: PaymentId) -> Response:
    """Pay the order with another provider, or again after a failed attempt."""
    values = await read_form(request)
    loaded = await _load(request, payment_id)
    if isinstance(loaded, Response):
        return loaded
    auth, found = loaded
    if found.outcome in {checkout.PayOutcome.paid, checkout.PayOutcome.cancelled}:
        return RedirectResponse(_result_url(found), status_code=303)
    provider = values.get("provider", "").strip()[:30]
    try:
        if provider not in offered_providers(request):
            raise payments.UnknownProvider(provider=provider)
        async with uow() as session:
            result = await checkout.pay_order(
                session, customer_id=auth.customer.id, order_id=found.order_id, provider=provider
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _page(request, auth, found, problem=problem, status_code=problem.status)
    return RedirectResponse(f"/pay/{result.payment_id}", status_code=303)
