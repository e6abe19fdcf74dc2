"""The home page (banners, category entrances, new and best-selling products) and the language
switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from mercato import catalog, content
from mercato.core.db import uow
from mercato.core.i18n import SUPPORTED
from mercato.core.settings import get_settings
from mercato.storefront.routes.seo import absolute
from mercato.web.middleware import LOCALE_COOKIE
from mercato.web.session import current_customer, safe_next
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)
LOCALE_MAX_AGE = 60 * 60 * 24 * 365
#: Products in each row of the home page.
SHELF = 8


@router.get("/")
async def home(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        banners = await content.list_live_banners(session)
        tree = await catalog.get_storefront_category_tree(session)
        newest = await catalog.list_storefront_products(
            session, sort=catalog.ProductSort.newest, page_size=SHELF
        )
        best = await catalog.list_storefront_products(
            session, sort=catalog.ProductSort.sales, page_size=SHELF
        )
    return render(
        request,
        "storefront/home.html",
        customer=auth.customer if auth else None,
        banners=banners,
        categories=tree,
        newest=newest.items,
        best=best.items,
        canonical=absolute("/"),
    )


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
