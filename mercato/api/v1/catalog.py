"""Catalog over the API: the console's admin routes (categories, brands, product types, products,
SKUs, the listing workflow, the review queue, banned terms) and the public storefront reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import Field, StringConstraints

from mercato import catalog, promotions
from mercato.api.deps import CustomerAuth, DbSession, MaybeCustomer, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.errors import IllegalTransition
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import alias, raises

admin_router = APIRouter(prefix=f"{PREFIX}/admin/catalog", tags=["catalog admin"])
storefront_router = APIRouter(prefix=f"{PREFIX}/catalog", tags=["catalog"])

Reader = Annotated[StaffAuth, Depends(require("catalog.read"))]
Writer = Annotated[StaffAuth, Depends(require("catalog.write"))]
Reviewer = Annotated[StaffAuth, Depends(require("catalog.review"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 20)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Search = Annotated[
    str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="Part of a name or title")
]


# --- Categories ----------------------------------------------------------------------------


@admin_router.get("/categories")
async def get_category_tree(auth: Reader, session: DbSession) -> list[catalog.CategoryNode]:
    """The whole category tree, inactive categories included, ordered by position then name."""
    return await catalog.get_category_tree(session)


@admin_router.post("/categories", status_code=status.HTTP_201_CREATED)
@raises(catalog.CategoryNotFound, catalog.CategoryTooDeep, catalog.SlugReserved, catalog.SlugTaken)
async def create_category(
    data: catalog.CategoryCreate, auth: Writer, session: DbSession
) -> catalog.CategoryRead:
    return await catalog.create_category(session, data=data, actor=auth.actor)


@admin_router.put("/categories/order")
@raises(catalog.CategoryNotFound, catalog.CategoryOrderMismatch)
async def reorder_categories(
    data: catalog.CategoryReorder, auth: Writer, session: DbSession
) -> list[catalog.CategoryRead]:
    """Order the children of one parent (null: the roots); list each exactly once."""
    return await catalog.reorder_categories(session, data=data, actor=auth.actor)


@admin_router.get("/categories/{category_id}")
@raises(catalog.CategoryNotFound)
async def get_category(category_id: Id, auth: Reader, session: DbSession) -> catalog.CategoryRead:
    return await catalog.get_category(session, category_id=category_id)


@admin_router.patch("/categories/{category_id}")
@raises(catalog.CategoryNotFound, catalog.SlugReserved, catalog.SlugTaken)
async def update_category(
    category_id: Id, data: catalog.CategoryUpdate, auth: Writer, session: DbSession
) -> catalog.CategoryRead:
    return await catalog.update_category(session, category_id=category_id, data=data, actor=auth.actor)


@admin_router.post("/categories/{category_id}/move")
@raises(catalog.CategoryNotFound, catalog.CategoryCycle, catalog.CategoryTooDeep)
async def move_category(
    category_id: Id, data: catalog.CategoryMove, auth: Writer, session: DbSession
) -> catalog.CategoryRead:
    """Move a category (and its subtree) under another parent, or make it a root."""
    return await catalog.move_category(session, category_id=category_id, data=data, actor=auth.actor)


@admin_router.delete(
    "/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
@raises(catalog.CategoryNotFound, catalog.CategoryInUse)
async def delete_category(category_id: Id, auth: Writer, session: DbSession) -> Response:
    """Delete a category without subcategories or products."""
    await catalog.delete_category(session, category_id=category_id, actor=auth.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- Brands --------------------------------------------------------------------------------


@admin_router.get("/brands")
@raises(InvalidCursor)
async def list_brands(
    auth: Reader, session: DbSession, query: Search = None, cursor: Cursor = None, limit: Limit = None
) -> Page[catalog.BrandRead]:
    return await catalog.list_brands(session, query=query, cursor=cursor, limit=limit)


@admin_router.post("/brands", status_code=status.HTTP_201_CREATED)
@raises(catalog.SlugReserved, catalog.NameTaken, catalog.SlugTaken)
async def create_brand(data: catalog.BrandCreate, auth: Writer, session: DbSession) -> catalog.BrandRead:
    return await catalog.create_brand(session, data=data, actor=auth.actor)


@admin_router.get("/brands/{brand_id}")
@raises(catalog.BrandNotFound)
async def get_brand(brand_id: Id, auth: Reader, session: DbSession) -> catalog.BrandRead:
    return await catalog.get_brand(session, brand_id=brand_id)


@admin_router.patch("/brands/{brand_id}")
@raises(catalog.BrandNotFound, catalog.SlugReserved, catalog.NameTaken, catalog.SlugTaken)
async def update_brand(
    brand_id: Id, data: catalog.BrandUpdate, auth: Writer, session: DbSession
) -> catalog.BrandRead:
    return await catalog.update_brand(session, brand_id=brand_id, data=data, actor=auth.actor)


@admin_router.delete("/brands/{brand_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(catalog.BrandNotFound, catalog.BrandInUse)
async def delete_brand(brand_id: Id, auth: Writer, session: DbSession) -> Response:
    await catalog.delete_brand(session, brand_id=brand_id, actor=auth.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- Product types and attributes ----------------------------------------------------------


@admin_router.get("/product-types")
async def list_product_types(auth: Reader, session: DbSession) -> list[catalog.ProductTypeRead]:
    return await catalog.list_product_types(session)


@admin_router.post("/product-types", status_code=status.HTTP_201_CREATED)
@raises(catalog.NameTaken, catalog.AttributeCodeTaken, catalog.AttributeValueTaken)
async def create_product_type(
    data: catalog.ProductTypeCreate, auth: Writer, session: DbSession
) -> catalog.ProductTypeRead:
    """Create a product type with its spec attributes (they generate SKUs) and parameters."""
    return await catalog.create_product_type(session, data=data, actor=auth.actor)


@admin_router.get("/product-types/{product_type_id}")
@raises(catalog.ProductTypeNotFound)
async def get_product_type(product_type_id: Id, auth: Reader, session: DbSession) -> catalog.ProductTypeRead:
    return await catalog.get_product_type(session, product_type_id=product_type_id)


@admin_router.patch("/product-types/{product_type_id}")
@raises(catalog.ProductTypeNotFound, catalog.NameTaken)
async def update_product_type(
    product_type_id: Id, data: catalog.ProductTypeUpdate, auth: Writer, session: DbSession
) -> catalog.ProductTypeRead:
    return await catalog.update_product_type(
        session, product_type_id=product_type_id, data=data, actor=auth.actor
    )


@admin_router.post("/product-types/{product_type_id}/attributes", status_code=status.HTTP_201_CREATED)
@raises(catalog.ProductTypeNotFound, catalog.AttributeCodeTaken, catalog.AttributeValueTaken)
async def add_attribute(
    product_type_id: Id, data: catalog.AttributeCreate, auth: Writer, session: DbSession
) -> catalog.ProductTypeRead:
    return await catalog.add_attribute(session, product_type_id=product_type_id, data=data, actor=auth.actor)


@admin_router.post(
    "/product-types/{product_type_id}/attributes/{attribute_id}/values", status_code=status.HTTP_201_CREATED
)
@raises(catalog.ProductTypeNotFound, catalog.AttributeNotFound, catalog.AttributeValueTaken)
async def add_attribute_value(
    product_type_id: Id, attribute_id: Id, data: catalog.AttributeValueWrite, auth: Writer, session: DbSession
) -> catalog.AttributeRead:
    return await catalog.add_attribute_value(
        session, product_type_id=product_type_id, attribute_id=attribute_id, data=data, actor=auth.actor
    )


@admin_router.delete("/product-types/{product_type_id}/attributes/{attribute_id}/values/{value_id}")
@raises(
    catalog.ProductTypeNotFound,
    catalog.AttributeNotFound,
    catalog.AttributeValueNotFound,
    catalog.AttributeValueInUse,
)
async def remove_attribute_value(
    product_type_id: Id, attribute_id: Id, value_id: Id, auth: Writer, session: DbSession
) -> catalog.AttributeRead:
    """Remove a value no product parameter and no active SKU uses."""
    return await catalog.remove_attribute_value(
        session,
        product_type_id=product_type_id,
        attribute_id=attribute_id,
        value_id=value_id,
        actor=auth.actor,
    )


# --- Products and SKUs ---------------------------------------------------------------------


@admin_router.get("/products")
@raises(InvalidCursor)
async def list_products(
    auth: Reader,
    session: DbSession,
    status_: Annotated[catalog.ListingStatus | None, Query(alias="status")] = None,
    category_id: OptionalId = None,
    brand_id: OptionalId = None,
    query: Search = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[catalog.ProductRead]:
    """Products of any status, newest first; a category includes its descendants."""
    return await catalog.list_products(
        session,
        status=status_,
        category_id=category_id,
        brand_id=brand_id,
        query=query,
        cursor=cursor,
        limit=limit,
    )


@admin_router.post("/products", status_code=status.HTTP_201_CREATED)
@raises(
    catalog.ProductTypeNotFound,
    catalog.CategoryNotFound,
    catalog.BrandNotFound,
    catalog.InvalidAttributes,
    catalog.PresaleDateRequired,
    catalog.SlugReserved,
    catalog.SlugTaken,
)
async def create_product(
    data: catalog.ProductCreate, auth: Writer, session: DbSession
) -> catalog.ProductRead:
    """Create a draft product (the description is sanitised)."""
    return await catalog.create_product(session, data=data, actor=auth.actor)


@admin_router.get("/products/{product_id}")
@raises(catalog.ProductNotFound)
async def get_product(product_id: Id, auth: Reader, session: DbSession) -> catalog.ProductRead:
    return await catalog.get_product(session, product_id=product_id)


@admin_router.patch("/products/{product_id}")
@raises(
    catalog.ProductNotFound,
    catalog.ProductNotEditable,
    catalog.CategoryNotFound,
    catalog.BrandNotFound,
    catalog.InvalidAttributes,
    catalog.PresaleDateRequired,
    catalog.SlugReserved,
    catalog.SlugTaken,
)
async def update_product(
    product_id: Id, data: catalog.ProductUpdate, auth: Writer, session: DbSession
) -> catalog.ProductRead:
    """Edit a draft, rejected or off-sale product (the last two go back to draft)."""
    return await catalog.update_product(session, product_id=product_id, data=data, actor=auth.actor)


@admin_router.put("/products/{product_id}/specs")
@raises(
    catalog.ProductNotFound,
    catalog.ProductNotEditable,
    catalog.InvalidAttributes,
    catalog.TooManySkus,
    catalog.DuplicateSkuCode,
)
async def set_product_specs(
    product_id: Id, data: catalog.SpecsWrite, auth: Writer, session: DbSession
) -> list[catalog.SkuRead]:
    """Choose the spec values; SKUs follow (kept, created, disabled or re-enabled)."""
    return await catalog.set_product_specs(session, product_id=product_id, data=data, actor=auth.actor)


@admin_router.get("/products/{product_id}/skus")
@raises(catalog.ProductNotFound)
async def list_skus(product_id: Id, auth: Reader, session: DbSession) -> list[catalog.SkuRead]:
    return await catalog.list_skus(session, product_id=product_id)


@admin_router.patch("/skus/{sku_id}")
@raises(catalog.SkuNotFound, catalog.DuplicateSkuCode, catalog.PriceInvalid, catalog.SkuSpecMismatch)
async def update_sku(
    sku_id: Id, data: catalog.SkuUpdate, auth: Writer, session: DbSession
) -> catalog.SkuRead:
    """Change a SKU's code, barcode, prices, weight, status or price breaks."""
    return await catalog.update_sku(session, sku_id=sku_id, data=data, actor=auth.actor)


# --- Listing workflow ----------------------------------------------------------------------


@admin_router.get("/products/{product_id}/listing-checks")
@raises(catalog.ProductNotFound)
async def check_listing(product_id: Id, auth: Reader, session: DbSession) -> list[catalog.ListingFinding]:
    """Run the automatic listing checks without submitting."""
    return await catalog.check_listing(session, product_id=product_id)


@admin_router.get("/products/{product_id}/history")
@raises(catalog.ProductNotFound)
async def list_listing_history(
    product_id: Id, auth: Reader, session: DbSession
) -> list[catalog.ListingStatusChangeRead]:
    return await catalog.list_listing_history(session, product_id=product_id)


@admin_router.post("/products/{product_id}/submit")
@raises(
    catalog.ProductNotFound,
    alias(IllegalTransition, "catalog.illegal_transition"),
    catalog.ListingChecksFailed,
)
async def submit_for_review(product_id: Id, auth: Writer, session: DbSession) -> catalog.ProductRead:
    """Submit for review; refused with the findings when the automatic checks fail."""
    return await catalog.submit_for_review(session, product_id=product_id, actor=auth.actor)


@admin_router.post("/products/{product_id}/approve")
@raises(catalog.ProductNotFound, alias(IllegalTransition, "catalog.illegal_transition"))
async def approve_listing(product_id: Id, auth: Reviewer, session: DbSession) -> catalog.ProductRead:
    return await catalog.approve_listing(session, product_id=product_id, actor=auth.actor)


@admin_router.post("/products/{product_id}/reject")
@raises(catalog.ProductNotFound, alias(IllegalTransition, "catalog.illegal_transition"))
async def reject_listing(
    product_id: Id, data: catalog.RejectListing, auth: Reviewer, session: DbSession
) -> catalog.ProductRead:
    return await catalog.reject_listing(session, product_id=product_id, data=data, actor=auth.actor)


@admin_router.post("/products/{product_id}/take-off-sale")
@raises(catalog.ProductNotFound, alias(IllegalTransition, "catalog.illegal_transition"))
async def take_off_sale(
    product_id: Id, data: catalog.TakeOffSale, auth: Writer, session: DbSession
) -> catalog.ProductRead:
    return await catalog.take_off_sale(session, product_id=product_id, data=data, actor=auth.actor)


@admin_router.post("/products/{product_id}/put-on-sale")
@raises(
    catalog.ProductNotFound,
    alias(IllegalTransition, "catalog.illegal_transition"),
    catalog.ListingChecksFailed,
)
async def put_on_sale(product_id: Id, auth: Writer, session: DbSession) -> catalog.ProductRead:
    """Put an off-sale product back on sale (the automatic checks run again)."""
    return await catalog.put_on_sale(session, product_id=product_id, actor=auth.actor)


@admin_router.get("/review-queue")
@raises(InvalidCursor)
async def list_review_queue(
    auth: Reviewer, session: DbSession, cursor: Cursor = None, limit: Limit = None
) -> Page[catalog.ReviewQueueItem]:
    """Products waiting for review, longest waiting first."""
    return await catalog.list_review_queue(session, cursor=cursor, limit=limit)


# --- Banned terms --------------------------------------------------------------------------


@admin_router.get("/banned-terms")
async def list_banned_terms(auth: Reader, session: DbSession) -> list[catalog.BannedTermRead]:
    return await catalog.list_banned_terms(session)


@admin_router.post("/banned-terms", status_code=status.HTTP_201_CREATED)
@raises(catalog.BannedTermInvalid, catalog.BannedTermExists)
async def add_banned_term(
    data: catalog.BannedTermCreate, auth: Reviewer, session: DbSession
) -> catalog.BannedTermRead:
    """Add a term (Chinese: matched as a substring; English: as whole words), or reactivate it."""
    return await catalog.add_banned_term(session, data=data, actor=auth.actor)


@admin_router.post("/banned-terms/defaults")
async def load_default_banned_terms(auth: Reviewer, session: DbSession) -> list[catalog.BannedTermRead]:
    """Add the default dictionary's missing terms (deactivated ones stay deactivated)."""
    return await catalog.load_default_banned_terms(session, actor=auth.actor)


@admin_router.post("/banned-terms/{term_id}/deactivate")
@raises(catalog.BannedTermNotFound)
async def deactivate_banned_term(term_id: Id, auth: Reviewer, session: DbSession) -> catalog.BannedTermRead:
    return await catalog.deactivate_banned_term(session, term_id=term_id, actor=auth.actor)


# --- Storefront (public) -------------------------------------------------------------------

Amount = Annotated[int | None, Query(ge=0, le=10**12, description="Minor units (fen)")]
BrandId = Annotated[int, Field(ge=1, le=2**63 - 1)]
AttributeFilter = Annotated[str, StringConstraints(min_length=3, max_length=101, pattern=r"^[^\x00]*$")]


@storefront_router.get("/categories")
async def get_storefront_category_tree(session: DbSession) -> list[catalog.StorefrontCategory]:
    """Active categories as a tree."""
    return await catalog.get_storefront_category_tree(session)


class ProductCardWithOffer(catalog.ProductCard):
    """A card with what the shopper is shown beside its price now (its cheapest SKU after timed
    prices: the promotion price, tags, 券后价, the preheat price); none without a sellable SKU."""

    offer: promotions.PriceTag | None = None


class ProductCardPageWithOffers(catalog.ProductCardPage):
    items: list[ProductCardWithOffer]  # type: ignore[assignment]  # the cards, each with its offer


class ProductDetailWithOffers(catalog.ProductDetail):
    """A product page with, per SKU (in ``skus`` order), what the shopper is shown beside its
    price now."""

    offers: list[promotions.PriceTag] = Field(default_factory=list)


@storefront_router.get("/products")
@raises(catalog.CategoryNotFound, catalog.AttributeFilterInvalid, InvalidCursor)
async def list_storefront_products(
    session: DbSession,
    customer: MaybeCustomer,
    category_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Includes subcategories")
    ] = None,
    brand_id: Annotated[list[BrandId] | None, Query(max_length=20, description="Repeat for more")] = None,
    price_min: Amount = None,
    price_max: Amount = None,
    attr: Annotated[
        list[AttributeFilter] | None,
        Query(max_length=20, description="code:value, e.g. colour:红色 (repeat for more)"),
    ] = None,
    in_stock: bool | None = None,
    q: Annotated[
        str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="Part of a title")
    ] = None,
    sort: catalog.ProductSort = catalog.ProductSort.newest,
    page: Annotated[int, Query(ge=1, le=catalog.MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=catalog.MAX_PAGE_SIZE)] = 20,
) -> ProductCardPageWithOffers:
    """Products on sale, filtered and sorted, by numbered page (at most 60 a page), each with its
    offer for the shopper (signed in with a customer token: their coupons and conditions)."""
    cards = await catalog.list_storefront_products(
        session,
        category_id=category_id,
        brand_ids=brand_id or (),
        price_min=price_min,
        price_max=price_max,
        attributes=attr or (),
        in_stock=in_stock,
        query=q,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    offers = await promotions.card_tags(
        session, cards=cards.items, customer_id=_customer_id(customer), channel=promotions.Channel.app
    )
    return ProductCardPageWithOffers.model_construct(
        page=cards.page,
        page_size=cards.page_size,
        total=cards.total,
        items=[
            ProductCardWithOffer.model_construct(**dict(card), offer=offers.get(card.id))
            for card in cards.items
        ],
    )


@storefront_router.get("/products/by-slug/{slug}")
@raises(catalog.ProductNotFound)
async def get_storefront_product_by_slug(
    slug: Annotated[str, Path(max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")],
    session: DbSession,
    customer: MaybeCustomer,
) -> ProductDetailWithOffers:
    detail = await catalog.get_storefront_product_by_slug(session, slug=slug)
    return await _with_offers(session, detail, customer)


@storefront_router.get("/products/{product_id}")
@raises(catalog.ProductNotFound)
async def get_storefront_product(
    product_id: Id, session: DbSession, customer: MaybeCustomer
) -> ProductDetailWithOffers:
    """A product on sale: SKUs with prices, price breaks and availability, params, images,
    breadcrumbs, and per SKU its offer for the shopper."""
    detail = await catalog.get_storefront_product(session, product_id=product_id)
    return await _with_offers(session, detail, customer)


def _customer_id(customer: CustomerAuth | None) -> int | None:
    return customer.customer.id if customer is not None else None


async def _with_offers(
    session: DbSession, detail: catalog.ProductDetail, customer: CustomerAuth | None
) -> ProductDetailWithOffers:
    tags = await promotions.price_tags(
        session,
        skus=catalog.sellable_of(detail),
        customer_id=_customer_id(customer),
        channel=promotions.Channel.app,
    )
    return ProductDetailWithOffers.model_construct(
        **dict(detail), offers=[tags[sku.id] for sku in detail.skus if sku.id in tags]
    )
