"""Receiving stock for every SKU of a product in one form: one warehouse, one reference, a
quantity per SKU; one transaction, so a bad line books nothing."""

from __future__ import annotations

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import catalog
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.inventory.models import LedgerEntry
from tests.factories.inventory import level, make_skus, make_warehouse
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

PAGE = "/admin/inventory/receive/product"
WRITER = ["inventory.read", "inventory.write"]


async def _counts() -> tuple[int, int]:
    async with uow(write=False) as s:
        ledger = (await s.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
        audit = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return ledger, audit


async def _post(client: AsyncClient, data: dict[str, str]) -> Response:
    """Open the page (its CSRF cookie), then post ``data`` with the token, in English."""
    page = await client.get(PAGE, headers=EN)
    return await client.post(PAGE, data={**data, "csrf_token": csrf_of(page)}, headers=EN)


async def _product_id(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await catalog.get_sku_refs(s, sku_ids=[sku_id]))[sku_id].product_id


async def _codes(sku_ids: list[int]) -> list[str]:
    async with uow(write=False) as s:
        labels = await catalog.get_sku_labels(s, sku_ids=sku_ids)
    return [labels[sku_id].code for sku_id in sku_ids]


async def test_lists_every_sku_of_the_product_named_by_one_code(client: AsyncClient) -> None:
    skus = await make_skus(3)
    codes = await _codes(skus)
    await staff_sign_in(client, "ops@example.com", *WRITER)

    page = await client.get(PAGE, params={"product": codes[1]}, headers=EN)

    assert page.status_code == 200
    assert [f'name="quantity-{sku}"' in page.text for sku in skus] == [True, True, True]
    assert all(f"<code>{code}</code>" in page.text for code in codes)


async def test_books_each_line_with_a_quantity_in_one_go(client: AsyncClient) -> None:
    first, second, third = await make_skus(3)
    warehouse = await make_warehouse("SH-1")
    await staff_sign_in(client, "ops@example.com", *WRITER)
    before = await _counts()

    response = await _post(
        client,
        {
            "product": str(await _product_id(first)),
            "warehouse_id": str(warehouse.id),
            "reference": "PO-2026-12",
            f"quantity-{first}": "5",
            f"quantity-{second}": "",
            f"quantity-{third}": "12",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/inventory/ledger?warehouse={warehouse.id}&notice=received"
    assert ((await level(first, warehouse.id)).on_hand, (await level(third, warehouse.id)).on_hand) == (5, 12)
    assert await _counts() == (before[0] + 2, before[1] + 2)
    async with uow(write=False) as s:
        references = list(
            await s.scalars(select(LedgerEntry.reference).order_by(LedgerEntry.id.desc()).limit(2))
        )
    assert references == ["PO-2026-12", "PO-2026-12"]


async def test_a_bad_line_is_a_field_error_and_books_nothing(client: AsyncClient) -> None:
    first, second = await make_skus(2)
    warehouse = await make_warehouse("SH-1")
    await staff_sign_in(client, "ops@example.com", *WRITER)
    before = await _counts()

    response = await _post(
        client,
        {
            "product": str(await _product_id(first)),
            "warehouse_id": str(warehouse.id),
            f"quantity-{first}": "5",
            f"quantity-{second}": "-2",
        },
    )

    assert response.status_code == 422
    assert alert_of(response) == "Some fields are not valid."
    assert field_error_of(response, f"receive-quantity-{second}") == "Must be at least 1."
    assert await _counts() == before


async def test_no_warehouse_or_no_quantity_books_nothing(client: AsyncClient) -> None:
    (sku,) = await make_skus(1)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    before = await _counts()
    product_id = str(await _product_id(sku))

    no_warehouse = await _post(client, {"product": product_id, f"quantity-{sku}": "3"})
    no_quantity = await _post(client, {"product": product_id, "warehouse_id": "1"})

    assert no_warehouse.status_code == 422
    assert field_error_of(no_warehouse, "receive-lines-warehouse_id") == "This field is required."
    assert no_quantity.status_code == 422
    assert "Type a quantity for at least one SKU." in no_quantity.text
    assert await _counts() == before


async def test_a_reader_cannot_receive(client: AsyncClient) -> None:
    (sku,) = await make_skus(1)
    warehouse = await make_warehouse("SH-1")
    await staff_sign_in(client, "viewer@example.com", "inventory.read")
    before = await _counts()

    page = await client.get(PAGE, headers=EN)
    post = await client.post(
        PAGE,
        data={
            "product": str(await _product_id(sku)),
            "warehouse_id": str(warehouse.id),
            f"quantity-{sku}": "3",
        },
        headers=EN,
    )

    assert (page.status_code, post.status_code) == (403, 403)
    assert await _counts() == before


async def test_a_double_submit_of_the_same_form_books_once(client: AsyncClient) -> None:
    first, second = await make_skus(2)
    warehouse = await make_warehouse("SH-1")
    await staff_sign_in(client, "ops@example.com", *WRITER)
    product_id = str(await _product_id(first))
    page = await client.get(PAGE, params={"product": product_id}, headers=EN)
    submission = page.text.split('name="submission" value="', 1)[1].split('"', 1)[0]
    data = {
        "product": product_id,
        "warehouse_id": str(warehouse.id),
        "submission": submission,
        f"quantity-{first}": "5",
        f"quantity-{second}": "2",
        "csrf_token": csrf_of(page),
    }
    before = await _counts()

    once = await client.post(PAGE, data=data, headers=EN)
    twice = await client.post(PAGE, data=data, headers=EN)
    again = await client.get(PAGE, params={"product": product_id}, headers=EN)

    assert (once.status_code, twice.status_code) == (303, 303)
    assert ((await level(first, warehouse.id)).on_hand, (await level(second, warehouse.id)).on_hand) == (5, 2)
    assert await _counts() == (before[0] + 2, before[1] + 2)
    assert len(submission) == 32
    assert f'value="{submission}"' not in again.text  # a fresh form, a fresh id
