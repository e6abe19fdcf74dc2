"""Staff management refuses what the database cannot hold or the console would show disguised:
NUL and text-direction characters in roles and members, ids past BIGINT and ids given as text in
``role_ids``, a NUL in a list filter; a cursor that is not ours is a 400. Nothing changes."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.identity.models import AuditEntry, Role, Staff, StaffRole
from tests.factories.identity import PASSWORD, make_staff, staff_headers

TOO_BIG = 2**63


def refusal(response: Response) -> tuple[int, str, list[tuple[list[str | int], str]]]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = response.json()
    return response.status_code, body["code"], [(e["loc"], e["code"]) for e in body.get("errors", [])]


async def snapshot() -> tuple[Any, ...]:
    async with uow(write=False) as s:
        roles = list(await s.execute(select(Role.id, Role.name, Role.description).order_by(Role.id)))
        staff = list(await s.execute(select(Staff.id, Staff.name).order_by(Staff.id)))
        links = (await s.execute(select(func.count()).select_from(StaffRole))).scalar_one()
        audit = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return [tuple(r) for r in roles], [tuple(r) for r in staff], links, audit


async def superuser() -> dict[str, str]:
    return await staff_headers((await make_staff(email="root@example.com", is_superuser=True)).id)


@pytest.mark.parametrize(
    ("_case", "body", "loc", "code"),
    [
        ("NUL in the name", {"name": "x\u0000y"}, "name", "string_control_characters"),
        ("override in the name", {"name": "\u202eskcaP"}, "name", "string_bidi_characters"),
        (
            "NUL in the description",
            {"name": "Packers", "description": "a\u0000"},
            "description",
            "string_control_characters",
        ),
        (
            "NUL in a permission",
            {"name": "Packers", "permissions": ["orders.read\u0000"]},
            "permissions",
            "string_control_characters",
        ),
    ],
)
async def test_roles_refuse_unsafe_text(
    client: AsyncClient, _case: str, body: dict[str, Any], loc: str, code: str
) -> None:
    headers = await superuser()
    role = (
        await client.post("/api/v1/staff/roles", json={"name": "Pickers", "permissions": []}, headers=headers)
    ).json()
    before = await snapshot()

    created = await client.post("/api/v1/staff/roles", json={"permissions": [], **body}, headers=headers)
    changed = await client.patch(f"/api/v1/staff/roles/{role['id']}", json=body, headers=headers)

    assert refusal(created) == (422, "core.validation_failed", [(["body", loc], code)])
    assert refusal(changed) == (422, "core.validation_failed", [(["body", loc], code)])
    assert await snapshot() == before


async def test_a_role_description_may_span_lines(client: AsyncClient) -> None:
    headers = await superuser()

    response = await client.post(
        "/api/v1/staff/roles",
        json={"name": "Packers", "permissions": [], "description": "第一行\n第二行\t(tab)"},
        headers=headers,
    )

    assert response.status_code == 201
    assert response.json()["description"] == "第一行\n第二行\t(tab)"


@pytest.mark.parametrize(
    ("_case", "body", "loc", "code"),
    [
        ("NUL in the name", {"name": "x\u0000y"}, ["body", "name"], "string_control_characters"),
        ("override in the name", {"name": "\u202eoof"}, ["body", "name"], "string_bidi_characters"),
        ("a role id past BIGINT", {"role_ids": [TOO_BIG]}, ["body", "role_ids", 0], "less_than_equal"),
        ("a role id as text", {"role_ids": ["1"]}, ["body", "role_ids"], "int_type"),
        ("a role id as true", {"role_ids": [True]}, ["body", "role_ids"], "int_type"),
    ],
)
async def test_members_refuse_unsafe_input(
    client: AsyncClient, _case: str, body: dict[str, Any], loc: list[str | int], code: str
) -> None:
    headers = await superuser()
    member = await make_staff(email="member@example.com")
    before = await snapshot()

    created = await client.post(
        "/api/v1/staff/members",
        json={"email": "new@example.com", "password": PASSWORD, **body},
        headers=headers,
    )
    changed = await client.patch(f"/api/v1/staff/members/{member.id}", json=body, headers=headers)

    assert refusal(created) == (422, "core.validation_failed", [(loc, code)])
    assert refusal(changed) == (422, "core.validation_failed", [(loc, code)])
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("_case", "path", "params", "loc"),
    [
        ("members search", "/api/v1/staff/members", {"query": "a\u0000b"}, ["query", "query"]),
        ("audit action", "/api/v1/staff/audit", {"action": "order.\u0000"}, ["query", "action"]),
        ("audit object", "/api/v1/staff/audit", {"object_id": "\u0000"}, ["query", "object_id"]),
    ],
)
async def test_a_nul_in_a_list_filter_is_a_422(
    client: AsyncClient, _case: str, path: str, params: dict[str, str], loc: list[str]
) -> None:
    headers = await superuser()

    response = await client.get(path, params=params, headers=headers)

    assert refusal(response) == (422, "core.validation_failed", [(loc, "string_control_characters")])


@pytest.mark.parametrize("path", ["/api/v1/staff/members", "/api/v1/staff/audit"])
@pytest.mark.parametrize("depth", [90, 5000])
async def test_a_cursor_holding_nested_json_is_a_400(client: AsyncClient, path: str, depth: int) -> None:
    headers = await superuser()
    nested = base64.urlsafe_b64encode(b"[" * depth + b"]" * depth).decode()

    response = await client.get(path, params={"cursor": nested}, headers=headers)

    assert refusal(response) == (400, "core.invalid_cursor", [])
