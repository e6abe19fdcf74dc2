"""Products (SPU): create and edit drafts, read them for the console.

A product's content can be edited while it is a draft, rejected or off sale; editing a rejected
or off-sale product moves it back to draft (it must pass the checks and a review again). The
description is sanitised with nh3 to the editor's formats, plain text made into paragraphs
(``rich_text``); ``params`` must be the parameter attributes of the product's type (and one of
their values, when the attribute lists values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import (
    InvalidAttributes,
    PresaleDateRequired,
    ProductNotEditable,
    SlugTaken,
)
from mercato.catalog.models import Category, Product
from mercato.catalog.schemas import AttributeKind, AttributeRead, ProductCreate, ProductRead, ProductUpdate
from mercato.catalog.service.brands import find_brand_row
from mercato.catalog.service.caching import invalidate_products
from mercato.catalog.service.categories import find_category_row
from mercato.catalog.service.common import Conflicts, changed, check_slug, temporary_slug, unique_guard
from mercato.catalog.service.listing import get_product_row, reopen_for_edit
from mercato.catalog.service.product_types import find_product_type_row, load_attributes
from mercato.catalog.service.rich_text import sanitize_description
from mercato.catalog.states import EDITABLE, ListingStatus
from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.core.settings import get_settings

SLUG_CONFLICT: Conflicts = {("catalog_product", ("slug",)): SlugTaken}
CONTENT_FIELDS = (
    "category_id",
    "brand_id",
    "slug",
    "title",
    "title_en",
    "subtitle",
    "description_html",
    "tags",
    "params",
    "seo_title",
    "seo_description",
    "min_order_quantity",
    "is_presale",
    "presale_ships_on",
)


def sanitize_html(value: str) -> str:
    """The description as stored (``rich_text.sanitize_description``)."""
    return sanitize_description(value)


def _view(product: ProductRead) -> dict[str, Any]:
    return product.model_dump(mode="json", include=set(CONTENT_FIELDS))


def param_problem(parameters: Mapping[str, AttributeRead], code: str, value: str) -> tuple[str, str] | None:
    """Why ``code=value`` is not a valid parameter of a type whose parameter attributes are
    ``parameters`` (by code), as (error code, message); None when it is valid."""
    attribute = parameters.get(code)
    if attribute is None:
        return "catalog.unknown_attribute", N_("Not a parameter of this product type.")
    if attribute.values and value not in {v.value for v in attribute.values}:
        return "catalog.unknown_attribute_value", N_("Not one of the values of this parameter.")
    return None


async def _checked_params(
    session: AsyncSession, product_type_id: int, params: Mapping[str, str]
) -> dict[str, str]:
    """Raise InvalidAttributes (422) with a field error per unknown code or value."""
    attributes = {
        attribute.code: attribute
        for attribute in (await load_attributes(session, [product_type_id]))[product_type_id]
        if attribute.kind == AttributeKind.param
    }
    errors: list[FieldError] = []
    for code, value in params.items():
        problem = param_problem(attributes, code, value)
        if problem is not None:
            errors.append(FieldError(loc=("body", "params", code), code=problem[0], message=problem[1]))
    if errors:
        raise InvalidAttributes(fields=errors)
    return dict(params)


def _check_presale(is_presale: bool, ships_on: object) -> None:
    if is_presale and ships_on is None:
        raise PresaleDateRequired(
            fields=[
                FieldError(
                    loc=("body", "presale_ships_on"),
                    code=PresaleDateRequired.code,
                    message=N_("Set the date the presale ships on."),
                )
            ]
        )


async def get_product(session: AsyncSession, *, product_id: int) -> ProductRead:
    """Any product, whatever its status (for the console).

    Raises:
        ProductNotFound.
    """
    return ProductRead.model_validate(await get_product_row(session, product_id))


async def list_products(
    session: AsyncSession,
    *,
    status: ListingStatus | None = None,
    category_id: int | None = None,
    brand_id: int | None = None,
    query: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ProductRead]:
    """Products for the console, newest first; ``category_id`` includes its descendants;
    ``query`` matches the Chinese or English title.

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = select(Product).order_by(Product.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Product.id < after)
    if status is not None:
        stmt = stmt.where(Product.status == status.value)
    if category_id is not None:
        category = await session.get(Category, category_id)
        prefix = category.path if category else f"/{category_id}/"
        stmt = stmt.where(
            Product.category_id.in_(
                select(Category.id).where(Category.path.startswith(prefix, autoescape=True))
            )
        )
    if brand_id is not None:
        stmt = stmt.where(Product.brand_id == brand_id)
    if query:
        needle = query.lower()
        stmt = stmt.where(
            func.lower(Product.title).contains(needle, autoescape=True)
            | func.lower(Product.title_en).contains(needle, autoescape=True)
        )
    rows = list((await session.execute(stmt)).scalars())
    page = rows[:size]
    return Page[ProductRead](
        items=[ProductRead.model_validate(row) for row in page],
        next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None,
    )


async def create_product(session: AsyncSession, *, data: ProductCreate, actor: identity.Actor) -> ProductRead:
    """Create a draft product in the shop's currency; its slug defaults to ``p-<id>``.

    Raises:
        ProductTypeNotFound, CategoryNotFound, BrandNotFound (404, each with a field error),
        InvalidAttributes (422), PresaleDateRequired (422), SlugReserved (422), SlugTaken (409).
    """
    product_type = await find_product_type_row(session, data.product_type_id, loc=("body", "product_type_id"))
    await find_category_row(session, data.category_id, loc=("body", "category_id"))
    if data.brand_id is not None:
        await find_brand_row(session, data.brand_id, loc=("body", "brand_id"))
    params = await _checked_params(session, product_type.id, data.params)
    _check_presale(data.is_presale, data.presale_ships_on)
    if data.slug is not None:
        check_slug(data.slug, prefix="p", own_id=None, loc=("body", "slug"))
    now = clock.now()
    row = Product(
        product_type_id=product_type.id,
        category_id=data.category_id,
        brand_id=data.brand_id,
        seller_id=None,
        slug=data.slug or temporary_slug(),
        title=data.title,
        title_en=data.title_en,
        subtitle=data.subtitle,
        description_html=sanitize_html(data.description_html),
        tags=list(dict.fromkeys(data.tags)),
        params=params,
        seo_title=data.seo_title,
        seo_description=data.seo_description,
        status=ListingStatus.draft.value,
        min_order_quantity=data.min_order_quantity,
        is_presale=data.is_presale,
        presale_ships_on=data.presale_ships_on if data.is_presale else None,
        currency=get_settings().currency,
        min_price_amount=0,
        max_price_amount=0,
        sales_count=0,
        in_stock=False,
        created_at=now,
        updated_at=now,
    )
    async with unique_guard(session, SLUG_CONFLICT):
        session.add(row)
    if data.slug is None:
        row.slug = f"p-{row.id}"
        await session.flush()
    product = ProductRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="product.create",
        object_type="product",
        object_id=str(row.id),
        after=_view(product),
    )
    return product


async def update_product(
    session: AsyncSession, *, product_id: int, data: ProductUpdate, actor: identity.Actor
) -> ProductRead:
    """Edit a product's content. A rejected or off-sale product goes back to draft; ``brand_id``
    and ``presale_ships_on`` sent as null are cleared.

    Raises:
        ProductNotFound, ProductNotEditable (409): waiting for review or on sale.
        CategoryNotFound, BrandNotFound (404, with a field error), InvalidAttributes (422),
        PresaleDateRequired (422), SlugReserved (422), SlugTaken (409).
    """
    row = await get_product_row(session, product_id)
    status = ListingStatus(row.status)
    if status not in EDITABLE:
        raise ProductNotEditable(status=status.value)
    before = ProductRead.model_validate(row)
    fields = data.model_fields_set
    if data.category_id is not None:
        await find_category_row(session, data.category_id, loc=("body", "category_id"))
    if data.brand_id is not None:
        await find_brand_row(session, data.brand_id, loc=("body", "brand_id"))
    if data.params is not None:
        await _checked_params(session, row.product_type_id, data.params)
    if data.slug is not None:
        check_slug(data.slug, prefix="p", own_id=row.id, loc=("body", "slug"))
    is_presale = data.is_presale if data.is_presale is not None else row.is_presale
    ships_on = data.presale_ships_on if "presale_ships_on" in fields else row.presale_ships_on
    _check_presale(is_presale, ships_on)

    async with unique_guard(session, SLUG_CONFLICT):
        for field in (
            "category_id",
            "slug",
            "title",
            "title_en",
            "subtitle",
            "seo_title",
            "seo_description",
            "min_order_quantity",
        ):
            value = getattr(data, field)
            if value is not None:
                setattr(row, field, value)
        if "brand_id" in fields:
            row.brand_id = data.brand_id
        if data.description_html is not None:
            row.description_html = sanitize_html(data.description_html)
        if data.tags is not None:
            row.tags = list(dict.fromkeys(data.tags))
        if data.params is not None:
            row.params = dict(data.params)
        row.is_presale = is_presale
        row.presale_ships_on = ships_on if is_presale else None
    old, new = changed(_view(before), _view(ProductRead.model_validate(row)))
    if not new:
        return before
    await reopen_for_edit(session, row, actor=actor)
    row.updated_at = clock.now()
    await session.flush()
    await identity.record_audit(
        session,
        actor=actor,
        action="product.update",
        object_type="product",
        object_id=str(product_id),
        before=old,
        after=new,
    )
    await invalidate_products(session, [product_id])
    return ProductRead.model_validate(row)
