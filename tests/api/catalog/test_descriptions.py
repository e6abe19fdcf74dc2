"""Product descriptions through the API: the same nh3 allow-list as the console's editor."""

from __future__ import annotations

from httpx import AsyncClient

from mercato.catalog.models import Product
from mercato.core.db import uow
from tests.factories.catalog import make_category, make_product, make_product_type
from tests.factories.identity import make_staff, staff_headers

A = "/api/v1/admin/catalog"
EN = {"Accept-Language": "en"}
DIRTY = (
    '<h2 style="color:red">Soft</h2><p onclick="steal()">100% <strong>cotton</strong>'
    '<script>alert(1)</script> <a href="javascript:alert(1)">x</a> '
    '<a href="https://example.com/care" target="_blank">care</a></p>'
    '<img src="https://evil.example/t.png" onerror="x()">'
)
CLEAN = (
    "<h2>Soft</h2><p>100% <strong>cotton</strong> "
    '<a rel="nofollow noopener">x</a> '
    '<a href="https://example.com/care" rel="nofollow noopener">care</a></p><img>'
)


async def _editor() -> dict[str, str]:
    staff = await make_staff(email="editor@example.com", permissions=["catalog.read", "catalog.write"])
    return {**await staff_headers(staff.id), **EN}


async def test_create_and_update_sanitise_the_same_way(client: AsyncClient) -> None:
    headers = await _editor()
    category, product_type = await make_category(), await make_product_type()

    created = await client.post(
        f"{A}/products",
        json={
            "product_type_id": product_type.id,
            "category_id": category.id,
            "title": "T恤",
            "description_html": DIRTY,
        },
        headers=headers,
    )
    product_id = created.json()["id"]
    updated = await client.patch(
        f"{A}/products/{product_id}",
        json={"description_html": "Soft & warm\nline two\n\nWash cold"},
        headers=headers,
    )

    assert (created.status_code, created.json()["description_html"]) == (201, CLEAN)
    assert (updated.status_code, updated.json()["description_html"]) == (
        200,
        "<p>Soft &amp; warm<br>line two</p><p>Wash cold</p>",
    )


async def test_a_plain_text_description_stored_before_the_editor_reads_as_paragraphs(
    client: AsyncClient,
) -> None:
    headers = await _editor()
    product = await make_product()
    async with uow() as s:  # as an import before the editor stored it: escaped text, no tags
        row = await s.get(Product, product.id)
        assert row is not None
        row.description_html = "Tom &amp; Jerry\n\nsecond"

    response = await client.get(f"{A}/products/{product.id}", headers=headers)

    assert response.json()["description_html"] == "<p>Tom &amp; Jerry</p><p>second</p>"
