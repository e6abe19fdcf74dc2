"""The console's product pages: list with filters, new product, editor (basic fields, SKU matrix,
SKU prices typed in yuan, images, listing actions), permissions and CSRF."""

from __future__ import annotations

import html
import re

from httpx import AsyncClient, Response

from mercato.catalog.models import ProductImage, Sku
from mercato.identity.models import AuditEntry
from tests.factories.catalog import (
    count,
    get_product,
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
    make_product,
    make_product_type,
    set_specs,
    snapshot,
)
from tests.factories.media import image_bytes
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, post_form, staff_sign_in

XSS = "<script>alert(1)</script>"
WRITER = ["catalog.read", "catalog.write"]


async def _open_editor(client: AsyncClient, product_id: int, *permissions: str) -> Response:
    """Sign in as a catalog editor holding ``permissions`` (by default catalog.read and
    catalog.write) and open the product's page."""
    await staff_sign_in(client, "cat@example.com", *(permissions or WRITER))
    return await client.get(f"/admin/catalog/products/{product_id}")


async def _skus(product_id: int) -> list[Sku]:
    from sqlalchemy import select  # noqa: PLC0415

    from mercato.core.db import uow  # noqa: PLC0415

    async with uow(write=False) as s:
        return list(
            (await s.execute(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id))).scalars()
        )


# --- list -----------------------------------------------------------------------------------


async def test_the_list_filters_by_search_category_brand_and_status(client: AsyncClient) -> None:
    shoes = await make_category("鞋")
    brand = await make_brand("艾克美")
    await make_product(title="帆布鞋", category_id=shoes.id, brand_id=brand.id)
    await make_product(title="纯棉T恤")
    listed = await make_listed_product(title="羊毛袜")
    await staff_sign_in(client, "cat@example.com", *WRITER)

    everything = await client.get("/admin/catalog/", headers=EN)
    by_text = await client.get("/admin/catalog/", params={"q": "帆布"})
    by_category = await client.get("/admin/catalog/", params={"category_id": str(shoes.id)})
    by_brand = await client.get("/admin/catalog/", params={"brand_id": str(brand.id)})
    on_sale = await client.get("/admin/catalog/", params={"status": "on_sale"})
    nothing = await client.get("/admin/catalog/", params={"q": "不存在"}, headers=EN)

    assert everything.status_code == 200
    assert everything.text.count("<tr>") == 1 + 3
    assert f'href="/admin/catalog/products/{listed.id}">羊毛袜</a>' in everything.text
    assert 'href="/admin/catalog/products/new"' in everything.text
    assert by_text.text.count("<tr>") == 1 + 1
    assert "帆布鞋" in by_text.text
    assert by_category.text.count("<tr>") == 1 + 1
    assert "帆布鞋" in by_category.text
    assert by_brand.text.count("<tr>") == 1 + 1
    assert "艾克美" in by_brand.text
    assert on_sale.text.count("<tr>") == 1 + 1
    assert "羊毛袜" in on_sale.text
    assert "¥99.00" in on_sale.text
    assert "No products match." in nothing.text


async def test_the_list_pages_with_a_cursor(client: AsyncClient) -> None:
    category = await make_category()
    product_type = await make_product_type()
    for n in range(21):
        await make_product(title=f"商品{n:02d}", category_id=category.id, product_type_id=product_type.id)
    await staff_sign_in(client, "cat@example.com", *WRITER)

    first = await client.get("/admin/catalog/")
    marker = 'href="/admin/catalog/?cursor='
    start = first.text.index(marker) + len('href="')
    second = await client.get(html.unescape(first.text[start : first.text.index('"', start)]))

    assert first.text.count("<tr>") == 1 + 20
    assert second.text.count("<tr>") == 1 + 1
    assert "商品00" in second.text
    assert 'rel="next"' not in second.text


async def test_a_script_title_is_escaped_on_the_list_and_the_editor(client: AsyncClient) -> None:
    product = await make_product(title=XSS)
    await staff_sign_in(client, "cat@example.com", *WRITER)

    listing = await client.get("/admin/catalog/")
    editor = await client.get(f"/admin/catalog/products/{product.id}")

    for page in (listing, editor):
        assert XSS not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_catalog_pages_need_catalog_read_and_a_session(client: AsyncClient) -> None:
    product = await make_product()

    anonymous = await client.get("/admin/catalog/")
    await staff_sign_in(client, "cat@example.com")
    refused = await client.get("/admin/catalog/", headers=EN)
    refused_editor = await client.get(f"/admin/catalog/products/{product.id}", headers=EN)

    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/admin/login?next=/admin/catalog/"
    assert refused.status_code == 403
    assert "You need the catalog.read permission." in refused.text
    assert refused_editor.status_code == 403
    assert "纯棉圆领T恤" not in refused_editor.text


async def test_a_missing_product_is_a_404_page(client: AsyncClient) -> None:
    await staff_sign_in(client, "cat@example.com", *WRITER)

    response = await client.get("/admin/catalog/products/999999", headers=EN)

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"


# --- new product ----------------------------------------------------------------------------


async def test_a_new_product_is_created_as_a_draft(client: AsyncClient) -> None:
    category = await make_category("上衣")
    product_type = await make_product_type("服装")
    await staff_sign_in(client, "cat@example.com", *WRITER)

    response = await post_form(
        client,
        "/admin/catalog/products/new",
        "/admin/catalog/products",
        {
            "title": "亚麻衬衫",
            "product_type_id": str(product_type.id),
            "category_id": str(category.id),
            "brand_id": "",
            "slug": "linen-shirt",
        },
    )

    assert response.status_code == 303
    product_id = int(response.headers["location"].split("/")[-1].split("?")[0])
    assert response.headers["location"] == f"/admin/catalog/products/{product_id}?notice=created"
    product = await get_product(product_id)
    assert (product.title, product.slug, product.status.value, product.brand_id) == (
        "亚麻衬衫",
        "linen-shirt",
        "draft",
        None,
    )
    page = await client.get(response.headers["location"], headers=EN)
    assert "The draft product was created. Choose its specs next." in page.text


async def test_a_new_product_without_title_or_category_shows_field_errors(client: AsyncClient) -> None:
    product_type = await make_product_type()
    await staff_sign_in(client, "cat@example.com", *WRITER)
    before = await snapshot()

    page = await client.get("/admin/catalog/products/new")
    response = await client.post(
        "/admin/catalog/products",
        data={
            "title": "",
            "product_type_id": str(product_type.id),
            "category_id": "",
            "csrf_token": csrf_of(page),
        },
        headers=EN,
    )

    assert response.status_code == 422
    assert field_error_of(response, "product-new-title") == "This field is required."
    assert field_error_of(response, "product-new-category_id") == "This field is required."
    assert await snapshot() == before


async def test_creating_needs_catalog_write(client: AsyncClient) -> None:
    category = await make_category()
    product_type = await make_product_type()
    await staff_sign_in(client, "cat@example.com", "catalog.read")
    page = await client.get("/admin/catalog/")
    before = await snapshot()

    response = await client.post(
        "/admin/catalog/products",
        data={
            "title": "偷偷上新",
            "product_type_id": str(product_type.id),
            "category_id": str(category.id),
            "csrf_token": csrf_of(page),
        },
        headers=EN,
    )

    assert response.status_code == 403
    assert "You need the catalog.write permission." in response.text
    assert 'href="/admin/catalog/products/new"' not in page.text
    assert await snapshot() == before


# --- basic fields ---------------------------------------------------------------------------


async def test_the_basic_fields_and_parameters_are_saved(client: AsyncClient) -> None:
    product = await make_product(title="旧标题")
    brand = await make_brand("新品牌")
    page = await _open_editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}",
        data={
            "title": "新标题",
            "title_en": "New title",
            "subtitle": "",
            "slug": "new-title",
            "category_id": str(product.category_id),
            "brand_id": str(brand.id),
            "description_html": "<p>好看</p><script>x()</script>",
            "param-material": "棉",
            "param-origin": "上海",
            "csrf_token": csrf_of(page),
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/catalog/products/{product.id}?notice=saved"
    saved = await get_product(product.id)
    assert (saved.title, saved.title_en, saved.slug, saved.brand_id) == (
        "新标题",
        "New title",
        "new-title",
        brand.id,
    )
    assert saved.description_html == "<p>好看</p>"
    assert saved.params == {"material": "棉", "origin": "上海"}
    assert await count(AuditEntry, AuditEntry.action == "product.update") == 1


async def test_a_bad_slug_is_a_field_error_and_nothing_changes(client: AsyncClient) -> None:
    product = await make_product(title="旧标题")
    page = await _open_editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}",
        data={"title": "新标题", "slug": "Not A Slug", "csrf_token": csrf_of(page)},
    )

    assert response.status_code == 422
    assert "product-slug-error" in response.text
    assert 'value="新标题"' in response.text  # what was typed comes back
    assert (await get_product(product.id)).title == "旧标题"


# --- SKU matrix and prices ------------------------------------------------------------------


async def test_choosing_specs_generates_the_sku_combinations(client: AsyncClient) -> None:
    product = await make_product()
    page = await _open_editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}/specs",
        data={"spec-colour": ["红色", "黑色"], "spec-size": ["S", "M"], "csrf_token": csrf_of(page)},
    )

    assert response.status_code == 303
    skus = await _skus(product.id)
    assert sorted((s.spec["colour"], s.spec["size"]) for s in skus) == [
        ("红色", "M"),
        ("红色", "S"),
        ("黑色", "M"),
        ("黑色", "S"),
    ]
    editor = await client.get(response.headers["location"], headers=EN)
    assert editor.text.count('name="price-') == 4
    assert "The specs were saved; the SKUs follow them." in editor.text


async def test_the_sku_table_saves_prices_in_yuan_exactly(client: AsyncClient) -> None:
    product = await make_product()
    red, black = await set_specs(product.id, {"colour": ["红色", "黑色"]})
    page = await _open_editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}/skus",
        data={
            f"code-{red.id}": "TEE-RED",
            f"price-{red.id}": "12.34",
            f"cost-{red.id}": "5",
            f"enabled-{red.id}": "1",
            f"code-{black.id}": black.code,
            f"price-{black.id}": "0.10",
            f"cost-{black.id}": "",
            "csrf_token": csrf_of(page),
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/catalog/products/{product.id}?notice=skus"
    rows = {s.id: s for s in await _skus(product.id)}
    assert (rows[red.id].code, rows[red.id].price_amount, rows[red.id].cost_price_amount) == (
        "TEE-RED",
        1234,
        500,
    )
    assert rows[red.id].status == "active"
    assert (rows[black.id].price_amount, rows[black.id].cost_price_amount, rows[black.id].status) == (
        10,
        None,
        "disabled",
    )
    editor = await client.get(f"/admin/catalog/products/{product.id}")
    assert f'id="sku-{red.id}-price" name="price-{red.id}" type="text" value="12.34"' in editor.text


async def test_malformed_or_negative_prices_are_field_errors_and_nothing_is_saved(
    client: AsyncClient,
) -> None:
    product = await make_product()
    red, black, white = await set_specs(product.id, {"colour": ["红色", "黑色", "白色"]})
    page = await _open_editor(client, product.id)
    before = await snapshot()

    response = await client.post(
        f"/admin/catalog/products/{product.id}/skus",
        data={
            f"price-{red.id}": "12.345",
            f"enabled-{red.id}": "1",
            f"price-{black.id}": "abc",
            f"enabled-{black.id}": "1",
            f"price-{white.id}": "-1",
            f"cost-{white.id}": "3.00",
            f"enabled-{white.id}": "1",
            "csrf_token": csrf_of(page),
        },
        headers=EN,
    )

    assert response.status_code == 422
    assert alert_of(response) == "Some fields are not valid."
    assert field_error_of(response, f"sku-{red.id}-price") == "Use at most 2 digits after the decimal point."
    assert field_error_of(response, f"sku-{black.id}-price") == "Enter an amount such as 12.34."
    assert field_error_of(response, f"sku-{white.id}-price") == "The amount cannot be negative."
    assert f'name="price-{black.id}" type="text" value="abc"' in response.text
    assert await snapshot() == before
    assert [(s.price_amount, s.cost_price_amount) for s in await _skus(product.id)] == [(0, None)] * 3


async def test_a_refused_row_rolls_back_the_whole_table(client: AsyncClient) -> None:
    product, (red, black) = await make_priced_product(price_amount=9900)
    other, (taken, _) = await make_priced_product()
    page = await _open_editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}/skus",
        data={
            f"code-{red.id}": red.code,
            f"price-{red.id}": "1.00",
            f"enabled-{red.id}": "1",
            f"code-{black.id}": taken.code,
            f"price-{black.id}": "99.00",
            f"enabled-{black.id}": "1",
            "csrf_token": csrf_of(page),
        },
        headers=EN,
    )

    assert response.status_code == 409
    assert field_error_of(response, f"sku-{black.id}-code") == f"The SKU code {taken.code} is already used."
    assert [s.price_amount for s in await _skus(product.id)] == [9900, 9900]


async def test_saving_skus_needs_catalog_write_and_csrf(client: AsyncClient) -> None:
    product = await make_product()
    (sku,) = await set_specs(product.id, {"colour": ["红色"]})
    page = await _open_editor(client, product.id, "catalog.read")
    before = await snapshot()

    refused = await client.post(
        f"/admin/catalog/products/{product.id}/skus",
        data={f"price-{sku.id}": "10", f"enabled-{sku.id}": "1", "csrf_token": csrf_of(page)},
        headers=EN,
    )
    no_csrf = await client.post(
        f"/admin/catalog/products/{product.id}/skus",
        data={f"price-{sku.id}": "10", f"enabled-{sku.id}": "1", "csrf_token": "forged"},
    )

    assert refused.status_code == 403
    assert "You need the catalog.write permission." in refused.text
    assert no_csrf.status_code == 403
    assert await snapshot() == before
    assert [s.price_amount for s in await _skus(product.id)] == [0]


# --- images ---------------------------------------------------------------------------------


async def test_images_are_uploaded_reordered_and_removed(client: AsyncClient) -> None:
    product = await make_product()
    page = await _open_editor(client, product.id)
    token = csrf_of(page)

    for alt in ("正面", "背面"):
        added = await client.post(
            f"/admin/catalog/products/{product.id}/images",
            data={"alt": alt, "csrf_token": token},
            files={"file": ("photo.png", image_bytes("PNG", (64, 48)), "image/png")},
        )
        assert added.status_code == 303
    editor = await client.get(f"/admin/catalog/products/{product.id}")
    assert editor.text.index('alt="正面"') < editor.text.index('alt="背面"')
    second_id = int(re.findall(r"/images/(\d+)/move", editor.text)[-1])

    moved = await client.post(
        f"/admin/catalog/products/{product.id}/images/{second_id}/move",
        data={"direction": "up", "csrf_token": token},
    )
    reordered = await client.get(f"/admin/catalog/products/{product.id}")
    removed = await client.post(
        f"/admin/catalog/products/{product.id}/images/{second_id}/remove", data={"csrf_token": token}
    )

    assert moved.status_code == 303
    assert reordered.text.index('alt="背面"') < reordered.text.index('alt="正面"')
    assert removed.status_code == 303
    assert await count(ProductImage) == 1


async def test_a_file_that_is_not_an_image_is_an_error_next_to_the_field(client: AsyncClient) -> None:
    product = await make_product()
    page = await _open_editor(client, product.id)

    response = await client.post(
        f"/admin/catalog/products/{product.id}/images",
        data={"alt": "x", "csrf_token": csrf_of(page)},
        files={"file": ("notes.png", b"not an image at all", "image/png")},
        headers=EN,
    )
    empty = await client.post(
        f"/admin/catalog/products/{product.id}/images",
        data={"alt": "x", "csrf_token": csrf_of(page)},
        headers=EN,
    )

    assert response.status_code == 422
    assert field_error_of(response, "image-file") == "The file is not a valid JPEG, PNG or WebP image."
    assert empty.status_code == 422
    assert field_error_of(empty, "image-file") == "Choose an image file."
    assert await count(ProductImage) == 0


# --- listing actions ------------------------------------------------------------------------


async def test_submit_take_off_sale_and_put_on_sale_with_the_history(client: AsyncClient) -> None:
    product, _skus_ = await make_priced_product()
    page = await _open_editor(client, product.id, *WRITER, "catalog.review")
    token = csrf_of(page)

    submitted = await client.post(f"/admin/catalog/products/{product.id}/submit", data={"csrf_token": token})
    assert submitted.status_code == 303
    assert (await get_product(product.id)).status.value == "pending_review"
    approved = await client.post(f"/admin/catalog/review/{product.id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    off = await client.post(
        f"/admin/catalog/products/{product.id}/take-off-sale", data={"reason": "断货", "csrf_token": token}
    )
    assert (await get_product(product.id)).status.value == "off_sale"
    on = await client.post(f"/admin/catalog/products/{product.id}/put-on-sale", data={"csrf_token": token})

    assert off.status_code == 303
    assert on.status_code == 303
    assert (await get_product(product.id)).status.value == "on_sale"
    editor = await client.get(f"/admin/catalog/products/{product.id}", headers=EN)
    assert editor.text.count("On sale → Off sale") == 1
    assert "断货" in editor.text
    assert "Draft → Waiting for review" in editor.text


async def test_submitting_with_a_banned_term_lists_the_findings(client: AsyncClient) -> None:
    from tests.factories.catalog import load_banned_terms  # noqa: PLC0415

    await load_banned_terms()
    product, _skus_ = await make_priced_product(title="最好的T恤")
    page = await _open_editor(client, product.id)
    before = await snapshot()

    response = await client.post(
        f"/admin/catalog/products/{product.id}/submit", data={"csrf_token": csrf_of(page)}, headers=EN
    )

    assert response.status_code == 422
    assert "Title · 最好: Uses a banned absolute term (Advertising Law art. 9)." in html.unescape(
        response.text
    )
    assert (await get_product(product.id)).status.value == "draft"
    assert await snapshot() == before


async def test_the_list_keeps_its_filters_in_the_export_links(client: AsyncClient) -> None:
    shoes = await make_category("鞋")
    await staff_sign_in(client, "cat@example.com", *WRITER)

    page = await client.get(
        "/admin/catalog/", params={"category_id": str(shoes.id), "status": "on_sale", "brand_id": "999"}
    )

    assert (
        f'href="/admin/catalog/export?category_id={shoes.id}&amp;status=on_sale&amp;format=csv" download>'
        in page.text
    )
    assert f'<option value="{shoes.id}" selected>鞋</option>' in page.text
    assert '<option value="on_sale" selected>' in page.text
