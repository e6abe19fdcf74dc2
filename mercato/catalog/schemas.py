"""Public catalog DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from mercato.catalog.service.rich_text import as_paragraphs
from mercato.catalog.states import ListingStatus, SkuStatus
from mercato.core.schemas import MAX_AMOUNT as MAX_AMOUNT  # re-exported: the import checks amounts
from mercato.core.schemas import IdInt, InputModel, MultilineText, ReadModel

#: A stored description as shown: plain text written before the editor reads as paragraphs.
DescriptionHtml = Annotated[str, AfterValidator(as_paragraphs)]


class SkuRef(ReadModel):
    """What other domains need to know about a SKU (inventory, cart, orders)."""

    id: int
    product_id: int
    code: str
    spec: dict[str, str]
    currency: str
    price_amount: int
    weight_grams: int
    status: str


# --- Media (product images, brand logos) ----------------------------------------------------


class ProductImageRead(ReadModel):
    """A product image: the re-encoded original and its thumbnail (at most 400 px a side)."""

    id: int
    product_id: int
    url: str
    thumbnail_url: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    alt: str
    position: int
    created_at: dt.datetime


class ProductImageOrder(InputModel):
    """Every image id of the product, in the order the images are shown."""

    image_ids: list[IdInt] = Field(max_length=200)


class SpecImagesWrite(InputModel):
    """The pictures of the product's picture-driving spec: a value -> one of the product's image
    ids. Replaces every tie the product had; a value left out (or null) shows the main picture."""

    attribute_code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
    images: dict[Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^;=]+$")], IdInt | None] = (
        Field(default_factory=dict, max_length=100)
    )


class SpecImageRead(ReadModel):
    """A spec value's picture (by image id, with its URLs)."""

    attribute_code: str
    value: str
    image_id: int
    url: str
    thumbnail_url: str


class BrandLogoRead(ReadModel):
    brand_id: int
    url: str
    content_type: str
    size_bytes: int
    width: int
    height: int


# --- Categories, brands, product types, products, SKUs, listing, storefront ------------------
#
# Inputs refuse unknown fields and unsafe characters (``InputModel``: NUL, which PostgreSQL cannot
# store, other control and text-direction characters). Updates are partial: a field left out
# keeps its value; a nullable field sent as null is cleared. Money is integer minor units
# (``*_amount``) in the product's ``currency``.

CatalogId = IdInt
Name = Annotated[str, Field(min_length=1, max_length=60)]
OptionalName = Annotated[str, Field(max_length=60)]
Slug = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
ProductSlug = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
SeoTitle = Annotated[str, Field(max_length=120)]
SeoDescription = Annotated[str, Field(max_length=300)]
Position = Annotated[int, Field(ge=0, le=1_000_000)]
AttributeCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
#: ``;`` and ``=`` are the separators of a SKU's canonical ``spec_key``.
AttributeValueText = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^;=]+$")]
ParamValue = Annotated[str, Field(min_length=1, max_length=200)]
StorageKey = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=20)]
SkuCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Barcode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT)]
CostAmount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Grams = Annotated[int, Field(ge=0, le=1_000_000)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000)]


class CatalogInput(InputModel):
    """Base of catalog inputs (the text checks they once made here are now every input's)."""


# -- categories


class CategoryCreate(CatalogInput):
    name: Name
    name_en: OptionalName = ""
    slug: Slug | None = Field(default=None, description="Default: c-<id>")
    parent_id: CatalogId | None = None
    position: Position = 0
    is_high_risk: bool = False
    is_active: bool = True
    seo_title: SeoTitle = ""
    seo_description: SeoDescription = ""


class CategoryUpdate(CatalogInput):
    name: Name | None = None
    name_en: OptionalName | None = None
    slug: Slug | None = None
    is_high_risk: bool | None = None
    is_active: bool | None = None
    seo_title: SeoTitle | None = None
    seo_description: SeoDescription | None = None


class CategoryMove(CatalogInput):
    """Re-parent a category (``parent_id`` null: make it a root), with its whole subtree."""

    parent_id: CatalogId | None
    position: Position | None = Field(default=None, description="Default: after the last sibling")


class CategoryReorder(CatalogInput):
    """Every child of ``parent_id`` (null: the roots), in the order they are shown."""

    parent_id: CatalogId | None = None
    category_ids: list[CatalogId] = Field(max_length=1000)


class CategoryRead(ReadModel):
    id: int
    parent_id: int | None
    name: str
    name_en: str
    slug: str
    position: int
    path: str
    depth: int
    is_high_risk: bool
    is_active: bool
    seo_title: str
    seo_description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryNode(CategoryRead):
    """A category with its children, ordered by position, then name."""

    children: list[CategoryNode] = Field(default_factory=list)


# -- brands


class BrandCreate(CatalogInput):
    name: Name
    name_en: OptionalName = ""
    slug: Slug | None = Field(default=None, description="Default: b-<id>")
    authorization_keys: list[StorageKey] = Field(default_factory=list, max_length=20)
    authorization_expires_on: dt.date | None = None


class BrandUpdate(CatalogInput):
    name: Name | None = None
    name_en: OptionalName | None = None
    slug: Slug | None = None
    authorization_keys: list[StorageKey] | None = Field(default=None, max_length=20)
    authorization_expires_on: dt.date | None = None


class BrandRead(ReadModel):
    id: int
    name: str
    name_en: str
    slug: str
    logo_key: str | None
    authorization_keys: list[str]
    authorization_expires_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


# -- product types and attributes


class AttributeKind(StrEnum):
    """What an attribute of a product type does."""

    spec = "spec"  # one value per SKU; the chosen values generate the SKUs (colour, size)
    param = "param"  # shown on the product page only (material, origin)


class AttributeValueWrite(CatalogInput):
    value: AttributeValueText
    value_en: Annotated[str, Field(max_length=60)] = ""
    position: Position = 0


class AttributeCreate(CatalogInput):
    code: AttributeCode
    name: Name
    name_en: OptionalName = ""
    kind: AttributeKind
    position: Position = 0
    values: list[AttributeValueWrite] = Field(default_factory=list, max_length=200)


class ProductTypeCreate(CatalogInput):
    name: Name
    name_en: OptionalName = ""
    attributes: list[AttributeCreate] = Field(default_factory=list, max_length=50)


class ProductTypeUpdate(CatalogInput):
    name: Name | None = None
    name_en: OptionalName | None = None


class AttributeValueRead(ReadModel):
    id: int
    value: str
    value_en: str
    position: int


class AttributeRead(ReadModel):
    id: int
    code: str
    name: str
    name_en: str
    kind: AttributeKind
    position: int
    values: list[AttributeValueRead]


class ProductTypeRead(ReadModel):
    id: int
    name: str
    name_en: str
    attributes: list[AttributeRead]
    created_at: dt.datetime


# -- products


class ProductCreate(CatalogInput):
    product_type_id: CatalogId
    category_id: CatalogId
    brand_id: CatalogId | None = None
    title: Annotated[str, Field(min_length=1, max_length=120)]
    title_en: Annotated[str, Field(max_length=120)] = ""
    subtitle: Annotated[str, Field(max_length=200)] = ""
    description_html: Annotated[MultilineText, Field(max_length=100_000)] = Field(
        default="", description="Sanitised: only safe tags and attributes are kept"
    )
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    params: dict[AttributeCode, ParamValue] = Field(
        default_factory=dict, max_length=50, description="Parameter attribute code -> value"
    )
    seo_title: SeoTitle = ""
    seo_description: SeoDescription = ""
    min_order_quantity: Quantity = 1
    is_presale: bool = False
    presale_ships_on: dt.date | None = None
    slug: ProductSlug | None = Field(default=None, description="Default: p-<id>")


class ProductUpdate(CatalogInput):
    category_id: CatalogId | None = None
    brand_id: CatalogId | None = None
    title: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    title_en: Annotated[str, Field(max_length=120)] | None = None
    subtitle: Annotated[str, Field(max_length=200)] | None = None
    description_html: Annotated[MultilineText, Field(max_length=100_000)] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    params: dict[AttributeCode, ParamValue] | None = Field(default=None, max_length=50)
    seo_title: SeoTitle | None = None
    seo_description: SeoDescription | None = None
    min_order_quantity: Quantity | None = None
    is_presale: bool | None = None
    presale_ships_on: dt.date | None = None
    slug: ProductSlug | None = None


class ProductRead(ReadModel):
    id: int
    product_type_id: int
    category_id: int
    brand_id: int | None
    seller_id: int | None
    slug: str
    title: str
    title_en: str
    subtitle: str
    description_html: DescriptionHtml
    tags: list[str]
    params: dict[str, str]
    seo_title: str
    seo_description: str
    status: ListingStatus
    min_order_quantity: int
    is_presale: bool
    presale_ships_on: dt.date | None
    currency: str
    min_price_amount: int
    max_price_amount: int
    sales_count: int
    in_stock: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None


# -- SKUs


class SkuCodeChoice(CatalogInput):
    """The code to give the SKU of one spec combination (instead of ``<product id>-<n>``)."""

    spec: dict[AttributeCode, AttributeValueText] = Field(max_length=10)
    code: SkuCode


class SpecsWrite(CatalogInput):
    """The spec values the product is sold in; their combinations are its SKUs.

    ``{}`` makes one SKU without specs. SKUs of combinations still chosen are kept as they are;
    the others are disabled (never deleted) and come back if their values are chosen again.
    """

    specs: dict[AttributeCode, Annotated[list[AttributeValueText], Field(min_length=1, max_length=100)]] = (
        Field(max_length=10)
    )
    sku_codes: list[SkuCodeChoice] = Field(default_factory=list, max_length=600)


class PriceBreakWrite(CatalogInput):
    min_quantity: Annotated[int, Field(ge=2, le=1_000_000)]
    unit_price_amount: Amount


class SkuUpdate(CatalogInput):
    code: SkuCode | None = None
    barcode: Barcode | None = None
    price_amount: Amount | None = None
    market_price_amount: Amount | None = Field(default=None, description="划线价; null clears it")
    cost_price_amount: CostAmount | None = None
    weight_grams: Grams | None = None
    status: SkuStatus | None = None
    price_breaks: list[PriceBreakWrite] | None = Field(
        default=None, max_length=10, description="Replaces all of the SKU's price breaks"
    )


class PriceBreakRead(ReadModel):
    min_quantity: int
    unit_price_amount: int


class SkuRead(ReadModel):
    id: int
    product_id: int
    code: str
    barcode: str | None
    spec: dict[str, str]
    spec_key: str
    currency: str
    price_amount: int
    market_price_amount: int | None
    cost_price_amount: int | None
    weight_grams: int
    status: SkuStatus
    available_quantity: int
    price_breaks: list[PriceBreakRead]
    created_at: dt.datetime
    updated_at: dt.datetime


# -- listing workflow and compliance


class ListingFinding(ReadModel):
    """One result of the automatic listing checks.

    ``field`` names the product field (or the SKU field, with ``sku_id``); ``term`` is the banned
    term found. Blocking findings refuse the submission; the others are notes for the reviewer.
    """

    code: str
    field: str
    message: str
    term: str | None = None
    sku_id: int | None = None
    blocking: bool = True


class RejectListing(CatalogInput):
    reason: Annotated[MultilineText, Field(min_length=1, max_length=500)]


class TakeOffSale(CatalogInput):
    reason: Annotated[MultilineText, Field(max_length=500)] = ""


class ListingStatusChangeRead(ReadModel):
    id: int
    product_id: int
    from_status: ListingStatus
    to_status: ListingStatus
    actor_id: int | None
    actor_label: str
    reason: str
    findings: list[ListingFinding]
    created_at: dt.datetime


class ReviewQueueItem(ReadModel):
    """A product waiting for review, with what the reviewer needs to decide."""

    product: ProductRead
    category_names: list[str]  # from the root down
    is_high_risk: bool  # the category or one of its ancestors is marked high-risk
    submitted_at: dt.datetime
    submitted_by: str
    findings: list[ListingFinding]


class TermLanguage(StrEnum):
    """How a banned term is matched."""

    zh = "zh"  # as a substring anywhere
    en = "en"  # case-insensitively, as whole words


class BannedTermCreate(CatalogInput):
    term: Annotated[str, Field(min_length=1, max_length=60)]
    language: TermLanguage


class BannedTermRead(ReadModel):
    id: int
    term: str
    language: TermLanguage
    rule: str
    is_active: bool
    created_at: dt.datetime


# -- storefront


class ProductSort(StrEnum):
    """Orders of the storefront product list."""

    newest = "newest"  # most recently published first
    price_asc = "price_asc"  # lowest "from" price first
    price_desc = "price_desc"  # highest "from" price first
    sales = "sales"  # best-selling first


class StorefrontCategory(ReadModel):
    id: int
    name: str
    name_en: str
    slug: str
    seo_title: str
    seo_description: str
    children: list[StorefrontCategory] = Field(default_factory=list)


class ImageRef(ReadModel):
    """An image as the storefront shows it: where to fetch it and its thumbnail."""

    url: str
    thumbnail_url: str
    width: int
    height: int
    alt: str


class ProductCard(ReadModel):
    """A product in a storefront grid."""

    id: int
    slug: str
    title: str
    title_en: str
    subtitle: str
    category_id: int
    brand_id: int | None
    currency: str
    min_price_amount: int
    max_price_amount: int
    in_stock: bool
    is_presale: bool
    sales_count: int
    image: ImageRef | None
    published_at: dt.datetime | None


class ProductCardPage(ReadModel):
    """One numbered page of the storefront product list (offset pagination: a grid has pages)."""

    items: list[ProductCard]
    page: int
    page_size: int
    total: int


class Breadcrumb(ReadModel):
    id: int
    name: str
    name_en: str
    slug: str


class BrandSummary(ReadModel):
    id: int
    name: str
    name_en: str
    slug: str
    logo_key: str | None


class ParamRead(ReadModel):
    code: str
    name: str
    name_en: str
    value: str


class SpecValueRead(ReadModel):
    value: str
    value_en: str


class SpecName(ReadModel):
    """One spec of a SKU as shoppers read it: the attribute's and the value's names (颜色 远峰蓝 /
    Colour Sierra Blue); ``name_en`` or ``value_en`` is blank where there is no English name."""

    code: str
    name: str
    name_en: str
    value: str
    value_en: str


class SpecOption(ReadModel):
    """A spec the shopper chooses (colour, size) with the values its active SKUs offer."""

    code: str
    name: str
    name_en: str
    values: list[SpecValueRead]


class StorefrontSku(ReadModel):
    id: int
    code: str
    spec: dict[str, str]
    currency: str
    price_amount: int
    market_price_amount: int | None
    available_quantity: int
    price_breaks: list[PriceBreakRead]
    weight_grams: int = 0


class SpecImageRef(ReadModel):
    """The storefront picture of a spec value: ``image_index`` into ``ProductDetail.images``."""

    code: str
    value: str
    image_index: int


class ProductDetail(ReadModel):
    """Everything the storefront product page shows (only products on sale have one)."""

    id: int
    slug: str
    title: str
    title_en: str
    subtitle: str
    description_html: DescriptionHtml
    tags: list[str]
    seo_title: str
    seo_description: str
    currency: str
    min_price_amount: int
    max_price_amount: int
    min_order_quantity: int
    is_presale: bool
    presale_ships_on: dt.date | None
    in_stock: bool
    sales_count: int
    category_id: int
    breadcrumbs: list[Breadcrumb]
    brand: BrandSummary | None
    images: list[ImageRef]
    spec_images: list[SpecImageRef] = Field(default_factory=list)
    params: list[ParamRead]
    specs: list[SpecOption]
    skus: list[StorefrontSku]
    published_at: dt.datetime | None
    seller_id: int | None = None  # the marketplace's merchant; None for the shop's own goods


# -- spreadsheet import and export


class ProductImportResult(ReadModel):
    """What a product import did (with ``dry_run``: what it would do; nothing was written).

    ``products_updated`` counts existing products whose content changed or that got new SKUs;
    ``skus_updated`` existing SKUs whose code-keyed fields (prices, barcode, weight) changed.
    """

    rows: int
    products_created: int
    products_updated: int
    skus_created: int
    skus_updated: int
    dry_run: bool


class SkuLabel(ReadModel):
    """How a SKU is named to people (stock lists, exports): its code, product title and spec."""

    id: int
    code: str
    product_id: int
    product_title: str
    spec: dict[str, str]


class SellableSku(ReadModel):
    """A SKU as the cart and checkout see it now (see ``get_sellable_skus``)."""

    sku_id: int
    code: str
    product_id: int
    product_slug: str
    title: str
    title_en: str
    spec: dict[str, str]
    currency: str
    price_amount: int
    market_price_amount: int | None
    price_breaks: list[PriceBreakRead]
    weight_grams: int
    min_order_quantity: int
    category_ids: list[int]  # the product's category and its ancestors, root first
    seller_id: int | None
    brand_id: int | None
    image_url: str | None  # the thumbnail of its spec value's picture, else of the first image
    is_sellable: bool  # the product is on sale and the SKU active


class CardSku(ReadModel):
    """A sellable SKU as a product grid prices one unit of it (a ``pricing.SellableLike``; see
    ``get_card_skus``)."""

    sku_id: int
    product_id: int
    category_ids: list[int]  # the product's category and its ancestors, root first
    brand_id: int | None
    seller_id: int | None
    price_amount: int
    weight_grams: int

    @property
    def price_breaks(self) -> tuple[()]:
        """None: a break starts at two units and a card prices one."""
        return ()


# -- storefront facets (the filter panel of a category or search page)


class BrandFacet(ReadModel):
    """A brand with products among the results, and how many."""

    id: int
    name: str
    name_en: str
    slug: str
    count: int


class AttributeFacet(ReadModel):
    """A filterable attribute (spec, or parameter with defined values) of the products listed;
    filter with ``code:value``."""

    code: str
    name: str
    name_en: str
    kind: AttributeKind
    values: list[SpecValueRead]


class StorefrontFacets(ReadModel):
    """What the products on sale in a category (or matching a search) can be filtered by."""

    brands: list[BrandFacet]
    attributes: list[AttributeFacet]
    currency: str | None  # None when nothing matches
    min_price_amount: int | None  # the lowest "from" price
    max_price_amount: int | None
    total: int


class SitemapProduct(ReadModel):
    """A product on sale as the sitemap lists it."""

    slug: str
    updated_at: dt.datetime
