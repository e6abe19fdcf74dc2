"""Pictures tied to a spec value: set and refused, the storefront page, the SKU's picture in the
cart, and frozen on the order line (defect 12: the white hoodie's order showed the black one)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mercato import catalog, orders
from mercato.catalog.models import Sku, SpecImage
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, add_image, audit_actions, count, make_listed_product
from tests.factories.identity import make_customer
from tests.factories.inventory import make_warehouse, receive
from tests.factories.orders import place


async def _hoodie() -> tuple[int, dict[str, int], catalog.ProductImageRead, catalog.ProductImageRead]:
    """A hoodie on sale in black and white (black first), a black picture (first, the main one)
    and a white one; returns (product id, SKU id by colour, black image, white image)."""
    product = await make_listed_product(specs={"colour": ["黑色", "白色"]}, title="连帽卫衣")
    async with uow(write=False) as s:
        skus = {
            spec["colour"]: sku_id
            for sku_id, spec in await s.execute(select(Sku.id, Sku.spec).where(Sku.product_id == product.id))
        }
    black = await add_image(product.id, "black", (64, 48))
    white = await add_image(product.id, "white", (48, 64))
    return product.id, skus, black, white


async def _set(
    product_id: int, attribute_code: str, images: dict[str, int | None]
) -> list[catalog.SpecImageRead]:
    async with uow() as s:
        return await catalog.set_spec_images(
            s,
            product_id=product_id,
            data=catalog.SpecImagesWrite(attribute_code=attribute_code, images=images),
            actor=SYSTEM,
        )


async def test_ties_each_colour_to_its_picture() -> None:
    product_id, _skus, black, white = await _hoodie()

    saved = await _set(product_id, "colour", {"黑色": black.id, "白色": white.id})

    assert [(t.attribute_code, t.value, t.image_id, t.thumbnail_url) for t in saved] == [
        ("colour", "白色", white.id, white.thumbnail_url),
        ("colour", "黑色", black.id, black.thumbnail_url),
    ]
    assert (await audit_actions())[-1] == "product.spec_images_set"
    again = await _set(product_id, "colour", {"白色": white.id, "黑色": None})
    assert [(t.value, t.image_id) for t in again] == [("白色", white.id)]
    assert await count(SpecImage) == 1


@pytest.mark.parametrize(
    ("_case", "attribute_code", "images", "field", "code"),
    [
        ("spec the SKUs do not use", "size", {}, "attribute_code", "catalog.unknown_attribute"),
        ("value the SKUs do not use", "colour", {"红色": 0}, "红色", "catalog.unknown_attribute_value"),
        ("another product's image", "colour", {"白色": -1}, "白色", "catalog.unknown_image"),
    ],
)
async def test_refuses_what_is_not_the_products(
    _case: str, attribute_code: str, images: dict[str, int], field: str, code: str
) -> None:
    product_id, _skus, black, white = await _hoodie()
    await _set(product_id, "colour", {"黑色": black.id})
    other, _other_skus, other_black, _other_white = await _hoodie()
    wanted = {value: (other_black.id if image < 0 else white.id) for value, image in images.items()}
    actions = await audit_actions()

    with pytest.raises(catalog.InvalidAttributes) as refused:
        await _set(product_id, attribute_code, wanted)

    assert [(f.loc[-1], f.code) for f in refused.value.fields] == [(field, code)]
    async with uow(write=False) as s:
        ties = await catalog.list_spec_images(s, product_id=product_id)
    assert [(t.value, t.image_id) for t in ties] == [("黑色", black.id)]
    assert await audit_actions() == actions
    assert other != product_id


async def test_the_product_page_names_each_colours_picture() -> None:
    product_id, _skus, black, white = await _hoodie()
    await _set(product_id, "colour", {"白色": white.id})

    async with uow(write=False) as s:
        page = await catalog.get_storefront_product(s, product_id=product_id)

    assert [image.url for image in page.images] == [black.url, white.url]
    assert [(t.code, t.value, t.image_index) for t in page.spec_images] == [("colour", "白色", 1)]


async def test_a_skus_picture_is_its_colours_else_the_main_one() -> None:
    product_id, skus, black, white = await _hoodie()
    await _set(product_id, "colour", {"白色": white.id})

    async with uow(write=False) as s:
        sellable = await catalog.get_sellable_skus(s, sku_ids=list(skus.values()))

    assert sellable[skus["白色"]].image_url == white.thumbnail_url
    assert sellable[skus["黑色"]].image_url == black.thumbnail_url


async def test_an_order_for_the_white_hoodie_shows_the_white_picture() -> None:
    """Defect 12: the order line froze the product's first picture (the black hoodie's)."""
    product_id, skus, black, white = await _hoodie()
    await _set(product_id, "colour", {"黑色": black.id, "白色": white.id})
    warehouse = await make_warehouse(f"H{product_id}")
    for sku_id in skus.values():
        await receive(sku_id, warehouse.id, 5)
    customer = await make_customer()

    order = await place(customer.id, (skus["白色"], 1), (skus["黑色"], 2))

    assert {line.sku_id: line.image_url for line in order.lines} == {
        skus["白色"]: white.thumbnail_url,
        skus["黑色"]: black.thumbnail_url,
    }
    await _set(product_id, "colour", {})  # the picture changes later: the order keeps its own
    assert await count(SpecImage) == 0
    order_again = await place(customer.id, (skus["白色"], 1))
    assert [line.image_url for line in order_again.lines] == [black.thumbnail_url]
    async with uow(write=False) as s:
        frozen = await orders.read_order(s, order_id=order.id, customer_id=customer.id)
    assert {line.sku_id: line.image_url for line in frozen.lines} == {
        skus["白色"]: white.thumbnail_url,
        skus["黑色"]: black.thumbnail_url,
    }
