"""The permission matrix of the catalog console API: 401 anonymous, 403 without the permission,
and a superuser reaches every route with a valid request."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import catalog
from mercato.core.db import uow
from tests.factories.catalog import (
    REVIEWER,
    SYSTEM,
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
    make_product_type,
    snapshot,
)
from tests.factories.identity import make_staff, staff_headers

R, W, V = "catalog.read", "catalog.write", "catalog.review"
A = "/api/v1/admin/catalog"
ENDPOINTS: list[tuple[str, str, object, str]] = [
    ("GET", "/categories", None, R),
    ("POST", "/categories", {"name": "新类目"}, W),
    ("PUT", "/categories/order", {"parent_id": None, "category_ids": "{roots}"}, W),
    ("GET", "/categories/{category}", None, R),
    ("PATCH", "/categories/{category}", {"seo_title": "SEO"}, W),
    ("POST", "/categories/{empty_category}/move", {"parent_id": "{category}"}, W),
    ("DELETE", "/categories/{empty_category}", None, W),
    ("GET", "/brands", None, R),
    ("POST", "/brands", {"name": "新品牌"}, W),
    ("GET", "/brands/{brand}", None, R),
    ("PATCH", "/brands/{brand}", {"name_en": "Brand"}, W),
    ("DELETE", "/brands/{unused_brand}", None, W),
    ("GET", "/product-types", None, R),
    ("POST", "/product-types", {"name": "新类型"}, W),
    ("GET", "/product-types/{type}", None, R),
    ("PATCH", "/product-types/{type}", {"name_en": "Type"}, W),
    ("POST", "/product-types/{type}/attributes", {"code": "fit", "name": "版型", "kind": "param"}, W),
    ("POST", "/product-types/{type}/attributes/{colour}/values", {"value": "蓝色"}, W),
    ("DELETE", "/product-types/{type}/attributes/{colour}/values/{white}", None, W),
    ("GET", "/products", None, R),
    ("POST", "/products", {"product_type_id": "{type}", "category_id": "{category}", "title": "新品"}, W),
    ("GET", "/products/{draft}", None, R),
    ("PATCH", "/products/{draft}", {"subtitle": "副标题"}, W),
    ("PUT", "/products/{draft}/specs", {"specs": {"colour": ["红色"]}}, W),
    ("GET", "/products/{draft}/skus", None, R),
    ("PATCH", "/skus/{sku}", {"price_amount": 8800}, W),
    ("GET", "/products/{draft}/listing-checks", None, R),
    ("GET", "/products/{draft}/history", None, R),
    ("POST", "/products/{draft}/submit", None, W),
    ("POST", "/products/{pending}/approve", None, V),
    ("POST", "/products/{pending}/reject", {"reason": "不符"}, V),
    ("POST", "/products/{on_sale}/take-off-sale", {"reason": "下架"}, W),
    ("POST", "/products/{off_sale}/put-on-sale", None, W),
    ("GET", "/review-queue", None, V),
    ("GET", "/banned-terms", None, R),
    ("POST", "/banned-terms", {"term": "神效", "language": "zh"}, V),
    ("POST", "/banned-terms/defaults", None, V),
    ("POST", "/banned-terms/{term}/deactivate", None, V),
]
#: What a caller lacking the route's permission holds: everything else of the catalog.
OTHERS = {R: ["orders.read"], W: [R, V], V: [R, W]}


async def world() -> dict[str, object]:
    category = await make_category("服装")
    empty_category = await make_category("空类目")
    brand, unused_brand = await make_brand(), await make_brand()
    product_type = await make_product_type()
    colour = product_type.attributes[0]
    draft, skus = await make_priced_product(
        category_id=category.id, product_type_id=product_type.id, brand_id=brand.id
    )
    pending, _ = await make_priced_product(category_id=category.id, product_type_id=product_type.id)
    on_sale = await make_listed_product(category_id=category.id, product_type_id=product_type.id)
    off_sale = await make_listed_product(category_id=category.id, product_type_id=product_type.id)
    async with uow() as session:
        await catalog.submit_for_review(session, product_id=pending.id, actor=SYSTEM)
        await catalog.take_off_sale(
            session, product_id=off_sale.id, data=catalog.TakeOffSale(), actor=REVIEWER
        )
        term = await catalog.add_banned_term(
            session,
            data=catalog.BannedTermCreate(term="神器", language=catalog.TermLanguage.zh),
            actor=SYSTEM,
        )
    return {
        "category": category.id,
        "empty_category": empty_category.id,
        "roots": [category.id, empty_category.id],
        "brand": brand.id,
        "unused_brand": unused_brand.id,
        "type": product_type.id,
        "colour": colour.id,
        "white": colour.values[2].id,
        "draft": draft.id,
        "sku": skus[0].id,
        "pending": pending.id,
        "on_sale": on_sale.id,
        "off_sale": off_sale.id,
        "term": term.id,
    }


def fill(value: object, ids: dict[str, object]) -> object:
    """Put the world's ids into a path or body template."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value.count("{") == 1:
            return ids[value[1:-1]]
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body", "permission"), ENDPOINTS)
async def test_only_holders_of_the_permission_may_call_the_route(
    client: AsyncClient, method: str, path: str, body: object, permission: str
) -> None:
    ids = await world()
    url, json = A + str(fill(path, ids)), fill(body, ids)
    clerk = await make_staff(email="clerk@example.com", permissions=OTHERS[permission])
    member = await make_staff(email="member@example.com", permissions=[permission])
    before = await snapshot()

    anonymous = await client.request(method, url, json=json)
    unprivileged = await client.request(method, url, json=json, headers=await staff_headers(clerk.id))
    unchanged = await snapshot()
    allowed = await client.request(method, url, json=json, headers=await staff_headers(member.id))

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "core.unauthenticated")
    assert (unprivileged.status_code, unprivileged.json()["code"]) == (403, "identity.permission_denied")
    assert permission in unprivileged.json()["detail"]
    assert unchanged == before
    assert allowed.status_code in {200, 201, 204}, allowed.text


async def test_the_storefront_needs_no_sign_in(client: AsyncClient) -> None:
    ids = await world()

    responses = [
        await client.get("/api/v1/catalog/categories"),
        await client.get("/api/v1/catalog/products"),
        await client.get(f"/api/v1/catalog/products/{ids['on_sale']}"),
        await client.get(f"/api/v1/catalog/products/by-slug/p-{ids['on_sale']}"),
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 200]
