"""Staff management over the API: the permission matrix, roles, members, escalation guards."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import identity
from mercato.core.db import uow
from mercato.identity.models import AuditEntry, Role, Staff, StaffRole
from tests.factories.identity import PASSWORD, SYSTEM, make_staff, staff_headers

ENDPOINTS = [
    ("GET", "/api/v1/staff/permissions", None),
    ("GET", "/api/v1/staff/roles", None),
    ("POST", "/api/v1/staff/roles", {"name": "Packers", "permissions": ["orders.read"]}),
    ("GET", "/api/v1/staff/roles/{role}", None),
    ("PATCH", "/api/v1/staff/roles/{role}", {"description": "x"}),
    ("DELETE", "/api/v1/staff/roles/{role}", None),
    ("GET", "/api/v1/staff/members", None),
    ("POST", "/api/v1/staff/members", {"email": "new@example.com", "password": PASSWORD}),
    ("GET", "/api/v1/staff/members/{member}", None),
    ("PATCH", "/api/v1/staff/members/{member}", {"name": "Renamed"}),
    ("POST", "/api/v1/staff/members/{member}/unlock", None),
    ("GET", "/api/v1/staff/audit", "audit"),
]


async def count(model: type) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def audit_actions() -> list[str]:
    async with uow(write=False) as s:
        return list((await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def superuser() -> dict[str, str]:
    admin = await make_staff(email="root@example.com", is_superuser=True)
    return await staff_headers(admin.id)


async def manager(permissions: list[str] | None = None) -> tuple[int, dict[str, str]]:
    """A non-superuser holding staff.manage (plus ``permissions``)."""
    member = await make_staff(email="manager@example.com", permissions=["staff.manage", *(permissions or [])])
    return member.id, await staff_headers(member.id)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_every_management_endpoint_refuses_anonymous_and_unprivileged_callers(
    client: AsyncClient, method: str, path: str, body: object
) -> None:
    target = await make_staff(email="target@example.com", permissions=["orders.read"])
    async with uow(write=False) as s:
        role_id = (await s.execute(select(Role.id))).scalar_one()
    url = path.format(role=role_id, member=target.id)
    json = body if isinstance(body, dict) else None
    clerk = await make_staff(email="clerk@example.com", permissions=["orders.read", "catalog.read"])
    before = (await count(Role), await count(Staff), await count(AuditEntry))

    anonymous = await client.request(method, url, json=json)
    unprivileged = await client.request(method, url, json=json, headers=await staff_headers(clerk.id))

    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "core.unauthenticated"
    assert unprivileged.status_code == 403
    permission = "audit.read" if body == "audit" else "staff.manage"
    assert unprivileged.json()["code"] == "identity.permission_denied"
    assert permission in unprivileged.json()["detail"]
    assert (await count(Role), await count(Staff), await count(AuditEntry)) == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_a_superuser_may_call_every_management_endpoint(
    client: AsyncClient, method: str, path: str, body: object
) -> None:
    target = await make_staff(email="target@example.com", permissions=["orders.read"])
    async with uow(write=False) as s:
        role_id = (await s.execute(select(Role.id))).scalar_one()
    url = path.format(role=role_id, member=target.id)

    response = await client.request(
        method, url, json=body if isinstance(body, dict) else None, headers=await superuser()
    )

    assert response.status_code in {200, 201, 204}, response.text


async def test_create_a_role_and_the_audit_log_records_it(client: AsyncClient) -> None:
    headers = await superuser()

    response = await client.post(
        "/api/v1/staff/roles",
        json={
            "name": "Warehouse",
            "description": "Stock work",
            "permissions": ["inventory.write", "inventory.read", "inventory.read"],
        },
        headers=headers,
    )

    assert response.status_code == 201
    role = response.json()
    assert {k: role[k] for k in ("name", "description", "permissions")} == {
        "name": "Warehouse",
        "description": "Stock work",
        "permissions": ["inventory.read", "inventory.write"],
    }
    audit = (await client.get("/api/v1/staff/audit", headers=headers)).json()["items"]
    assert [(e["action"], e["object_type"], e["object_id"], e["actor_label"]) for e in audit[:1]] == [
        ("role.create", "role", str(role["id"]), "root@example.com")
    ]
    assert audit[0]["before"] is None
    assert audit[0]["after"] == {
        "name": "Warehouse",
        "description": "Stock work",
        "permissions": ["inventory.read", "inventory.write"],
    }
    assert audit[0]["ip"] == "203.0.113.7"  # the test client's address
    assert audit[0]["request_id"]


async def test_a_duplicate_role_name_is_refused_and_changes_nothing(client: AsyncClient) -> None:
    headers = await superuser()
    await client.post("/api/v1/staff/roles", json={"name": "Support"}, headers=headers)
    before = (await count(Role), await audit_actions())

    response = await client.post(
        "/api/v1/staff/roles", json={"name": "Support", "permissions": ["orders.read"]}, headers=headers
    )

    assert response.status_code == 409
    assert response.json()["code"] == "identity.role_name_taken"
    assert (await count(Role), await audit_actions()) == before


async def test_an_unknown_permission_is_a_field_error_in_the_callers_language(client: AsyncClient) -> None:
    headers = await superuser()

    response = await client.post(
        "/api/v1/staff/roles",
        json={"name": "Odd", "permissions": ["orders.read", "orders.launch_missiles"]},
        headers={**headers, "Accept-Language": "en"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "identity.unknown_permission"
    assert body["detail"] == "Unknown permission: orders.launch_missiles."
    assert body["errors"] == [
        {
            "loc": ["body", "permissions", 1],
            "code": "identity.unknown_permission",
            "message": "Unknown permission.",
        }
    ]
    assert await count(Role) == 0


async def test_a_manager_cannot_grant_a_permission_they_do_not_hold(client: AsyncClient) -> None:
    _, headers = await manager(["orders.read"])
    before = (await count(Role), await audit_actions())

    refused = await client.post(
        "/api/v1/staff/roles", json={"name": "Refunds", "permissions": ["orders.refund"]}, headers=headers
    )
    allowed = await client.post(
        "/api/v1/staff/roles", json={"name": "Readers", "permissions": ["orders.read"]}, headers=headers
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "identity.cannot_grant"
    assert allowed.status_code == 201
    assert await count(Role) == before[0] + 1
    assert await audit_actions() == [*before[1], "role.create"]


async def test_only_a_superuser_creates_or_changes_a_superuser(client: AsyncClient) -> None:
    _, headers = await manager()
    root = await make_staff(email="boss@example.com", is_superuser=True)
    staff_before = await count(Staff)

    create = await client.post(
        "/api/v1/staff/members",
        json={"email": "sneaky@example.com", "password": PASSWORD, "is_superuser": True},
        headers=headers,
    )
    demote = await client.patch(
        f"/api/v1/staff/members/{root.id}", json={"is_active": False}, headers=headers
    )

    assert (create.status_code, create.json()["code"]) == (403, "identity.superuser_required")
    assert (demote.status_code, demote.json()["code"]) == (403, "identity.superuser_required")
    assert await count(Staff) == staff_before
    async with uow(write=False) as s:
        assert (await s.get(Staff, root.id)).is_active is True  # type: ignore[union-attr]


async def test_a_new_member_gets_the_roles_permissions_and_can_use_them(client: AsyncClient) -> None:
    headers = await superuser()
    role = (
        await client.post(
            "/api/v1/staff/roles", json={"name": "Auditors", "permissions": ["audit.read"]}, headers=headers
        )
    ).json()

    created = await client.post(
        "/api/v1/staff/members",
        json={
            "email": " Auditor@Example.com ",
            "password": PASSWORD,
            "name": "Ann",
            "role_ids": [role["id"]],
        },
        headers=headers,
    )
    login = await client.post(
        "/api/v1/staff/auth/login", json={"email": "auditor@example.com", "password": PASSWORD}
    )
    token = {"Authorization": f"Bearer {login.json()['token']['token']}"}

    assert created.status_code == 201
    member = created.json()
    assert (member["email"], member["name"], member["roles"], member["permissions"]) == (
        "auditor@example.com",
        "Ann",
        ["Auditors"],
        ["audit.read"],
    )
    assert "password" not in str(member)
    assert (await client.get("/api/v1/staff/audit", headers=token)).status_code == 200
    assert (await client.get("/api/v1/staff/roles", headers=token)).status_code == 403
    async with uow(write=False) as s:
        entry = (
            (
                await s.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "staff.create")
                    .order_by(AuditEntry.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert entry is not None
    assert entry.after == {
        "email": "auditor@example.com",
        "name": "Ann",
        "is_superuser": False,
        "is_active": True,
        "roles": ["Auditors"],
    }


async def test_changing_a_roles_permissions_takes_effect_at_once(client: AsyncClient) -> None:
    headers = await superuser()
    member = await make_staff(email="ops@example.com", permissions=["orders.read"])
    member_headers = await staff_headers(member.id)
    async with uow(write=False) as s:
        role_id = (
            await s.execute(select(Role.id).where(Role.name == "role of ops@example.com"))
        ).scalar_one()
    assert (await client.get("/api/v1/staff/audit", headers=member_headers)).status_code == 403

    response = await client.patch(
        f"/api/v1/staff/roles/{role_id}", json={"permissions": ["orders.read", "audit.read"]}, headers=headers
    )

    assert response.status_code == 200
    assert (await client.get("/api/v1/staff/audit", headers=member_headers)).status_code == 200
    entries = (await client.get("/api/v1/staff/audit?action=role.update", headers=headers)).json()["items"]
    assert [(e["before"]["permissions"], e["after"]["permissions"]) for e in entries] == [
        (["orders.read"], ["audit.read", "orders.read"])
    ]


async def test_deleting_a_role_takes_its_permissions_away(client: AsyncClient) -> None:
    headers = await superuser()
    member = await make_staff(email="ops@example.com", permissions=["audit.read"])
    member_headers = await staff_headers(member.id)
    async with uow(write=False) as s:
        role_id = (
            await s.execute(select(Role.id).where(Role.name == "role of ops@example.com"))
        ).scalar_one()

    response = await client.delete(f"/api/v1/staff/roles/{role_id}", headers=headers)

    assert response.status_code == 204
    assert (await client.get("/api/v1/staff/audit", headers=member_headers)).status_code == 403
    assert await count(StaffRole) == 0
    missing = await client.get(f"/api/v1/staff/roles/{role_id}", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "identity.role_not_found")


async def test_deactivating_a_member_signs_them_out_everywhere_and_is_audited(client: AsyncClient) -> None:
    headers = await superuser()
    member = await make_staff(email="temp@example.com", permissions=["orders.read"])
    member_headers = await staff_headers(member.id)
    assert (await client.get("/api/v1/staff/me", headers=member_headers)).status_code == 200

    response = await client.patch(
        f"/api/v1/staff/members/{member.id}", json={"is_active": False}, headers=headers
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await client.get("/api/v1/staff/me", headers=member_headers)).status_code == 401
    login = await client.post(
        "/api/v1/staff/auth/login", json={"email": "temp@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401
    entries = (
        await client.get(f"/api/v1/staff/audit?object_type=staff&object_id={member.id}", headers=headers)
    ).json()["items"]
    assert [
        (e["action"], (e["before"] or {}).get("is_active"), e["after"]["is_active"]) for e in entries
    ] == [
        ("staff.update", True, False),
        ("staff.create", None, True),
    ]


async def test_nobody_can_lock_themselves_out(client: AsyncClient) -> None:
    admin = await make_staff(email="root@example.com", is_superuser=True)
    headers = await staff_headers(admin.id)
    audit_before = await audit_actions()

    deactivate = await client.patch(
        f"/api/v1/staff/members/{admin.id}", json={"is_active": False}, headers=headers
    )
    demote = await client.patch(
        f"/api/v1/staff/members/{admin.id}", json={"is_superuser": False}, headers=headers
    )

    assert (deactivate.status_code, deactivate.json()["code"]) == (409, "identity.self_lockout")
    assert (demote.status_code, demote.json()["code"]) == (409, "identity.self_lockout")
    me = (await client.get("/api/v1/staff/me", headers=headers)).json()
    assert (me["is_active"], me["is_superuser"]) == (True, True)
    assert await audit_actions() == audit_before


async def test_replacing_roles_needs_the_right_to_grant_the_removed_ones_too(client: AsyncClient) -> None:
    _, headers = await manager(["orders.read"])
    member = await make_staff(email="refunder@example.com", permissions=["orders.refund"])

    response = await client.patch(
        f"/api/v1/staff/members/{member.id}", json={"role_ids": []}, headers=headers
    )

    # the member holds a permission the manager lacks: they are out of the manager's reach
    assert (response.status_code, response.json()["code"]) == (403, "identity.cannot_manage_staff")
    async with uow(write=False) as s:
        held = (await s.execute(select(func.count()).where(StaffRole.staff_id == member.id))).scalar_one()
    assert held == 1


async def test_unknown_role_and_member_ids_are_404(client: AsyncClient) -> None:
    headers = await superuser()

    no_role = await client.post(
        "/api/v1/staff/members",
        json={"email": "x@example.com", "password": PASSWORD, "role_ids": [999]},
        headers=headers,
    )
    no_member = await client.patch("/api/v1/staff/members/999", json={"name": "x"}, headers=headers)

    assert (no_role.status_code, no_role.json()["code"]) == (404, "identity.role_not_found")
    assert (no_member.status_code, no_member.json()["code"]) == (404, "identity.staff_not_found")
    assert await count(Staff) == 1


async def test_members_are_listed_newest_first_with_search_and_pages(client: AsyncClient) -> None:
    headers = await superuser()
    for name in ("alice", "bob", "carol", "bobby"):
        await make_staff(email=f"{name}@example.com")

    first = (await client.get("/api/v1/staff/members?limit=2", headers=headers)).json()
    second = (
        await client.get(f"/api/v1/staff/members?limit=2&cursor={first['next_cursor']}", headers=headers)
    ).json()
    third = (
        await client.get(f"/api/v1/staff/members?limit=2&cursor={second['next_cursor']}", headers=headers)
    ).json()
    search = (await client.get("/api/v1/staff/members?query=BOB", headers=headers)).json()

    assert [m["email"] for m in first["items"]] == ["bobby@example.com", "carol@example.com"]
    assert [m["email"] for m in second["items"]] == ["bob@example.com", "alice@example.com"]
    assert [m["email"] for m in third["items"]] == ["root@example.com"]
    assert third["next_cursor"] is None
    assert [m["email"] for m in search["items"]] == ["bobby@example.com", "bob@example.com"]


async def _member_state(staff_id: int) -> tuple[object, ...]:
    async with uow(write=False) as s:
        row = await s.get(Staff, staff_id)
        assert row is not None
        roles = (await s.execute(select(func.count()).where(StaffRole.staff_id == staff_id))).scalar_one()
        audit = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return row.name, row.is_active, roles, audit


async def test_a_manager_cannot_change_a_member_holding_permissions_they_lack(client: AsyncClient) -> None:
    _, headers = await manager(["orders.read"])
    member = await make_staff(email="refunder@example.com", permissions=["orders.read", "orders.refund"])
    member_headers = await staff_headers(member.id)
    async with uow(write=False) as s:
        readers = (
            await s.execute(select(Role.id).where(Role.name == "role of manager@example.com"))
        ).scalar_one()
    before = await _member_state(member.id)

    answers = [
        await client.patch(f"/api/v1/staff/members/{member.id}", json=body, headers=headers)
        for body in ({"name": "Renamed"}, {"is_active": False}, {"role_ids": [readers]})
    ]

    assert [(r.status_code, r.json()["code"]) for r in answers] == [(403, "identity.cannot_manage_staff")] * 3
    assert answers[0].json()["detail"] == "您不能修改持有您所没有的权限的员工。"
    assert await _member_state(member.id) == before
    assert (await client.get("/api/v1/staff/me", headers=member_headers)).status_code == 200


async def test_a_manager_changes_a_member_whose_permissions_they_hold(client: AsyncClient) -> None:
    _, headers = await manager(["orders.read", "orders.refund"])
    member = await make_staff(email="reader@example.com", permissions=["orders.read"])

    renamed = await client.patch(
        f"/api/v1/staff/members/{member.id}", json={"name": "Reader"}, headers=headers
    )
    deactivated = await client.patch(
        f"/api/v1/staff/members/{member.id}", json={"is_active": False}, headers=headers
    )

    assert (renamed.status_code, renamed.json()["name"]) == (200, "Reader")
    assert (deactivated.status_code, deactivated.json()["is_active"]) == (200, False)
    assert (await audit_actions())[-2:] == ["staff.update", "staff.update"]


async def test_a_manager_cannot_give_a_role_with_permissions_they_lack(client: AsyncClient) -> None:
    _, headers = await manager(["orders.read"])
    member = await make_staff(email="reader@example.com", permissions=["orders.read"])
    async with uow() as s:
        refund_role = (
            await identity.create_role(s, name="Refunds", permissions=["orders.refund"], actor=SYSTEM)
        ).id
    before = await _member_state(member.id)

    response = await client.patch(
        f"/api/v1/staff/members/{member.id}", json={"role_ids": [refund_role]}, headers=headers
    )

    assert (response.status_code, response.json()["code"]) == (403, "identity.cannot_grant")
    assert await _member_state(member.id) == before
