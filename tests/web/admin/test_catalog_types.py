"""The console's product type pages: list and create types (catalog.read / catalog.write), add
attributes, add and remove their values; refusals change nothing; permissions and CSRF."""

from __future__ import annotations

import datetime as dt
import io
import re

from httpx import AsyncClient
from openpyxl import load_workbook

from mercato import catalog
from mercato.catalog.models import Attribute, AttributeValue, ProductType
from mercato.core import clock
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.catalog import count as count_rows
from tests.factories.catalog import make_product, make_product_type, set_specs
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

TYPES = "/admin/catalog/types"
XSS = "<script>alert(1)</script>"
WRITER = ["catalog.read", "catalog.write"]


async def _sign_in(
    client: AsyncClient, permissions: list[str] | None = None, email: str = "types@example.com"
) -> str:
    """Sign in; a CSRF token for later posts."""
    await staff_sign_in(client, email, *(WRITER if permissions is None else permissions))
    return csrf_of(await client.get("/admin/"))


async def _type(product_type_id: int) -> catalog.ProductTypeRead:
    async with uow(write=False) as session:
        return await catalog.get_product_type(session, product_type_id=product_type_id)


async def _counts() -> tuple[int, int, int, int]:
    return (
        await count_rows(ProductType),
        await count_rows(Attribute),
        await count_rows(AttributeValue),
        await count_rows(AuditEntry),
    )


async def test_a_type_is_created_then_gets_an_attribute_and_values(client: AsyncClient) -> None:
    token = await _sign_in(client)

    created = await client.post(TYPES, data={"name": "鞋靴", "name_en": "Shoes", "csrf_token": token})
    type_url = created.headers["location"].split("?")[0]
    type_id = int(type_url.rsplit("/", 1)[1])
    attribute = await client.post(
        f"{type_url}/attributes",
        data={
            "code": "shoe_size",
            "name": "鞋码",
            "kind": "spec",
            "values": "38\n39\n\n",
            "csrf_token": token,
        },
    )
    (added,) = (await _type(type_id)).attributes
    value = await client.post(
        f"{type_url}/attributes/{added.id}/values",
        data={"value": "40", "value_en": "EU 40", "csrf_token": token},
    )
    page = await client.get(type_url, headers=EN)
    listed = await client.get(TYPES, headers=EN)

    assert created.status_code == 303
    assert created.headers["location"] == f"{TYPES}/{type_id}?notice=created"
    assert attribute.status_code == 303
    assert attribute.headers["location"] == f"{TYPES}/{type_id}?notice=attribute"
    assert value.headers["location"] == f"{TYPES}/{type_id}?notice=value_added"
    saved = await _type(type_id)
    assert (saved.name, saved.name_en) == ("鞋靴", "Shoes")
    (shoe_size,) = saved.attributes
    assert (shoe_size.code, shoe_size.name, shoe_size.kind) == (
        "shoe_size",
        "鞋码",
        catalog.AttributeKind.spec,
    )
    assert [(v.value, v.value_en) for v in shoe_size.values] == [("38", ""), ("39", ""), ("40", "EU 40")]
    assert page.status_code == 200
    assert "鞋码 <code>shoe_size</code>" in page.text
    assert f'<a href="{TYPES}/{type_id}">鞋靴</a>' in listed.text


async def test_an_unused_value_is_removed_and_a_used_one_is_kept(client: AsyncClient) -> None:
    product_type = await make_product_type()
    product = await make_product(product_type_id=product_type.id)
    await set_specs(product.id, {"colour": ["红色"], "size": ["S"]})
    colour = next(a for a in product_type.attributes if a.code == "colour")
    red, black = colour.values[0], colour.values[1]
    token = await _sign_in(client)
    base = f"{TYPES}/{product_type.id}/attributes/{colour.id}/values"

    removed = await client.post(f"{base}/{black.id}/delete", data={"csrf_token": token})
    before = await _counts()
    in_use = await client.post(f"{base}/{red.id}/delete", data={"csrf_token": token}, headers=EN)
    missing = await client.post(f"{base}/999999/delete", data={"csrf_token": token})

    assert removed.status_code == 303
    assert removed.headers["location"] == f"{TYPES}/{product_type.id}?notice=value_removed"
    assert in_use.status_code == 409
    assert alert_of(in_use) == "This value is used by products or active SKUs; change them first."
    assert f'id="remove-{red.id}-error"' in in_use.text
    assert missing.status_code == 404
    assert [v.value for v in (await _type(product_type.id)).attributes[0].values] == ["红色", "白色"]
    assert await _counts() == before


async def test_refused_type_attribute_and_value_forms_change_nothing(client: AsyncClient) -> None:
    product_type = await make_product_type(XSS)
    colour = product_type.attributes[0]
    token = await _sign_in(client)
    type_url = f"{TYPES}/{product_type.id}"
    before = await _counts()

    taken_name = await client.post(TYPES, data={"name": XSS, "csrf_token": token}, headers=EN)
    blank_name = await client.post(TYPES, data={"name": "", "csrf_token": token}, headers=EN)
    bad_code = await client.post(
        f"{type_url}/attributes", data={"code": "Bad Code", "name": "x", "kind": "spec", "csrf_token": token}
    )
    taken_code = await client.post(
        f"{type_url}/attributes",
        data={"code": "colour", "name": "颜色2", "kind": "param", "csrf_token": token},
        headers=EN,
    )
    no_kind = await client.post(
        f"{type_url}/attributes", data={"code": "fit", "name": "版型", "csrf_token": token}
    )
    taken_value = await client.post(
        f"{type_url}/attributes/{colour.id}/values", data={"value": "红色", "csrf_token": token}, headers=EN
    )
    bad_value = await client.post(
        f"{type_url}/attributes/{colour.id}/values", data={"value": "a=b", "csrf_token": token}
    )
    missing_type = await client.post(
        f"{TYPES}/999999/attributes/{colour.id}/values", data={"value": "x", "csrf_token": token}
    )
    page = await client.get(type_url, headers=EN)

    assert taken_name.status_code == 409
    assert field_error_of(taken_name, "type-new-name") == "This name is already used."
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in taken_name.text
    assert XSS not in taken_name.text
    assert blank_name.status_code == 422
    assert field_error_of(blank_name, "type-new-name") == "This field is required."
    assert bad_code.status_code == 422
    assert field_error_of(bad_code, "attribute-code") != ""
    assert 'value="Bad Code"' in bad_code.text
    assert taken_code.status_code == 409
    assert field_error_of(taken_code, "attribute-code") == (
        "The product type already has an attribute with this code."
    )
    assert no_kind.status_code == 422
    assert field_error_of(no_kind, "attribute-kind") == "此项为必填。"
    assert taken_value.status_code == 409
    assert field_error_of(taken_value, f"value-{colour.id}-value") == "The attribute already has this value."
    assert bad_value.status_code == 422
    assert field_error_of(bad_value, f"value-{colour.id}-value") != ""
    assert missing_type.status_code == 404
    assert XSS not in page.text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert await _counts() == before


async def test_type_writes_need_catalog_write_and_the_csrf_token(client: AsyncClient) -> None:
    product_type = await make_product_type()
    colour = product_type.attributes[0]
    token = await _sign_in(client, ["catalog.read"])
    type_url = f"{TYPES}/{product_type.id}"
    before = await _counts()

    page = await client.get(type_url, headers=EN)
    create = await client.post(TYPES, data={"name": "新类型", "csrf_token": token})
    attribute = await client.post(
        f"{type_url}/attributes", data={"code": "fit", "name": "版型", "kind": "param", "csrf_token": token}
    )
    value = await client.post(
        f"{type_url}/attributes/{colour.id}/values", data={"value": "蓝", "csrf_token": token}
    )
    remove = await client.post(
        f"{type_url}/attributes/{colour.id}/values/{colour.values[0].id}/delete", data={"csrf_token": token}
    )
    rename = await client.post(type_url, data={"name": "X", "csrf_token": token})
    client.cookies.clear()
    await staff_sign_in(client, "nobody@example.com", "orders.read")
    no_read = await client.get(TYPES)
    client.cookies.clear()
    await _sign_in(client, email="writer@example.com")
    writer_before = await _counts()
    no_csrf = await client.post(TYPES, data={"name": "新类型", "csrf_token": "x"})

    assert page.status_code == 200
    assert f'action="{type_url}/attributes"' not in page.text
    assert [r.status_code for r in (create, attribute, value, remove, rename, no_read, no_csrf)] == [403] * 7
    assert (await _counts())[:3] == before[:3]
    assert await _counts() == writer_before
    assert await _type(product_type.id) == product_type


async def test_a_type_is_renamed(client: AsyncClient) -> None:
    product_type = await make_product_type()
    token = await _sign_in(client)

    response = await client.post(
        f"{TYPES}/{product_type.id}", data={"name": "上衣", "name_en": "Tops", "csrf_token": token}
    )

    assert response.status_code == 303
    saved = await _type(product_type.id)
    assert (saved.name, saved.name_en) == ("上衣", "Tops")


async def test_types_are_sorted_by_the_chosen_order_and_exported(client: AsyncClient) -> None:
    clothing = await make_product_type("服装")
    clock.advance(dt.timedelta(minutes=1))
    token = await _sign_in(client)
    await client.post(TYPES, data={"name": "图书", "name_en": "Books", "csrf_token": token})

    by_name = await client.get(TYPES, headers=EN)
    newest = await client.get(TYPES, params={"sort": "newest"}, headers=EN)
    most = await client.get(TYPES, params={"sort": "attributes"}, headers=EN)
    exported = await client.get(TYPES, params={"sort": "newest", "export": "xlsx"}, headers=EN)

    def names(page: str) -> list[str]:
        return re.findall(rf'<td data-label="Name"><a href="{TYPES}/\d+">([^<]*)</a>', page)

    assert names(by_name.text) == sorted(["服装", "图书"])
    assert names(newest.text) == ["图书", "服装"]
    assert names(most.text) == ["服装", "图书"]
    assert exported.headers["content-disposition"] == 'attachment; filename="product-types.xlsx"'
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Name", "English name", "Attributes"],
        ["图书", "Books", None],
        ["服装", clothing.name_en or None, "、".join(a.name for a in clothing.attributes)],
    ]
