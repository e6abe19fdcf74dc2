"""Bad input gets a 4xx problem+json with a stable code, never a 500, and changes nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import Consent, Customer, OneTimeCode

VALID = {"email": "gus@example.com", "password": "s3cret-horse", "accept_privacy_policy": True}


async def _rows() -> tuple[int, int, int, int]:
    async with uow(write=False) as s:
        counts = []
        for model in (Customer, Consent, OneTimeCode, OutboxEvent):
            counts.append((await s.execute(select(func.count()).select_from(model))).scalar_one())
    return tuple(counts)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("_case", "body", "status", "code", "loc"),
    [
        ("malformed json", b'{"email": ', 400, "core.malformed_json", None),
        ("not an object", b"[1, 2]", 422, "core.validation_failed", ["body"]),
        (
            "wrong type",
            {**VALID, "accept_privacy_policy": "maybe"},
            422,
            "core.validation_failed",
            ["body", "accept_privacy_policy"],
        ),
        ("overlong string", {**VALID, "name": "名" * 61}, 422, "core.validation_failed", ["body", "name"]),
        ("unknown field", {**VALID, "is_admin": True}, 422, "core.validation_failed", ["body", "is_admin"]),
        (
            "invalid email",
            {**VALID, "email": "not-an-email"},
            422,
            "identity.email_invalid",
            ["body", "email"],
        ),
        (
            "invalid phone",
            {**VALID, "email": None, "phone": "+86 123"},
            422,
            "identity.phone_invalid",
            ["body", "phone"],
        ),
        (
            "no identifier",
            {"password": "s3cret-horse", "accept_privacy_policy": True},
            422,
            "identity.identifier_required",
            None,
        ),
        (
            "weak password",
            {**VALID, "password": "password1"},
            422,
            "identity.weak_password",
            ["body", "password"],
        ),
        (
            "phone without code",
            {"phone": "13900000800", "accept_privacy_policy": True},
            422,
            "identity.code_required",
            ["body", "code"],
        ),
        (
            "code not digits",
            {"phone": "13900000800", "code": "abcdef", "accept_privacy_policy": True},
            422,
            "core.validation_failed",
            ["body", "code"],
        ),
    ],
)
async def test_registration_refuses(
    client: AsyncClient, _case: str, body: object, status: int, code: str, loc: list[str] | None
) -> None:
    if isinstance(body, bytes):
        response = await client.post(
            "/api/v1/auth/register", content=body, headers={"Content-Type": "application/json"}
        )
    else:
        response = await client.post("/api/v1/auth/register", json=body)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"] == f"urn:mercato:problem:{code}"
    assert problem["instance"] == "/api/v1/auth/register"
    assert problem["request_id"] == response.headers["x-request-id"]
    if loc is not None:
        assert problem["errors"][0]["loc"] == loc
    assert await _rows() == (0, 0, 0, 0)


async def test_detail_follows_accept_language(client: AsyncClient) -> None:
    body = {**VALID, "accept_privacy_policy": False}

    zh = await client.post("/api/v1/auth/register", json=body, headers={"Accept-Language": "zh-CN"})
    en = await client.post("/api/v1/auth/register", json=body, headers={"Accept-Language": "en-US,en;q=0.9"})

    assert zh.json()["detail"] == "注册前请先同意隐私政策。"
    assert en.json()["detail"] == "Accept the privacy policy to create an account."
    assert zh.json()["errors"][0]["message"] == "注册前请先同意隐私政策。"


async def test_field_errors_are_translated(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={**VALID, "name": "x" * 61}, headers={"Accept-Language": "zh"}
    )

    assert response.json()["detail"] == "部分字段无效。"
    assert response.json()["errors"] == [
        {"loc": ["body", "name"], "code": "string_too_long", "message": "最多 60 个字符。"}
    ]


@pytest.mark.parametrize(
    ("_case", "method", "path", "status", "code"),
    [
        ("unknown route", "GET", "/api/v1/nope", 404, "core.not_found"),
        ("wrong method", "DELETE", "/api/v1/auth/register", 405, "core.method_not_allowed"),
        ("non-integer id", "GET", "/api/v1/me/addresses/abc", 401, "core.unauthenticated"),
    ],
)
async def test_http_errors_are_problems(
    client: AsyncClient, _case: str, method: str, path: str, status: int, code: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_oversized_body_is_refused(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["code"] == "core.body_too_large"
    assert await _rows() == (0, 0, 0, 0)


async def test_responses_carry_security_headers_and_a_request_id(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    forged = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(forged.headers["x-request-id"]) == 32


async def test_readiness_checks_the_database(client: AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_metrics_count_requests_by_route_template(client: AsyncClient) -> None:
    await client.get("/api/v1/me/addresses/123")

    metrics = (await client.get("/metrics")).text

    assert (
        'mercato_http_requests_total{method="GET",route="/api/v1/me/addresses/{address_id}",status="401"}'
        in metrics
    )
