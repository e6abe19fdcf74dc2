"""GET /api/v1/shop: the shop's public profile for apps, current as soon as the console saves."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import shop
from mercato.core.db import uow


async def test_the_profile_is_public_and_follows_the_settings(client: AsyncClient) -> None:
    before = await client.get("/api/v1/shop")
    async with uow() as session:
        await shop.update_profile(
            session,
            data=shop.ProfileWrite(
                name="山海小铺", name_en="Shanhai", icp_number="沪ICP备1号", sms_signature="山海"
            ),
        )
    after = await client.get("/api/v1/shop")

    assert (before.status_code, before.json()["name"]) == (200, "Mercato")
    assert after.json() == {
        "name": "山海小铺",
        "name_en": "Shanhai",
        "logo_url": None,
        "favicon_url": None,
        "brand_color": "",
        "service_phone": "",
        "service_hours": "",
        "service_hours_en": "",
        "icp_number": "沪ICP备1号",
        "currency": "CNY",
        "default_locale": "zh_CN",
        "enabled_locales": ["zh_CN", "en"],
        "privacy_policy_version": "2026-11-01",
        "legal_pages": {
            "privacy": "/legal/privacy",
            "terms": "/legal/terms",
            "after-sales": "/legal/after-sales",
        },
    }
    assert "sms_signature" not in after.json()  # internal settings stay internal
