"""The console's category tree and brand pages: create, rename, move, reorder, delete when empty;
brands with search, edit, logo upload and delete when unused; permissions and CSRF."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from mercato import catalog
from mercato.catalog.models import Brand, Category
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.catalog import SYSTEM, count, get_product, make_brand, make_category, make_product
from tests.factories.media import image_bytes
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

XSS = "<script>alert(1)</script>"
WRITER = ["catalog.read", "catalog.write"]


async def _sign_in(client: AsyncClient, permissions: list[str] | None = None) -> str:
    """Sign in; returns a CSRF token for later posts."""
    await staff_sign_in(client, "tax@example.com", *(WRITER if permissions is None else permissions))
    return csrf_of(await client.get("/admin/catalog/categories"))


async def _tree() -> list[catalog.CategoryNode]:
    async with uow(write=False) as session:
        return await catalog.get_category_tree(session)


# --- categories -----------------------------------------------------------------------------


async def test_the_tree_shows_nested_categories_escaped(client: AsyncClient) -> None:
    root = await make_category("服装", slug="clothing")
    await make_category(XSS, parent_id=root.id, slug="tops")
    await _sign_in(client)

    page = await client.get("/admin/catalog/categories", headers=EN)

    assert page.status_code == 200
    assert page.text.count('<ul class="category-tree">') == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert XSS not in page.text


async def test_a_category_is_created_under_a_parent(client: AsyncClient) -> None:
    root = await make_category("服装")
    token = await _sign_in(client)

    response = await client.post(
        "/admin/catalog/categories",
        data={
            "name": "裤装",
            "name_en": "Trousers",
            "slug": "trousers",
            "parent_id": str(root.id),
            "csrf_token": token,
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/catalog/categories?notice=created"
    (node,) = await _tree()
    assert [(c.name, c.name_en, c.slug) for c in node.children] == [("裤装", "Trousers", "trousers")]
    assert await count(AuditEntry, AuditEntry.action == "category.create") == 2  # the factory's, then ours


async def test_a_category_without_a_name_is_a_field_error(client: AsyncClient) -> None:
    token = await _sign_in(client)

    response = await client.post(
        "/admin/catalog/categories", data={"name": "", "slug": "x", "csrf_token": token}, headers=EN
    )

    assert response.status_code == 422
    assert field_error_of(response, "category-new-name") == "This field is required."
    assert await count(Category) == 0


async def test_rename_move_and_reorder(client: AsyncClient) -> None:
    first = await make_category("甲", position=0)
    second = await make_category("乙", position=1)
    token = await _sign_in(client)

    renamed = await client.post(
        f"/admin/catalog/categories/{first.id}/rename",
        data={"name": "甲类", "name_en": "A", "csrf_token": token},
    )
    reordered = await client.post(
        f"/admin/catalog/categories/{second.id}/reorder", data={"direction": "up", "csrf_token": token}
    )
    assert [n.name for n in await _tree()] == ["乙", "甲类"]
    moved = await client.post(
        f"/admin/catalog/categories/{first.id}/move", data={"parent_id": str(second.id), "csrf_token": token}
    )

    assert (renamed.status_code, reordered.status_code, moved.status_code) == (303, 303, 303)
    (root,) = await _tree()
    assert (root.name, [c.name for c in root.children]) == ("乙", ["甲类"])
    assert root.children[0].name_en == "A"


async def test_moving_a_category_under_its_own_child_is_refused(client: AsyncClient) -> None:
    parent = await make_category("父")
    child = await make_category("子", parent_id=parent.id)
    token = await _sign_in(client)

    response = await client.post(
        f"/admin/catalog/categories/{parent.id}/move",
        data={"parent_id": str(child.id), "csrf_token": token},
        headers=EN,
    )

    assert response.status_code in (409, 422)
    assert '<details class="category-edit" open>' in response.text
    (root,) = await _tree()
    assert (root.id, [c.id for c in root.children]) == (parent.id, [child.id])


async def test_category_changes_need_catalog_write_and_csrf(client: AsyncClient) -> None:
    category = await make_category("原名")
    token = await _sign_in(client, permissions=["catalog.read"])
    audit_before = await count(AuditEntry)

    page = await client.get("/admin/catalog/categories", headers=EN)
    refused = await client.post(
        f"/admin/catalog/categories/{category.id}/rename",
        data={"name": "新名", "csrf_token": token},
        headers=EN,
    )
    deleted = await client.post(f"/admin/catalog/categories/{category.id}/delete", data={"csrf_token": token})
    forged = await client.post("/admin/catalog/categories", data={"name": "新", "csrf_token": "forged"})

    assert page.status_code == 200
    assert "New category" not in page.text
    assert refused.status_code == 403
    assert "You need the catalog.write permission." in refused.text
    assert deleted.status_code == 403
    assert forged.status_code == 403
    assert [(n.name, n.id) for n in await _tree()] == [("原名", category.id)]
    assert await count(AuditEntry) == audit_before


# --- brands ---------------------------------------------------------------------------------


async def test_brands_are_listed_searched_and_created(client: AsyncClient) -> None:
    await make_brand("艾克美")
    await make_brand(XSS)
    token = await _sign_in(client)

    everything = await client.get("/admin/catalog/brands")
    found = await client.get("/admin/catalog/brands", params={"q": "艾克"})
    created = await client.post(
        "/admin/catalog/brands",
        data={"name": "新牌", "name_en": "Newco", "slug": "newco", "csrf_token": token},
    )

    assert everything.text.count("<tr>") == 1 + 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everything.text
    assert XSS not in everything.text
    assert found.text.count("<tr>") == 1 + 1
    assert created.status_code == 303
    async with uow(write=False) as session:
        page = await catalog.list_brands(session, query="Newco")
    (brand,) = page.items
    assert created.headers["location"] == f"/admin/catalog/brands/{brand.id}?notice=created"
    assert (brand.name, brand.slug) == ("新牌", "newco")


async def test_a_taken_brand_name_is_refused_and_nothing_is_created(client: AsyncClient) -> None:
    await make_brand("艾克美")
    token = await _sign_in(client)

    response = await client.post(
        "/admin/catalog/brands", data={"name": "艾克美", "csrf_token": token}, headers=EN
    )

    assert response.status_code == 409
    assert await count(Brand) == 1


async def test_a_brand_is_edited_and_gets_a_logo(client: AsyncClient) -> None:
    brand = await make_brand("旧名")
    token = await _sign_in(client)

    saved = await client.post(
        f"/admin/catalog/brands/{brand.id}",
        data={"name": "新名", "name_en": "New", "slug": "new-name", "csrf_token": token},
    )
    logo = await client.post(
        f"/admin/catalog/brands/{brand.id}/logo",
        data={"csrf_token": token},
        files={"file": ("logo.png", image_bytes("PNG", (32, 32)), "image/png")},
    )
    bad_logo = await client.post(
        f"/admin/catalog/brands/{brand.id}/logo",
        data={"csrf_token": token},
        files={"file": ("logo.png", b"GIF89a nope", "image/png")},
        headers=EN,
    )

    assert saved.status_code == 303
    assert logo.status_code == 303
    async with uow(write=False) as session:
        read = await catalog.get_brand(session, brand_id=brand.id)
    assert (read.name, read.name_en, read.slug) == ("新名", "New", "new-name")
    assert read.logo_key is not None
    page = await client.get(f"/admin/catalog/brands/{brand.id}")
    assert '<img class="brand-logo" src="/media/' in page.text
    assert bad_logo.status_code == 422
    assert field_error_of(bad_logo, "logo-file") == "The file is not a valid JPEG, PNG or WebP image."


# --- both ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "make", "model", "link", "message"),
    [
        (
            "categories",
            make_category,
            Category,
            "category_id",
            "The category still has subcategories or products.",
        ),
        ("brands", make_brand, Brand, "brand_id", "Products still use this brand."),
    ],
)
async def test_only_an_unused_category_or_brand_can_be_deleted(
    client: AsyncClient,
    path: str,
    make: Callable[[str], Awaitable[Any]],
    model: type[Category] | type[Brand],
    link: str,
    message: str,
) -> None:
    used = await make("在用")
    await make_product(**{link: used.id})
    unused = await make("闲置")
    token = await _sign_in(client)

    refused = await client.post(
        f"/admin/catalog/{path}/{used.id}/delete", data={"csrf_token": token}, headers=EN
    )
    deleted = await client.post(f"/admin/catalog/{path}/{unused.id}/delete", data={"csrf_token": token})

    assert refused.status_code == 409
    assert alert_of(refused) == message
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"/admin/catalog/{path}?notice=deleted"
    async with uow(write=False) as session:
        assert list((await session.execute(select(model.id))).scalars()) == [used.id]


async def test_brand_changes_need_catalog_write(client: AsyncClient) -> None:
    brand = await make_brand("原名")
    token = await _sign_in(client, permissions=["catalog.read"])

    refused = await client.post(
        f"/admin/catalog/brands/{brand.id}", data={"name": "新名", "csrf_token": token}, headers=EN
    )
    deleted = await client.post(f"/admin/catalog/brands/{brand.id}/delete", data={"csrf_token": token})

    assert refused.status_code == 403
    assert deleted.status_code == 403
    async with uow(write=False) as session:
        assert (await catalog.get_brand(session, brand_id=brand.id)).name == "原名"


async def test_every_brand_is_offered_in_the_product_forms_and_named_in_the_list(client: AsyncClient) -> None:
    async with uow() as session:  # 101 brands: more than one page of list_brands
        brands = [
            await catalog.create_brand(
                session, data=catalog.BrandCreate(name=f"B{n:03d}", slug=f"brand-x{n:03d}"), actor=SYSTEM
            )
            for n in range(101)
        ]
    last = brands[-1]
    product = await make_product(brand_id=last.id)
    token = await _sign_in(client)

    new_page = await client.get("/admin/catalog/products/new", headers=EN)
    editor = await client.get(f"/admin/catalog/products/{product.id}", headers=EN)
    listed = await client.get("/admin/catalog/", headers=EN)
    form = {"title": product.title, "category_id": str(product.category_id), "brand_id": str(last.id)}
    saved = await client.post(f"/admin/catalog/products/{product.id}", data={**form, "csrf_token": token})

    assert new_page.text.count('<option value="') >= 101
    assert f'<option value="{last.id}">B100</option>' in new_page.text
    assert f'<option value="{last.id}" selected>B100</option>' in editor.text
    assert '<td data-label="Brand">B100</td>' in listed.text
    assert saved.status_code == 303
    assert (await get_product(product.id)).brand_id == last.id


async def test_the_brand_export_writes_the_searched_brands(client: AsyncClient) -> None:
    first = await make_brand("艾克A", slug="acme-a")
    second = await make_brand("艾克B", slug="acme-b")
    await make_brand("别的", slug="other")
    await _sign_in(client, ["catalog.read"])

    page = await client.get("/admin/catalog/brands", params={"q": "艾克"}, headers=EN)
    exported = await client.get("/admin/catalog/brands", params={"q": "艾克", "export": "csv"}, headers=EN)

    assert (
        '<a href="/admin/catalog/brands?q=%E8%89%BE%E5%85%8B&amp;export=csv" download>Export CSV</a>'
        in page.text
    )
    assert 'id="new-brand-title"' not in page.text  # no create form without catalog.write
    assert exported.headers["content-disposition"] == 'attachment; filename="brands.csv"'
    assert exported.content.decode("utf-8-sig").splitlines() == [
        "Logo,Name,English name,Slug",
        f",艾克A,{first.name_en},acme-a",
        f",艾克B,{second.name_en},acme-b",
    ]
