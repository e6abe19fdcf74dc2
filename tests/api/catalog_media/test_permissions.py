"""Who may touch catalog media: signed-in staff holding catalog.write (reads: catalog.read)."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response

from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.factories.media import (
    audit_actions,
    image_bytes,
    image_rows,
    make_brand,
    make_product,
    stored_files,
)

UPLOAD = {"file": ("a.png", image_bytes("PNG", (20, 20)), "image/png")}


async def request(
    client: AsyncClient, route: str, product_id: int, brand_id: int, headers: dict[str, str]
) -> Response:
    base = "/api/v1/admin/catalog"
    if route == "upload":
        return await client.post(f"{base}/products/{product_id}/images", files=UPLOAD, headers=headers)
    if route == "list":
        return await client.get(f"{base}/products/{product_id}/images", headers=headers)
    if route == "delete":
        return await client.delete(f"{base}/products/{product_id}/images/1", headers=headers)
    if route == "reorder":
        return await client.put(
            f"{base}/products/{product_id}/images/order", json={"image_ids": []}, headers=headers
        )
    return await client.put(f"{base}/brands/{brand_id}/logo", files=UPLOAD, headers=headers)


@pytest.mark.parametrize("route", ["upload", "list", "delete", "reorder", "logo"])
@pytest.mark.parametrize(
    ("_case", "status", "code"),
    [
        ("anonymous", 401, "core.unauthenticated"),
        ("customer token", 401, "identity.session_invalid"),
        ("staff without catalog permissions", 403, "identity.permission_denied"),
    ],
)
async def test_refuses_callers_without_the_permission(
    client: AsyncClient, route: str, _case: str, status: int, code: str
) -> None:
    product_id, brand_id = await make_product(), await make_brand()
    if _case == "anonymous":
        headers: dict[str, str] = {}
    elif _case == "customer token":
        _customer, headers = await signed_in_customer(client)
    else:
        staff = await make_staff(email="orders@example.com", permissions=["orders.read"])
        headers = await staff_headers(staff.id)

    response = await request(client, route, product_id, brand_id, headers)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert await image_rows() == 0
    assert stored_files() == []
    assert await audit_actions() == []


@pytest.mark.parametrize(
    ("route", "status"),
    [("upload", 403), ("delete", 403), ("reorder", 403), ("logo", 403), ("list", 200)],
)
async def test_catalog_read_only_lists(client: AsyncClient, route: str, status: int) -> None:
    product_id, brand_id = await make_product(), await make_brand()
    staff = await make_staff(email="viewer@example.com", permissions=["catalog.read"])

    response = await request(client, route, product_id, brand_id, await staff_headers(staff.id))

    assert response.status_code == status
    assert stored_files() == []
    assert await image_rows() == 0


@pytest.mark.parametrize(
    ("route", "status"),
    [("upload", 201), ("delete", 404), ("reorder", 200), ("logo", 200), ("list", 403)],
)
async def test_catalog_write_alone_cannot_list(client: AsyncClient, route: str, status: int) -> None:
    product_id, brand_id = await make_product(), await make_brand()
    staff = await make_staff(email="writer@example.com", permissions=["catalog.write"])

    response = await request(client, route, product_id, brand_id, await staff_headers(staff.id))

    assert response.status_code == status
