"""The product editor's rich-text description (its editor bundle and no-script fallback) and the
spec pictures form: each colour's picture saved, a refused form changes nothing."""

from __future__ import annotations

import re

from httpx import AsyncClient, Response

from mercato import catalog
from mercato.catalog.models import SpecImage
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.catalog import count, get_product, make_product, set_specs
from tests.factories.media import image_bytes
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

WRITER = ["catalog.read", "catalog.write"]


async def _editor(client: AsyncClient, product_id: int) -> Response:
    return await client.get(f"/admin/catalog/products/{product_id}", headers=EN)


async def _with_pictures(client: AsyncClient) -> tuple[int, list[int], str]:
    """A draft in black and white with two images, an editor signed in: (product id, image ids, CSRF)."""
    product = await make_product()
    await set_specs(product.id, {"colour": ["黑色", "白色"], "size": ["M"]})
    await staff_sign_in(client, "cat@example.com", *WRITER)
    token = csrf_of(await _editor(client, product.id))
    for alt in ("黑", "白"):
        added = await client.post(
            f"/admin/catalog/products/{product.id}/images",
            data={"alt": alt, "csrf_token": token},
            files={"file": ("photo.png", image_bytes("PNG", (64, 48)), "image/png")},
        )
        assert added.status_code == 303
    async with uow(write=False) as s:
        images = await catalog.list_product_images(s, product_id=product.id)
    return product.id, [image.id for image in images], token


async def test_the_description_is_edited_rich_with_the_textarea_as_fallback(client: AsyncClient) -> None:
    product = await make_product(description_html="<p>旧</p>")
    await staff_sign_in(client, "cat@example.com", *WRITER)

    page = await _editor(client, product.id)

    assert '<script src="/static/build/richtext.min.js" defer></script>' in page.text
    textarea = r'<textarea id="product-description_html" name="description_html" rows="8"\s+data-rich-text='
    assert re.search(textarea + '"description-toolbar"', page.text)
    assert '<div class="rich-text-toolbar" id="description-toolbar" role="toolbar"' in page.text
    assert page.text.count('data-command="') == 10


async def test_a_reader_gets_no_editor_bundle(client: AsyncClient) -> None:
    product = await make_product()
    await staff_sign_in(client, "viewer@example.com", "catalog.read")

    page = await _editor(client, product.id)

    assert page.status_code == 200
    assert "richtext.min.js" not in page.text


async def test_a_posted_description_is_sanitised(client: AsyncClient) -> None:
    product = await make_product()
    await staff_sign_in(client, "cat@example.com", *WRITER)
    page = await _editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}",
        data={
            "title": product.title,
            "category_id": str(product.category_id),
            "description_html": '<p style="color:red" onclick="x()"><strong>粗</strong> '
            '<a href="javascript:x()">链</a></p><script>alert(1)</script>',
            "csrf_token": csrf_of(page),
        },
    )

    assert response.status_code == 303
    assert (await get_product(product.id)).description_html == (
        '<p><strong>粗</strong> <a rel="nofollow noopener">链</a></p>'
    )


async def test_each_colour_gets_its_picture(client: AsyncClient) -> None:
    product_id, (black, white), token = await _with_pictures(client)
    page = await _editor(client, product_id)
    assert 'name="image-黑色"' in page.text
    assert 'name="image-白色"' in page.text

    response = await client.post(
        f"/admin/catalog/products/{product_id}/spec-images",
        data={
            "shown_attribute": "colour",
            "attribute_code": "colour",
            "image-黑色": str(black),
            "image-白色": str(white),
            "csrf_token": token,
        },
    )

    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/admin/catalog/products/{product_id}?notice=spec_images&pictures=colour"
    )
    async with uow(write=False) as s:
        ties = await catalog.list_spec_images(s, product_id=product_id)
    assert [(t.value, t.image_id) for t in ties] == [("白色", white), ("黑色", black)]
    again = await _editor(client, product_id)
    assert re.search(rf'<option value="{white}" selected>', again.text)
    assert await count(AuditEntry, AuditEntry.action == "product.spec_images_set") == 1


async def test_choosing_another_spec_shows_its_values_without_pictures(client: AsyncClient) -> None:
    product_id, (black, _white), token = await _with_pictures(client)

    response = await client.post(
        f"/admin/catalog/products/{product_id}/spec-images",
        data={
            "shown_attribute": "colour",
            "attribute_code": "size",
            "image-黑色": str(black),
            "csrf_token": token,
        },
    )
    page = await client.get(response.headers["location"], headers=EN)

    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/admin/catalog/products/{product_id}?notice=spec_images&pictures=size"
    )
    assert await count(SpecImage) == 0
    assert 'name="image-M"' in page.text
    assert 'name="image-黑色"' not in page.text


async def test_an_image_of_another_product_is_a_field_error_and_nothing_changes(client: AsyncClient) -> None:
    product_id, (black, white), token = await _with_pictures(client)
    await client.post(
        f"/admin/catalog/products/{product_id}/spec-images",
        data={
            "shown_attribute": "colour",
            "attribute_code": "colour",
            "image-白色": str(white),
            "csrf_token": token,
        },
    )
    other = await make_product()
    await set_specs(other.id, {"colour": ["黑色"]})
    audit = await count(AuditEntry)

    response = await client.post(
        f"/admin/catalog/products/{product_id}/spec-images",
        data={
            "shown_attribute": "colour",
            "attribute_code": "colour",
            "image-黑色": "999999",
            "csrf_token": token,
        },
        headers=EN,
    )
    foreign = await client.post(
        f"/admin/catalog/products/{other.id}/spec-images",
        data={
            "shown_attribute": "colour",
            "attribute_code": "colour",
            "image-黑色": str(black),
            "csrf_token": token,
        },
        headers=EN,
    )

    assert response.status_code == 422
    assert alert_of(response) == "Some attributes are not valid for this product type."
    assert field_error_of(response, "pictures-value-1") == "Choose one of this product's images."
    assert (foreign.status_code, alert_of(foreign)) == (
        422,
        "Some attributes are not valid for this product type.",
    )
    async with uow(write=False) as s:
        ties = await catalog.list_spec_images(s, product_id=product_id)
        assert await catalog.list_spec_images(s, product_id=other.id) == []
    assert [(t.value, t.image_id) for t in ties] == [("白色", white)]
    assert await count(AuditEntry) == audit


async def test_setting_pictures_needs_catalog_write(client: AsyncClient) -> None:
    product_id, (black, _white), _token = await _with_pictures(client)
    await client.post("/admin/logout", data={"csrf_token": _token})
    await staff_sign_in(client, "viewer@example.com", "catalog.read")
    token = csrf_of(await _editor(client, product_id))

    response = await client.post(
        f"/admin/catalog/products/{product_id}/spec-images",
        data={
            "shown_attribute": "colour",
            "attribute_code": "colour",
            "image-黑色": str(black),
            "csrf_token": token,
        },
    )

    assert response.status_code == 403
    assert await count(SpecImage) == 0
