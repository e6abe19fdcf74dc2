"""The home page (banners, category entrances, new arrivals and best sellers), the language
switch, and the parts of the shop's frame (``storefront/base.html``) that pages fetch: the cart
tab's badge and the desktop category menu.

The shelves differ: 新品 (new arrivals) are the newest products on sale by listing date; 热销
(best sellers) are the products with the most units in paid orders placed in the last 30 days
(``orders.list_best_selling_product_ids``, one grouped query whose answer is cached for
``BEST_SELLERS_TTL`` seconds, then their cards in two queries). A shelf with nothing
to show is left out, and best sellers that are exactly the new arrivals are not shown twice.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from mercato import cart, catalog, content, orders, promotions
from mercato.core.cache import get_cache
from mercato.core.db import uow
from mercato.core.i18n import SUPPORTED
from mercato.core.settings import get_settings
from mercato.storefront.routes.cart import guest_token
from mercato.storefront.routes.offers import channel_of, offers_of
from mercato.storefront.routes.seo import absolute
from mercato.web.forms import locale_of
from mercato.web.middleware import LOCALE_COOKIE
from mercato.web.session import CustomerSession, current_customer, safe_next
from mercato.web.templates import render

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)
LOCALE_MAX_AGE = 60 * 60 * 24 * 365
#: Products in each row of the home page.
SHELF = 8
BEST_SELLERS_KEY = "storefront:best-sellers"
#: Seconds the best sellers' ids are reused before the orders are counted again.
BEST_SELLERS_TTL = 300


async def cart_count(request: Request, session: AsyncSession, auth: CustomerSession | None) -> int:
    """The units in the shopper's cart, for the cart tab's badge (one query; none for a guest
    without a cart cookie)."""
    return await cart.count_units(
        session, customer_id=auth.customer.id if auth else None, guest_token=guest_token(request)
    )


async def shopper_frame(request: Request, session: AsyncSession) -> dict[str, Any]:
    """What the shop's frame shows of the shopper: ``customer`` (or None) and ``cart_count``."""
    auth = await current_customer(request, session)
    return {
        "customer": auth.customer if auth else None,
        "cart_count": await cart_count(request, session, auth),
    }


async def _best_seller_ids(session: AsyncSession) -> list[int]:
    """The best sellers' product ids, from the cache when fresh (a cache outage only costs the
    query)."""
    store = get_cache()
    try:
        cached = await store.get(BEST_SELLERS_KEY)
    except Exception as exc:  # the cache is an optimisation
        log.warning("storefront.cache_failed", operation="get", error=repr(exc))
        cached = None
    if isinstance(cached, list):
        return [int(i) for i in cached]
    ids = await orders.list_best_selling_product_ids(session, limit=SHELF)
    try:
        await store.set(BEST_SELLERS_KEY, ids, BEST_SELLERS_TTL)
    except Exception as exc:
        log.warning("storefront.cache_failed", operation="set", error=repr(exc))
    return ids


@router.get("/")
async def home(request: Request) -> Response:
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        banners = await content.list_live_banners(session)
        tree = await catalog.get_storefront_category_tree(session)
        newest = await catalog.list_storefront_products(
            session, sort=catalog.ProductSort.newest, page_size=SHELF
        )
        best = await catalog.list_storefront_cards(session, product_ids=await _best_seller_ids(session))
        if [p.id for p in best] == [p.id for p in newest.items]:
            best = []  # the same list twice tells the shopper nothing
        customer = frame["customer"]
        tags = await promotions.card_tags(  # both shelves at once, read now (never cached)
            session,
            cards=[*newest.items, *best],
            customer_id=customer.id if customer else None,
            channel=channel_of(request),
        )
    return render(
        request,
        "storefront/home.html",
        **frame,
        banners=banners,
        categories=tree,
        newest=newest.items,
        best=best,
        offers=offers_of(tags, locale_of(request)),
        canonical=absolute("/"),
    )


@router.get("/shell/cart-count")
async def cart_count_badge(request: Request) -> Response:
    """The cart tab's badge, for pages whose route did not count the cart (fetched by htmx)."""
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
    return render(request, "storefront/partials/_cart_badge.html", cart_count=frame["cart_count"])


@router.get("/shell/categories")
async def category_menu(request: Request) -> Response:
    """The desktop header's category menu: top categories with their sub-categories (fetched
    by htmx when the menu first opens; without script the menu links to /categories)."""
    async with uow(write=False) as session:
        tree = await catalog.get_storefront_category_tree(session)
    return render(request, "storefront/partials/_category_menu.html", categories=tree)


@router.get("/locale/{code}")
async def switch_locale(request: Request, code: str) -> Response:
    """Remember the chosen language in a cookie (it wins over Accept-Language), then go back."""
    if code not in SUPPORTED:
        raise HTTPException(status_code=404)
    response = RedirectResponse(safe_next(request.query_params.get("next"), "/"), status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        code,
        max_age=LOCALE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return response
