"""The pay page of an order's payment: go to the gateway (the sandbox's page, or Alipay's), or
scan the WeChat Pay Native QR code while the page polls for the result; pay another way.

Inside WeChat, WeChat Pay is paid with JSAPI as the shopper's official-account openid (the
official account must be WeChat Pay's appid): without a linked openid the shopper is sent to
``/account/wechat/authorize-payment`` and back; a pending WeChat Pay payment made another way
(the QR code, another payer) is closed at WeChat Pay first, outside any transaction, and a JSAPI
one opened; the page hands its signed parameters to WeChat's bridge (``wechatPay`` in
mercato.js) and goes to the result page, which waits for WeChat Pay's notification.

Only the customer who owns the payment sees it (anyone else gets 404). Stripe is not offered
here: its card form needs Stripe.js from Stripe's CDN, which the pages' policy forbids.
"""

from __future__ import annotations

import io
from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import checkout, identity, payments
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.storefront.routes.checkout import offered_providers
from mercato.storefront.routes.wechat import in_wechat
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, read_form
from mercato.web.session import CustomerSession, current_customer, login_redirect
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

LOGIN = "/account/login"
PAY_PAGE = "storefront/pay/pay.html"
PAY_FRAGMENT = "storefront/pay/partials/_pay_action.html"
AUTHORIZE_PAYMENT = "/account/wechat/authorize-payment"
WECHATPAY = "wechatpay"
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
        in_wechat=in_wechat(request),
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
    payment = found.payment
    jsapi = _jsapi_offered(request, payment.provider)
    if payment.status is payments.PaymentStatus.pending and (jsapi or "payer" in payment.client_data):
        try:  # inside WeChat: as this payer (JSAPI); elsewhere a JSAPI payment becomes a QR code
            paid = await _pay_in_wechat(auth, found) if jsapi else await _switch_wechat(auth, found, "")
        except payments.ReferenceAlreadyPaid:
            return RedirectResponse(_result_url(found), status_code=303)
        except FORM_ERRORS as exc:
            problem = form_problem(exc, locale_of(request))
            return _page(request, auth, found, problem=problem, status_code=problem.status)
        if isinstance(paid, Response):
            return paid
        if paid.payment_id != payment_id:
            return RedirectResponse(f"/pay/{paid.payment_id}", status_code=303)
        loaded = await _load(request, payment_id)  # this payer's JSAPI payment, perhaps opened just now
        if isinstance(loaded, Response):
            return loaded
        auth, found = loaded
    return _page(request, auth, found)


def _jsapi_offered(request: Request, provider: str) -> bool:
    """Whether to pay with WeChat Pay JSAPI: inside WeChat, with the official account whose
    openid pays (WeChat Pay's appid); otherwise the Native QR code as anywhere else."""
    if provider != WECHATPAY or not in_wechat(request):
        return False
    settings = get_settings()
    official_account = settings.wechat_app("mp")
    return official_account is not None and official_account[0] == settings.wechatpay_appid.strip()


async def _pay_in_wechat(
    auth: CustomerSession, found: checkout.OrderPayment
) -> checkout.CheckoutResult | Response:
    """The order's JSAPI payment as this shopper's openid, or the trip to WeChat to get the openid.

    A pending WeChat Pay payment made another way is closed at WeChat Pay first (it may turn
    out paid: the order is then paid, ``ReferenceAlreadyPaid``); if it cannot be closed now,
    ``ProviderUnavailable`` and nothing changed (a reload tries again).
    """
    async with uow(write=False) as session:
        openid = await identity.find_payer_openid(
            session, customer_id=auth.customer.id, appid=get_settings().wechatpay_appid.strip()
        )
    if openid is None:
        back = urlencode({"next": f"/pay/{found.payment.id}"})
        return RedirectResponse(f"{AUTHORIZE_PAYMENT}?{back}", status_code=303)
    return await _switch_wechat(auth, found, openid)


async def _switch_wechat(
    auth: CustomerSession, found: checkout.OrderPayment, openid: str
) -> checkout.CheckoutResult:
    """The order's WeChat Pay payment as JSAPI for ``openid`` (Native for ``""``): the pending one
    if it is paid that way, else a new one once the other is closed at WeChat Pay."""
    reference = f"order:{found.order_id}"
    for attempt in range(2):
        try:
            async with uow() as session:
                return await checkout.pay_order(
                    session,
                    customer_id=auth.customer.id,
                    order_id=found.order_id,
                    provider=WECHATPAY,
                    channel="jsapi" if openid else "",
                    payer_openid=openid,
                )
        except payments.PendingPaymentDiffers:
            if attempt:
                break
        async with uow(write=False) as session:
            pending = await payments.list_payments(
                session, reference=reference, status=payments.PaymentStatus.pending
            )
        for other in pending.items:
            if other.provider == WECHATPAY:
                await payments.close_with_provider(
                    other.id, actor=f"customer:{auth.customer.id}", reason="paid another way at WeChat Pay"
                )
    raise payments.ProviderUnavailable()


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
        in_wechat=in_wechat(request),
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
        if provider == WECHATPAY:  # JSAPI inside WeChat, else Native (a JSAPI one closed first)
            jsapi = _jsapi_offered(request, provider)
            paid = await _pay_in_wechat(auth, found) if jsapi else await _switch_wechat(auth, found, "")
            if isinstance(paid, Response):
                return paid
            return RedirectResponse(f"/pay/{paid.payment_id}", status_code=303)
        async with uow() as session:
            result = await checkout.pay_order(
                session, customer_id=auth.customer.id, order_id=found.order_id, provider=provider
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _page(request, auth, found, problem=problem, status_code=problem.status)
    return RedirectResponse(f"/pay/{result.payment_id}", status_code=303)
