"""The web composition root: ``create_app()`` wires middleware, error handlers, routers and jobs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from mercato.admin.routes import aftersales as console_aftersales_pages
from mercato.admin.routes import bargains as console_bargain_pages
from mercato.admin.routes import campaigns as console_campaign_pages
from mercato.admin.routes import catalog as catalog_pages
from mercato.admin.routes import console as console_pages
from mercato.admin.routes import content as content_pages
from mercato.admin.routes import coupons as console_coupon_pages
from mercato.admin.routes import customers as customer_pages
from mercato.admin.routes import dashboard as dashboard_pages
from mercato.admin.routes import flash_sales as console_flash_sale_pages
from mercato.admin.routes import group_offers as console_group_offer_pages
from mercato.admin.routes import inventory as inventory_pages
from mercato.admin.routes import order_tools as console_order_tools
from mercato.admin.routes import orders as console_order_pages
from mercato.admin.routes import pickup as console_pickup_pages
from mercato.admin.routes import promotions as console_promotion_pages
from mercato.admin.routes import settings as settings_pages
from mercato.admin.routes import shipping as shipping_pages
from mercato.admin.routes import staff as staff_pages
from mercato.api.v1 import aftersales as aftersales_api
from mercato.api.v1 import auth as auth_api
from mercato.api.v1 import bargains as bargains_api
from mercato.api.v1 import cart as cart_api
from mercato.api.v1 import catalog as catalog_api
from mercato.api.v1 import catalog_media as catalog_media_api
from mercato.api.v1 import catalog_transfer as catalog_transfer_api
from mercato.api.v1 import checkout as checkout_api
from mercato.api.v1 import coupons as coupons_api
from mercato.api.v1 import fulfillment as fulfillment_api
from mercato.api.v1 import groups as groups_api
from mercato.api.v1 import health as health_api
from mercato.api.v1 import inventory as inventory_api
from mercato.api.v1 import invites as invites_api
from mercato.api.v1 import me as me_api
from mercato.api.v1 import messages as messages_api
from mercato.api.v1 import orders as orders_api
from mercato.api.v1 import payments as payments_api
from mercato.api.v1 import pricing as pricing_api
from mercato.api.v1 import promotions as promotions_api
from mercato.api.v1 import shop as shop_api
from mercato.api.v1 import social as social_api
from mercato.api.v1 import staff as staff_api
from mercato.core.db import reset_database
from mercato.core.jobs import settle_delivery
from mercato.core.logging import configure_logging
from mercato.core.settings import Mode, get_settings
from mercato.storefront.routes import account as account_pages
from mercato.storefront.routes import addresses as address_pages
from mercato.storefront.routes import aftersales as aftersales_pages
from mercato.storefront.routes import bargains as bargain_pages
from mercato.storefront.routes import campaigns as campaign_pages
from mercato.storefront.routes import cart as cart_pages
from mercato.storefront.routes import catalog as shop_catalog_pages
from mercato.storefront.routes import checkout as checkout_pages
from mercato.storefront.routes import coupons as coupon_pages
from mercato.storefront.routes import flash_sale as flash_sale_pages
from mercato.storefront.routes import groups as group_pages
from mercato.storefront.routes import home as home_pages
from mercato.storefront.routes import legal as legal_pages
from mercato.storefront.routes import messages as messages_pages
from mercato.storefront.routes import orders as order_pages
from mercato.storefront.routes import pay as pay_pages
from mercato.storefront.routes import privacy as privacy_pages
from mercato.storefront.routes import sandbox_gateway as sandbox_gateway_pages
from mercato.storefront.routes import seo as seo_pages
from mercato.storefront.routes import share as share_pages
from mercato.storefront.routes import wechat as wechat_pages
from mercato.web import html_errors, openapi, problems
from mercato.web.api_docs import api_docs_page
from mercato.web.middleware import RequestContextMiddleware
from mercato.web.referral import RefCookieMiddleware
from mercato.web.text_input import refuse_unsafe_text

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "node_modules"
STATIC = Path(__file__).resolve().parent / "web" / "static"
#: Front-end packages served from node_modules (installed by scripts/bootstrap, never copied).
VENDOR_SCRIPTS = {
    "htmx": VENDOR / "htmx.org" / "dist",
    "alpine": VENDOR / "@alpinejs" / "csp" / "dist",  # Alpine's CSP build (ADR 0023)
}


def _static(directory: Path) -> ASGIApp:
    """Files under ``directory``, gzip-compressed for browsers that accept it (scripts and CSS
    shrink to about a third; the page-weight budget in ADR 0020 counts compressed bytes)."""
    return GZipMiddleware(StaticFiles(directory=directory), minimum_size=1024)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    scheduler_task: asyncio.Task[None] | None = None
    if settings.run_jobs_in_web and not settings.redis_url:
        from mercato.worker import run_embedded_scheduler  # noqa: PLC0415

        scheduler_task = asyncio.create_task(run_embedded_scheduler())
    # What is loaded by now (modules, mappers, schemas, templates) lives as long as the process:
    # keep it out of the collector's full passes, which otherwise walk all of it (a pause of
    # tens of milliseconds in a request's tail; measured by bench/, BENCHMARKS.md).
    gc.freeze()
    try:
        yield
    finally:
        if scheduler_task is not None:
            scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler_task
            await settle_delivery()  # an outbox delivery the scheduler started finishes first
        await reset_database()


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(
        title="Mercato API",
        version="1",
        summary="Self-operated e-commerce platform: storefront, console, marketplace, growth, data.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # NUL and text-direction characters in a path or query value: a 422, never a 500.
        dependencies=[Depends(refuse_unsafe_text)],
    )
    problems.install(app)
    html_errors.install(app)  # pages get HTML error pages; /api keeps problem+json
    app.add_middleware(RefCookieMiddleware)  # inside the request context: a page setting it is no-store
    app.add_middleware(RequestContextMiddleware)

    # Routes are matched in order, one by one, and matching is a measurable share of a cheap
    # request (bench/: ~20 % of a cached product read). The shopper's hot paths come first: the
    # storefront API and pages; then the rest. No two routers' paths overlap (API paths start
    # with /api/, console pages with /admin/), so the order changes speed, never which route runs.
    for router in (
        catalog_api.storefront_router,
        cart_api.router,
        checkout_api.router,
        payments_api.router,
        health_api.router,
        home_pages.router,
        shop_catalog_pages.router,
        cart_pages.router,
        checkout_pages.router,
        pay_pages.router,
        sandbox_gateway_pages.router,
        seo_pages.router,
        legal_pages.router,
        coupon_pages.router,
        campaign_pages.router,
        flash_sale_pages.router,
        bargain_pages.router,
        group_pages.router,
        share_pages.router,
        invites_api.router,
        shop_api.router,
        content_pages.router,
        auth_api.router,
        me_api.router,
        orders_api.router,
        pricing_api.router,
        messages_api.router,
        aftersales_api.router,
        fulfillment_api.router,
        address_pages.router,
        account_pages.router,
        wechat_pages.router,
        order_pages.router,
        aftersales_pages.router,
        messages_pages.router,
        privacy_pages.router,
        staff_api.router,
        inventory_api.router,
        payments_api.admin_router,
        fulfillment_api.admin_router,
        aftersales_api.admin_router,
        catalog_media_api.router,
        catalog_transfer_api.router,
        catalog_api.admin_router,
        promotions_api.router,
        coupons_api.router,
        social_api.router,
        social_api.admin_router,
        groups_api.router,
        groups_api.admin_router,
        bargains_api.router,
        bargains_api.admin_router,
        console_pages.router,
        dashboard_pages.router,
        console_order_tools.router,  # before the order pages: /orders/{number} would take its paths
        console_order_pages.router,
        console_pickup_pages.router,
        console_aftersales_pages.router,
        inventory_pages.router,
        customer_pages.router,
        shipping_pages.router,
        staff_pages.router,
        settings_pages.router,
        catalog_pages.router,
        console_promotion_pages.router,
        console_coupon_pages.router,
        console_campaign_pages.router,
        console_flash_sale_pages.router,
        console_group_offer_pages.router,
        console_bargain_pages.router,
    ):
        app.include_router(router)
    openapi.install(app)  # problem+json responses of every operation, from the error classes

    swagger = VENDOR / "swagger-ui-dist"
    if swagger.exists():
        app.mount("/static/vendor/swagger-ui", _static(swagger), name="swagger-ui")
    for name, folder in VENDOR_SCRIPTS.items():
        if folder.exists():
            app.mount(f"/static/vendor/{name}", _static(folder), name=f"vendor-{name}")
    app.mount("/static", _static(STATIC), name="static")
    app.mount("/media", catalog_media_api.media_files, name="media")  # local disk media, read-only

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return api_docs_page()

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if settings.mode is Mode.production:
        settings.effective_secret_key()  # fail at start, not at the first request
    return app
