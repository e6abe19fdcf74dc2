"""Quantities, ids and amounts in a JSON body are JSON integers: ``"2"``, ``2.0`` and ``true`` are
refused (422, field code ``int_type``) and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato.cart.models import Cart, CartLine
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import signed_in_customer


async def lines() -> tuple[int, list[tuple[int, int]]]:
    async with uow(write=False) as s:
        carts = (await s.execute(select(func.count()).select_from(Cart))).scalar_one()
        rows = await s.execute(select(CartLine.sku_id, CartLine.quantity).order_by(CartLine.id))
        return carts, [(row.sku_id, row.quantity) for row in rows]


def refusal(response: Response) -> tuple[int, str, list[tuple[list[str | int], str]]]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = response.json()
    return response.status_code, body["code"], [(e["loc"], e["code"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("_case", "field", "value"),
    [
        ("quantity as text", "quantity", "2"),
        ("quantity as true", "quantity", True),
        ("quantity as a float", "quantity", 2.0),
        ("sku id as text", "sku_id", "{sku}"),
        ("sku id as true", "sku_id", True),
    ],
)
async def test_adding_a_line_refuses_loose_numbers(
    client: AsyncClient, _case: str, field: str, value: Any
) -> None:
    red, _black = await listed_skus()
    body: dict[str, Any] = {"sku_id": red, "quantity": 1, field: value}
    if value == "{sku}":
        body[field] = str(red)

    response = await client.post("/api/v1/cart/lines", json=body)

    assert refusal(response) == (422, "core.validation_failed", [(["body", field], "int_type")])
    assert await lines() == (0, [])


async def test_changing_a_quantity_refuses_text(client: AsyncClient) -> None:
    red, _black = await listed_skus()
    added = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1})
    token = added.headers["x-cart-token"]
    line_id = added.json()["lines"][0]["id"]

    response = await client.patch(
        f"/api/v1/cart/lines/{line_id}", json={"quantity": "3"}, headers={"X-Cart-Token": token}
    )

    assert refusal(response) == (422, "core.validation_failed", [(["body", "quantity"], "int_type")])
    assert await lines() == (1, [(red, 1)])


async def test_checkout_refuses_an_amount_as_text_and_an_address_id_past_bigint(client: AsyncClient) -> None:
    red, _black = await listed_skus()
    _customer, headers = await signed_in_customer(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1}, headers=headers)

    text_total = await client.post(
        "/api/v1/checkout/buy-now", json={"sku_id": red, "expected_total_amount": "9900"}, headers=headers
    )
    huge = await client.post(
        "/api/v1/checkout/buy-now",
        json={"sku_id": red, "address_id": 2**63, "expected_total_amount": 9900},
        headers=headers,
    )

    assert refusal(text_total)[:2] == (422, "core.validation_failed")
    assert (["body", "expected_total_amount"], "int_type") in refusal(text_total)[2]
    assert refusal(huge)[:2] == (422, "core.validation_failed")
    assert (["body", "address_id"], "less_than_equal") in refusal(huge)[2]
    assert await lines() == (1, [(red, 1)])
