"""The shop's public profile for apps: name, logo, brand colour, customer service, ICP filing
number, languages and the legal pages (what the storefront's header and footer show)."""

from __future__ import annotations

from fastapi import APIRouter

from mercato import shop
from mercato.api.v1 import PREFIX

router = APIRouter(prefix=PREFIX, tags=["shop"])


@router.get("/shop")
async def get_shop_profile() -> shop.ShopProfileRead:
    """The shop's public details (cached; a change in the console shows at once)."""
    return (await shop.cached_settings()).profile()
