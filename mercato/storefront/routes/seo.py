"""Search engines: ``/robots.txt``, ``/sitemap.xml`` (home, categories, products on sale) and the
absolute URLs that canonical links, the sitemap and schema.org data need.

Absolute URLs always start from the configured public address (``MERCATO_BASE_URL``, required in
production; in embedded mode ``http://MERCATO_HOST:MERCATO_PORT``), never from the request's Host
header: a forged Host would otherwise put another site into cached pages, canonical links and
the sitemap.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax.saxutils import escape

from fastapi import APIRouter
from starlette.responses import Response

from mercato import catalog
from mercato.core.db import uow
from mercato.core.settings import get_settings

router = APIRouter(include_in_schema=False)

#: Paths search engines should not crawl: personal, transactional or machine pages.
DISALLOWED = (
    "/admin",
    "/account",
    "/cart",
    "/checkout",
    "/pay",
    "/sandbox-gateway",
    "/api",
    "/locale",
    "/search",
)
SEO_CACHE = "public, max-age=3600"


def absolute(path: str) -> str:
    """``path`` (starting with ``/``) on the shop's public origin."""
    return get_settings().public_base_url + path


@router.get("/robots.txt")
async def robots() -> Response:
    lines = [
        "User-agent: *",
        *(f"Disallow: {path}" for path in DISALLOWED),
        "",
        f"Sitemap: {absolute('/sitemap.xml')}",
    ]
    return Response("\n".join(lines) + "\n", media_type="text/plain", headers={"cache-control": SEO_CACHE})


def _walk(nodes: list[catalog.StorefrontCategory]) -> Iterator[catalog.StorefrontCategory]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


@router.get("/sitemap.xml")
async def sitemap() -> Response:
    async with uow(write=False) as session:
        tree = await catalog.get_storefront_category_tree(session)
        products = await catalog.list_sitemap_products(session)
    entries = [f"<url><loc>{escape(absolute('/'))}</loc></url>"]
    entries += [f"<url><loc>{escape(absolute(f'/c/{node.slug}'))}</loc></url>" for node in _walk(tree)]
    entries += [
        f"<url><loc>{escape(absolute(f'/p/{product.slug}'))}</loc>"
        f"<lastmod>{product.updated_at.date().isoformat()}</lastmod></url>"
        for product in products
    ]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(entries)
        + "\n</urlset>\n"
    )
    return Response(body, media_type="application/xml", headers={"cache-control": SEO_CACHE})
