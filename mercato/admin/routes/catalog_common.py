"""What the console's catalog pages share: the option lists of the product forms, reading posted
multi-values and files, and amounts typed in major units (the staff check is in ``_shared``).

No business rules here: only presentation helpers over the catalog's front door.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from mercato import catalog
from mercato.core.i18n import N_
from mercato.web import forms

CATALOG = "/admin/catalog/"
#: The product fields listing findings point at, named for people (never "title", "skus").
LISTING_FIELDS = {
    "title": N_("Title"),
    "title_en": N_("English title"),
    "subtitle": N_("Subtitle"),
    "description_html": N_("Description"),
    "category_id": N_("Category"),
    "skus": N_("SKUs"),
    "images": N_("Images"),
    "price_amount": N_("Price"),
}
#: Brands read per page when the product forms list every brand (the service's largest page).
BRAND_PAGE = 100


@dataclass(frozen=True)
class CategoryOption:
    """A category in a select: its id and its name indented by depth."""

    id: int
    name: str
    label: str
    depth: int


def flatten(nodes: list[catalog.CategoryNode], depth: int = 0) -> list[CategoryOption]:
    """The tree in display order, for a ``<select>``."""
    options: list[CategoryOption] = []
    for node in nodes:
        options.append(
            CategoryOption(id=node.id, name=node.name, label="— " * depth + node.name, depth=depth)
        )
        options.extend(flatten(node.children, depth + 1))
    return options


async def all_brands(session: AsyncSession) -> list[catalog.BrandRead]:
    """Every brand by name, read page by page (every brand must be choosable in the forms)."""
    brands: list[catalog.BrandRead] = []
    cursor: str | None = None
    while True:
        page = await catalog.list_brands(session, cursor=cursor, limit=BRAND_PAGE)
        brands.extend(page.items)
        if not page.next_cursor:
            return brands
        cursor = page.next_cursor


async def form_choices(session: AsyncSession) -> dict[str, Any]:
    """The categories, brands and product types the product forms offer."""
    tree = await catalog.get_category_tree(session)
    brands = await all_brands(session)
    categories = flatten(tree)
    product_types = await catalog.list_product_types(session)
    return {
        "category_options": [(option.id, option.label) for option in categories],
        "brand_options": [(brand.id, brand.name) for brand in brands],
        "type_options": [(item.id, item.name) for item in product_types],
        "categories": categories,
        "category_names": {option.id: option.name for option in categories},
        "brands": brands,
        "brand_names": {brand.id: brand.name for brand in brands},
        "product_types": product_types,
    }


async def posted_lists(request: Request) -> dict[str, list[str]]:
    """Every value of every posted text field (checkbox groups); call after ``read_form``."""
    form = await request.form()
    values: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
    return values


async def close_form(request: Request) -> None:
    """Close the uploaded files of the posted form (their spooled temporary files)."""
    form = await request.form()
    await form.close()


def parse_id(value: str | None) -> int | None:
    """A positive id from a query or form value, or None when blank or malformed."""
    return forms.parse_id(value)
