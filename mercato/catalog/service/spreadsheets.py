"""Products and SKUs as a spreadsheet (CSV or XLSX): import all or nothing, export round-trippable.

One row per SKU; ``product_slug`` groups rows into products. Columns (``COLUMNS``)::

    product_slug        required; an existing slug updates that product, a new one creates it
    title, title_en, subtitle, description_html (sanitised), min_order_quantity
    category            category slug                    product_type   product type name
    brand               brand slug (empty: none)         tags           "新品|纯棉" ("|"-separated)
    params              "material=棉|origin=新疆"          spec           "colour=红色|size=M" (empty: none)
    sku_code            required; an existing code updates that SKU, a new one creates it
    barcode, weight_grams
    price, market_price, cost_price   yuan as decimal text ("199.00"), at most 2 decimals

Only ``product_slug`` and ``sku_code`` must be columns of the file; a column left out leaves that
field of existing products and SKUs as it is. Product columns are read from the first row of each
product; its other rows repeat them or leave them empty. An empty cell clears an optional field
(brand, barcode, market and cost price, tags, params, texts), except ``price``: left empty, an
existing SKU keeps its price (a new SKU needs one).

The catalog's rules apply unchanged (the same helpers): a new product is a draft, with its SKUs,
and goes through the listing workflow like any other; an existing product's content (and its set
of SKUs) changes only while it is editable (draft, rejected, off sale; a rejected or off-sale
product goes back to draft); while it waits for review or is on sale only its SKUs' prices,
barcodes and weights change, and an active SKU's price must stay above zero and at most its
market price. A SKU's spec never changes (a new combination is a new SKU code); every active SKU
of a product names the same spec attributes; price breaks cap the price as in ``update_sku``.

All or nothing: every row is checked first against lookups loaded once; any problem rejects the
whole file with 422 ``catalog.import_rejected`` listing each as a field error at
``("row", <row number>, <column>)`` (or ``("header", <column>)``), the first 1,000 of them.
Problem codes: ``catalog.missing_column``, ``catalog.unknown_column``, ``catalog.required``,
``catalog.invalid_value``, ``catalog.invalid_number``, ``catalog.price_negative``,
``catalog.price_too_precise``, ``catalog.price_too_large``, ``catalog.price_not_positive``,
``catalog.price_above_market_price``, ``catalog.price_break_invalid``,
``catalog.category_not_found``, ``catalog.brand_not_found``, ``catalog.product_type_not_found``,
``catalog.product_type_fixed``, ``catalog.slug_reserved``, ``catalog.unknown_attribute``,
``catalog.unknown_attribute_value``, ``catalog.inconsistent_product``,
``catalog.duplicate_sku_code``, ``catalog.duplicate_spec``, ``catalog.spec_changed``,
``catalog.sku_spec_mismatch``, ``catalog.too_many_skus``, ``catalog.product_not_editable``.

Writes are bulk statements (executemany inserts and updates, one price-range UPDATE per slice of
products), then the touched products' cached pages are dropped and one ``catalog.import`` audit
entry records the counts. Rejected or off-sale products that change move to draft through the
listing workflow, which records each move as usual.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import DuplicateSkuCode, ImportRejected, SlugTaken
from mercato.catalog.models import (
    Brand,
    Category,
    PriceBreak,
    Product,
    ProductType,
    Sku,
)
from mercato.catalog.schemas import (
    MAX_AMOUNT,
    AttributeKind,
    AttributeRead,
    ProductImportResult,
)
from mercato.catalog.service.caching import invalidate_products
from mercato.catalog.service.common import Conflicts, unique_guard
from mercato.catalog.service.listing import get_product_row, reopen_for_edit
from mercato.catalog.service.product_types import load_attributes
from mercato.catalog.service.products import param_problem, sanitize_html
from mercato.catalog.service.references import IN_CHUNK
from mercato.catalog.service.skus import (
    LIVE,
    MAX_SKUS,
    _check_price_breaks,
    live_price_problem,
    spec_key,
    spec_problem,
)
from mercato.catalog.states import EDITABLE, ListingStatus, SkuStatus
from mercato.core import clock, tabular
from mercato.core.i18n import N_
from mercato.core.money import Money, exponent
from mercato.core.settings import get_settings

COLUMNS = (
    "product_slug",
    "title",
    "title_en",
    "subtitle",
    "category",
    "brand",
    "product_type",
    "description_html",
    "tags",
    "params",
    "spec",
    "sku_code",
    "barcode",
    "price",
    "market_price",
    "cost_price",
    "weight_grams",
    "min_order_quantity",
)
REQUIRED_COLUMNS = ("product_slug", "sku_code")
#: Product columns, in file order, and the product field each sets.
PRODUCT_COLUMNS = {
    "title": "title",
    "title_en": "title_en",
    "subtitle": "subtitle",
    "category": "category_id",
    "brand": "brand_id",
    "product_type": "product_type_id",
    "description_html": "description_html",
    "tags": "tags",
    "params": "params",
    "min_order_quantity": "min_order_quantity",
}
#: Product columns a new product must fill (on its first row).
REQUIRED_FOR_NEW = ("title", "category", "product_type")
#: SKU columns (besides ``sku_code`` and ``spec``) and the SKU field each sets.
SKU_COLUMNS = {
    "barcode": "barcode",
    "price": "price_amount",
    "market_price": "market_price_amount",
    "cost_price": "cost_price_amount",
    "weight_grams": "weight_grams",
}

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_RESERVED_SLUG = re.compile(r"p-\d+")
_SKU_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BARCODE = re.compile(r"[A-Za-z0-9-]+")
_ATTRIBUTE_CODE = re.compile(r"[a-z][a-z0-9_]*")
_WHOLE = re.compile(r"\d+")
_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
MAX_TEXT = {"title": 120, "title_en": 120, "subtitle": 200, "description_html": 100_000}
MAX_TAGS, MAX_TAG_CHARS, MAX_PARAMS, MAX_PARAM_CHARS = 20, 20, 50, 200
MAX_GRAMS, MAX_QUANTITY = 1_000_000, 1_000_000

_REQUIRED = N_("This field is required.")
_INVALID_FORMAT = N_("Write it as code=value pairs separated by |.")
_DIFFERS = N_("Differs from the first row of this product; repeat it or leave it empty.")
_NOT_EDITABLE = N_(
    "The product is waiting for review or on sale: only SKU prices, barcodes and weights can change."
)


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Parsed rows ------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    """One row's values, parsed. ``product``/``sku`` hold the fields of columns present in the
    file whose cells parsed; a cell with a problem is left out (the problem is reported)."""

    number: int
    slug: str
    code: str
    spec: dict[str, str] | None  # None: the spec column is absent
    product: dict[str, Any] = field(default_factory=dict)
    sku: dict[str, Any] = field(default_factory=dict)
    filled: set[str] = field(default_factory=set)  # product columns with a non-empty cell
    bad: set[str] = field(default_factory=set)  # columns whose cell has a problem


@dataclass(frozen=True)
class ExistingSku:
    id: int
    product_id: int
    code: str
    spec: dict[str, str]
    spec_key: str
    status: str
    values: dict[str, Any]  # the SKU_COLUMNS fields


@dataclass(frozen=True)
class ExistingProduct:
    id: int
    slug: str
    status: ListingStatus
    currency: str
    values: dict[str, Any]  # the PRODUCT_COLUMNS fields


@dataclass
class Lookups:
    """Everything the rows refer to, loaded once before any row is checked."""

    categories: dict[str, int]
    brands: dict[str, int]
    product_types: dict[str, int]
    attributes: dict[int, list[AttributeRead]]
    products: dict[str, ExistingProduct]
    skus_by_code: dict[str, ExistingSku]
    product_skus: dict[int, list[ExistingSku]]
    price_breaks: dict[int, list[tuple[int, int]]]

    def specs_of(self, product_type_id: int) -> dict[str, AttributeRead]:
        return {a.code: a for a in self.attributes.get(product_type_id, []) if a.kind == AttributeKind.spec}

    def params_of(self, product_type_id: int) -> dict[str, AttributeRead]:
        return {a.code: a for a in self.attributes.get(product_type_id, []) if a.kind == AttributeKind.param}


@dataclass
class Plan:
    """The writes an import makes, decided before any of them."""

    new_products: list[dict[str, Any]] = field(default_factory=list)
    product_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    reopen: list[int] = field(default_factory=list)
    #: (product slug, existing product id or None for a new product, column values)
    new_skus: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)
    sku_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    products_with_new_skus: set[int] = field(default_factory=set)
    repriced_products: set[int] = field(default_factory=set)  # existing products whose prices change
    touched: set[int] = field(default_factory=set)  # existing products with any change


# --- Cell parsers -----------------------------------------------------------------------------


class CellProblem(Exception):
    """A cell that cannot be parsed: (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def parse_amount(text: str, currency: str, *, allow_zero: bool) -> int:
    """Decimal yuan text ("199.00") to minor units, exactly (no float anywhere).

    Raises:
        CellProblem: not a number, negative, more decimals than the currency has, too large, or
            zero when ``allow_zero`` is false.
    """
    if not _DECIMAL.fullmatch(text):
        raise CellProblem("catalog.invalid_number", N_("Write a number such as 199.00."))
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise CellProblem("catalog.invalid_number", N_("Write a number such as 199.00.")) from None
    if value < 0:
        raise CellProblem("catalog.price_negative", N_("A price cannot be negative."))
    if -value.as_tuple().exponent > exponent(currency):  # type: ignore[operator]
        raise CellProblem("catalog.price_too_precise", N_("At most 2 decimal places (fen)."))
    amount = Money.from_decimal(value, currency).amount
    if amount > MAX_AMOUNT:
        raise CellProblem("catalog.price_too_large", N_("The amount is too large."))
    if amount == 0 and not allow_zero:
        raise CellProblem("catalog.price_not_positive", N_("Set a price greater than zero."))
    return amount


def _whole(text: str, *, low: int, high: int) -> int:
    if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise CellProblem("catalog.invalid_number", N_("Write a whole number in the allowed range."))
    return int(text)


def _pairs(text: str, *, max_pairs: int, max_value: int) -> dict[str, str]:
    """ "code=value|code=value" as a dict (in the order written)."""
    pairs: dict[str, str] = {}
    for part in text.split("|"):
        code, sep, value = part.partition("=")
        code, value = code.strip(), value.strip()
        if not sep or not _ATTRIBUTE_CODE.fullmatch(code) or len(code) > 40 or not value or code in pairs:
            raise CellProblem("catalog.invalid_value", _INVALID_FORMAT)
        if len(value) > max_value:
            raise CellProblem("catalog.invalid_value", N_("A value is too long."))
        pairs[code] = value
    if len(pairs) > max_pairs:
        raise CellProblem("catalog.invalid_value", N_("Too many entries."))
    return pairs


def _tags(text: str) -> list[str]:
    tags = list(dict.fromkeys(tag.strip() for tag in text.split("|") if tag.strip()))
    if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG_CHARS for tag in tags):
        raise CellProblem(
            "catalog.invalid_value", N_("At most 20 tags of at most 20 characters, separated by |.")
        )
    return tags


def format_amount(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else Money(amount, currency).to_decimal()


def format_pairs(values: Mapping[str, str]) -> str:
    return "|".join(f"{code}={value}" for code, value in values.items())


# --- Import -----------------------------------------------------------------------------------


async def import_products(
    session: AsyncSession,
    *,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    dry_run: bool,
    actor: identity.Actor,
) -> ProductImportResult:
    """Create and update products and SKUs from a CSV or XLSX file, all or nothing (module doc).

    Raises:
        MalformedFile (422 core.malformed_file): the file is not a readable table.
        ImportRejected (422 catalog.import_rejected): problems in rows; nothing was written.
        SlugTaken, DuplicateSkuCode (409): a concurrent writer took a slug or code meanwhile.
    """
    table = await tabular.read_upload(data, filename=filename, content_type=content_type)
    problems = tabular.RowProblems()
    _check_header(table.header, problems)
    if problems:
        raise ImportRejected(fields=problems.report(), count=problems.count)
    currency = get_settings().currency
    lookups = await _load_lookups(session, table.rows)
    rows = [_parse_row(row, table.header, lookups, currency, problems) for row in table.rows]
    plan = _plan(rows, set(table.header), lookups, currency, problems)
    if problems:
        raise ImportRejected(fields=problems.report(), count=problems.count)
    result = ProductImportResult(
        rows=len(rows),
        products_created=len(plan.new_products),
        products_updated=len(set(plan.product_updates) | plan.products_with_new_skus),
        skus_created=len(plan.new_skus),
        skus_updated=len(plan.sku_updates),
        dry_run=dry_run,
    )
    if dry_run or not (plan.new_products or plan.new_skus or plan.product_updates or plan.sku_updates):
        return result  # a dry run, or a file that matches the catalog already: nothing to write
    touched = await _apply(session, plan, actor=actor)
    if touched:
        await invalidate_products(session, touched)
    name = tabular.safe_filename(filename)
    await identity.record_audit(
        session,
        actor=actor,
        action="catalog.import",
        object_type="catalog_import",
        object_id=name[-60:],
        after=result.model_dump(mode="json", exclude={"dry_run"}) | {"file": name},
    )
    return result


def _check_header(header: Sequence[str], problems: tabular.RowProblems) -> None:
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problems.add_header(column, "catalog.missing_column", N_("The file needs this column."))
    for column in header:
        if column not in COLUMNS:
            problems.add_header(
                column[:60], "catalog.unknown_column", N_("Not a column of the product file.")
            )


async def _ids_by(session: AsyncSession, key: Any, row_id: Any, keys: Sequence[str]) -> dict[str, int]:
    """Ids of the rows whose ``key`` column is one of ``keys``, by key."""
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update(dict((await session.execute(select(key, row_id).where(key.in_(chunk)))).all()))
    return found


async def _load_lookups(session: AsyncSession, rows: Sequence[tabular.Row]) -> Lookups:
    def wanted(column: str) -> list[str]:
        return sorted({row.get(column) for row in rows} - {""})

    categories = await _ids_by(session, Category.slug, Category.id, wanted("category"))
    brands = await _ids_by(session, Brand.slug, Brand.id, wanted("brand"))
    product_types = await _ids_by(session, ProductType.name, ProductType.id, wanted("product_type"))

    # The file's existing products are locked (in id order) until the commit, so their listing
    # status cannot change between these checks and the writes (PostgreSQL; SQLite serialises
    # writers anyway).
    products: dict[str, ExistingProduct] = {}
    product_columns = [getattr(Product, name) for name in PRODUCT_COLUMNS.values()]
    product_ids = sorted((await _ids_by(session, Product.slug, Product.id, wanted("product_slug"))).values())
    for chunk in _chunks(product_ids):
        result = await session.execute(
            select(Product.id, Product.slug, Product.status, Product.currency, *product_columns)
            .where(Product.id.in_(chunk))
            .order_by(Product.id)
            .with_for_update()
        )
        for product_id, slug, status, currency, *values in result:
            products[slug] = ExistingProduct(
                id=product_id,
                slug=slug,
                status=ListingStatus(status),
                currency=currency,
                values=dict(zip(PRODUCT_COLUMNS.values(), values, strict=True)),
            )

    sku_columns = [getattr(Sku, name) for name in SKU_COLUMNS.values()]

    def existing(values: Sequence[Any]) -> ExistingSku:
        sku_id, product_id, code, spec, key, status, *fields = values
        return ExistingSku(
            id=sku_id,
            product_id=product_id,
            code=code,
            spec=dict(spec),
            spec_key=key,
            status=status,
            values=dict(zip(SKU_COLUMNS.values(), fields, strict=True)),
        )

    sku_select = select(Sku.id, Sku.product_id, Sku.code, Sku.spec, Sku.spec_key, Sku.status, *sku_columns)
    skus_by_code: dict[str, ExistingSku] = {}
    for chunk in _chunks(wanted("sku_code")):
        for found in await session.execute(sku_select.where(Sku.code.in_(chunk))):
            sku = existing(found)
            skus_by_code[sku.code] = sku
    product_skus: dict[int, list[ExistingSku]] = defaultdict(list)
    for chunk in _chunks(sorted(p.id for p in products.values())):
        for found in await session.execute(sku_select.where(Sku.product_id.in_(chunk)).order_by(Sku.id)):
            sku = existing(found)
            product_skus[sku.product_id].append(sku)
    price_breaks: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in _chunks(sorted(sku.id for sku in skus_by_code.values())):
        result = await session.execute(
            select(PriceBreak.sku_id, PriceBreak.min_quantity, PriceBreak.unit_price_amount).where(
                PriceBreak.sku_id.in_(chunk)
            )
        )
        for sku_id, quantity, unit_price in result:
            price_breaks[sku_id].append((quantity, unit_price))

    type_ids = sorted(set(product_types.values()) | {p.values["product_type_id"] for p in products.values()})
    attributes = await load_attributes(session, type_ids)
    return Lookups(
        categories=categories,
        brands=brands,
        product_types=product_types,
        attributes=attributes,
        products=products,
        skus_by_code=skus_by_code,
        product_skus=product_skus,
        price_breaks=price_breaks,
    )


def _parse_row(
    row: tabular.Row,
    header: Sequence[str],
    lookups: Lookups,
    currency: str,
    problems: tabular.RowProblems,
) -> ParsedRow:
    """Parse the cells that need no other row; report what is wrong with them."""
    slug, code = row.get("product_slug"), row.get("sku_code")
    number = row.number
    if not slug:
        problems.add(number, "product_slug", "catalog.required", _REQUIRED)
    elif len(slug) > 120 or not _SLUG.fullmatch(slug):
        problems.add(
            number,
            "product_slug",
            "catalog.invalid_value",
            N_("Use lowercase letters, digits and single hyphens."),
        )
        slug = ""
    if not code:
        problems.add(number, "sku_code", "catalog.required", _REQUIRED)
    elif len(code) > 64 or not _SKU_CODE.fullmatch(code):
        problems.add(
            number,
            "sku_code",
            "catalog.invalid_value",
            N_("Use letters, digits, dots, hyphens and underscores, starting with a letter or digit."),
        )
        code = ""
    parsed = ParsedRow(number=number, slug=slug, code=code, spec=None)

    for column, name in PRODUCT_COLUMNS.items():
        if column not in header:
            continue
        text = row.get(column)
        if text:
            parsed.filled.add(column)
        try:
            parsed.product[name] = _product_value(column, text, lookups)
        except CellProblem as problem:
            problems.add(number, column, problem.code, problem.message)
            parsed.bad.add(column)

    if "spec" in header:
        try:
            parsed.spec = _pairs(row.get("spec"), max_pairs=10, max_value=60) if row.get("spec") else {}
        except CellProblem as problem:
            problems.add(number, "spec", problem.code, problem.message)
            parsed.bad.add("spec")

    for column, name in SKU_COLUMNS.items():
        if column not in header:
            continue
        text = row.get(column)
        try:
            if column == "price":
                if text:
                    parsed.sku[name] = parse_amount(text, currency, allow_zero=False)
            elif column == "market_price":
                parsed.sku[name] = parse_amount(text, currency, allow_zero=False) if text else None
            elif column == "cost_price":
                parsed.sku[name] = parse_amount(text, currency, allow_zero=True) if text else None
            elif column == "weight_grams":
                parsed.sku[name] = _whole(text, low=0, high=MAX_GRAMS) if text else 0
            elif text and (len(text) > 32 or not _BARCODE.fullmatch(text)):
                raise CellProblem(
                    "catalog.invalid_value", N_("Use letters, digits and hyphens (at most 32).")
                )
            else:
                parsed.sku[name] = text or None
        except CellProblem as problem:
            problems.add(number, column, problem.code, problem.message)
            parsed.bad.add(column)
    return parsed


def _product_value(column: str, text: str, lookups: Lookups) -> Any:
    """A product cell as the value of its field. Raises CellProblem."""
    if column in MAX_TEXT:
        if len(text) > MAX_TEXT[column]:
            raise CellProblem("catalog.invalid_value", N_("The text is too long."))
        return sanitize_html(text) if column == "description_html" else text
    if column == "category":
        if not text:
            return None
        if text not in lookups.categories:
            raise CellProblem("catalog.category_not_found", N_("No category has this slug."))
        return lookups.categories[text]
    if column == "brand":
        if not text:
            return None
        if text not in lookups.brands:
            raise CellProblem("catalog.brand_not_found", N_("No brand has this slug."))
        return lookups.brands[text]
    if column == "product_type":
        if not text:
            return None
        if text not in lookups.product_types:
            raise CellProblem("catalog.product_type_not_found", N_("No product type has this name."))
        return lookups.product_types[text]
    if column == "tags":
        return _tags(text) if text else []
    if column == "params":
        return _pairs(text, max_pairs=MAX_PARAMS, max_value=MAX_PARAM_CHARS) if text else {}
    # min_order_quantity
    return _whole(text, low=1, high=MAX_QUANTITY) if text else 1


def _plan(
    rows: list[ParsedRow],
    columns: set[str],
    lookups: Lookups,
    currency: str,
    problems: tabular.RowProblems,
) -> Plan:
    """Check the rows against each other and the database; decide the writes."""
    plan = Plan()
    code_rows: dict[str, int] = {}
    for row in rows:
        if not row.code:
            continue
        if row.code in code_rows:
            problems.add(
                row.number,
                "sku_code",
                "catalog.duplicate_sku_code",
                N_("Another row of the file has the same SKU code."),
            )
            row.code = ""
        else:
            code_rows[row.code] = row.number
    groups: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        if row.slug:
            groups[row.slug].append(row)
    for slug, group in groups.items():
        _plan_product(slug, group, columns, lookups, currency, problems, plan)
    return plan


def _product_fields(group: list[ParsedRow], problems: tabular.RowProblems) -> dict[str, Any]:
    """The product's fields from the group's first row; report later rows that differ."""
    first = group[0]
    for row in group[1:]:
        for column in row.filled:
            name = PRODUCT_COLUMNS[column]
            if name in row.product and name in first.product and row.product[name] != first.product[name]:
                problems.add(row.number, column, "catalog.inconsistent_product", _DIFFERS)
    return dict(first.product)


def _plan_product(
    slug: str,
    group: list[ParsedRow],
    columns: set[str],
    lookups: Lookups,
    currency: str,
    problems: tabular.RowProblems,
    plan: Plan,
) -> None:
    first = group[0]
    fields = _product_fields(group, problems)
    existing = lookups.products.get(slug)
    editable = existing is None or existing.status in EDITABLE

    for column in REQUIRED_FOR_NEW:
        if column in columns and column not in first.filled and PRODUCT_COLUMNS[column] in fields:
            problems.add(first.number, column, "catalog.required", _REQUIRED)
            fields.pop(PRODUCT_COLUMNS[column])
        elif existing is None and column not in columns:
            problems.add(first.number, column, "catalog.required", _REQUIRED)

    if existing is None:
        type_id = fields.get("product_type_id")
        if _RESERVED_SLUG.fullmatch(slug):
            problems.add(first.number, "product_slug", "catalog.slug_reserved", N_("This slug is reserved."))
    else:
        type_id = existing.values["product_type_id"]
        given_type = fields.pop("product_type_id", None)
        if given_type is not None and given_type != type_id:
            problems.add(
                first.number,
                "product_type",
                "catalog.product_type_fixed",
                N_("A product's type cannot change."),
            )

    params = fields.get("params")
    if params and type_id is not None:
        parameters = lookups.params_of(type_id)
        for code, value in params.items():
            problem = param_problem(parameters, code, value)
            if problem is not None:
                problems.add(first.number, "params", *problem)

    changes: dict[str, Any] = {}
    if existing is not None:
        changes = {
            name: value
            for name, value in fields.items()
            if name != "product_type_id" and existing.values.get(name) != value
        }
        if changes and not editable:
            by_field = {name: column for column, name in PRODUCT_COLUMNS.items()}
            for name in changes:
                problems.add(first.number, by_field[name], "catalog.product_not_editable", _NOT_EDITABLE)

    new_skus = _plan_skus(slug, group, existing, type_id, editable, lookups, currency, problems, plan)

    if existing is None:
        plan.new_products.append(fields | {"slug": slug})
        return
    if changes:
        plan.product_updates[existing.id] = changes
        plan.touched.add(existing.id)
    if new_skus:
        plan.products_with_new_skus.add(existing.id)
        plan.touched.add(existing.id)
    if (changes or new_skus) and existing.status is not ListingStatus.draft:
        plan.reopen.append(existing.id)


def _plan_skus(
    slug: str,
    group: list[ParsedRow],
    existing: ExistingProduct | None,
    type_id: int | None,
    editable: bool,
    lookups: Lookups,
    currency: str,
    problems: tabular.RowProblems,
    plan: Plan,
) -> int:
    """Check the group's SKU rows; plan their inserts and updates. Returns the new SKU count."""
    live = existing is not None and existing.status in LIVE
    current = lookups.product_skus.get(existing.id, []) if existing is not None else []
    spec_keys = {sku.spec_key for sku in current}
    active = [sku for sku in current if sku.status == SkuStatus.active]
    attribute_set = frozenset(active[0].spec) if active else None
    specs = lookups.specs_of(type_id) if type_id is not None else {}
    added = 0
    for row in group:
        if not row.code:
            continue
        known = lookups.skus_by_code.get(row.code)
        if known is not None:
            if existing is None or known.product_id != existing.id:
                problems.add(
                    row.number,
                    "sku_code",
                    "catalog.duplicate_sku_code",
                    N_("This SKU code belongs to another product."),
                )
                continue
            if row.spec is not None and spec_key(row.spec) != known.spec_key:
                problems.add(
                    row.number,
                    "spec",
                    "catalog.spec_changed",
                    N_("A SKU's spec cannot change; give the new combination a new SKU code."),
                )
            _plan_sku_update(row, known, live, lookups, problems, plan)
            continue

        # a new SKU
        if existing is not None and not editable:
            problems.add(row.number, "sku_code", "catalog.product_not_editable", _NOT_EDITABLE)
            continue
        spec = row.spec or {}
        if type_id is not None:
            for code, value in spec.items():
                problem = spec_problem(specs, code, value)
                if problem is not None:
                    problems.add(row.number, "spec", *problem)
                    break
            else:
                key = spec_key(spec)
                if key in spec_keys:
                    problems.add(
                        row.number,
                        "spec",
                        "catalog.duplicate_spec",
                        N_("The product already has a SKU with this spec."),
                    )
                elif attribute_set is not None and frozenset(spec) != attribute_set:
                    problems.add(
                        row.number,
                        "spec",
                        "catalog.sku_spec_mismatch",
                        N_("Every SKU of a product must name the same spec attributes."),
                    )
                spec_keys.add(key)
                attribute_set = attribute_set if attribute_set is not None else frozenset(spec)
        if "price_amount" not in row.sku and "price" not in row.bad:
            problems.add(row.number, "price", "catalog.required", _REQUIRED)
        added += 1
        if len(active) + added > MAX_SKUS:
            problems.add(
                row.number, "sku_code", "catalog.too_many_skus", N_("A product can have at most 600 SKUs.")
            )
        plan.new_skus.append(
            (
                slug,
                existing.id if existing is not None else None,
                {
                    "code": row.code,
                    "spec": spec,
                    "spec_key": spec_key(spec),
                    "currency": existing.currency if existing is not None else currency,
                    "price_amount": row.sku.get("price_amount", 0),
                    "market_price_amount": row.sku.get("market_price_amount"),
                    "cost_price_amount": row.sku.get("cost_price_amount"),
                    "weight_grams": row.sku.get("weight_grams", 0),
                    "barcode": row.sku.get("barcode"),
                },
            )
        )
    if existing is not None and added:
        plan.repriced_products.add(existing.id)
    return added


def _plan_sku_update(
    row: ParsedRow,
    known: ExistingSku,
    live: bool,
    lookups: Lookups,
    problems: tabular.RowProblems,
    plan: Plan,
) -> None:
    changes = {name: value for name, value in row.sku.items() if known.values[name] != value}
    if not changes:
        return
    price = changes.get("price_amount", known.values["price_amount"])
    market = changes.get("market_price_amount", known.values["market_price_amount"])
    blame = "price" if "price_amount" in changes else "market_price"
    if "price_amount" in changes or "market_price_amount" in changes:
        if live and known.status == SkuStatus.active:
            problem = live_price_problem(price, market)
            if problem is not None:
                problems.add(row.number, blame, *problem)
        if "price_amount" in changes:
            for error in _check_price_breaks(price, lookups.price_breaks.get(known.id, []), given=False):
                problems.add(row.number, "price", error.code, error.message)
    plan.sku_updates[known.id] = changes
    plan.touched.add(known.product_id)
    if "price_amount" in changes:
        plan.repriced_products.add(known.product_id)


# --- Writes -----------------------------------------------------------------------------------


def _listed(codes: Sequence[str]) -> str:
    return ", ".join(codes[:5]) + (" …" if len(codes) > 5 else "")


def _table(model: type[Product] | type[Sku]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _apply(session: AsyncSession, plan: Plan, *, actor: identity.Actor) -> list[int]:
    """Make the planned writes in bulk; return the ids of the existing products that changed."""
    now = clock.now()
    products, skus = _table(Product), _table(Sku)
    for product_id in plan.reopen:
        await reopen_for_edit(session, await get_product_row(session, product_id, lock=True), actor=actor)
    await _bulk_update(
        session, products, {pid: v | {"updated_at": now} for pid, v in plan.product_updates.items()}
    )
    await _bulk_update(session, skus, {sid: v | {"updated_at": now} for sid, v in plan.sku_updates.items()})

    created: dict[str, int] = {}
    conflicts: Conflicts = {
        ("catalog_product", ("slug",)): SlugTaken,
        ("catalog_sku", ("code",)): lambda: DuplicateSkuCode(
            sku_code=_listed([values["code"] for _slug, _id, values in plan.new_skus])
        ),
    }
    async with unique_guard(session, conflicts):
        if plan.new_products:
            currency = get_settings().currency
            result = await session.execute(
                insert(products).returning(products.c.id, products.c.slug),
                [_new_product(values, currency, now) for values in plan.new_products],
            )
            created = {slug: product_id for product_id, slug in result}
        if plan.new_skus:
            await session.execute(
                insert(skus),
                [
                    values
                    | {
                        "product_id": product_id if product_id is not None else created[slug],
                        "status": SkuStatus.active.value,
                        "available_quantity": 0,
                        "stock_version": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for slug, product_id, values in plan.new_skus
                ],
            )
    await _sync_prices(session, sorted(set(created.values()) | plan.repriced_products), now)
    return sorted(plan.touched)


def _new_product(values: Mapping[str, Any], currency: str, now: Any) -> dict[str, Any]:
    return {
        "product_type_id": values["product_type_id"],
        "category_id": values["category_id"],
        "brand_id": values.get("brand_id"),
        "seller_id": None,
        "slug": values["slug"],
        "title": values["title"],
        "title_en": values.get("title_en", ""),
        "subtitle": values.get("subtitle", ""),
        "description_html": values.get("description_html", ""),
        "tags": values.get("tags", []),
        "params": values.get("params", {}),
        "seo_title": "",
        "seo_description": "",
        "status": ListingStatus.draft.value,
        "min_order_quantity": values.get("min_order_quantity", 1),
        "is_presale": False,
        "presale_ships_on": None,
        "currency": currency,
        "min_price_amount": 0,
        "max_price_amount": 0,
        "sales_count": 0,
        "in_stock": False,
        "created_at": now,
        "updated_at": now,
        "published_at": None,
    }


async def _bulk_update(session: AsyncSession, table: Table, changes: Mapping[int, Mapping[str, Any]]) -> None:
    """UPDATE rows by id, one executemany per set of changed columns."""
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, values in changes.items():
        batches[tuple(sorted(values))].append({"b_id": row_id} | {f"b_{k}": v for k, v in values.items()})
    for columns, params in batches.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}", type_=table.c[name].type) for name in columns})
        )
        await session.execute(statement, params)


async def _sync_prices(session: AsyncSession, product_ids: Sequence[int], now: Any) -> None:
    """Recompute the price range and in-stock flag of these products from their active SKUs (the
    bulk form of ``skus.sync_product_prices``): one UPDATE per slice of ids."""
    products, skus = _table(Product), _table(Sku)
    active = and_(skus.c.product_id == products.c.id, skus.c.status == SkuStatus.active.value)
    lowest = select(func.coalesce(func.min(skus.c.price_amount), 0)).where(active).scalar_subquery()
    highest = select(func.coalesce(func.max(skus.c.price_amount), 0)).where(active).scalar_subquery()
    available = select(func.count()).where(active, skus.c.available_quantity > 0).scalar_subquery()
    for chunk in _chunks(product_ids):
        await session.execute(
            update(products)
            .where(products.c.id.in_(chunk))
            .values(min_price_amount=lowest, max_price_amount=highest, in_stock=available > 0, updated_at=now)
        )


# --- Export -----------------------------------------------------------------------------------


async def export_products(
    session: AsyncSession,
    *,
    file_format: tabular.FileFormat,
    category_id: int | None = None,
    status: ListingStatus | None = None,
) -> tabular.ExportedFile:
    """Every product's active SKUs as rows of ``COLUMNS`` (products without active SKUs have no
    row), oldest product first; ``category_id`` includes its descendants. Importing the file
    unchanged changes nothing."""
    products = select(Product).order_by(Product.id)
    if status is not None:
        products = products.where(Product.status == status.value)
    if category_id is not None:
        category = await session.get(Category, category_id)
        prefix = category.path if category else f"/{category_id}/"
        products = products.where(
            Product.category_id.in_(
                select(Category.id).where(Category.path.startswith(prefix, autoescape=True))
            )
        )
    product_rows = list((await session.execute(products)).scalars())
    skus: dict[int, list[Sku]] = defaultdict(list)
    for chunk in _chunks([p.id for p in product_rows]):
        result = await session.execute(
            select(Sku)
            .where(Sku.product_id.in_(chunk), Sku.status == SkuStatus.active.value)
            .order_by(Sku.id)
        )
        for sku in result.scalars():
            skus[sku.product_id].append(sku)
    categories = dict((await session.execute(select(Category.id, Category.slug))).all())
    brands = dict((await session.execute(select(Brand.id, Brand.slug))).all())
    product_types = dict((await session.execute(select(ProductType.id, ProductType.name))).all())

    def rows() -> Iterator[list[tabular.Cell]]:
        for product in product_rows:
            for sku in skus[product.id]:
                values: dict[str, tabular.Cell] = {
                    "product_slug": product.slug,
                    "title": product.title,
                    "title_en": product.title_en,
                    "subtitle": product.subtitle,
                    "category": categories.get(product.category_id, ""),
                    "brand": brands.get(product.brand_id, "") if product.brand_id is not None else "",
                    "product_type": product_types.get(product.product_type_id, ""),
                    "description_html": product.description_html,
                    "tags": "|".join(product.tags),
                    "params": format_pairs(product.params),
                    "spec": format_pairs(sku.spec),
                    "sku_code": sku.code,
                    "barcode": sku.barcode or "",
                    "price": format_amount(sku.price_amount or None, sku.currency),
                    "market_price": format_amount(sku.market_price_amount, sku.currency),
                    "cost_price": format_amount(sku.cost_price_amount, sku.currency),
                    "weight_grams": sku.weight_grams,
                    "min_order_quantity": product.min_order_quantity,
                }
                yield [values[column] for column in COLUMNS]

    content = await tabular.write_table_async(file_format, COLUMNS, list(rows()))
    return tabular.ExportedFile(
        filename=f"products-{clock.now():%Y%m%d-%H%M%S}.{file_format.value}",
        media_type=file_format.media_type,
        content=content,
    )
