"""The console's staff pages (staff.manage): members, their roles and status, and roles with
their permissions. The identity services keep every rule; the pages show their refusals."""

from __future__ import annotations

import re

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import identity
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.identity.models import AuditEntry, Role, Staff
from tests.factories.identity import PASSWORD, SYSTEM
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, post_form, staff_sign_in


async def _manager(client: AsyncClient, *, superuser: bool = False) -> int:
    """Sign in as the manager (a superuser holds no role); their id."""
    granted = () if superuser else ("staff.manage", "inventory.read", "inventory.write")
    return await staff_sign_in(client, "boss@example.com", *granted, superuser=superuser)


async def _counts() -> tuple[int, int, int]:
    async with uow(write=False) as s:
        staff = (await s.execute(select(func.count()).select_from(Staff))).scalar_one()
        roles = (await s.execute(select(func.count()).select_from(Role))).scalar_one()
        audit = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return staff, roles, audit


async def _role(name: str, permissions: list[str]) -> identity.RoleRead:
    async with uow() as s:
        return await identity.create_role(s, name=name, permissions=permissions, actor=SYSTEM)


async def _member(staff_id: int) -> identity.StaffRead:
    async with uow(write=False) as s:
        return await identity.get_staff_member(s, staff_id=staff_id)


async def test_the_list_shows_members_with_their_roles(client: AsyncClient) -> None:
    await _manager(client)
    async with uow() as s:
        await identity.create_staff(s, email="clerk@example.com", password=PASSWORD, name="<b>Clerk</b>")

    page = await client.get("/admin/staff/", headers=EN)
    searched = await client.get("/admin/staff/", params={"q": "CLERK"}, headers=EN)

    assert page.status_code == 200
    assert page.text.count("<tr>") == 1 + 2
    assert "role of boss@example.com" in page.text
    assert "&lt;b&gt;Clerk&lt;/b&gt;" in page.text
    assert "<b>Clerk</b>" not in page.text
    assert searched.text.count("<tr>") == 1 + 1


async def test_creating_staff_with_a_weak_password_shows_the_error_and_creates_nothing(
    client: AsyncClient,
) -> None:
    await _manager(client)
    before = await _counts()

    response = await post_form(
        client,
        "/admin/staff/new",
        "/admin/staff/new",
        {"email": "new@example.com", "name": "New", "password": "password"},
    )

    assert response.status_code == 422
    assert "member-password-error" in response.text
    assert field_error_of(response, "member-password") != ""
    assert 'value="new@example.com"' in response.text
    assert 'value="password"' not in response.text
    assert await _counts() == before


async def test_creating_staff_with_roles_redirects_to_the_member(client: AsyncClient) -> None:
    await _manager(client)
    picker = await _role("拣货员", ["inventory.read"])
    page = await client.get("/admin/staff/new")

    response = await client.post(
        "/admin/staff/new",
        data={
            "email": "Picker@Example.com",
            "name": "Picker",
            "password": "Warehouse-2026",
            "role_ids": [str(picker.id)],
            "csrf_token": csrf_of(page),
        },
    )

    assert response.status_code == 303
    member_id = int(response.headers["location"].split("/")[-1].split("?")[0])
    member = await _member(member_id)
    assert member.email == "picker@example.com"
    assert member.roles == ["拣货员"]
    assert member.permissions == ["inventory.read"]
    detail = await client.get(response.headers["location"], headers=EN)
    assert "Staff member created." in detail.text


async def test_a_manager_cannot_give_a_role_with_permissions_they_lack(client: AsyncClient) -> None:
    await _manager(client)
    auditor = await _role("审计", ["audit.read"])
    page = await client.get("/admin/staff/new")
    before = await _counts()

    response = await client.post(
        "/admin/staff/new",
        data={
            "email": "spy@example.com",
            "password": "Warehouse-2026",
            "role_ids": [str(auditor.id)],
            "csrf_token": csrf_of(page),
        },
        headers=EN,
    )

    assert response.status_code == 403
    assert alert_of(response) == "You cannot grant a permission you do not hold: audit.read."
    assert await _counts() == before


async def test_editing_a_role_changes_its_permissions(client: AsyncClient) -> None:
    await _manager(client, superuser=True)
    role = await _role("客服", ["customers.read"])
    form = await client.get(f"/admin/staff/roles/{role.id}", headers=EN)

    response = await client.post(
        f"/admin/staff/roles/{role.id}",
        data={
            "name": "客服主管",
            "description": "<i>lead</i>",
            "permissions": ["customers.read", "orders.read"],
            "csrf_token": csrf_of(form),
        },
    )

    assert form.status_code == 200
    assert form.text.count('name="permissions"') == len(identity.PERMISSIONS)
    assert form.text.count(" checked>") == 1
    assert "See stock levels and the stock ledger" in form.text
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/staff/roles?notice=role_saved"
    async with uow(write=False) as s:
        saved = await identity.get_role(s, role_id=role.id)
    assert saved.name == "客服主管"
    assert saved.description == "<i>lead</i>"
    assert saved.permissions == ["customers.read", "orders.read"]
    roles = await client.get(response.headers["location"], headers=EN)
    assert "Role saved." in roles.text
    assert "&lt;i&gt;lead&lt;/i&gt;" in roles.text
    assert '<span class="tag" title="orders.read">See orders</span>' in roles.text


async def test_a_role_needs_a_name_and_known_permissions(client: AsyncClient) -> None:
    await _manager(client, superuser=True)
    before = await _counts()
    form = await client.get("/admin/staff/roles/new")

    blank = await client.post(
        "/admin/staff/roles/new",
        data={"name": "", "permissions": ["orders.read"], "csrf_token": csrf_of(form)},
    )
    unknown = await client.post(
        "/admin/staff/roles/new",
        data={"name": "x", "permissions": ["orders.read", "nuke.all"], "csrf_token": csrf_of(form)},
        headers=EN,
    )

    assert blank.status_code == 422
    assert "role-name-error" in blank.text
    assert 'value="orders.read" checked' in blank.text
    assert unknown.status_code == 422
    assert alert_of(unknown) == "Unknown permission: nuke.all."
    assert await _counts() == before


async def test_creating_and_deleting_a_role(client: AsyncClient) -> None:
    await _manager(client)
    form = await client.get("/admin/staff/roles/new")

    created = await client.post(
        "/admin/staff/roles/new",
        data={
            "name": "库管",
            "permissions": ["inventory.read", "inventory.write"],
            "csrf_token": csrf_of(form),
        },
    )
    async with uow(write=False) as s:
        role = next(r for r in await identity.list_roles(s) if r.name == "库管")
    deleted = await client.post(f"/admin/staff/roles/{role.id}/delete", data={"csrf_token": csrf_of(form)})

    assert created.status_code == 303
    assert role.permissions == ["inventory.read", "inventory.write"]
    assert deleted.status_code == 303
    async with uow(write=False) as s:
        assert [r.name for r in await identity.list_roles(s)] == ["role of boss@example.com"]


async def test_assigning_and_removing_roles_and_deactivating(client: AsyncClient) -> None:
    await _manager(client)
    reader = await _role("只读库存", ["inventory.read"])
    async with uow() as s:
        clerk = await identity.create_staff(s, email="clerk@example.com", password=PASSWORD)
    page = await client.get(f"/admin/staff/{clerk.id}", headers=EN)
    token = csrf_of(page)

    given = await client.post(
        f"/admin/staff/{clerk.id}", data={"name": "Clerk", "role_ids": [str(reader.id)], "csrf_token": token}
    )
    after_give = await _member(clerk.id)
    removed = await client.post(f"/admin/staff/{clerk.id}", data={"name": "Clerk", "csrf_token": token})
    after_remove = await _member(clerk.id)
    deactivated = await client.post(
        f"/admin/staff/{clerk.id}/status", data={"active": "0", "csrf_token": token}
    )

    assert page.status_code == 200
    assert given.status_code == 303
    assert after_give.roles == ["只读库存"]
    assert after_give.name == "Clerk"
    assert removed.status_code == 303
    assert after_remove.roles == []
    assert deactivated.status_code == 303
    assert deactivated.headers["location"] == f"/admin/staff/{clerk.id}?notice=deactivated"
    assert (await _member(clerk.id)).is_active is False


async def test_nobody_deactivates_themselves(client: AsyncClient) -> None:
    my_id = await _manager(client, superuser=True)
    page = await client.get(f"/admin/staff/{my_id}")
    before = await _counts()

    response = await client.post(
        f"/admin/staff/{my_id}/status", data={"active": "0", "csrf_token": csrf_of(page)}, headers=EN
    )

    assert response.status_code == 409
    assert alert_of(response) == "You cannot remove your own superuser status or deactivate yourself."
    assert (await _member(my_id)).is_active is True
    assert await _counts() == before


async def test_without_staff_manage_every_page_and_action_is_403(client: AsyncClient) -> None:
    await staff_sign_in(client, "ops@example.com", "inventory.read")
    role = await _role("客服", ["customers.read"])
    async with uow() as s:
        clerk = await identity.create_staff(s, email="clerk@example.com", password=PASSWORD)
    token = csrf_of(await client.get("/admin/inventory/"))
    before = await _counts()

    pages = [
        await client.get(path)
        for path in (
            "/admin/staff/",
            "/admin/staff/new",
            "/admin/staff/roles",
            f"/admin/staff/roles/{role.id}",
            f"/admin/staff/{clerk.id}",
        )
    ]
    created = await client.post(
        "/admin/staff/new",
        data={"email": "x@example.com", "password": "Warehouse-2026", "csrf_token": token},
        headers=EN,
    )
    edited = await client.post(
        f"/admin/staff/roles/{role.id}",
        data={"name": "hacked", "permissions": ["staff.manage"], "csrf_token": token},
    )
    deactivated = await client.post(
        f"/admin/staff/{clerk.id}/status", data={"active": "0", "csrf_token": token}
    )

    assert [page.status_code for page in pages] == [403] * 5
    assert created.status_code == 403
    assert "You need the staff.manage permission." in created.text
    assert edited.status_code == 403
    assert deactivated.status_code == 403
    assert await _counts() == before
    async with uow(write=False) as s:
        assert (await identity.get_role(s, role_id=role.id)).name == "客服"
    assert (await _member(clerk.id)).is_active is True


async def test_a_bad_csrf_token_is_refused_and_changes_nothing(client: AsyncClient) -> None:
    await _manager(client, superuser=True)
    role = await _role("客服", ["customers.read"])
    await client.get("/admin/staff/roles")
    before = await _counts()

    created = await client.post(
        "/admin/staff/new",
        data={"email": "x@example.com", "password": "Warehouse-2026", "csrf_token": "forged"},
    )
    edited = await client.post(
        f"/admin/staff/roles/{role.id}", data={"name": "hacked", "permissions": ["staff.manage"]}
    )

    assert created.status_code == 403
    assert edited.status_code == 403
    assert await _counts() == before
    async with uow(write=False) as s:
        assert (await identity.get_role(s, role_id=role.id)).name == "客服"


async def test_staff_pages_need_a_staff_session(client: AsyncClient) -> None:
    response = await client.get("/admin/staff/roles")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/staff/roles"


async def test_every_staff_form_carries_the_csrf_token(client: AsyncClient) -> None:
    my_id = await _manager(client, superuser=True)
    role = await _role("客服", ["customers.read"])

    for path, forms in (
        ("/admin/staff/new", 1),
        ("/admin/staff/roles/new", 1),
        (f"/admin/staff/roles/{role.id}", 2),
        (f"/admin/staff/{my_id}", 3),  # name and roles, status, and a superuser's unlock
    ):
        page = await client.get(path, headers=EN)
        token = csrf_of(page)
        assert page.text.count(f'name="csrf_token" value="{token}"') == 1 + forms, path
        assert 'aria-label="Staff"' in page.text


async def test_a_manager_cannot_deactivate_or_rename_a_member_holding_permissions_they_lack(
    client: AsyncClient,
) -> None:
    await _manager(client)  # staff.manage, inventory.read, inventory.write
    refunds = await _role("退款", ["orders.refund"])
    async with uow() as s:
        cashier = await identity.create_staff(
            s,
            email="cashier@example.com",
            password=PASSWORD,
            name="Cashier",
            role_ids=[refunds.id],
            actor=SYSTEM,
        )
    page = await client.get(f"/admin/staff/{cashier.id}", headers=EN)
    before = (await _counts(), await _member(cashier.id))

    renamed = await client.post(
        f"/admin/staff/{cashier.id}",
        data={"name": "Renamed", "role_ids": [str(refunds.id)], "csrf_token": csrf_of(page)},
        headers=EN,
    )
    deactivated = await client.post(
        f"/admin/staff/{cashier.id}/status", data={"active": "0", "csrf_token": csrf_of(page)}, headers=EN
    )

    assert page.status_code == 200
    assert "Unlock sign-in" not in page.text  # only a superuser unlocks
    assert renamed.status_code == deactivated.status_code == 403
    assert (
        alert_of(renamed)
        == alert_of(deactivated)
        == ("You cannot change a staff member who holds permissions you do not hold.")
    )
    assert (await _counts(), await _member(cashier.id)) == before


async def test_a_superuser_unlocks_a_members_sign_in_from_the_console(client: AsyncClient) -> None:
    await _manager(client, superuser=True)
    async with uow() as s:
        clerk = await identity.create_staff(s, email="clerk@example.com", password=PASSWORD)
    wrong = {"email": "clerk@example.com", "password": "wrong-pass-1"}
    for _ in range(5):
        await client.post("/api/v1/staff/auth/login", json=wrong)
    right = {"email": "clerk@example.com", "password": PASSWORD}
    locked = await client.post("/api/v1/staff/auth/login", json=right)
    page = await client.get(f"/admin/staff/{clerk.id}", headers=EN)

    response = await client.post(f"/admin/staff/{clerk.id}/unlock", data={"csrf_token": csrf_of(page)})

    assert locked.status_code == 429
    assert f'<form method="post" action="/admin/staff/{clerk.id}/unlock">' in page.text
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/staff/{clerk.id}?notice=unlocked"
    notice = await client.get(response.headers["location"], headers=EN)
    assert "Failed sign-ins forgotten: the staff member can sign in again now." in notice.text
    assert (await client.post("/api/v1/staff/auth/login", json=right)).status_code == 200
    async with uow(write=False) as s:
        actions = list((await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert actions[-1] == "staff.unlock"


async def test_unlocking_needs_a_superuser_and_the_csrf_token(client: AsyncClient) -> None:
    await _manager(client)
    async with uow() as s:
        clerk = await identity.create_staff(s, email="clerk@example.com", password=PASSWORD)
    page = await client.get(f"/admin/staff/{clerk.id}", headers=EN)
    before = await _counts()

    forged = await client.post(f"/admin/staff/{clerk.id}/unlock", data={"csrf_token": "forged"})
    refused = await client.post(
        f"/admin/staff/{clerk.id}/unlock", data={"csrf_token": csrf_of(page)}, headers=EN
    )

    assert forged.status_code == 403
    assert refused.status_code == 403
    assert alert_of(refused) == "Only a superuser can do this."
    assert await _counts() == before


async def test_the_member_export_writes_the_filtered_members_with_masked_emails(client: AsyncClient) -> None:
    boss = await _member(await _manager(client, superuser=True))
    clerk = await _role("店员", ["orders.read"])
    async with uow() as s:
        member = await identity.create_staff(
            s, email="clerk@example.com", password=PASSWORD, name="Clerk", role_ids=[clerk.id]
        )
        gone = await identity.create_staff(s, email="gone@example.com", password=PASSWORD, name="Gone")
        await identity.update_staff(
            s, staff_id=gone.id, data=identity.StaffUpdate(is_active=False), actor=SYSTEM
        )

    page = await client.get("/admin/staff/", params={"active": "1"}, headers=EN)
    active = await client.get("/admin/staff/", params={"active": "1", "export": "csv"}, headers=EN)

    assert '<a href="/admin/staff/?active=1&amp;export=csv" download>Export CSV</a>' in page.text
    assert f'<a href="/admin/staff/{member.id}">clerk@example.com</a>' in page.text  # the page: in full
    assert boss.last_login_at is not None
    signed_in = boss.last_login_at.astimezone(get_settings().tz)
    assert active.headers["content-disposition"] == 'attachment; filename="staff.csv"'
    assert active.content.decode("utf-8-sig").splitlines() == [
        "Email,Name,Roles,Status,Last sign-in",
        "c***@example.com,Clerk,店员,Active,",
        f"b***@example.com,,Superuser,Active,{signed_in:%Y-%m-%d %H:%M:%S}",
    ]


async def test_roles_are_sorted_by_the_chosen_whitelisted_order(client: AsyncClient) -> None:
    await _manager(client)
    await _role("仓库", ["inventory.read", "inventory.write"])
    await _role("审计", ["audit.read"])
    await _role("客服", [])

    by_name = await client.get("/admin/staff/roles", headers=EN)
    by_permissions = await client.get("/admin/staff/roles", params={"sort": "permissions"}, headers=EN)
    unknown = await client.get("/admin/staff/roles", params={"sort": "name; drop table"}, headers=EN)

    def names(page: str) -> list[str]:
        return re.findall(r'<td data-label="Name"><a href="/admin/staff/roles/\d+">([^<]*)</a>', page)

    assert names(by_name.text) == sorted(["仓库", "审计", "客服", "role of boss@example.com"])
    assert names(by_permissions.text) == ["role of boss@example.com", "仓库", "审计", "客服"]
    assert names(unknown.text) == names(by_name.text)
    assert '<a href="/admin/staff/roles?sort=permissions" aria-current="true">Most permissions</a>' in (
        by_permissions.text
    )
