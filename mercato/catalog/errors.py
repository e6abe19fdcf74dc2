"""Catalog errors (stable codes ``catalog.*``).

Codes of the catalog management, listing and storefront services::

    404 NotFound      catalog.category_not_found (also for a body's unknown category/parent, with a
                      field error), catalog.brand_not_found, catalog.product_type_not_found,
                      catalog.attribute_not_found, catalog.attribute_value_not_found,
                      catalog.product_not_found (also: not on sale, in the storefront),
                      catalog.sku_not_found, catalog.banned_term_not_found
    409 Conflict      catalog.slug_taken, catalog.name_taken, catalog.attribute_code_taken,
                      catalog.attribute_value_taken, catalog.attribute_value_in_use,
                      catalog.category_in_use, catalog.brand_in_use, catalog.duplicate_sku_code,
                      catalog.sku_spec_mismatch, catalog.product_not_editable,
                      catalog.banned_term_exists, catalog.illegal_transition (states.LISTING)
    422 InvalidInput  catalog.slug_reserved, catalog.category_cycle, catalog.category_too_deep,
                      catalog.category_order_mismatch, catalog.invalid_attributes (field errors
                      catalog.unknown_attribute, catalog.unknown_attribute_value,
                      catalog.unknown_combination), catalog.too_many_skus, catalog.price_invalid
                      (field errors catalog.price_not_positive, catalog.price_above_market_price,
                      catalog.price_break_invalid), catalog.presale_date_required,
                      catalog.listing_checks_failed (one field error per blocking finding:
                      catalog.banned_term, catalog.required, catalog.no_active_sku,
                      catalog.price_not_positive, catalog.price_above_market_price),
                      catalog.banned_term_invalid, catalog.invalid_filter,
                      catalog.import_rejected (one field error per problem row and column)
"""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound


class SkuNotFound(NotFound):
    code = "catalog.sku_not_found"
    message = "SKU not found: {sku_ids}."


class ProductNotFound(NotFound):
    code = "catalog.product_not_found"
    message = "Product not found."


class BrandNotFound(NotFound):
    code = "catalog.brand_not_found"
    message = "Brand not found."


# --- Categories, brands, product types, products, SKUs, listing -----------------------------


class CategoryNotFound(NotFound):
    """Also raised for an unknown ``category_id``/``parent_id`` in a body (with a field error)."""

    code = "catalog.category_not_found"
    message = "Category not found."


class ProductTypeNotFound(NotFound):
    code = "catalog.product_type_not_found"
    message = "Product type not found."


class AttributeNotFound(NotFound):
    code = "catalog.attribute_not_found"
    message = "Attribute not found."


class AttributeValueNotFound(NotFound):
    code = "catalog.attribute_value_not_found"
    message = "Attribute value not found."


class BannedTermNotFound(NotFound):
    code = "catalog.banned_term_not_found"
    message = "Banned term not found."


class SlugTaken(Conflict):
    code = "catalog.slug_taken"
    message = "This slug is already used."


class SlugReserved(InvalidInput):
    """``c-<n>``, ``b-<n>`` and ``p-<n>`` are the id-based default slugs of other rows."""

    code = "catalog.slug_reserved"
    message = "This slug is reserved for generated addresses; choose another."


class NameTaken(Conflict):
    code = "catalog.name_taken"
    message = "This name is already used."


class AttributeCodeTaken(Conflict):
    code = "catalog.attribute_code_taken"
    message = "The product type already has an attribute with this code."


class AttributeValueTaken(Conflict):
    code = "catalog.attribute_value_taken"
    message = "The attribute already has this value."


class AttributeValueInUse(Conflict):
    code = "catalog.attribute_value_in_use"
    message = "This value is used by products or active SKUs; change them first."


class CategoryCycle(InvalidInput):
    code = "catalog.category_cycle"
    message = "A category cannot move under itself or one of its descendants."


class CategoryTooDeep(InvalidInput):
    code = "catalog.category_too_deep"
    message = "Categories can be nested at most {max_depth} levels deep."


class CategoryInUse(Conflict):
    code = "catalog.category_in_use"
    message = "The category still has subcategories or products."


class CategoryOrderMismatch(InvalidInput):
    code = "catalog.category_order_mismatch"
    message = "List every subcategory of the parent exactly once."


class BrandInUse(Conflict):
    code = "catalog.brand_in_use"
    message = "Products still use this brand."


class InvalidAttributes(InvalidInput):
    """Params or spec choices that are not attributes (or values) of the product's type."""

    code = "catalog.invalid_attributes"
    message = "Some attributes are not valid for this product type."


class TooManySkus(InvalidInput):
    code = "catalog.too_many_skus"
    message = "The chosen specs make {count} SKUs; at most {max_skus} are allowed."


class DuplicateSkuCode(Conflict):
    code = "catalog.duplicate_sku_code"
    message = "The SKU code {sku_code} is already used."


class SkuSpecMismatch(Conflict):
    code = "catalog.sku_spec_mismatch"
    message = "This SKU belongs to specs the product no longer uses; choose the specs again instead."


class PriceInvalid(InvalidInput):
    code = "catalog.price_invalid"
    message = "Some prices are not valid."


class PresaleDateRequired(InvalidInput):
    code = "catalog.presale_date_required"
    message = "A presale product needs a shipping date."


class ProductNotEditable(Conflict):
    code = "catalog.product_not_editable"
    message = "A product that is {status} cannot be edited; take it off sale or wait for the review."


class ListingChecksFailed(InvalidInput):
    """The automatic checks on submit found problems; each is a field error of the problem."""

    code = "catalog.listing_checks_failed"
    message = "The listing checks found {count} problem(s); fix them and submit again."


class BannedTermExists(Conflict):
    code = "catalog.banned_term_exists"
    message = "This term is already in the dictionary."


class BannedTermInvalid(InvalidInput):
    code = "catalog.banned_term_invalid"
    message = "The term is empty or too long once normalised."


class AttributeFilterInvalid(InvalidInput):
    code = "catalog.invalid_filter"
    message = "Some filters are not valid."


# --- Media (product images, brand logos) ----------------------------------------------------


class ProductImageNotFound(NotFound):
    code = "catalog.product_image_not_found"
    message = "Product image not found."


class ImageTooLarge(InvalidInput):
    """The upload is over ``max_image_bytes``; checked before the file is decoded."""

    code = "catalog.image_too_large"
    message = "The image is too large: at most {max_megabytes} MB."


class ImageInvalid(InvalidInput):
    """Not a JPEG, PNG or WebP image by its content (the name and declared type are ignored)."""

    code = "catalog.image_invalid"
    message = "The file is not a valid JPEG, PNG or WebP image."


class ImageDimensionsTooLarge(ImageInvalid):
    """Too many pixels, decompression bombs included (same code as ImageInvalid)."""

    message = "The image is too large: at most {max_side} × {max_side} pixels."


class ImagePixelsTooMany(ImageInvalid):
    """Each side allowed, but over ``max_image_pixels`` in all (same code as ImageInvalid)."""

    message = "The image has too many pixels: at most {max_megapixels} megapixels."


class ImageAltTooLong(InvalidInput):
    code = "catalog.image_alt_too_long"
    message = "The alternative text is too long: at most {max_length} characters."


class ImageOrderMismatch(InvalidInput):
    code = "catalog.image_order_mismatch"
    message = "List every image of the product exactly once."


# --- Spreadsheet import (service/spreadsheets.py) --------------------------------------------


class ImportRejected(InvalidInput):
    """A product file with problems: nothing was imported. Each problem is a field error at
    ``("row", <row number>, <column>)`` (or ``("header", <column>)``); see service/spreadsheets.py
    for the codes."""

    code = "catalog.import_rejected"
    message = "The file has {count} problem(s); nothing was imported."
