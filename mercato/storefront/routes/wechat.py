"""Signing in with WeChat (微信登录): the website app's QR code on a computer, the official
account's authorisation inside WeChat; linking WeChat to an account (by a mobile number proven
with an SMS code, or from the account page) and unlinking it.

A trip to WeChat holds its ``state`` in an HttpOnly cookie limited to ``/account/wechat`` (the
callback must bring the same one, used once, within 10 minutes); a WeChat identity no account
knows yet holds a ticket in another such cookie while the shopper proves a mobile number. The
callback's network calls to WeChat run between two short units of work, never inside one.
Whatever WeChat or the shopper gets wrong ends on a page that says so, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.settings import get_settings
from mercato.storefront.routes.account import ACCOUNT, LOGIN, send_sms_code, to_login
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.problems import STATUS, domain_detail
from mercato.web.referral import forget_referral, record_referral
from mercato.web.session import (
    CUSTOMER_COOKIE,
    CUSTOMER_COOKIE_PATH,
    SESSION_KIND,
    current_customer,
    request_meta,
    safe_next,
    set_session_cookie,
)
from mercato.web.templates import render, shop_of, templates

router = APIRouter(include_in_schema=False)

CALLBACK = "/account/wechat/callback"
BIND = "/account/wechat/bind"
COOKIE_PATH = "/account/wechat"
STATE_COOKIE = "mercato_wechat_state"
TICKET_COOKIE = "mercato_wechat_ticket"
BIND_PAGE = "storefront/account/wechat_bind.html"
REFUSED_PAGE = "storefront/account/wechat_refused.html"
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def in_wechat(request: Request) -> bool:
    """Whether the page is open in WeChat's own browser (its User-Agent says MicroMessenger)."""
    return "micromessenger" in request.headers.get("user-agent", "").lower()


def wechat_sign_in_offered(request: Request) -> bool:
    """Whether a WeChat app can serve this browser (the sign-in pages show the button only then)."""
    return identity.wechat_app_for(in_wechat=in_wechat(request)) is not None


templates.globals["wechat_sign_in_offered"] = wechat_sign_in_offered


def _cookie(response: Response, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def _forget(response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="lax", secure=get_settings().secure_cookies
    )


def _refused(request: Request, exc: DomainError, next_url: str = ACCOUNT) -> Response:
    """The page that says why WeChat sign-in stopped, with the ways on (state and ticket dropped)."""
    headers = {"retry-after": str(exc.retry_after)} if exc.retry_after else None
    response = render(
        request,
        REFUSED_PAGE,
        STATUS[exc.kind],
        headers=headers,
        message=domain_detail(exc, locale_of(request)),
        next_url=next_url,
        can_retry=wechat_sign_in_offered(request),
    )
    _forget(response, STATE_COOKIE)
    _forget(response, TICKET_COOKIE)
    return response


async def _to_wechat(request: Request, purpose: identity.WeChatPurpose, next_url: str) -> Response:
    """Start a trip to WeChat for ``purpose`` (link and pay: for the signed-in customer)."""
    kind = identity.wechat_app_for(in_wechat=in_wechat(request))
    if purpose is identity.WeChatPurpose.pay:
        kind = identity.WeChatAppKind.mp
    try:
        if kind is None:
            raise identity.WeChatNotConfigured()
        async with uow() as session:
            auth = await current_customer(request, session)
            if purpose is identity.WeChatPurpose.login and auth is not None:
                return RedirectResponse(next_url, status_code=303)
            if purpose is not identity.WeChatPurpose.login and auth is None:
                return to_login(request)
            redirect = await identity.begin_wechat_authorization(
                session,
                app_kind=kind,
                purpose=purpose,
                customer_id=auth.customer.id if auth else None,
                next_url=next_url,
                redirect_uri=get_settings().public_base_url + CALLBACK,
            )
    except DomainError as exc:
        return _refused(request, exc, next_url)
    response = RedirectResponse(redirect.url, status_code=303)
    _cookie(response, STATE_COOKIE, redirect.state, int(identity.WECHAT_AUTHORIZATION_TTL.total_seconds()))
    return response


@router.get("/account/wechat/login")
async def wechat_login(request: Request) -> Response:
    """To WeChat: the QR code on a computer, the official account's authorisation inside WeChat."""
    next_url = safe_next(request.query_params.get("next"), ACCOUNT)
    return await _to_wechat(request, identity.WeChatPurpose.login, next_url)


@router.post("/account/wechat/link")
async def wechat_link(request: Request) -> Response:
    """Link WeChat to the signed-in customer's account (from the account page)."""
    await read_form(request)
    return await _to_wechat(request, identity.WeChatPurpose.link, ACCOUNT)


@router.get("/account/wechat/authorize-payment")
async def wechat_authorize_payment(request: Request) -> Response:
    """Inside WeChat, fetch the official account's openid (silently, ``snsapi_base``) so that WeChat
    Pay can charge the shopper there (JSAPI), then back to the pay page ``next``."""
    next_url = safe_next(request.query_params.get("next"), ACCOUNT)
    return await _to_wechat(request, identity.WeChatPurpose.pay, next_url)


@router.get(CALLBACK)
async def wechat_callback(request: Request) -> Response:
    """WeChat sends the shopper back here with ``code`` and ``state`` (only ``state`` if they
    declined): sign in, link, or ask for a mobile number to link or create an account."""
    code = request.query_params.get("code", "")[:200]
    next_url = ACCOUNT
    try:
        async with uow() as session:
            authorization = await identity.claim_wechat_authorization(
                session,
                state=request.query_params.get("state", "")[:200],
                browser_state=request.cookies.get(STATE_COOKIE),
            )
        next_url = authorization.next_url or ACCOUNT
        if not code:
            raise identity.WeChatDenied()
        who = await identity.identify_wechat_user(
            app_kind=authorization.app_kind, purpose=authorization.purpose, code=code
        )
        async with uow() as session:
            auth = await current_customer(request, session)
            outcome = await identity.complete_wechat_authorization(
                session,
                authorization=authorization,
                identity=who,
                current_customer_id=auth.customer.id if auth else None,
            )
            issued = None
            if outcome.purpose is identity.WeChatPurpose.login and outcome.customer_id is not None:
                issued = await identity.issue_token(
                    session,
                    subject_kind="customer",
                    subject_id=outcome.customer_id,
                    kind=SESSION_KIND,
                    meta=request_meta(request),
                )
    except DomainError as exc:
        return _refused(request, exc, next_url)
    if outcome.ticket is not None:
        response = RedirectResponse(BIND, status_code=303)
        _cookie(response, TICKET_COOKIE, outcome.ticket, int(identity.WECHAT_TICKET_TTL.total_seconds()))
    else:
        response = RedirectResponse(outcome.next_url or ACCOUNT, status_code=303)
        if issued is not None:
            set_session_cookie(response, CUSTOMER_COOKIE, issued, path=CUSTOMER_COOKIE_PATH)
    _forget(response, STATE_COOKIE)
    return response


# -- linking a new WeChat identity by mobile number --------------------------------------------


def _bind_page(
    request: Request,
    binding: identity.WeChatBinding,
    *,
    problem: FormProblem | None = None,
    **context: Any,
) -> Response:
    status = problem.status if problem else 200
    headers = problem.headers if problem else None
    return render(
        request,
        BIND_PAGE,
        status,
        headers=headers,
        binding=binding,
        problem=problem,
        privacy_policy_version=shop_of(request).privacy_policy_version,
        **context,
    )


async def _binding(request: Request) -> identity.WeChatBinding:
    async with uow(write=False) as session:
        return await identity.get_wechat_binding(session, ticket=request.cookies.get(TICKET_COOKIE))


@router.get(BIND)
async def bind_page(request: Request) -> Response:
    """Link the WeChat identity to an account: the mobile number's, or a new one."""
    try:
        binding = await _binding(request)
    except DomainError as exc:
        return _refused(request, exc)
    return _bind_page(request, binding, values={}, code_sent=False)


@router.post("/account/wechat/bind/code/send")
async def send_bind_code(request: Request) -> Response:
    values = await read_form(request)
    try:
        binding = await _binding(request)
    except DomainError as exc:
        return _refused(request, exc)
    try:
        data = await send_sms_code(request, values, identity.CodePurpose.login)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _bind_page(request, binding, problem=problem, values=values, code_sent=False)
    return _bind_page(request, binding, values={"phone": data.phone}, code_sent=True)


@router.post(BIND)
async def bind(request: Request) -> Response:
    """Prove the mobile number with its code: link WeChat to its account (created if none) and
    sign in."""
    values = await read_form(request)
    ticket = request.cookies.get(TICKET_COOKIE)
    try:
        binding = await _binding(request)
        data = validate(identity.BindWeChat, values, "phone", "code", checkboxes=("accept_privacy_policy",))
        async with uow() as session:
            customer = await identity.bind_wechat_by_phone(
                session, ticket=ticket, data=data, meta=request_meta(request)
            )
            # a new account's ?ref= invite (an older account's is refused as too late, and ignored)
            await record_referral(request, session, invitee_id=customer.id)
            issued = await identity.issue_token(
                session,
                subject_kind="customer",
                subject_id=customer.id,
                kind=SESSION_KIND,
                meta=request_meta(request),
            )
    except identity.WeChatStateInvalid as exc:
        return _refused(request, exc)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _bind_page(request, binding, problem=problem, values=values, code_sent=True)
    response = RedirectResponse(binding.next_url or ACCOUNT, status_code=303)
    set_session_cookie(response, CUSTOMER_COOKIE, issued, path=CUSTOMER_COOKIE_PATH)
    _forget(response, TICKET_COOKIE)
    forget_referral(response)
    return response


@router.post("/account/wechat/{account_id}/unlink")
async def unlink(request: Request, account_id: AccountId) -> Response:
    """Unlink one of the signed-in customer's WeChat identities (another customer's is a 404)."""
    await read_form(request)
    async with uow() as session:
        auth = await current_customer(request, session)
        if auth is None:
            return RedirectResponse(LOGIN, status_code=303)
        await identity.unlink_wechat(session, customer_id=auth.customer.id, account_id=account_id)
    return RedirectResponse(ACCOUNT, status_code=303)
