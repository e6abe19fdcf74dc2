"""Referrals and devices for sharing and invites: the ``mercato_ref`` cookie a shop page opened
with ``?ref=<code>`` sets, the first-party device cookie the self-invite check compares, and the
helpers the storefront and the API share (the sharer's code, the invitation at registration).

``RefCookieMiddleware`` (pure ASGI, inside ``RequestContextMiddleware``, so a page that sets the
cookie is ``no-store``) sets ``mercato_ref`` for 30 days, HttpOnly and SameSite=Lax, on a GET of
a shop page (not the API, the console, static files or media) whose ``ref`` looks like a code,
for visitors not signed in; the latest link opened wins. Whether the code exists is decided at
registration, where an unknown one is ignored: a shopper never typed it, so it never blocks
signing up.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato import social
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.web.session import CUSTOMER_COOKIE

log = structlog.get_logger(__name__)

REF_COOKIE = "mercato_ref"
REF_MAX_AGE = 30 * 24 * 3600
DEVICE_COOKIE = "mercato_device"
DEVICE_MAX_AGE = 2 * 365 * 24 * 3600
DEVICE_HEADER = "x-device-id"
DEVICE_ID = re.compile(r"[A-Za-z0-9_.:\-]{8,100}")
#: Paths that are not shop pages: no referral cookie there.
NOT_PAGES = ("/api/", "/admin", "/static/", "/media/", "/metrics", "/share/")
#: What an invitation at registration may meet and shrug off (the shopper never typed the code).
IGNORED = (social.InviteCodeInvalid, social.SelfInvite, social.AlreadyInvited, social.InvitationTooLate)


def _cookie_header(name: str, value: str, max_age: int) -> tuple[bytes, bytes]:
    response = Response()
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return next((k, v) for k, v in response.raw_headers if k == b"set-cookie")


def _ref_of(scope: Scope) -> str | None:
    """The code of a shop page's ``?ref=``, normalised, when this request should keep it."""
    if scope["type"] != "http" or scope.get("method") != "GET":
        return None
    path: str = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    if b"ref=" not in query or path.startswith(NOT_PAGES):
        return None
    ref = next((v for k, v in parse_qsl(query.decode("latin-1")) if k == "ref"), None)
    return social.normalize_code(ref) if ref else None


class RefCookieMiddleware:
    """Set the referral cookie (and a device cookie when missing) on shop pages opened with
    ``?ref=<code>`` by a visitor who is not signed in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code = _ref_of(scope)
        if code is None:
            await self.app(scope, receive, send)
            return
        raw = Headers(scope=scope).get("cookie")
        cookies = cookie_parser(raw) if raw else {}
        if CUSTOMER_COOKIE in cookies:
            await self.app(scope, receive, send)
            return
        extra = [_cookie_header(REF_COOKIE, code, REF_MAX_AGE)]
        if not DEVICE_ID.fullmatch(cookies.get(DEVICE_COOKIE, "")):
            extra.append(_cookie_header(DEVICE_COOKIE, secrets.token_urlsafe(18), DEVICE_MAX_AGE))

        async def with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_cookies)


def device_of(request: Request) -> str | None:
    """The caller's device id: an app's ``X-Device-Id`` header, else the device cookie."""
    for value in (request.headers.get(DEVICE_HEADER, ""), request.cookies.get(DEVICE_COOKIE, "")):
        if DEVICE_ID.fullmatch(value):
            return value
    return None


def ensure_device(request: Request, response: Response) -> str:
    """The caller's device id, giving the browser a device cookie on ``response`` if it has none."""
    device = device_of(request)
    if device is None:
        device = secrets.token_urlsafe(18)
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
        )
    return device


async def sharer_code(customer_id: int) -> str:
    """The customer's invite code: read first, made in a short writing unit of work only the
    first time (so a share page never takes the write lock after that)."""
    async with uow(write=False) as session:
        code = await social.find_invite_code(session, customer_id=customer_id)
    if code is not None:
        return code
    async with uow() as session:
        return await social.invite_code_of(session, customer_id=customer_id)


async def record_referral(request: Request, session: AsyncSession, *, invitee_id: int) -> bool:
    """At registration (in its unit of work): record the invitation of the ``mercato_ref`` code,
    if any. A code that cannot be used (unknown, the invitee's own, ...) is logged and ignored:
    the refusal comes before anything is written, so the registration goes on unchanged."""
    code = request.cookies.get(REF_COOKIE)
    if not code:
        return False
    try:
        await social.record_invitation(session, invitee_id=invitee_id, code=code, device=device_of(request))
    except IGNORED as exc:
        log.info("social.referral_ignored", code=exc.code)
        return False
    return True


def forget_referral(response: Response) -> None:
    """Drop the referral cookie (it has done its work)."""
    response.delete_cookie(
        REF_COOKIE, path="/", httponly=True, samesite="lax", secure=get_settings().secure_cookies
    )
