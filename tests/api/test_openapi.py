"""The OpenAPI document describes the problem+json answers: every operation its 422, every
signed-in operation its 401, every staff operation its 403, each status with its stable codes.

That each answer the API tests receive is documented is checked by tests/api/conftest.py; that
whatever the fuzzer sends is answered as documented, by tests/api/fuzz."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient

from mercato.api import deps

PROBLEM = "application/problem+json"
CODE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")


def operations(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(context.methods or ()):
                yield method.lower(), str(context.path_format), route


def dependency_calls(route: APIRoute) -> set[object]:
    found: set[object] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        found.add(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def is_permission_check(call: object) -> bool:
    return getattr(call, "__qualname__", "") == "require.<locals>.dependency"


def codes(response: dict[str, Any]) -> list[str]:
    schema = response["content"][PROBLEM]["schema"]
    assert schema["allOf"] == [{"$ref": "#/components/schemas/Problem"}]
    return list(schema["properties"]["code"]["enum"])


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_every_operation_documents_its_validation_problem(app: FastAPI, document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, _route in operations(app)
        if "core.validation_failed" not in codes(document["paths"][path][method]["responses"]["422"])
    ]

    assert missing == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_signed_in_operation_documents_401_and_every_staff_operation_403(
    app: FastAPI, document: dict[str, Any]
) -> None:
    signed_in = {deps.current_customer, deps.optional_customer, deps.current_staff}
    checked = {"401": 0, "403": 0}
    missing = []
    for method, path, route in operations(app):
        calls = dependency_calls(route)
        responses = document["paths"][path][method]["responses"]
        if calls & signed_in:
            checked["401"] += 1
            if {"core.unauthenticated", "identity.session_invalid"} - set(codes(responses.get("401", {}))):
                missing.append(f"{method} {path}: 401")
        if any(is_permission_check(call) for call in calls):
            checked["403"] += 1
            if "identity.permission_denied" not in codes(responses.get("403", {})):
                missing.append(f"{method} {path}: 403")

    assert missing == []
    assert checked["401"] > 100
    assert checked["403"] > 80


def test_cookie_signed_writes_document_the_csrf_problem_and_reads_do_not(document: dict[str, Any]) -> None:
    me = document["paths"]["/api/v1/me"]

    assert "identity.csrf_failed" in codes(me["patch"]["responses"]["403"])
    assert "403" not in me["get"]["responses"]


def test_each_status_lists_its_codes_with_their_messages(document: dict[str, Any]) -> None:
    cancel = document["paths"]["/api/v1/orders/{order_id}/cancel"]["post"]["responses"]
    problems = {
        status: codes(response)
        for status, response in cancel.items()
        if PROBLEM in response.get("content", {})
    }

    assert problems == {
        "400": ["core.malformed_body", "core.malformed_json"],
        "401": ["core.unauthenticated", "identity.session_invalid"],
        "403": ["identity.csrf_failed"],
        "404": ["core.not_found", "orders.order_not_found"],
        "409": ["orders.cannot_cancel"],
        "413": ["core.body_too_large"],
        "422": ["core.validation_failed"],
    }
    assert cancel["409"]["description"] == (
        "Conflict. Codes:\n\n- `orders.cannot_cancel`: This order can no longer be cancelled."
    )


def test_rate_limits_document_their_codes_and_retry_after(document: dict[str, Any]) -> None:
    limited = document["paths"]["/api/v1/auth/login/password"]["post"]["responses"]["429"]

    assert codes(limited) == ["identity.account_locked", "identity.ip_blocked"]
    assert limited["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_every_documented_code_is_a_stable_code(document: dict[str, Any]) -> None:
    found = {
        code
        for path in document["paths"].values()
        for operation in path.values()
        for response in operation["responses"].values()
        if PROBLEM in response.get("content", {})
        for code in codes(response)
    }

    assert [code for code in sorted(found) if not CODE.match(code)] == []
    assert len(found) > 150


async def test_a_body_that_is_not_utf8_is_the_documented_400(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login/password", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "core.malformed_body"


async def test_the_served_document_is_the_one_with_problems(client: AsyncClient) -> None:
    response = await client.get("/api/openapi.json")

    assert response.status_code == 200
    problem = response.json()["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail", "code", "instance", "request_id"]
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ProblemFieldError"}
