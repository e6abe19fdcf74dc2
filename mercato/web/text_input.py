"""Refuse unsafe characters in what a request carries outside a JSON body: path parameters, the
query string (list filters, searches, cursors) and form fields.

JSON bodies are checked field by field by ``InputModel`` (mercato/core/schemas.py); these are the
other ways text reaches a query or a table. Control characters (NUL above all: PostgreSQL cannot
store it and refuses it in a query) and text-direction characters are a 422
``core.validation_failed`` with the field error codes of ``InputModel``, at
``["path"|"query"|"body", name]``: problem+json for the API, the error page for pages.

Path and query values are one line; form fields may hold line breaks and tabs (a textarea), and
the input model each form is validated into decides which of its fields may span lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from mercato.core.schemas import TEXT_MESSAGES, text_problem


def _error(where: str, name: str, value: str, problem: str) -> dict[str, Any]:
    return {"type": problem, "loc": (where, name), "msg": TEXT_MESSAGES[problem], "input": value}


def text_errors(
    where: str, items: Iterable[tuple[str, Any]], *, multiline: bool = False
) -> list[dict[str, Any]]:
    """A validation error for each name or text value in ``items`` that holds unsafe characters."""
    errors: list[dict[str, Any]] = []
    for name, value in items:
        problem = text_problem(name) or (
            text_problem(value, multiline=multiline) if isinstance(value, str) else None
        )
        if problem is not None:
            errors.append(_error(where, name, value if isinstance(value, str) else "", problem))
    return errors


async def refuse_unsafe_text(request: Request) -> None:
    """A dependency of every route: the path parameters and the query string are safe text.

    Raises:
        RequestValidationError (422 ``core.validation_failed``).
    """
    errors = text_errors("path", request.path_params.items())
    if request.scope.get("query_string"):
        errors += text_errors("query", request.query_params.multi_items())
    if errors:
        raise RequestValidationError(errors)
