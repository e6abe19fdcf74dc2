"""RFC 9457 problem+json for every error: domain errors, validation errors, HTTP errors and bugs.

Body: ``type``, ``title``, ``status``, ``detail`` (in the request's language), ``code`` (stable),
``instance`` (the path), ``request_id`` and, for input problems, ``errors``: a list of
``{"loc": [...], "code": ..., "message": ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from mercato.core.errors import DomainError, ErrorKind
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_MESSAGES

log = structlog.get_logger(__name__)

STATUS = {
    ErrorKind.bad_request: 400,
    ErrorKind.invalid: 422,
    ErrorKind.unauthenticated: 401,
    ErrorKind.forbidden: 403,
    ErrorKind.not_found: 404,
    ErrorKind.conflict: 409,
    ErrorKind.rate_limited: 429,
    ErrorKind.unavailable: 503,
}
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
MEDIA_TYPE = "application/problem+json"

# Messages for common pydantic error types, so field errors read well in Chinese too.
FIELD_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not allowed.",
    "string_too_long": "Must be at most {max_length} characters.",
    "string_too_short": "Must be at least {min_length} characters.",
    "string_type": "Must be a string.",
    "int_parsing": "Must be a whole number.",
    "int_type": "Must be a whole number.",
    "bool_parsing": "Must be true or false.",
    "value_error": "The value is not valid.",
    "greater_than_equal": "Must be at least {ge}.",
    "less_than_equal": "Must be at most {le}.",
    "greater_than": "Must be greater than {gt}.",
    "less_than": "Must be less than {lt}.",
    "string_pattern_mismatch": "The format is not valid.",
    "enum": "Must be one of: {expected}.",
    "literal_error": "Must be one of: {expected}.",
    "json_invalid": "The body is not valid JSON.",
    "model_attributes_type": "Must be an object.",
    "dict_type": "Must be an object.",
    "list_type": "Must be a list.",
    "too_long": "Too many items (at most {max_length}).",
    "string_unicode": "Must be valid Unicode text.",
    **TEXT_MESSAGES,  # string_control_characters, string_bidi_characters
}


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:mercato:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def field_message(error: Mapping[str, Any], locale: str | None = None) -> str:
    """The message of one pydantic error, translated into ``locale`` (the request's by default)."""
    template = FIELD_MESSAGES.get(error["type"])
    if template is None:
        return str(error.get("msg", ""))
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, str | int)}
    try:
        return gettext(template, locale, **ctx)
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


def domain_detail(exc: DomainError, locale: str | None = None) -> str:
    """The ``detail`` of a domain error, translated into ``locale`` (the request's by default)."""
    return gettext(exc.message, locale, **exc.params)


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = STATUS[exc.kind]
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    errors = [{"loc": list(f.loc), "code": f.code, "message": gettext(f.message)} for f in exc.fields]
    return problem(
        request,
        status=status,
        code=exc.code,
        detail=domain_detail(exc),
        errors=errors or None,
        headers=headers,
    )


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e["type"] == "json_invalid" for e in raw):
        return problem(
            request, status=400, code="core.malformed_json", detail=gettext("The body is not valid JSON.")
        )
    errors = [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]],
            "code": e["type"],
            "message": field_message(e),
        }
        for e in raw
    ]
    return problem(
        request,
        status=422,
        code="core.validation_failed",
        detail=gettext("Some fields are not valid."),
        errors=errors,
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        400: "core.malformed_body",  # FastAPI could not read the body (not UTF-8, a broken form)
        404: "core.not_found",
        405: "core.method_not_allowed",
        413: "core.body_too_large",
    }
    details = {
        400: N_("The request body cannot be read."),
        404: N_("Not found."),
        405: N_("This method is not allowed here."),
        413: N_("The request body is too large."),
    }
    code = codes.get(exc.status_code, f"core.http_{exc.status_code}")
    detail = gettext(details.get(exc.status_code, N_("The request cannot be processed.")))
    return problem(
        request, status=exc.status_code, code=code, detail=detail, headers=getattr(exc, "headers", None)
    )


#: Every pooled database connection stayed busy for the pool's timeout (a rush beyond what the
#: pool serves): the request is answered "busy, retry" rather than as our failure.
BUSY = N_("The shop is very busy right now. Try again in a moment.")


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, PoolTimeout):
        log.warning("request.database_pool_exhausted", path=request.url.path)
        return problem(
            request, status=503, code="core.busy", detail=gettext(BUSY), headers={"Retry-After": "1"}
        )
    log.error("request.unhandled_error", path=request.url.path, error=repr(exc), exc_info=exc)
    return problem(
        request, status=500, code="core.internal_error", detail=gettext("Something went wrong on our side.")
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
