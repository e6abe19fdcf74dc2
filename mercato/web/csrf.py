"""CSRF protection for cookie-authenticated writes (HTML forms and cookie-mode API calls).

A random value lives in an HttpOnly, SameSite=Lax cookie; the token put in forms (field
``csrf_token``) or sent in the ``X-CSRF-Token`` header is its HMAC under the secret key. A
cross-site page can neither read the cookie nor compute the HMAC. Bearer-token API calls need
no CSRF token: browsers never attach them on their own.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from mercato.core.security import constant_time_equals, sign
from mercato.core.settings import get_settings
from mercato.identity import CsrfFailed

COOKIE = "mercato_csrf"
HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _expected(cookie_value: str) -> str:
    return sign(get_settings().effective_secret_key(), f"csrf:{cookie_value}")


def csrf_token(request: Request, response: Response | None = None) -> str:
    """Return the token for this browser, setting the cookie on ``response`` if it is new."""
    value = request.cookies.get(COOKIE) or getattr(request.state, "csrf_cookie", None)
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.csrf_cookie = value
    if response is not None and request.cookies.get(COOKIE) != value:
        response.set_cookie(
            COOKIE,
            value,
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
            max_age=60 * 60 * 24 * 365,
        )
    return _expected(value)


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Raises: CsrfFailed (403) when the token is missing or does not match the cookie."""
    cookie = request.cookies.get(COOKIE)
    if not cookie or not submitted or not constant_time_equals(_expected(cookie), submitted):
        raise CsrfFailed()
