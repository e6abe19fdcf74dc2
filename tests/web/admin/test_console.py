"""The console: staff sign-in and sign-out, the dashboard, and the audit log (audit.read)."""

from __future__ import annotations

import csv
import io

from httpx import AsyncClient

from mercato import identity
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.identity import PASSWORD, make_customer, make_staff
from tests.web.pages import (
    EN,
    alert_of,
    csrf_of,
    post_form,
    set_cookie_header,
    sign_in,
    staff_login,
    staff_sign_in,
    token_count,
)


async def _audit(count: int, *, action: str = "role.update") -> None:
    async with uow() as session:
        for n in range(count):
            await identity.record_audit(
                session,
                actor=identity.Actor(staff_id=None, label="system"),
                action=action,
                object_type="role",
                object_id=str(n),
                before={"name": f"old-{n}"},
                after={"name": f"new-{n}"},
            )


async def test_staff_sign_in_sets_a_console_cookie_and_shows_the_dashboard(client: AsyncClient) -> None:
    await make_staff(email="ops@example.com")

    response = await post_form(
        client, "/admin/login", "/admin/login", {"email": "OPS@example.com", "password": PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/"
    cookie = set_cookie_header(response, "mercato_staff_session")
    assert cookie.startswith("mercato_staff_session=mss_")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/admin" in cookie
    assert "mercato_session=" not in response.headers["set-cookie"]
    page = await client.get("/admin/", headers=EN)
    assert page.status_code == 200
    assert "ops@example.com" in page.text
    assert "You hold no permissions yet." in page.text
    assert 'href="/admin/audit/"' not in page.text
    assert (await client.get("/account")).status_code == 303  # not a customer session


async def test_a_superuser_sees_every_permission(client: AsyncClient) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)

    page = await client.get("/admin/", headers=EN)

    assert "You are a superuser: you hold every permission." in page.text
    assert page.text.count('<li title="') == len(identity.PERMISSIONS)
    assert '<li title="orders.read">See orders</li>' in page.text
    assert 'href="/admin/audit/"' in page.text


async def test_wrong_staff_password_is_refused_with_the_generic_message(client: AsyncClient) -> None:
    await make_staff(email="ops@example.com")

    response = await post_form(
        client, "/admin/login", "/admin/login", {"email": "ops@example.com", "password": "wrong-pass-1"}
    )

    assert response.status_code == 401
    assert alert_of(response) == "账号或密码错误。"
    assert await token_count() == 0


async def test_staff_sign_in_needs_the_csrf_token(client: AsyncClient) -> None:
    await make_staff(email="ops@example.com")
    await client.get("/admin/login")

    response = await client.post("/admin/login", data={"email": "ops@example.com", "password": PASSWORD})

    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert await token_count() == 0


async def test_console_pages_need_a_staff_session(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000")
    await sign_in(client, "13800138000", PASSWORD)  # a customer session is not enough

    dashboard = await client.get("/admin/")
    audit = await client.get("/admin/audit/?action=staff.create")

    assert dashboard.status_code == 303
    assert dashboard.headers["location"] == "/admin/login?next=/admin/"
    assert audit.status_code == 303
    assert audit.headers["location"] == "/admin/login?next=/admin/audit/%3Faction%3Dstaff.create"


async def test_sign_in_goes_back_to_the_page_asked_for(client: AsyncClient) -> None:
    await make_staff(email="root@example.com", is_superuser=True)
    page = await client.get("/admin/login", params={"next": "/admin/audit/"})

    response = await client.post(
        "/admin/login",
        data={
            "email": "root@example.com",
            "password": PASSWORD,
            "next": "/admin/audit/",
            "csrf_token": csrf_of(page),
        },
    )

    assert response.headers["location"] == "/admin/audit/"


async def test_audit_log_is_forbidden_without_audit_read(client: AsyncClient) -> None:
    await staff_sign_in(client, "ops@example.com")

    response = await client.get("/admin/audit/", headers=EN)

    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "You need the audit.read permission." in response.text
    assert "staff.create" not in response.text


async def test_audit_log_lists_entries_with_their_changes(client: AsyncClient) -> None:
    root = await make_staff(email="root@example.com", is_superuser=True)
    async with uow() as session:
        await identity.create_staff(
            session,
            email="Clerk@example.com",
            password=PASSWORD,
            name="<b>Clerk</b>",
            actor=identity.Actor(staff_id=root.id, label=root.email, ip="198.51.100.9"),
        )
    await staff_login(client, "root@example.com")

    page = await client.get("/admin/audit/", headers=EN)

    assert page.status_code == 200
    assert page.text.count("<tr>") == 1 + 2
    newest = page.text.index("clerk@example.com")
    assert page.text.index("<code>staff.create</code>") < newest
    assert "<li><code>email</code>: — → clerk@example.com</li>" in page.text
    assert "<li><code>name</code>: — → &lt;b&gt;Clerk&lt;/b&gt;</li>" in page.text
    assert "<li><code>is_superuser</code>: — → false</li>" in page.text
    assert "198.51.100.9" in page.text
    assert 'rel="next"' not in page.text


async def test_audit_log_filters_and_pages(client: AsyncClient) -> None:
    await make_staff(email="root@example.com", is_superuser=True)
    await _audit(55)
    await staff_login(client, "root@example.com")

    everything = await client.get("/admin/audit/", params={"object_type": "role"})
    one = await client.get("/admin/audit/", params={"object_type": "role", "object_id": "7"})
    none = await client.get("/admin/audit/", params={"action": "staff.delete"}, headers=EN)

    assert everything.text.count("<tr>") == 1 + 50
    assert "<li><code>name</code>: old-54 → new-54</li>" in everything.text
    marker = 'href="/admin/audit/?object_type=role&amp;cursor='
    assert marker in everything.text
    start = everything.text.index(marker) + len('href="')
    next_url = everything.text[start : everything.text.index('"', start)].replace("&amp;", "&")
    second = await client.get(next_url)
    assert second.text.count("<tr>") == 1 + 5
    assert "old-4 → new-4" in second.text
    assert "old-5 → new-5" not in second.text
    assert 'rel="next"' not in second.text
    assert one.text.count("<tr>") == 1 + 1
    assert "old-7 → new-7" in one.text
    assert "No entries match." in none.text


async def test_a_garbled_cursor_shows_the_first_page(client: AsyncClient) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)

    response = await client.get("/admin/audit/", params={"action": "order.", "cursor": "!!!"}, headers=EN)

    assert (response.status_code, response.headers["location"]) == (303, "/admin/audit/?action=order.")


async def test_staff_sign_out_revokes_the_session(client: AsyncClient) -> None:
    await staff_sign_in(client, "ops@example.com")
    page = await client.get("/admin/")

    response = await client.post("/admin/logout", data={"csrf_token": csrf_of(page)})

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?notice=signed_out"
    assert 'mercato_staff_session=""' in response.headers["set-cookie"]
    assert "Path=/admin" in response.headers["set-cookie"]
    assert await token_count(revoked=True) == 1
    assert await token_count(revoked=False) == 0
    assert (await client.get("/admin/")).status_code == 303


async def test_the_audit_log_export_writes_the_filtered_entries_with_emails_masked(
    client: AsyncClient,
) -> None:
    root = await make_staff(email="root@example.com", is_superuser=True)
    async with uow() as session:
        created = await identity.create_staff(
            session,
            email="clerk@example.com",
            password=PASSWORD,
            name="Clerk",
            actor=identity.Actor(staff_id=root.id, label=root.email, ip="198.51.100.9"),
        )
    await _audit(2)
    await staff_login(client, "root@example.com")

    filters = {"action": "staff.", "object_id": str(created.id)}
    page = await client.get("/admin/audit/", params=filters, headers=EN)
    exported = await client.get("/admin/audit/", params={**filters, "export": "csv"}, headers=EN)

    assert (
        f'<a href="/admin/audit/?action=staff.&amp;object_id={created.id}&amp;export=csv" download>'
        "Export CSV</a>" in page.text
    )
    assert exported.headers["content-disposition"] == 'attachment; filename="audit-log.csv"'
    entry = await _entry(str(created.id))
    time = entry.created_at.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M:%S")
    assert list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))) == [
        ["Time", "Staff", "Action", "Object", "Changes", "IP address"],
        [
            time,
            "r***@example.com",
            "staff.create",
            f"staff #{created.id}",
            "email: — → c***@example.com\nname: — → Clerk\nis_superuser: — → false\n"
            "is_active: — → true\nroles: — → []",
            "198.51.100.9",
        ],
    ]


async def _entry(object_id: str) -> identity.AuditEntryRead:
    async with uow(write=False) as session:
        (entry,) = (await identity.list_audit_entries(session, object_id=object_id)).items
    return entry
