"""Error pages for the browser: HTML for the storefront and console paths, problem+json elsewhere.

``install()`` runs after ``problems.install()`` and wraps its handlers: requests under ``/api``
and the probes keep RFC 9457 problem+json exactly as before; every other path (the pages, and
unknown paths a browser may type) gets an HTML page in the request's language. A list page
given a cursor that is not ours redirects to its first page instead of an error page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mercato.core.errors import DomainError
from mercato.core.i18n import N_, gettext
from mercato.core.pagination import InvalidCursor
from mercato.web import problems
from mercato.web.forms import locale_of
from mercato.web.templates import render

#: Paths answered with problem+json, never with a page.
MACHINE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")
_HTTP_DETAILS = {
    404: N_("This page does not exist."),
    405: N_("This method is not allowed here."),
}
Handler = Callable[[Request, Exception], Awaitable[Response]]


def wants_html(request: Request) -> bool:
    path = request.url.path
    return not (path == "/api" or path.startswith(MACHINE_PREFIXES))


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return render(
        request,
        "error.html",
        status,
        headers=headers,
        status=status,
        message=message,
        in_admin=request.url.path.startswith("/admin"),
    )


def without_cursor(request: Request) -> str:
    """The URL of this list page with its ``cursor`` dropped: the first page, same filters."""
    kept = [(name, value) for name, value in request.query_params.multi_items() if name != "cursor"]
    return request.url.path + (f"?{urlencode(kept)}" if kept else "")


async def domain_error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if not wants_html(request):
        return await problems.domain_error_handler(request, exc)
    if (
        isinstance(exc, InvalidCursor)
        and request.method in ("GET", "HEAD")
        and "cursor" in request.query_params
    ):
        # A list page given a cursor that is not ours (edited, truncated, stale) shows its first page.
        return RedirectResponse(without_cursor(request), status_code=303)
    headers = {"retry-after": str(exc.retry_after)} if exc.retry_after else None
    return error_page(
        request, problems.STATUS[exc.kind], problems.domain_detail(exc, locale_of(request)), headers
    )


async def http_error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not wants_html(request):
        return await problems.http_error_handler(request, exc)
    detail = _HTTP_DETAILS.get(exc.status_code, N_("The request cannot be processed."))
    return error_page(
        request, exc.status_code, gettext(detail, locale_of(request)), getattr(exc, "headers", None)
    )


async def validation_error_page(request: Request, exc: Exception) -> Response:
    """A path, query or form value the route refused (e.g. a NUL in a list filter): the 422 page."""
    assert isinstance(exc, RequestValidationError)
    if not wants_html(request):
        return await problems.validation_error_handler(request, exc)
    return error_page(request, 422, gettext("Some fields are not valid.", locale_of(request)))


async def unexpected_error_page(request: Request, exc: Exception) -> Response:
    response = await problems.unexpected_error_handler(request, exc)  # logs the error
    if not wants_html(request):
        return response
    return error_page(request, 500, gettext("Something went wrong on our side.", locale_of(request)))


def install(app: FastAPI) -> None:
    handlers: dict[type[Exception], Handler] = {
        DomainError: domain_error_page,
        RequestValidationError: validation_error_page,
        StarletteHTTPException: http_error_page,
        Exception: unexpected_error_page,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
