"""Catalog: categories, brands, product types and attributes, products (SPU) and SKUs, media,
the listing workflow with its compliance checks, and the storefront read API.

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- references for other domains: ``get_sku_refs``, ``get_sku_ids_by_code``, ``get_sku_labels``,
  ``name_specs`` (a cart or order line's spec codes and values as names in both languages),
  ``search_sku_ids`` (code or title, for staff lists);
  ``get_card_skus`` (the SKUs a product card may price, cached), ``sellable_of`` (the same from a
  product page) and ``list_products_near_price``
  (products with stock in a selection of ids, by how near their price is to an amount: 凑单),
  for promotions' displays;
  ``apply_stock_level`` (the stock read model, fed by ``inventory.stock_level_changed`` through
  ``handlers.on_stock_level_changed``); ``record_sales`` (paid units, from ``orders``)
- media: ``check_product_image`` then ``add_product_image``, ``check_brand_logo`` then
  ``set_brand_logo`` (the upload is decoded between them by ``core.images.decode``, outside
  any transaction), ``list_product_images``, ``remove_product_image``,
  ``reorder_product_images`` (files in ``core.storage``, proved and re-encoded with Pillow;
  audited); ``list_spec_images``, ``set_spec_images`` (a picture per value of the product's
  picture-driving spec: the storefront shows it when the value is picked, and it is the SKU's
  picture in carts and orders)
- categories: ``get_category_tree``, ``get_category``, ``create_category``, ``update_category``,
  ``move_category`` (the subtree follows in one UPDATE), ``reorder_categories``,
  ``delete_category`` (only when empty)
- brands: ``list_brands``, ``get_brand``, ``create_brand``, ``update_brand``, ``delete_brand``
- product types: ``list_product_types``, ``get_product_type``, ``create_product_type``,
  ``update_product_type``, ``add_attribute``, ``add_attribute_value``, ``remove_attribute_value``
- products: ``list_products``, ``get_product``, ``create_product``, ``update_product`` (the
  description is rich text sanitised with nh3 to the editor's formats: ``service/rich_text.py``)
- SKUs: ``set_product_specs`` (SKUs from spec combinations; kept, added, disabled, re-enabled),
  ``list_skus``, ``update_sku``
- listing (``states.LISTING``): ``submit_for_review`` (runs ``check_listing``), ``approve_listing``,
  ``reject_listing``, ``take_off_sale``, ``put_on_sale``, ``list_listing_history``,
  ``list_review_queue`` (``count_review_queue``)
- compliance: ``check_listing`` (dry run), ``ensure_default_banned_terms`` (idempotent seed for
  the demo loader and new shops), ``load_default_banned_terms``, ``list_banned_terms``,
  ``add_banned_term``, ``deactivate_banned_term``; ``compliance.AUTO_APPROVE_LOW_RISK``
- spreadsheets (``service/spreadsheets.py``): ``import_products`` (CSV/XLSX, all or nothing, bulk
  writes, one ``catalog.import`` audit entry), ``export_products`` (round-trippable)
- storefront (only products on sale; tree and pages cached): ``get_storefront_category_tree``,
  ``list_storefront_products``, ``list_storefront_cards`` (cards by id, in a given order),
  ``get_storefront_product``, ``get_storefront_product_by_slug``,
  ``invalidate_product_cache`` (for writes that change a product page outside these services);
  ``get_storefront_facets`` (brands, filterable attributes and price span for the filter panel),
  ``list_sitemap_products`` (slugs and last changes of the products on sale)

Every staff write takes ``actor`` and records an audit entry in the same transaction.

Events emitted: ``ProductListed`` (``catalog.product_listed.v1``), ``ProductDelisted``
(``catalog.product_delisted.v1``). Events consumed: ``inventory.stock_level_changed.v1``.
Depends on: core, identity (audit). Glossary: CONTEXT.md (商品, SPU, SKU, 类目, 品牌, 上架审核).
"""

from mercato.catalog.errors import (
    AttributeCodeTaken,
    AttributeFilterInvalid,
    AttributeNotFound,
    AttributeValueInUse,
    AttributeValueNotFound,
    AttributeValueTaken,
    BannedTermExists,
    BannedTermInvalid,
    BannedTermNotFound,
    BrandInUse,
    BrandNotFound,
    CategoryCycle,
    CategoryInUse,
    CategoryNotFound,
    CategoryOrderMismatch,
    CategoryTooDeep,
    DuplicateSkuCode,
    ImageAltTooLong,
    ImageDimensionsTooLarge,
    ImageInvalid,
    ImageOrderMismatch,
    ImagePixelsTooMany,
    ImageTooLarge,
    ImportRejected,
    InvalidAttributes,
    ListingChecksFailed,
    NameTaken,
    PresaleDateRequired,
    PriceInvalid,
    ProductImageNotFound,
    ProductNotEditable,
    ProductNotFound,
    ProductTypeNotFound,
    SkuNotFound,
    SkuSpecMismatch,
    SlugReserved,
    SlugTaken,
    TooManySkus,
)
from mercato.catalog.events import ProductDelisted, ProductListed
from mercato.catalog.schemas import (
    AttributeCreate,
    AttributeKind,
    AttributeRead,
    AttributeValueRead,
    AttributeValueWrite,
    BannedTermCreate,
    BannedTermRead,
    BrandCreate,
    BrandLogoRead,
    BrandRead,
    BrandSummary,
    BrandUpdate,
    Breadcrumb,
    CategoryCreate,
    CategoryMove,
    CategoryNode,
    CategoryRead,
    CategoryReorder,
    CategoryUpdate,
    ImageRef,
    ListingFinding,
    ListingStatusChangeRead,
    ParamRead,
    PriceBreakRead,
    PriceBreakWrite,
    ProductCard,
    ProductCardPage,
    ProductCreate,
    ProductDetail,
    ProductImageOrder,
    ProductImageRead,
    ProductImportResult,
    ProductRead,
    ProductSort,
    ProductTypeCreate,
    ProductTypeRead,
    ProductTypeUpdate,
    ProductUpdate,
    RejectListing,
    ReviewQueueItem,
    SkuCodeChoice,
    SkuLabel,
    SkuRead,
    SkuRef,
    SkuUpdate,
    SpecOption,
    SpecsWrite,
    SpecValueRead,
    StorefrontCategory,
    StorefrontSku,
    TakeOffSale,
    TermLanguage,
)
from mercato.catalog.service import compliance
from mercato.catalog.service.banned_terms import (
    add_banned_term,
    deactivate_banned_term,
    ensure_default_banned_terms,
    list_banned_terms,
    load_default_banned_terms,
)
from mercato.catalog.service.brands import (
    create_brand,
    delete_brand,
    get_brand,
    list_brands,
    update_brand,
)
from mercato.catalog.service.categories import (
    create_category,
    delete_category,
    get_category,
    get_category_tree,
    move_category,
    reorder_categories,
    update_category,
)
from mercato.catalog.service.listing import (
    approve_listing,
    check_listing,
    count_review_queue,
    list_listing_history,
    list_review_queue,
    put_on_sale,
    reject_listing,
    submit_for_review,
    take_off_sale,
)
from mercato.catalog.service.media import (
    add_product_image,
    check_brand_logo,
    check_product_image,
    list_product_images,
    remove_product_image,
    reorder_product_images,
    set_brand_logo,
)
from mercato.catalog.service.product_types import (
    add_attribute,
    add_attribute_value,
    create_product_type,
    get_product_type,
    list_product_types,
    remove_attribute_value,
    update_product_type,
)
from mercato.catalog.service.products import (
    create_product,
    get_product,
    list_products,
    update_product,
)
from mercato.catalog.service.references import (
    apply_stock_level,
    get_sku_ids_by_code,
    get_sku_labels,
    get_sku_refs,
    record_sales,
    search_sku_ids,
)
from mercato.catalog.service.skus import list_skus, set_product_specs, update_sku
from mercato.catalog.service.spreadsheets import export_products, import_products
from mercato.catalog.service.storefront import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    get_storefront_category_tree,
    get_storefront_product,
    get_storefront_product_by_slug,
    invalidate_product_cache,
    list_storefront_cards,
    list_storefront_products,
)
from mercato.catalog.states import LISTING, ListingStatus, SkuStatus

__all__ = ["SkuNotFound", "SkuRef", "apply_stock_level", "get_sku_refs"]
__all__ += [
    "BrandLogoRead",
    "BrandNotFound",
    "ImageAltTooLong",
    "ImageDimensionsTooLarge",
    "ImageInvalid",
    "ImageOrderMismatch",
    "ImagePixelsTooMany",
    "ImageTooLarge",
    "ProductImageNotFound",
    "ProductImageOrder",
    "ProductImageRead",
    "ProductNotFound",
    "add_product_image",
    "check_brand_logo",
    "check_product_image",
    "list_product_images",
    "remove_product_image",
    "reorder_product_images",
    "set_brand_logo",
]

__all__ += [
    "LISTING",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "AttributeCodeTaken",
    "AttributeCreate",
    "AttributeFilterInvalid",
    "AttributeKind",
    "AttributeNotFound",
    "AttributeRead",
    "AttributeValueInUse",
    "AttributeValueNotFound",
    "AttributeValueRead",
    "AttributeValueTaken",
    "AttributeValueWrite",
    "BannedTermCreate",
    "BannedTermExists",
    "BannedTermInvalid",
    "BannedTermNotFound",
    "BannedTermRead",
    "BrandCreate",
    "BrandInUse",
    "BrandRead",
    "BrandSummary",
    "BrandUpdate",
    "Breadcrumb",
    "CategoryCreate",
    "CategoryCycle",
    "CategoryInUse",
    "CategoryMove",
    "CategoryNode",
    "CategoryNotFound",
    "CategoryOrderMismatch",
    "CategoryRead",
    "CategoryReorder",
    "CategoryTooDeep",
    "CategoryUpdate",
    "DuplicateSkuCode",
    "ImageRef",
    "InvalidAttributes",
    "ListingChecksFailed",
    "ListingFinding",
    "ListingStatus",
    "ListingStatusChangeRead",
    "NameTaken",
    "ParamRead",
    "PresaleDateRequired",
    "PriceBreakRead",
    "PriceBreakWrite",
    "PriceInvalid",
    "ProductCard",
    "ProductCardPage",
    "ProductCreate",
    "ProductDelisted",
    "ProductDetail",
    "ProductListed",
    "ProductNotEditable",
    "ProductRead",
    "ProductSort",
    "ProductTypeCreate",
    "ProductTypeNotFound",
    "ProductTypeRead",
    "ProductTypeUpdate",
    "ProductUpdate",
    "RejectListing",
    "ReviewQueueItem",
    "SkuCodeChoice",
    "SkuRead",
    "SkuSpecMismatch",
    "SkuStatus",
    "SkuUpdate",
    "SlugReserved",
    "SlugTaken",
    "SpecOption",
    "SpecValueRead",
    "SpecsWrite",
    "StorefrontCategory",
    "StorefrontSku",
    "TakeOffSale",
    "TermLanguage",
    "TooManySkus",
    "add_attribute",
    "add_attribute_value",
    "add_banned_term",
    "approve_listing",
    "check_listing",
    "compliance",
    "create_brand",
    "create_category",
    "create_product",
    "create_product_type",
    "deactivate_banned_term",
    "delete_brand",
    "delete_category",
    "ensure_default_banned_terms",
    "get_brand",
    "get_category",
    "get_category_tree",
    "get_product",
    "get_product_type",
    "get_storefront_category_tree",
    "get_storefront_product",
    "get_storefront_product_by_slug",
    "invalidate_product_cache",
    "list_banned_terms",
    "list_brands",
    "list_listing_history",
    "list_product_types",
    "list_products",
    "list_review_queue",
    "count_review_queue",
    "list_skus",
    "list_storefront_cards",
    "list_storefront_products",
    "load_default_banned_terms",
    "move_category",
    "put_on_sale",
    "reject_listing",
    "remove_attribute_value",
    "reorder_categories",
    "set_product_specs",
    "submit_for_review",
    "take_off_sale",
    "update_brand",
    "update_category",
    "update_product",
    "update_product_type",
    "update_sku",
]

__all__ += [
    "ImportRejected",
    "ProductImportResult",
    "SkuLabel",
    "export_products",
    "get_sku_ids_by_code",
    "get_sku_labels",
    "import_products",
]

from mercato.catalog.schemas import SellableSku  # noqa: E402 - grouped with its function
from mercato.catalog.service.sellable import get_sellable_skus  # noqa: E402

__all__ += ["SellableSku", "get_sellable_skus", "record_sales"]
__all__ += ["search_sku_ids"]

from mercato.catalog.schemas import AttributeFacet, BrandFacet, StorefrontFacets  # noqa: E402
from mercato.catalog.service.facets import get_storefront_facets  # noqa: E402

__all__ += ["AttributeFacet", "BrandFacet", "StorefrontFacets", "get_storefront_facets"]

from mercato.catalog.schemas import SitemapProduct  # noqa: E402
from mercato.catalog.service.sitemap import list_sitemap_products  # noqa: E402

__all__ += ["SitemapProduct", "list_sitemap_products"]

from mercato.catalog.schemas import SpecImageRead, SpecImageRef, SpecImagesWrite  # noqa: E402
from mercato.catalog.service.spec_images import list_spec_images, set_spec_images  # noqa: E402

__all__ += ["SpecImageRead", "SpecImageRef", "SpecImagesWrite", "list_spec_images", "set_spec_images"]

from mercato.catalog.schemas import SpecName  # noqa: E402
from mercato.catalog.service.spec_names import name_specs  # noqa: E402

__all__ += ["SpecName", "name_specs"]

from mercato.catalog.schemas import CardSku  # noqa: E402
from mercato.catalog.service.promoted import (  # noqa: E402
    get_card_skus,
    list_products_near_price,
    sellable_of,
)

__all__ += ["CardSku", "get_card_skus", "list_products_near_price", "sellable_of"]
