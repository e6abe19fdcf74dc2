"""Console pages never answer a 500 to what a URL or form carries: a list given a cursor that is
not ours shows its first page with its filters, a NUL in a list filter, a path or a form is the
422 page and changes nothing."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.core.pagination import encode_cursor
from mercato.identity.models import AuditEntry, Role
from tests.web.pages import EN, csrf_of, staff_sign_in

#: A cursor holding deeply nested JSON (json.loads recursed into a 500) and one of a wrong shape.
NESTED = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
BAD_CURSORS = [NESTED, encode_cursor({"id": 1}), "!!!"]
LISTS = [
    ("/admin/aftersales/", {"status": ""}),
    ("/admin/catalog/", {"q": "衬衫"}),
    ("/admin/catalog/review", {}),
    ("/admin/catalog/brands", {"q": "nike"}),
    ("/admin/audit/", {"action": "order."}),
    ("/admin/customers/", {"q": "ali"}),
    ("/admin/inventory/", {"q": "RED"}),
    ("/admin/inventory/low-stock", {}),
    ("/admin/inventory/ledger", {"kind": "receipt"}),
    ("/admin/orders/", {"q": "2026"}),
    ("/admin/staff/", {"q": "ops"}),
]


def is_page(response: Response, status: int) -> bool:
    return response.status_code == status and response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize(("path", "filters"), LISTS)
async def test_a_list_with_a_bad_cursor_shows_its_first_page(
    client: AsyncClient, path: str, filters: dict[str, str], cursor: str
) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)
    first_page = await client.get(path, params=filters, headers=EN)

    response = await client.get(path, params={**filters, "cursor": cursor}, headers=EN)
    followed = await client.get(response.headers["location"], headers=EN)

    assert response.status_code == 303
    assert response.headers["location"] == (f"{path}?{urlencode(filters)}" if filters else path)
    assert followed.status_code == first_page.status_code == 200


@pytest.mark.parametrize(
    ("_case", "url"),
    [
        ("customer search", "/admin/customers/?q=a%00b"),
        ("order search", "/admin/orders/?q=%00"),
        ("ledger SKU", "/admin/inventory/ledger?sku=RED%00"),
        ("audit action", "/admin/audit/?action=order.%00"),
        ("staff search", "/admin/staff/?q=%E2%80%AE"),
        ("order number in the path", "/admin/orders/2026%00"),
    ],
)
async def test_a_nul_in_a_list_filter_or_path_is_the_422_page(
    client: AsyncClient, _case: str, url: str
) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)

    response = await client.get(url, headers=EN)

    assert is_page(response, 422)
    assert "Some fields are not valid." in response.text


async def rows() -> tuple[list[tuple[str, str]], int]:
    async with uow(write=False) as s:
        roles = [tuple(r) for r in await s.execute(select(Role.name, Role.description).order_by(Role.id))]
        audit = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return roles, audit  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("_case", "fields"),
    [
        ("NUL in the name", {"name": "x\u0000y"}),
        ("override in the name", {"name": "\u202esrekcaP"}),
        ("NUL in the description", {"name": "Packers", "description": "a\u0000"}),
    ],
)
async def test_a_role_form_with_unsafe_text_is_refused_and_changes_nothing(
    client: AsyncClient, _case: str, fields: dict[str, str]
) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)
    page = await client.get("/admin/staff/roles/new", headers=EN)
    before = await rows()

    response = await client.post(
        "/admin/staff/roles/new", data={"description": "", **fields, "csrf_token": csrf_of(page)}, headers=EN
    )

    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert await rows() == before
