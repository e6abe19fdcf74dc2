"""The console's product list (``catalog.read``): newest first, searched by title and filtered by
category (with its descendants), brand and listing status, page by page — a declared list page
(``mercato/admin/listing.py``). The products' spreadsheet export is the catalog's own
(``/admin/catalog/export``, the import's format), linked from the page with the same filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog
from mercato.admin.listing import Choice, Column, ListPage, ListQuery, Search
from mercato.admin.routes.catalog_common import CATALOG, all_brands, flatten
from mercato.core.i18n import N_
from mercato.web.forms import parse_id

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

PAGE_SIZE = 20
STATUSES = {
    "draft": N_("Draft"),
    "pending_review": N_("Waiting for review"),
    "on_sale": N_("On sale"),
    "off_sale": N_("Off sale"),
    "rejected": N_("Rejected"),
}


@dataclass(frozen=True)
class ProductRow:
    """A product with the names of its category and brand."""

    product: catalog.ProductRead
    category: str
    brand: str

    @property
    def id(self) -> int:
        return self.product.id


async def _categories(session: AsyncSession) -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(option.id), option.label) for option in flatten(await catalog.get_category_tree(session))
    )


async def _brands(session: AsyncSession) -> tuple[tuple[str, str], ...]:
    return tuple((str(brand.id), brand.name) for brand in await all_brands(session))


async def _fetch(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """One page of products, newest first, with their category's and brand's names."""
    text, status, category_id, brand_id = (
        query.filters[name] for name in ("q", "status", "category_id", "brand_id")
    )
    page = await catalog.list_products(
        session,
        status=catalog.ListingStatus(status) if status else None,
        category_id=parse_id(category_id),
        brand_id=parse_id(brand_id),
        query=text.replace("\x00", "") or None,
        cursor=query.cursor,
        limit=limit,
    )
    categories = {option.id: option.name for option in flatten(await catalog.get_category_tree(session))}
    brands = {brand.id: brand.name for brand in await all_brands(session)} if page.items else {}
    return [
        ProductRow(
            product=product,
            category=categories.get(product.category_id, ""),
            brand=brands.get(product.brand_id, "") if product.brand_id else "",
        )
        for product in page.items
    ], page.next_cursor


LIST = ListPage(
    key="products",
    path=CATALOG,
    title=N_("Products"),
    permission="catalog.read",
    columns=(
        Column(
            "title",
            N_("Title"),
            lambda r: r.product.title,
            kind="link",
            link=lambda r: f"/admin/catalog/products/{r.id}",
        ),
        Column("category", N_("Category"), lambda r: r.category),
        Column("brand", N_("Brand"), lambda r: r.brand),
        Column("status", N_("Status"), lambda r: r.product.status.value, labels=STATUSES),
        Column("price", N_("Price"), lambda r: r.product.min_price_amount),
        Column("updated_at", N_("Updated"), lambda r: r.product.updated_at, kind="datetime"),
    ),
    fetch=_fetch,
    filters=(
        Search("q", N_("Search")),
        Choice("category_id", N_("Category"), N_("All categories"), load=_categories),
        Choice("brand_id", N_("Brand"), N_("All brands"), load=_brands),
        Choice("status", N_("Listing status"), N_("Any status"), tuple(STATUSES.items())),
    ),
    empty=N_("No products match."),
    page_size=PAGE_SIZE,
    template="admin/catalog/products.html",
)
LIST.register(router, "/admin/catalog")
