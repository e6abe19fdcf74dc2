"""Browser sessions for the HTML pages: cookie names, setting and clearing them, and finding the
signed-in customer or staff member behind a cookie (through identity's token services).

The cookie holds the raw secret of a ``session`` token (only its SHA-256 is stored). It is
HttpOnly and SameSite=Lax, Secure when ``MERCATO_SECURE_COOKIES`` is on, and lives as long as
the token. The staff cookie is limited to ``/admin`` so it never travels with shop requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.core import clock
from mercato.core.settings import get_settings

CUSTOMER_COOKIE = "mercato_session"
STAFF_COOKIE = "mercato_staff_session"
CUSTOMER_COOKIE_PATH = "/"
STAFF_COOKIE_PATH = "/admin"
SESSION_KIND = "session"


@dataclass(frozen=True)
class CustomerSession:
    customer: identity.CustomerRead
    token_id: int


@dataclass(frozen=True)
class StaffSession:
    staff: identity.StaffRead
    token_id: int
    actor: identity.Actor


def request_meta(request: Request) -> identity.RequestMeta:
    """Who is calling from where, for consents, sessions and audit entries."""
    return identity.RequestMeta(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent", "")[:300],
        request_id=getattr(request.state, "request_id", None),
    )


def set_session_cookie(response: Response, name: str, issued: identity.IssuedToken, *, path: str) -> None:
    max_age = max(0, int((issued.expires_at - clock.now()).total_seconds()))
    response.set_cookie(
        name,
        issued.token,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def clear_session_cookie(response: Response, name: str, *, path: str) -> None:
    response.delete_cookie(
        name, path=path, httponly=True, samesite="lax", secure=get_settings().secure_cookies
    )


def safe_next(value: str | None, default: str) -> str:
    """A same-site path to go to after signing in; anything else (``//evil``, ``https:``) is refused."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)
    ):
        return default
    return value


def login_redirect(login_path: str, request: Request) -> RedirectResponse:
    """303 to the sign-in page, coming back to the current page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{login_path}?next={quote(here, safe='/')}", status_code=303)


async def _resolve(
    request: Request, session: AsyncSession, *, cookie: str, kind: str
) -> identity.ResolvedToken | None:
    """The live session token behind ``cookie``, or None (a bearer token is not a cookie session)."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    resolved = await identity.resolve_token(session, token=token, subject_kind=kind)
    if resolved is None or resolved.kind != SESSION_KIND:
        return None
    return resolved


async def current_customer(request: Request, session: AsyncSession) -> CustomerSession | None:
    """The customer signed in by the session cookie, or None (no cookie, ended, or deleted)."""
    resolved = await _resolve(request, session, cookie=CUSTOMER_COOKIE, kind="customer")
    if resolved is None:
        return None
    try:
        customer = await identity.get_customer(session, customer_id=resolved.subject_id)
    except identity.SessionInvalid:
        return None
    return CustomerSession(customer=customer, token_id=resolved.token_id)


async def current_staff(request: Request, session: AsyncSession) -> StaffSession | None:
    """The staff member signed in by the staff cookie, or None (no cookie, ended, or deactivated)."""
    resolved = await _resolve(request, session, cookie=STAFF_COOKIE, kind="staff")
    if resolved is None:
        return None
    try:
        staff = await identity.get_staff(session, staff_id=resolved.subject_id)
    except identity.SessionInvalid:
        return None
    actor = identity.Actor(
        staff_id=staff.id,
        label=staff.email,
        ip=request.client.host if request.client else None,
        request_id=getattr(request.state, "request_id", None),
    )
    return StaffSession(staff=staff, token_id=resolved.token_id, actor=actor)
