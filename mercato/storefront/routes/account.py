"""The customer's account pages: sign-in (password or SMS code), registration (a code sent to
the mobile or the email address first), password reset (by SMS or email code), the account
overview, sign-out (here or everywhere) and the data download; and what the other account pages
(orders, after-sales, messages, privacy) share: the sign-in guard, the sub-navigation's data and
the order tabs.

Every POST checks the CSRF token before anything else, runs in one writing unit of work, and
answers with a 303 redirect on success (post-redirect-get) or the form again with its errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity, notify, orders
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.referral import forget_referral, record_referral
from mercato.web.session import (
    CUSTOMER_COOKIE,
    CUSTOMER_COOKIE_PATH,
    SESSION_KIND,
    CustomerSession,
    clear_session_cookie,
    current_customer,
    login_redirect,
    request_meta,
    safe_next,
    set_session_cookie,
)
from mercato.web.templates import render, shop_of

router = APIRouter(include_in_schema=False)

ACCOUNT = "/account"
LOGIN = "/account/login"
LOGIN_PAGE = "storefront/account/login.html"
CODE_PAGE = "storefront/account/login_code.html"
REGISTER_PAGE = "storefront/account/register.html"
RESET_PAGE = "storefront/account/password_reset.html"
#: Notices a redirect may ask the sign-in page to show (by key, never free text from the URL).
NOTICES = frozenset({"signed_out", "signed_out_everywhere", "password_reset"})
S = orders.OrderStatus
#: The tabs of "my orders" (待付款, 待发货, 待收货, 已签收, 已完成) and the statuses each shows.
ORDER_TABS: dict[str, tuple[orders.OrderStatus, ...]] = {
    "to_pay": (S.pending_payment,),
    "to_ship": (S.paid,),
    "to_receive": (S.partially_shipped, S.shipped),
    "delivered": (S.delivered,),
    "completed": (S.completed,),
}
RECENT_ORDERS = 3


def _register_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    policy_version = shop_of(request).privacy_policy_version
    context.setdefault("email_code_sent", False)
    return render(request, REGISTER_PAGE, status_code, privacy_policy_version=policy_version, **context)


def _signed_in(issued: identity.IssuedToken, next_url: str) -> RedirectResponse:
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, CUSTOMER_COOKIE, issued, path=CUSTOMER_COOKIE_PATH)
    return response


def _signed_out(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    clear_session_cookie(response, CUSTOMER_COOKIE, path=CUSTOMER_COOKIE_PATH)
    return response


def to_login(request: Request) -> RedirectResponse:
    """To the sign-in page and back here afterwards (a dead session cookie is cleared)."""
    response = login_redirect(LOGIN, request)
    if CUSTOMER_COOKIE in request.cookies:
        clear_session_cookie(response, CUSTOMER_COOKIE, path=CUSTOMER_COOKIE_PATH)
    return response


async def account_nav(session: AsyncSession, auth: CustomerSession, section: str) -> dict[str, Any]:
    """What the account sub-navigation shows: the customer, the open section, the unread badge."""
    unread = await notify.count_unread(session, customer_id=auth.customer.id)
    return {"customer": auth.customer, "section": section, "unread_messages": unread.unread}


#: Loads what an account page shows for the signed-in customer (raising the domain's 404 when
#: the object asked for is not theirs).
PageContext = Callable[[AsyncSession, CustomerSession], Awaitable[dict[str, Any]]]


async def render_account(
    request: Request,
    template: str,
    load: PageContext,
    *,
    problem: FormProblem | None = None,
    **extra: Any,
) -> Response:
    """An account page for the signed-in customer (else to the sign-in page), with what ``load``
    finds in one read-only unit of work; with ``problem``, the page again with a form's refusal."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        context = await load(session, auth)
    if problem is None:
        return render(request, template, **extra, **context)
    return render(
        request, template, problem.status, headers=problem.headers, problem=problem, **extra, **context
    )


#: A change the signed-in customer asks for, in the writing unit of work.
Action = Callable[[AsyncSession, CustomerSession], Awaitable[object]]


async def account_action(
    request: Request,
    act: Action,
    *,
    done: str,
    not_found: type[Exception],
    page: str,
    load: PageContext,
    problem_of: Callable[[ValidationError | DomainError, str], FormProblem] = form_problem,
    **extra: Any,
) -> Response:
    """Do ``act`` for the signed-in customer (else to the sign-in page), then 303 to ``done``.

    A refusal (invalid form, domain error) shows ``page`` again with ``problem_of``'s problem and
    ``extra``; ``not_found`` (another customer's object too) stays the domain's 404.
    """
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            await act(session, auth)
    except not_found:
        raise
    except FORM_ERRORS as exc:
        return await render_account(request, page, load, problem=problem_of(exc, locale_of(request)), **extra)
    return RedirectResponse(done, status_code=303)


async def send_sms_code(
    request: Request, values: dict[str, str], purpose: identity.CodePurpose
) -> identity.SendCode:
    """Text a code for ``purpose`` to the form's ``phone`` (sent once the unit of work commits).

    Raises:
        ValidationError, PhoneInvalid, CodeRateLimited, SmsDeliveryFailed.
    """
    data = validate(identity.SendCode, {**values, "purpose": purpose}, "phone", "purpose")
    async with uow() as session:
        await identity.send_code(session, phone=data.phone, purpose=data.purpose, meta=request_meta(request))
    return data


def tab_counts(counts: dict[orders.OrderStatus, int]) -> dict[str, int]:
    """How many orders each tab of "my orders" holds."""
    return {tab: sum(counts[status] for status in statuses) for tab, statuses in ORDER_TABS.items()}


# -- sign-in ---------------------------------------------------------------------------------


@router.get("/account/login")
async def login_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), ACCOUNT)
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
    if auth is not None:
        return RedirectResponse(next_url, status_code=303)
    notice = request.query_params.get("notice")
    return render(
        request, LOGIN_PAGE, next_url=next_url, notice=notice if notice in NOTICES else None, values={}
    )


@router.post("/account/login")
async def login_with_password(request: Request) -> Response:
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    meta = request_meta(request)
    try:
        data = validate(identity.PasswordLogin, values, "identifier", "password")
        async with uow() as session:
            customer = await identity.authenticate_with_password(session, data=data, meta=meta)
            issued = await identity.issue_token(
                session, subject_kind="customer", subject_id=customer.id, kind=SESSION_KIND, meta=meta
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return render(
            request,
            LOGIN_PAGE,
            problem.status,
            headers=problem.headers,
            next_url=next_url,
            password_problem=problem,
            values=values,
        )
    return _signed_in(issued, next_url)


@router.post("/account/login/code/send")
async def send_login_code(request: Request) -> Response:
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    try:
        data = await send_sms_code(request, values, identity.CodePurpose.login)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return render(
            request,
            LOGIN_PAGE,
            problem.status,
            headers=problem.headers,
            next_url=next_url,
            code_problem=problem,
            values=values,
        )
    return render(request, CODE_PAGE, next_url=next_url, values={"phone": data.phone}, code_sent=True)


@router.post("/account/login/code")
async def login_with_code(request: Request) -> Response:
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    try:
        data = validate(identity.CodeLogin, values, "phone", "code")
        async with uow() as session:
            customer = await identity.authenticate_with_code(session, data=data)
            issued = await identity.issue_token(
                session,
                subject_kind="customer",
                subject_id=customer.id,
                kind=SESSION_KIND,
                meta=request_meta(request),
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return render(
            request,
            CODE_PAGE,
            problem.status,
            headers=problem.headers,
            next_url=next_url,
            problem=problem,
            values=values,
        )
    return _signed_in(issued, next_url)


# -- registration ----------------------------------------------------------------------------


@router.get("/account/register")
async def register_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), ACCOUNT)
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
    if auth is not None:
        return RedirectResponse(next_url, status_code=303)
    return _register_page(request, values={}, code_sent=False, next_url=next_url)


@router.post("/account/register/code/send")
async def send_register_code(request: Request) -> Response:
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    try:
        data = await send_sms_code(request, values, identity.CodePurpose.register)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _register_page(
            request,
            problem.status,
            headers=problem.headers,
            phone_problem=problem,
            values=values,
            code_sent=False,
            next_url=next_url,
        )
    return _register_page(request, values={"phone": data.phone}, code_sent=True, next_url=next_url)


@router.post("/account/register/email-code/send")
async def send_register_email_code(request: Request) -> Response:
    """Email a sign-up code; the page says the same whether or not the address has an account
    (its owner gets "you already have an account" instead of a code)."""
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    try:
        data = validate(
            identity.SendEmailCode, {**values, "purpose": identity.CodePurpose.register}, "email", "purpose"
        )
        async with uow() as session:
            await identity.send_email_code(
                session, email=data.email, purpose=data.purpose, meta=request_meta(request)
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _register_page(
            request,
            problem.status,
            headers=problem.headers,
            email_problem=problem,
            values={**values, "channel": "email"},
            code_sent=False,
            next_url=next_url,
        )
    return _register_page(
        request,
        values={"channel": "email", "email": data.email},
        code_sent=False,
        email_code_sent=True,
        next_url=next_url,
    )


@router.post("/account/register")
async def register(request: Request) -> Response:
    """Create the account with the code sent to the mobile number or the email address."""
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    by_phone = values.get("channel") == "phone"
    fields = ("phone", "code", "name") if by_phone else ("email", "code", "password", "name")
    meta = request_meta(request)
    try:
        data = validate(identity.RegisterCustomer, values, *fields, checkboxes=("accept_privacy_policy",))
        async with uow() as session:
            customer = await identity.register_customer(session, data=data, meta=meta)
            await record_referral(request, session, invitee_id=customer.id)  # the ?ref= invite, if any
            issued = await identity.issue_token(
                session, subject_kind="customer", subject_id=customer.id, kind=SESSION_KIND, meta=meta
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _register_page(
            request,
            problem.status,
            headers=problem.headers,
            values=values,
            code_sent=by_phone,
            email_code_sent=not by_phone,
            phone_problem=problem if by_phone else None,
            email_problem=None if by_phone else problem,
            next_url=next_url,
        )
    response = _signed_in(issued, next_url)
    forget_referral(response)
    return response


# -- password reset --------------------------------------------------------------------------


def _channel(values: dict[str, str]) -> str:
    """Which half of the reset page a form came from: ``email`` or ``phone``."""
    return "email" if values.get("channel") == "email" else "phone"


def _reset_page(
    request: Request, status_code: int = 200, *, problem: FormProblem | None = None, **context: Any
) -> Response:
    """The reset page; with ``problem``, shown next to the form of ``values``' channel."""
    channel = _channel(context.get("values", {}))
    problems: dict[str, FormProblem | None] = {"phone_problem": None, "email_problem": None}
    if problem is not None:
        problems[f"{channel}_problem"] = problem
    headers = problem.headers if problem is not None else None
    return render(request, RESET_PAGE, status_code, headers=headers, **problems, **context)


@router.get("/account/password-reset")
async def password_reset_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"), ACCOUNT)
    return _reset_page(request, values={}, code_sent=None, next_url=next_url)


@router.post("/account/password-reset/code/send")
async def send_reset_code(request: Request) -> Response:
    """Send a reset code by SMS or email. By email the page says the same whether or not an
    account uses the address (an unknown address is sent nothing)."""
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    channel = _channel(values)
    purpose = identity.CodePurpose.reset_password
    meta = request_meta(request)
    try:
        if channel == "email":
            by_email = validate(identity.SendEmailCode, {**values, "purpose": purpose}, "email", "purpose")
            async with uow() as session:
                await identity.send_email_code(session, email=by_email.email, purpose=purpose, meta=meta)
            sent_to = by_email.email
        else:
            by_sms = validate(identity.SendCode, {**values, "purpose": purpose}, "phone", "purpose")
            async with uow() as session:
                await identity.send_code(session, phone=by_sms.phone, purpose=purpose, meta=meta)
            sent_to = by_sms.phone
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _reset_page(
            request, problem.status, problem=problem, values=values, code_sent=None, next_url=next_url
        )
    return _reset_page(
        request, values={"channel": channel, channel: sent_to}, code_sent=channel, next_url=next_url
    )


@router.post("/account/password-reset")
async def reset_password(request: Request) -> Response:
    """Set the new password with the code; every session of the account ends."""
    values = await read_form(request)
    next_url = safe_next(values.get("next"), ACCOUNT)
    channel = _channel(values)
    try:
        data = validate(identity.ResetPassword, values, channel, "code", "new_password")
        async with uow() as session:
            await identity.reset_password(session, data=data)
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return _reset_page(
            request, problem.status, problem=problem, values=values, code_sent=channel, next_url=next_url
        )
    query = urlencode({"notice": "password_reset", "next": next_url})
    return RedirectResponse(f"{LOGIN}?{query}", status_code=303)


# -- the account -----------------------------------------------------------------------------


@router.get("/account")
async def account(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        nav = await account_nav(session, auth, "overview")
        addresses = await identity.list_addresses(session, customer_id=auth.customer.id)
        sessions = await identity.list_live_tokens(
            session, subject_kind="customer", subject_id=auth.customer.id
        )
        counts = await orders.count_orders_by_status(session, customer_id=auth.customer.id)
        recent = await orders.list_customer_orders(session, customer_id=auth.customer.id, limit=RECENT_ORDERS)
        wechat_accounts = await identity.list_wechat_accounts(session, customer_id=auth.customer.id)
    return render(
        request,
        "storefront/account/overview.html",
        **nav,
        current_token_id=auth.token_id,
        addresses=addresses,
        sessions=sessions,
        tab_counts=tab_counts(counts),
        recent_orders=recent.items,
        wechat_accounts=wechat_accounts,
    )


@router.get("/account/export.json")
async def export_data(request: Request) -> Response:
    """Everything held about the signed-in customer, as a JSON download (data portability)."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        export = await identity.export_customer_data(session, customer_id=auth.customer.id)
    return Response(
        export.model_dump_json(indent=2),
        media_type="application/json",
        headers={
            "content-disposition": 'attachment; filename="mercato-my-data.json"',
            "cache-control": "no-store",
        },
    )


@router.post("/account/logout")
async def logout(request: Request) -> Response:
    await read_form(request)
    async with uow() as session:
        auth = await current_customer(request, session)
        if auth is not None:
            await identity.revoke_token(session, token_id=auth.token_id)
    return _signed_out(f"{LOGIN}?notice=signed_out")


@router.post("/account/logout-all")
async def logout_everywhere(request: Request) -> Response:
    await read_form(request)
    async with uow() as session:
        auth = await current_customer(request, session)
        if auth is not None:
            await identity.revoke_all_tokens(session, subject_kind="customer", subject_id=auth.customer.id)
    return _signed_out(f"{LOGIN}?notice=signed_out_everywhere")
