"""Spec pictures through the API: set by catalog.write, refused without it or for another
product's image, and nothing changes on a refusal."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import select

from mercato import catalog
from mercato.catalog.models import Sku
from mercato.core.db import uow
from tests.factories.catalog import add_image, make_listed_product
from tests.factories.identity import make_staff, staff_headers
from tests.factories.media import audit_actions

A = "/api/v1/admin/catalog"


async def _product_with_images() -> tuple[int, list[int]]:
    product = await make_listed_product(specs={"colour": ["黑色", "白色"]})
    return product.id, [(await add_image(product.id, alt)).id for alt in ("black", "white")]


async def test_an_editor_ties_colours_to_pictures(client: AsyncClient) -> None:
    product_id, (black, white) = await _product_with_images()
    staff = await make_staff(email="editor@example.com", permissions=["catalog.read", "catalog.write"])
    headers = await staff_headers(staff.id)

    saved = await client.put(
        f"{A}/products/{product_id}/spec-images",
        json={"attribute_code": "colour", "images": {"白色": white, "黑色": black}},
        headers=headers,
    )
    listed = await client.get(f"{A}/products/{product_id}/spec-images", headers=headers)

    assert saved.status_code == 200
    assert [(t["value"], t["image_id"]) for t in listed.json()] == [("白色", white), ("黑色", black)]


async def test_another_products_image_is_a_422_and_changes_nothing(client: AsyncClient) -> None:
    product_id, _ids = await _product_with_images()
    _other, (other_black, _other_white) = await _product_with_images()
    staff = await make_staff(email="editor@example.com", permissions=["catalog.read", "catalog.write"])
    headers = await staff_headers(staff.id)
    actions = await audit_actions()

    response = await client.put(
        f"{A}/products/{product_id}/spec-images",
        json={"attribute_code": "colour", "images": {"白色": other_black}},
        headers={**headers, "Accept-Language": "en"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "catalog.invalid_attributes"
    assert [(e["loc"], e["code"], e["message"]) for e in body["errors"]] == [
        (["body", "images", "白色"], "catalog.unknown_image", "Choose one of this product's images.")
    ]
    assert await audit_actions() == actions
    async with uow(write=False) as s:
        assert await catalog.list_spec_images(s, product_id=product_id) == []
        assert len(list(await s.scalars(select(Sku.id).where(Sku.product_id == product_id)))) == 2


async def test_a_reader_cannot_set_pictures(client: AsyncClient) -> None:
    product_id, (black, _white) = await _product_with_images()
    staff = await make_staff(email="reader@example.com", permissions=["catalog.read"])

    response = await client.put(
        f"{A}/products/{product_id}/spec-images",
        json={"attribute_code": "colour", "images": {"黑色": black}},
        headers=await staff_headers(staff.id),
    )

    assert (response.status_code, response.json()["code"]) == (403, "identity.permission_denied")
    async with uow(write=False) as s:
        assert await catalog.list_spec_images(s, product_id=product_id) == []
