"""ASGI middleware: request id, locale (the ``mercato_locale`` cookie, else Accept-Language),
access log, security headers, body limit.

Pure ASGI (not BaseHTTPMiddleware) so streaming and background work are not buffered.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mercato.core import tabular
from mercato.core.i18n import SUPPORTED, gettext, negotiate, set_locale
from mercato.core.settings import get_settings
from mercato.web.problems import problem

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
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    ),
}
# Swagger UI loads its assets from a CDN; it only gets a looser policy on its own page.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    "script-src 'self' 'unsafe-inline' https:; frame-ancestors 'none'"
)


def _cookie_locale(headers: Headers) -> str | None:
    value = cookie_parser(headers.get("cookie", "")).get(LOCALE_COOKIE)
    return value if value in SUPPORTED else None


class RequestContextMiddleware:
    """Give each request an id (or keep a sane incoming X-Request-ID), pick its language,
    log it once, and add security headers to every response."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 2 * 1024 * 1024) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        locale = _cookie_locale(headers) or negotiate(headers.get("accept-language"), get_settings().locale)
        set_locale(locale)
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        scope["state"]["locale"] = locale
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}
        path = scope.get("path", "")
        limit = self.body_limit(path)

        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            response = problem(
                Request(scope),
                status=413,
                code="core.body_too_large",
                detail=gettext("The request body is too large."),
            )
            await response(scope, receive, self._wrap_send(send, request_id, path, status_holder))
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
            await self.app(scope, limited_receive, self._wrap_send(send, request_id, path, status_holder))
        except BodyTooLarge:
            response = problem(
                Request(scope),
                status=413,
                code="core.body_too_large",
                detail=gettext("The request body is too large."),
            )
            await response(scope, receive, self._wrap_send(send, request_id, path, status_holder))
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
    def _wrap_send(send: Send, request_id: str, path: str, holder: dict[str, Any]) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                holder["status"] = message["status"]
                out = MutableHeaders(scope=message)
                out["x-request-id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    if name not in out:
                        out[name] = value
                if path.startswith("/api/docs"):
                    out["content-security-policy"] = DOCS_CSP
            await send(message)

        return wrapped


class BodyTooLarge(HTTPException):
    """Raised while reading a body that exceeds the limit.

    An HTTPException (413), because FastAPI answers any other error raised while it parses a body
    with 400; the problem handlers render it as ``core.body_too_large``.
    """

    def __init__(self) -> None:
        super().__init__(413)
