"""Store pickup at the console: the clerk types the shopper's code for their store and the order
is handed over (completed); a wrong code, a code for another store, too many wrong codes, a
missing permission and a missing CSRF token are refused with nothing changed."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import inventory, orders
from mercato.core.db import uow
from tests.api.fulfillment.test_pickup_api import bought_for_pickup  # the same purchase as the API's
from tests.factories.inventory import make_warehouse
from tests.web.pages import EN, alert_of, csrf_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")


async def status_of(order_id: int) -> orders.OrderStatus:
    async with uow(write=False) as s:
        return (await orders.read_order(s, order_id=order_id)).status


async def test_a_clerk_hands_over_the_order_against_its_code(client: AsyncClient) -> None:
    auth, order_id, _red, store = await bought_for_pickup(client)
    code = (await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)).json()["code"]
    await staff_sign_in(client, "clerk@example.com", "fulfillment.pickup", "orders.read")
    page = await client.get("/admin/pickup", headers=EN)
    assert page.status_code == 200
    assert f'<option value="{store}">' in page.text

    wrong = await client.post(
        "/admin/pickup",
        data={"csrf_token": csrf_of(page), "store_id": str(store), "code": "00000000"},
        headers=EN,
    )
    assert wrong.status_code == 422
    assert '<p class="field-error" id="pickup-code-error">The pickup code is not valid.</p>' in wrong.text
    assert await status_of(order_id) is orders.OrderStatus.paid

    done = await client.post(
        "/admin/pickup",
        data={"csrf_token": csrf_of(page), "store_id": str(store), "code": f"{code[:4]} {code[4:]}"},
    )

    assert done.status_code == 303
    assert await status_of(order_id) is orders.OrderStatus.completed
    result = await client.get(done.headers["location"], headers=EN)
    number = done.headers["location"].split("done=")[1].split("&")[0]
    assert f"Order {number} was handed over." in result.text
    assert f'href="/admin/orders/{number}"' in result.text
    replay = await client.post(
        "/admin/pickup", data={"csrf_token": csrf_of(page), "store_id": str(store), "code": code}, headers=EN
    )
    assert replay.status_code == 409
    assert 'id="pickup-code-error"' in replay.text


async def test_a_code_for_another_store_and_too_many_wrong_codes_are_refused(client: AsyncClient) -> None:
    auth, order_id, _red, store = await bought_for_pickup(client)
    other = await make_warehouse("STORE-PD", kind=inventory.WarehouseKind.store, regions=["上海市"])
    code = (await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)).json()["code"]
    await staff_sign_in(client, "clerk@example.com", "fulfillment.pickup")
    page = await client.get("/admin/pickup")
    token = csrf_of(page)

    elsewhere = await client.post(
        "/admin/pickup", data={"csrf_token": token, "store_id": str(other.id), "code": code}, headers=EN
    )
    assert elsewhere.status_code == 409
    assert (
        '<p class="field-error" id="pickup-code-error">This pickup code is for another store.</p>'
        in elsewhere.text
    )
    for _ in range(9):
        await client.post(
            "/admin/pickup", data={"csrf_token": token, "store_id": str(store), "code": "11111111"}
        )
    limited = await client.post(
        "/admin/pickup", data={"csrf_token": token, "store_id": str(store), "code": code}, headers=EN
    )

    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert alert_of(limited).startswith("Too many wrong pickup codes. Try again in ")
    assert await status_of(order_id) is orders.OrderStatus.paid


async def test_pickup_needs_the_permission_and_the_csrf_token(client: AsyncClient) -> None:
    auth, order_id, _red, store = await bought_for_pickup(client)
    code = (await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)).json()["code"]
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    dashboard = await client.get("/admin/")

    page = await client.get("/admin/pickup", headers=EN)
    refused = await client.post(
        "/admin/pickup",
        data={"csrf_token": csrf_of(dashboard), "store_id": str(store), "code": code},
        headers=EN,
    )
    client.cookies.clear()
    await staff_sign_in(client, "counter@example.com", "fulfillment.pickup")
    no_token = await client.post("/admin/pickup", data={"store_id": str(store), "code": code})

    assert page.status_code == 403
    assert "You need the fulfillment.pickup permission." in page.text
    assert refused.status_code == 403
    assert no_token.status_code == 403
    assert await status_of(order_id) is orders.OrderStatus.paid
