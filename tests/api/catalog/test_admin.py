"""The catalog console API's contract: status codes, problem codes and field errors, and that a
refused request changes nothing."""

from __future__ import annotations

from httpx import AsyncClient

from mercato.catalog.models import Category, Product, Sku
from mercato.core.db import uow
from tests.factories.catalog import (
    audit_actions,
    count,
    load_banned_terms,
    make_category,
    make_priced_product,
    make_product,
    make_product_type,
    set_specs,
    snapshot,
)
from tests.factories.identity import make_staff, staff_headers

A = "/api/v1/admin/catalog"
EN = {"Accept-Language": "en"}


async def editor() -> dict[str, str]:
    staff = await make_staff(email="editor@example.com", permissions=["catalog.read", "catalog.write"])
    return {**await staff_headers(staff.id), **EN}


async def reviewer() -> dict[str, str]:
    staff = await make_staff(email="reviewer@example.com", permissions=["catalog.read", "catalog.review"])
    return {**await staff_headers(staff.id), **EN}


async def test_create_a_product_with_its_skus_then_price_and_submit_it(client: AsyncClient) -> None:
    headers = await editor()
    category = await make_category("服装")
    product_type = await make_product_type()

    created = await client.post(
        f"{A}/products",
        json={
            "product_type_id": product_type.id,
            "category_id": category.id,
            "title": "纯棉T恤",
            "description_html": "<p>柔软<script>x</script></p>",
            "params": {"material": "棉"},
        },
        headers=headers,
    )
    product = created.json()
    skus = await client.put(
        f"{A}/products/{product['id']}/specs", json={"specs": {"colour": ["红色", "黑色"]}}, headers=headers
    )
    for sku in skus.json():
        await client.patch(f"{A}/skus/{sku['id']}", json={"price_amount": 9900}, headers=headers)
    submitted = await client.post(f"{A}/products/{product['id']}/submit", headers=headers)

    assert created.status_code == 201
    assert (product["status"], product["slug"], product["description_html"]) == (
        "draft",
        f"p-{product['id']}",
        "<p>柔软</p>",
    )
    assert [(s["code"], s["spec"]) for s in skus.json()] == [
        (f"{product['id']}-1", {"colour": "红色"}),
        (f"{product['id']}-2", {"colour": "黑色"}),
    ]
    assert (submitted.status_code, submitted.json()["status"], submitted.json()["min_price_amount"]) == (
        200,
        "pending_review",
        9900,
    )


async def test_an_unknown_category_is_404_and_creates_nothing(client: AsyncClient) -> None:
    headers = await editor()
    product_type = await make_product_type()
    before = (await count(Product), await audit_actions())

    response = await client.post(
        f"{A}/products",
        json={"product_type_id": product_type.id, "category_id": 999, "title": "孤儿"},
        headers=headers,
    )

    assert response.status_code == 404
    body = response.json()
    assert (body["code"], body["detail"]) == ("catalog.category_not_found", "Category not found.")
    assert body["errors"] == [
        {"loc": ["body", "category_id"], "code": "catalog.category_not_found", "message": "No such category."}
    ]
    assert (await count(Product), await audit_actions()) == before


async def test_a_duplicate_sku_code_is_409_and_changes_nothing(client: AsyncClient) -> None:
    headers = await editor()
    _first, first_skus = await make_priced_product()
    _second, second_skus = await make_priced_product()
    before = (await snapshot(), await audit_actions())

    response = await client.patch(
        f"{A}/skus/{second_skus[0].id}",
        json={"code": first_skus[0].code, "price_amount": 100},
        headers=headers,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "catalog.duplicate_sku_code"
    assert response.json()["detail"] == f"The SKU code {first_skus[0].code} is already used."
    assert (await snapshot(), await audit_actions()) == before
    async with uow(write=False) as session:
        sku = await session.get(Sku, second_skus[0].id)
    assert sku is not None
    assert (sku.code, sku.price_amount) == (second_skus[0].code, 9900)


async def test_a_negative_price_is_422_and_changes_nothing(client: AsyncClient) -> None:
    headers = await editor()
    _product, skus = await make_priced_product(price_amount=9900)
    before = (await snapshot(), await audit_actions())

    response = await client.patch(f"{A}/skus/{skus[0].id}", json={"price_amount": -100}, headers=headers)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "core.validation_failed"
    assert body["errors"] == [
        {"loc": ["body", "price_amount"], "code": "greater_than", "message": "Must be greater than 0."}
    ]
    assert (await snapshot(), await audit_actions()) == before
    async with uow(write=False) as session:
        assert (await session.get(Sku, skus[0].id)).price_amount == 9900  # type: ignore[union-attr]


async def test_a_submission_with_banned_terms_is_refused_with_the_findings(client: AsyncClient) -> None:
    headers = await editor()
    await load_banned_terms()
    product, _skus = await make_priced_product(title="最佳纯棉T恤", title_en="The best cotton tee")
    before = await snapshot()

    response = await client.post(f"{A}/products/{product.id}/submit", headers=headers)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "catalog.listing_checks_failed"
    assert body["detail"] == "The listing checks found 2 problem(s); fix them and submit again."
    message = "Uses a banned absolute term (Advertising Law art. 9)."
    assert body["errors"] == [
        {"loc": ["title", "最佳"], "code": "catalog.banned_term", "message": message},
        {"loc": ["title_en", "best"], "code": "catalog.banned_term", "message": message},
    ]
    assert await snapshot() == before
    checks = await client.get(f"{A}/products/{product.id}/listing-checks", headers=headers)
    assert [(f["field"], f["term"], f["blocking"]) for f in checks.json()] == [
        ("title", "最佳", True),
        ("title_en", "best", True),
        ("images", None, False),
    ]


async def test_review_approve_and_reject_with_a_required_reason(client: AsyncClient) -> None:
    headers = await editor()
    review = await reviewer()
    first, _ = await make_priced_product()
    second, _ = await make_priced_product()
    for product in (first, second):
        await client.post(f"{A}/products/{product.id}/submit", headers=headers)

    queue = await client.get(f"{A}/review-queue", headers=review)
    no_reason = await client.post(f"{A}/products/{second.id}/reject", json={"reason": "  "}, headers=review)
    approved = await client.post(f"{A}/products/{first.id}/approve", headers=review)
    rejected = await client.post(
        f"{A}/products/{second.id}/reject", json={"reason": "标题不清"}, headers=review
    )
    again = await client.post(f"{A}/products/{first.id}/approve", headers=review)
    history = await client.get(f"{A}/products/{second.id}/history", headers=headers)

    assert [item["product"]["id"] for item in queue.json()["items"]] == [first.id, second.id]
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "core.validation_failed")
    assert (approved.status_code, approved.json()["status"]) == (200, "on_sale")
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    assert (again.status_code, again.json()["code"]) == (409, "catalog.illegal_transition")
    assert again.json()["detail"] == "Cannot change status from on_sale to on_sale."
    assert [(h["from_status"], h["to_status"], h["actor_label"], h["reason"]) for h in history.json()] == [
        ("draft", "pending_review", "editor@example.com", ""),
        ("pending_review", "rejected", "reviewer@example.com", "标题不清"),
    ]


async def test_moving_a_category_under_its_descendant_is_422(client: AsyncClient) -> None:
    headers = await editor()
    root = await make_category("服装")
    child = await make_category("男装", parent_id=root.id)
    before = await audit_actions()

    response = await client.post(
        f"{A}/categories/{root.id}/move", json={"parent_id": child.id}, headers=headers
    )

    assert (response.status_code, response.json()["code"]) == (422, "catalog.category_cycle")
    assert response.json()["errors"][0]["loc"] == ["body", "parent_id"]
    assert await audit_actions() == before


async def test_deleting_a_category_in_use_is_409(client: AsyncClient) -> None:
    headers = await editor()
    category = await make_category("服装")
    await make_product(category_id=category.id)

    response = await client.delete(f"{A}/categories/{category.id}", headers=headers)

    assert (response.status_code, response.json()["code"]) == (409, "catalog.category_in_use")
    assert await count(Category) == 1


async def test_unknown_params_and_spec_values_are_field_errors(client: AsyncClient) -> None:
    headers = await editor()
    product = await make_product()

    params = await client.patch(
        f"{A}/products/{product.id}", json={"params": {"flavour": "甜"}}, headers=headers
    )
    specs = await client.put(
        f"{A}/products/{product.id}/specs", json={"specs": {"colour": ["紫色"]}}, headers=headers
    )

    assert params.status_code == specs.status_code == 422
    assert params.json()["errors"] == [
        {
            "loc": ["body", "params", "flavour"],
            "code": "catalog.unknown_attribute",
            "message": "Not a parameter of this product type.",
        }
    ]
    assert specs.json()["errors"] == [
        {
            "loc": ["body", "specs", "colour", 0],
            "code": "catalog.unknown_attribute_value",
            "message": "Not one of the values of this spec.",
        }
    ]
    assert await count(Sku) == 0


async def test_bad_input_is_4xx_never_5xx(client: AsyncClient) -> None:
    headers = await editor()
    product = await make_product()
    await set_specs(product.id, {})
    category = await make_category()

    responses = [
        await client.post(f"{A}/categories", json={"name": "坏\x00名"}, headers=headers),
        await client.post(f"{A}/categories", json={"name": "x", "slug": "Not A Slug"}, headers=headers),
        await client.post(f"{A}/categories", json={"name": "x", "parent_id": 2**63}, headers=headers),
        await client.get(f"{A}/products/0", headers=headers),
        await client.get(f"{A}/products/{2**63}", headers=headers),
        await client.get(f"{A}/products?cursor=garbage!!", headers=headers),
        await client.get(f"{A}/products?status=sold", headers=headers),
        await client.patch(f"{A}/skus/999", json={"price_amount": 1}, headers=headers),
        await client.patch(f"{A}/skus/1", json={"price_amount": 10**13}, headers=headers),
        await client.put(
            f"{A}/products/{product.id}/specs", json={"specs": {"colour": ["红;色"]}}, headers=headers
        ),
        await client.patch(
            f"{A}/categories/{category.id}",
            content=b'{"name": "\\ud800"}',  # an unpaired surrogate, JSON-escaped
            headers={**headers, "Content-Type": "application/json"},
        ),
        await client.post(f"{A}/products/{product.id}/submit", headers=headers),
    ]

    assert [r.status_code for r in responses] == [422, 422, 422, 422, 422, 400, 422, 404, 422, 422, 422, 422]
