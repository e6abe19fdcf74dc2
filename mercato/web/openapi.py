"""The error responses of the OpenAPI document, generated from the ``DomainError`` classes.

Every API operation documents each ``application/problem+json`` answer it can give: one response
per HTTP status, whose schema is the shared ``Problem`` with ``code`` narrowed to an ``enum`` of
the stable codes that status can carry, and whose description lists them with their messages.
What an operation can answer is derived, never guessed from docstrings:

- every operation: 422 ``core.validation_failed`` (the request does not match its parameters);
- an operation with a request body: 400 ``core.malformed_body`` (not UTF-8, a broken form) and,
  for JSON, ``core.malformed_json``; 413 ``core.body_too_large`` (the middleware's body limit);
- an operation with path parameters: 404 ``core.not_found`` (a value that matches no route);
- what its dependencies raise, declared once on each dependency with ``@raises``:
  ``current_customer`` gives 401 (and 403 ``identity.csrf_failed`` on cookie-authenticated
  writes), ``require(permission)`` adds 403 ``identity.permission_denied``;
- what the endpoint itself raises, declared next to the route with ``@raises``::

      @router.post("/orders/{order_id}/cancel")
      @raises(orders.OrderNotFound, orders.CannotCancel)
      async def cancel_my_order(...): ...

An error raised with a ``code=`` other than its class's is declared with ``alias(cls, code)``.
The API tests check the declarations: every answer they receive must be documented
(tests/api/conftest.py), and the fuzz run checks status codes and bodies against the document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field

from mercato.core.errors import DomainError
from mercato.web.problems import MEDIA_TYPE, STATUS, TITLES

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ATTRIBUTE = "__mercato_raises__"
PROBLEM_REF = "#/components/schemas/Problem"


@dataclass(frozen=True)
class ErrorDoc:
    """One documented error: the status and stable code it is answered with, and its message."""

    status: int
    code: str
    message: str
    writes_only: bool = False  # only unsafe methods can raise it (a CSRF failure)


def error_doc(error: type[DomainError] | ErrorDoc, *, writes_only: bool = False) -> ErrorDoc:
    if isinstance(error, ErrorDoc):
        return error
    return ErrorDoc(STATUS[error.kind], error.code, error.message, writes_only)


def alias(error: type[DomainError], code: str) -> ErrorDoc:
    """``error`` raised with another code (``InvalidCredentials(code="identity.password_incorrect")``)."""
    return ErrorDoc(STATUS[error.kind], code, error.message)


def raises(
    *errors: type[DomainError] | ErrorDoc, writes: Iterable[type[DomainError]] = ()
) -> Callable[[F], F]:
    """Declare what an endpoint or dependency raises; ``writes`` only on POST, PUT, PATCH, DELETE."""
    docs = tuple(error_doc(e) for e in errors) + tuple(error_doc(e, writes_only=True) for e in writes)

    def mark(function: F) -> F:
        setattr(function, _ATTRIBUTE, getattr(function, _ATTRIBUTE, ()) + docs)
        return function

    return mark


def declared(function: object) -> tuple[ErrorDoc, ...]:
    """What ``function`` was declared to raise."""
    return tuple(getattr(function, _ATTRIBUTE, ()))


# -- what every API operation can answer -------------------------------------------------------

VALIDATION_FAILED = ErrorDoc(422, "core.validation_failed", "Some fields are not valid.")
MALFORMED_JSON = ErrorDoc(400, "core.malformed_json", "The body is not valid JSON.")
MALFORMED_BODY = ErrorDoc(400, "core.malformed_body", "The request body cannot be read.")
BODY_TOO_LARGE = ErrorDoc(413, "core.body_too_large", "The request body is too large.")
NO_ROUTE = ErrorDoc(404, "core.not_found", "Not found.")
#: Sent with a 429 or 503 when the error knows how long to wait.
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
}


class ProblemFieldError(BaseModel):
    """One problem with one input: where it is, a stable code and a message."""

    loc: list[str | int] = Field(description='Path to the value, e.g. ["body", "phone"]')
    code: str = Field(description="Stable code of this field problem")
    message: str = Field(description="In the request's language")


class Problem(BaseModel):
    """An RFC 9457 problem: every error of the API is answered with one."""

    type: str = Field(description="urn:mercato:problem:<code>")
    title: str = Field(description="The HTTP status in words")
    status: int = Field(description="The HTTP status")
    detail: str = Field(description="What went wrong, in the request's language (Accept-Language)")
    code: str = Field(description="Stable machine code; each response lists the codes it can carry")
    instance: str = Field(description="The request's path")
    request_id: str | None = Field(description="The request's id, also in the X-Request-ID header")
    errors: list[ProblemFieldError] = Field(
        default_factory=list, description="For input problems: each field's problem (absent otherwise)"
    )


def operation_errors(route: APIRoute, method: str) -> list[ErrorDoc]:
    """Everything ``method`` on ``route`` can answer with a problem (see the module docstring)."""
    found = [VALIDATION_FAILED]
    if route.body_field is not None:
        multipart = any(_is_form(field) for field in route.dependant.body_params)
        found += [MALFORMED_BODY, BODY_TOO_LARGE] + ([] if multipart else [MALFORMED_JSON])
    if route.dependant.path_params:
        found.append(NO_ROUTE)
    for call in _calls(route.dependant):
        found += declared(call)
    return [e for e in found if not (e.writes_only and method in SAFE_METHODS)]


def _is_form(field: Any) -> bool:
    return isinstance(getattr(field, "field_info", None), params.Form | params.File)


def _calls(dependant: Dependant) -> Iterator[object]:
    """The endpoint and every dependency under it, once each."""
    seen: set[int] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        if current.call is not None and id(current.call) not in seen:
            seen.add(id(current.call))
            yield current.call
        stack.extend(current.dependencies)


def responses(errors: Iterable[ErrorDoc]) -> dict[str, dict[str, Any]]:
    """OpenAPI responses for ``errors``, one per status, listing its codes."""
    by_status: dict[int, dict[str, str]] = defaultdict(dict)
    for error in errors:
        by_status[error.status].setdefault(error.code, error.message)
    documented: dict[str, dict[str, Any]] = {}
    for status in sorted(by_status):
        codes = dict(sorted(by_status[status].items()))
        lines = "\n".join(f"- `{code}`: {message}" for code, message in codes.items())
        documented[str(status)] = {
            "description": f"{TITLES.get(status, 'Error')}. Codes:\n\n{lines}",
            **({"headers": RETRY_AFTER} if status in {429, 503} else {}),
            "content": {
                MEDIA_TYPE: {
                    "schema": {
                        "allOf": [{"$ref": PROBLEM_REF}],
                        "properties": {"code": {"enum": list(codes)}},
                    }
                }
            },
        }
    return documented


def document_errors(app: FastAPI, document: dict[str, Any]) -> None:
    """Add the problem responses of every operation to ``document`` (FastAPI's, changed in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, which we never send
        schemas.pop(name, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in context.methods or ():
            operation = document["paths"].get(context.path_format, {}).get(method.lower())
            if operation is None:
                continue
            answers = operation.setdefault("responses", {})
            answers.pop("422", None)
            for status, response in responses(operation_errors(route, method)).items():
                answer = answers.setdefault(status, {})
                answer.setdefault("content", {}).update(response.pop("content"))
                answer.update(response)  # the description listing the codes, Retry-After


def install(app: FastAPI) -> None:
    """Serve the document with the problem responses (built on first use, like FastAPI's)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI's own, cached on the app until the routes change
        if "Problem" not in document.get("components", {}).get("schemas", {}):
            document_errors(app, document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
