"""ASGI middleware: request id, locale (the ``mercato_locale`` cookie, else Accept-Language),
access log, security headers (a strict Content-Security-Policy, HSTS, ``Cache-Control: no-store``
on everything personal; ADR 0023), body limit.

Pure ASGI (not BaseHTTPMiddleware) so streaming and background work are not buffered.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato.core import tabular
from mercato.core.i18n import SUPPORTED, gettext, negotiate, set_locale
from mercato.core.settings import Settings, get_settings
from mercato.web.problems import problem
from mercato.web.session import CUSTOMER_COOKIE, STAFF_COOKIE
from mercato.web.shop import apply_shop

log = structlog.get_logger("mercato.access")
REQUESTS = Counter("mercato_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "mercato_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Upload routes may send more than the global body limit: an image of up to ``max_image_bytes``
#: plus room for the multipart envelope (boundary, part headers, the other form fields).
UPLOAD_PATH = re.compile(
    r"/api/v1/(?:admin/catalog/(?:products/[^/]+/images|brands/[^/]+/logo)|aftersales/[^/]+/photos)/?"
    r"|/admin/catalog/(?:products/[^/]+/images|brands/[^/]+/logo)|/admin/content/banners(?:/\d+)?"
    r"|/admin/settings/profile"
)
#: The shopper's after-sales form sends up to ``aftersales_max_photos`` photos in one post.
PHOTOS_PATH = re.compile(r"/account/aftersales/new")
UPLOAD_ENVELOPE_BYTES = 64 * 1024
#: Spreadsheet imports may send a file of up to ``tabular.MAX_UPLOAD_BYTES`` (plus the envelope).
IMPORT_PATH = re.compile(
    r"/api/v1/admin/(?:catalog/imports/products|inventory/imports/stock)/?|/admin/(?:catalog|inventory)/import"
)
#: The language chosen with the switch in the page header; it wins over Accept-Language.
LOCALE_COOKIE = "mercato_locale"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
#: One year, subdomains included; sent only when cookies are Secure (the shop is behind HTTPS).
HSTS = "max-age=31536000; includeSubDomains"
#: Responses a cache may keep when the request carries no credentials and sets no cookie: the
#: public shop pages (pages themselves say ``private, no-cache``: they hold a per-browser CSRF
#: token), the public catalogue API, robots.txt, the sitemap and the API description. Every other
#: response (account, checkout, cart, orders, payments, the console, /api/v1/me, /api/v1/auth, …)
#: is ``no-store``, so a new route is private unless it is added here.
PUBLIC_PATH = re.compile(
    r"/|/c/[^/]+|/p/[^/]+|/search|/robots\.txt|/sitemap\.xml|/api/v1/catalog(?:/.*)?|/api/openapi\.json|/api/docs"
    r"|/legal/[a-z\-]+|/shop-theme\.css|/api/v1/shop"
)
#: Static files and media: public and never personal, whatever cookies travel with them.
ASSET_PREFIXES = ("/static/", "/media/")
#: Share posters: personal (the sharer's invite code) but harmless to keep in the sharer's own
#: browser, so their route's ``private, max-age=300`` is left alone (mercato/social/sharing.py).
PRIVATE_IMAGES = re.compile(r"(?:/api/v1)?/share/poster\.png")
#: Cookies that are credentials: the customer's and the staff member's session, and the guest cart
#: token (``mercato_cart``, named in api/v1/cart.py and storefront/routes/cart.py).
CREDENTIAL_COOKIES = (CUSTOMER_COOKIE, STAFF_COOKIE, "mercato_cart")
NO_STORE = (b"cache-control", b"no-store")


def content_security_policy(media_url: str = "") -> str:
    """The policy of every response (ADR 0023): scripts, styles, fonts, frames and requests only
    from this origin, never inline and never ``eval``; images also from ``data:`` URIs and from
    the media origin when ``media_url`` is absolute (a CDN); no plugins; no framing by others."""
    images = "'self' data:"
    parts = urlsplit(media_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        images += f" {parts.scheme}://{parts.netloc}"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


@dataclass(frozen=True)
class _SecurityHeaders:
    """The raw headers every response gets, computed once per settings object."""

    settings: Settings
    headers: tuple[tuple[bytes, bytes], ...]
    names: frozenset[bytes]


def _security_headers(settings: Settings) -> _SecurityHeaders:
    values = {**SECURITY_HEADERS, "content-security-policy": content_security_policy(settings.media_url)}
    if settings.secure_cookies:
        values["strict-transport-security"] = HSTS
    headers = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in values.items())
    return _SecurityHeaders(settings, headers, frozenset(name for name, _ in headers))


def _cookie_locale(cookies: dict[str, str]) -> str | None:
    value = cookies.get(LOCALE_COOKIE)
    return value if value in SUPPORTED else None


def must_not_store(path: str, headers: Headers, cookies: dict[str, str]) -> bool | None:
    """Whether the response to this request is ``no-store`` whatever the route says: True for a
    path not in ``PUBLIC_PATH`` or a request with credentials (an Authorization header or a
    credential cookie), None for static files, media and share posters (left alone), else False
    (the response still becomes ``no-store`` if it sets a cookie)."""
    if path.startswith(ASSET_PREFIXES) or PRIVATE_IMAGES.fullmatch(path):
        return None
    if not PUBLIC_PATH.fullmatch(path):
        return True
    return "authorization" in headers or any(name in cookies for name in CREDENTIAL_COOKIES)


class RequestContextMiddleware:
    """Give each request an id (or keep a sane incoming X-Request-ID), pick its language,
    log it once, and add security headers to every response."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 2 * 1024 * 1024) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._security: _SecurityHeaders | None = None

    def security_headers(self, settings: Settings) -> _SecurityHeaders:
        """The precomputed headers for ``settings`` (recomputed only when the settings change)."""
        current = self._security
        if current is None or current.settings is not settings:
            current = self._security = _security_headers(settings)
        return current

    def body_limit(self, path: str) -> int:
        """The most bytes a request to ``path`` may send: more for uploads, the default otherwise."""
        if UPLOAD_PATH.fullmatch(path):
            return max(self.max_body_bytes, get_settings().max_image_bytes + UPLOAD_ENVELOPE_BYTES)
        if PHOTOS_PATH.fullmatch(path):
            settings = get_settings()
            photos = max(settings.aftersales_max_photos, 1) * settings.max_image_bytes
            return max(self.max_body_bytes, photos + UPLOAD_ENVELOPE_BYTES)
        if IMPORT_PATH.fullmatch(path):
            return max(self.max_body_bytes, tabular.MAX_UPLOAD_BYTES + UPLOAD_ENVELOPE_BYTES)
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        settings = get_settings()
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        raw_cookies = headers.get("cookie")
        cookies = cookie_parser(raw_cookies) if raw_cookies else {}
        locale = _cookie_locale(cookies) or negotiate(headers.get("accept-language"), settings.locale)
        set_locale(locale)
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        scope["state"]["locale"] = locale
        await apply_shop(
            scope["state"],
            scope.get("path", ""),
            cookie_locale=_cookie_locale(cookies),
            accept_language=headers.get("accept-language"),
        )
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}
        path = scope.get("path", "")
        limit = self.body_limit(path)
        security = self.security_headers(settings)
        no_store = must_not_store(path, headers, cookies)
        wrapped_send = self._wrap_send(send, request_id, security, no_store, status_holder)

        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            response = problem(
                Request(scope),
                status=413,
                code="core.body_too_large",
                detail=gettext("The request body is too large."),
            )
            await response(scope, receive, wrapped_send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, wrapped_send)
        except BodyTooLarge:
            response = problem(
                Request(scope),
                status=413,
                code="core.body_too_large",
                detail=gettext("The request body is too large."),
            )
            await response(scope, receive, wrapped_send)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUESTS.labels(method, route, str(status_holder["status"])).inc()
            LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "request",
                method=method,
                path=path,
                status_code=status_holder["status"],
                duration_ms=round(elapsed * 1000, 1),
            )

    @staticmethod
    def _wrap_send(
        send: Send, request_id: str, security: _SecurityHeaders, no_store: bool | None, holder: dict[str, Any]
    ) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                holder["status"] = message["status"]
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                if b"x-request-id" in present:
                    raw = [header for header in raw if header[0].lower() != b"x-request-id"]
                raw.append((b"x-request-id", request_id.encode("latin-1")))
                if present.isdisjoint(security.names):
                    raw.extend(security.headers)
                else:  # the route set one of them itself: keep its value
                    raw.extend(header for header in security.headers if header[0] not in present)
                if no_store or (no_store is False and b"set-cookie" in present):
                    if b"cache-control" in present:
                        raw = [header for header in raw if header[0].lower() != b"cache-control"]
                    raw.append(NO_STORE)
                message["headers"] = raw
            await send(message)

        return wrapped


class BodyTooLarge(HTTPException):
    """Raised while reading a body that exceeds the limit.

    An HTTPException (413), because FastAPI answers any other error raised while it parses a body
    with 400; the problem handlers render it as ``core.body_too_large``.
    """

    def __init__(self) -> None:
        super().__init__(413)
