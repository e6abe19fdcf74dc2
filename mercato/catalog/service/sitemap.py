"""The products on sale as a sitemap lists them: slug and last change, one light query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.models import Product
from mercato.catalog.schemas import SitemapProduct
from mercato.catalog.states import ListingStatus

#: A sitemap file holds at most 50,000 URLs (sitemaps.org).
MAX_SITEMAP_PRODUCTS = 49_000


async def list_sitemap_products(
    session: AsyncSession, *, limit: int = MAX_SITEMAP_PRODUCTS
) -> list[SitemapProduct]:
    """Products on sale, most recently changed first, at most ``limit``."""
    rows = await session.execute(
        select(Product.slug, Product.updated_at)
        .where(Product.status == ListingStatus.on_sale.value)
        .order_by(Product.updated_at.desc(), Product.id.desc())
        .limit(max(1, min(limit, MAX_SITEMAP_PRODUCTS)))
    )
    return [SitemapProduct(slug=row.slug, updated_at=row.updated_at) for row in rows]
