"""Text that cannot be stored (NUL: PostgreSQL refuses it) or that renders disguised (text-direction
overrides such as U+202E) is a 422 problem with a stable field code on registration, the profile
and addresses, and changes nothing; ids past BIGINT are a 422, never a database overflow."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import Address, Consent, Customer
from tests.factories.identity import signed_in_customer

ADDRESS = {
    "recipient": "韩梅梅",
    "phone": "13912345678",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园南区 1 栋 101",
    "postal_code": "518057",
}
TOO_BIG = 2**63  # one past the largest BIGINT


def refusal(response: Response) -> tuple[int, str, list[tuple[list[str | int], str]]]:
    """(status, code, [(loc, field code)]) of a problem+json answer."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = response.json()
    return response.status_code, body["code"], [(e["loc"], e["code"]) for e in body.get("errors", [])]


async def count(model: Any) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def addresses() -> list[tuple[Any, ...]]:
    async with uow(write=False) as s:
        rows = await s.execute(select(Address.id, Address.recipient, Address.detail).order_by(Address.id))
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    ("_case", "name", "code"),
    [
        ("NUL", "x\u0000y", "string_control_characters"),
        ("newline", "x\ny", "string_control_characters"),
        ("right-to-left override", "gpj.\u202eexe", "string_bidi_characters"),
        ("isolate", "\u2067张三\u2069", "string_bidi_characters"),
    ],
)
async def test_registration_refuses_unsafe_names(
    client: AsyncClient, _case: str, name: str, code: str
) -> None:
    body = {
        "email": "gus@example.com",
        "password": "s3cret-horse",
        "accept_privacy_policy": True,
        "name": name,
    }

    response = await client.post("/api/v1/auth/register", json=body, headers={"Accept-Language": "zh-CN"})

    assert refusal(response) == (422, "core.validation_failed", [(["body", "name"], code)])
    assert response.json()["detail"] == "部分字段无效。"
    assert (await count(Customer), await count(Consent), await count(OutboxEvent)) == (0, 0, 0)


async def test_field_messages_say_why_in_chinese(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    zh = {**headers, "Accept-Language": "zh-CN"}

    nul = await client.patch("/api/v1/me", json={"name": "x\u0000"}, headers=zh)
    bidi = await client.patch("/api/v1/me", json={"name": "x\u202e"}, headers=zh)
    en = await client.patch(
        "/api/v1/me", json={"name": "x\u202e"}, headers={**headers, "Accept-Language": "en"}
    )

    assert nul.json()["errors"][0]["message"] == "不能包含控制字符。"
    assert bidi.json()["errors"][0]["message"] == "不能包含文字方向控制字符（如 U+202E）。"
    assert en.json()["errors"][0]["message"] == (
        "Must not contain text-direction control characters (such as U+202E)."
    )


async def test_profile_refuses_a_nul_and_keeps_the_name(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client, name="小明")

    response = await client.patch("/api/v1/me", json={"name": "x\u0000y"}, headers=headers)

    assert refusal(response) == (
        422,
        "core.validation_failed",
        [(["body", "name"], "string_control_characters")],
    )
    assert (await client.get("/api/v1/me", headers=headers)).json()["name"] == customer.name == "小明"


@pytest.mark.parametrize(
    ("_case", "field", "value", "code"),
    [
        ("NUL in the detail", "detail", "1 栋\u0000101", "string_control_characters"),
        ("NUL in the recipient", "recipient", "\u0000", "string_control_characters"),
        ("line break in the detail", "detail", "1 栋\n101", "string_control_characters"),
        ("override in the recipient", "recipient", "韩\u202e梅梅", "string_bidi_characters"),
        ("embedding in the city", "city", "\u202b深圳市", "string_bidi_characters"),
        ("mark in the detail", "detail", "科技园\u200f南区", "string_bidi_characters"),
    ],
)
async def test_addresses_refuse_unsafe_text(
    client: AsyncClient, _case: str, field: str, value: str, code: str
) -> None:
    _customer, headers = await signed_in_customer(client)
    kept = (await client.post("/api/v1/me/addresses", json=ADDRESS, headers=headers)).json()
    before = await addresses()

    created = await client.post("/api/v1/me/addresses", json={**ADDRESS, field: value}, headers=headers)
    replaced = await client.put(
        f"/api/v1/me/addresses/{kept['id']}", json={**ADDRESS, field: value}, headers=headers
    )

    assert refusal(created) == (422, "core.validation_failed", [(["body", field], code)])
    assert refusal(replaced) == (422, "core.validation_failed", [(["body", field], code)])
    assert await addresses() == before == [(kept["id"], "韩梅梅", "科技园南区 1 栋 101")]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_an_address_id_past_bigint_is_a_422(client: AsyncClient, method: str) -> None:
    _customer, headers = await signed_in_customer(client)
    kept = (await client.post("/api/v1/me/addresses", json=ADDRESS, headers=headers)).json()

    response = await client.request(
        method,
        f"/api/v1/me/addresses/{TOO_BIG}",
        json=ADDRESS if method == "PUT" else None,
        headers=headers,
    )

    assert refusal(response) == (422, "core.validation_failed", [(["path", "address_id"], "less_than_equal")])
    assert await addresses() == [(kept["id"], "韩梅梅", "科技园南区 1 栋 101")]


async def test_a_nul_in_a_path_or_query_value_is_a_422(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)

    path = await client.get("/api/v1/catalog/products/by-slug/a%00b")
    query = await client.get("/api/v1/orders", params={"status": "paid\u0000"}, headers=headers)
    cursor = await client.get("/api/v1/orders", params={"cursor": "\u202e"}, headers=headers)

    assert refusal(path) == (422, "core.validation_failed", [(["path", "slug"], "string_control_characters")])
    assert refusal(query) == (
        422,
        "core.validation_failed",
        [(["query", "status"], "string_control_characters")],
    )
    assert refusal(cursor) == (
        422,
        "core.validation_failed",
        [(["query", "cursor"], "string_bidi_characters")],
    )
