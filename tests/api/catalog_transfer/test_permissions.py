"""Who may import and export: catalog.write / catalog.read for products, inventory.write /
inventory.read for stock; every refusal changes nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response

from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.factories.spreadsheets import (
    PRODUCTS_EXPORT_URL,
    PRODUCTS_URL,
    STOCK_EXPORT_URL,
    STOCK_URL,
    csv_bytes,
    make_shop,
    product_row,
    snapshot,
    upload,
)

ROUTES = ["import products", "export products", "import stock", "export stock"]


async def call(client: AsyncClient, route: str, headers: dict[str, str]) -> Response:
    if route == "import products":
        return await upload(client, PRODUCTS_URL, csv_bytes([product_row()]), headers)
    if route == "export products":
        return await client.get(PRODUCTS_EXPORT_URL, headers=headers)
    if route == "import stock":
        data = b"sku_code,warehouse_code,on_hand\nTEE-RED-M,SH-1,1\n"
        return await upload(client, STOCK_URL, data, headers, filename="stock.csv")
    return await client.get(STOCK_EXPORT_URL, headers=headers)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("_case", "status", "code"),
    [
        ("anonymous", 401, "core.unauthenticated"),
        ("customer token", 401, "identity.session_invalid"),
        ("staff without the permissions", 403, "identity.permission_denied"),
    ],
)
async def test_refuses_callers_without_the_permission(
    client: AsyncClient, route: str, _case: str, status: int, code: str
) -> None:
    await make_shop()
    if _case == "anonymous":
        headers: dict[str, str] = {}
    elif _case == "customer token":
        _customer, headers = await signed_in_customer(client)
    else:
        staff = await make_staff(email="orders@example.com", permissions=["orders.read"])
        headers = await staff_headers(staff.id)
    before = await snapshot()

    response = await call(client, route, headers)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        (
            ["catalog.read"],
            {"import products": 403, "export products": 200, "import stock": 403, "export stock": 403},
        ),
        (
            ["inventory.read"],
            {"import products": 403, "export products": 403, "import stock": 403, "export stock": 200},
        ),
        (
            ["catalog.read", "catalog.write"],
            {"import products": 200, "export products": 200, "import stock": 403, "export stock": 403},
        ),
        (
            ["inventory.read", "inventory.write"],
            {"import products": 403, "export products": 403, "import stock": 422, "export stock": 200},
        ),
    ],
)
async def test_each_route_needs_its_own_permission(
    client: AsyncClient, permissions: list[str], expected: dict[str, int]
) -> None:
    await make_shop()
    staff = await make_staff(email="clerk@example.com", permissions=permissions)
    headers = await staff_headers(staff.id)

    statuses = {route: (await call(client, route, headers)).status_code for route in ROUTES}

    assert statuses == expected
