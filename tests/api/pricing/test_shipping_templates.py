"""Shipping templates over the API, and the cart showing the fee and the free-shipping gap."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.pricing.models import ShippingTemplateRow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_staff, staff_headers

STANDARD = {
    "name": "标准运费",
    "rules": [
        {"regions": ["新疆维吾尔自治区"], "first_fee_amount": 2000, "additional_fee_amount": 1000},
        {"regions": ["*"], "first_fee_amount": 800, "additional_fee_amount": 200, "free_over_amount": 9900},
    ],
    "express_surcharge_amount": 1200,
    "is_default": True,
}


async def manager() -> dict[str, str]:
    staff = await make_staff(email="ops@example.com", permissions=["settings.manage"])
    return await staff_headers(staff.id)


async def count() -> tuple[int, int]:
    async with uow(write=False) as s:
        return (
            (await s.execute(select(func.count()).select_from(ShippingTemplateRow))).scalar_one(),
            (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one(),
        )


async def test_the_default_template_prices_the_cart_and_shows_the_gap(client: AsyncClient) -> None:
    created = await client.post(
        "/api/v1/admin/pricing/shipping-templates", json=STANDARD, headers=await manager()
    )
    red, _black = await listed_skus(price=3000)

    one = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1})
    token = {"X-Cart-Token": one.headers["x-cart-token"]}
    four = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 3}, headers=token)

    assert created.status_code == 201
    assert created.json()["is_default"] is True
    assert (
        one.json()["shipping_amount"],
        one.json()["free_shipping_gap_amount"],
        one.json()["total_amount"],
    ) == (
        800,
        6900,
        3800,
    )
    assert (
        four.json()["shipping_amount"],
        four.json()["free_shipping_gap_amount"],
        four.json()["total_amount"],
    ) == (
        0,
        0,
        12000,
    )


async def test_a_new_default_replaces_the_old_one(client: AsyncClient) -> None:
    headers = await manager()
    first = (
        await client.post("/api/v1/admin/pricing/shipping-templates", json=STANDARD, headers=headers)
    ).json()

    second = await client.post(
        "/api/v1/admin/pricing/shipping-templates", json={**STANDARD, "name": "包邮"}, headers=headers
    )
    listed = (await client.get("/api/v1/admin/pricing/shipping-templates", headers=headers)).json()

    assert second.status_code == 201
    assert [(t["id"], t["is_default"]) for t in listed] == [(first["id"], False), (second.json()["id"], True)]


async def test_bad_templates_are_refused_and_change_nothing(client: AsyncClient) -> None:
    headers = await manager()
    await client.post("/api/v1/admin/pricing/shipping-templates", json=STANDARD, headers=headers)
    before = await count()

    no_fallback = await client.post(
        "/api/v1/admin/pricing/shipping-templates",
        json={**STANDARD, "name": "x", "rules": [STANDARD["rules"][0]]},  # type: ignore[index]
        headers=headers,
    )
    duplicate = await client.post("/api/v1/admin/pricing/shipping-templates", json=STANDARD, headers=headers)
    negative = await client.post(
        "/api/v1/admin/pricing/shipping-templates",
        json={**STANDARD, "name": "y", "express_surcharge_amount": -1},
        headers=headers,
    )
    anonymous = await client.post("/api/v1/admin/pricing/shipping-templates", json=STANDARD)

    assert (no_fallback.status_code, no_fallback.json()["code"]) == (422, "pricing.shipping_rules_invalid")
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "pricing.shipping_template_name_taken")
    assert negative.status_code == 422
    assert anonymous.status_code == 401
    assert await count() == before
