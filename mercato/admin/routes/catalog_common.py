"""What the console's catalog pages share: the option lists of the product forms, reading posted
multi-values and files, and amounts typed in major units (the staff check is in ``_shared``).

No business rules here: only presentation helpers over the catalog's front door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request

from mercato import catalog
from mercato.core.i18n import N_
from mercato.core.money import exponent

CATALOG = "/admin/catalog/"
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


async def posted_file(request: Request, name: str) -> UploadFile | None:
    """The uploaded file of field ``name`` (None when no file was chosen); call after ``read_form``."""
    form = await request.form()
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


async def close_form(request: Request) -> None:
    """Close the uploaded files of the posted form (their spooled temporary files)."""
    form = await request.form()
    await form.close()


def parse_id(value: str | None) -> int | None:
    """A positive id from a query or form value, or None when blank or malformed."""
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return number if 1 <= number <= 2**63 - 1 else None


_AMOUNT = re.compile(r"^(\d{1,12})(?:\.(\d+))?$")


class AmountInvalid(ValueError):
    """A typed amount that is not a non-negative number with at most the currency's decimals;
    ``message`` is a msgid for the field error."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def parse_amount(text: str, currency: str) -> int:
    """Minor units of an amount typed in major units ("12.34" -> 1234), exactly (Decimal).

    Raises:
        AmountInvalid: negative, not a number, or more decimals than the currency has.
    """
    value = text.strip()
    if value.startswith("-"):
        raise AmountInvalid(N_("The amount cannot be negative."))
    match = _AMOUNT.match(value)
    if match is None:
        raise AmountInvalid(N_("Enter an amount such as 12.34."))
    digits = exponent(currency)
    if match.group(2) is not None and len(match.group(2)) > digits:
        raise AmountInvalid(N_("Use at most {digits} digits after the decimal point."), digits=digits)
    return int(Decimal(value).scaleb(digits))


def major_units(amount: int | None, currency: str) -> str:
    """Minor units as the text of an amount field ("1234" -> "12.34"); blank for None."""
    if amount is None:
        return ""
    return str(Decimal(amount).scaleb(-exponent(currency)))
