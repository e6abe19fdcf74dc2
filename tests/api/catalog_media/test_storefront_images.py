"""Shoppers see a product's images as URLs they can fetch, and a new image shows at once."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import catalog
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_listed_product
from tests.factories.media import decoded, image_bytes


async def test_the_product_page_links_its_images_and_the_links_serve_them(client: AsyncClient) -> None:
    product = await make_listed_product()
    before = (await client.get(f"/api/v1/catalog/products/{product.id}")).json()  # now cached
    async with uow() as session:
        added = await catalog.add_product_image(
            session,
            product_id=product.id,
            image=decoded(image_bytes("JPEG", (800, 600))),
            filename="front.jpg",
            declared_type="image/jpeg",
            alt="正面",
            actor=SYSTEM,
        )

    page = (await client.get(f"/api/v1/catalog/products/{product.id}")).json()

    assert before["images"] == []
    assert page["images"] == [
        {"url": added.url, "thumbnail_url": added.thumbnail_url, "width": 800, "height": 600, "alt": "正面"}
    ]
    assert added.url.startswith(f"/media/products/{product.id}/")
    full = await client.get(added.url)
    thumb = await client.get(added.thumbnail_url)
    assert (full.status_code, full.headers["content-type"]) == (200, "image/jpeg")
    assert (thumb.status_code, thumb.headers["content-type"]) == (200, "image/jpeg")
