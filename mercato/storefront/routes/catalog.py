"""The shop's catalogue pages: category and search results, and the product page.

Results pages take their filters from the query string (``brand``, ``min`` and ``max`` in major
units, ``attr`` as ``code:value``, ``in_stock``, ``sort``, ``page``), so every state is a plain
link that works without JavaScript; with htmx, changing a filter swaps the filters and results
(``partials/_listing.html``) and pushes the URL. Malformed filter values are dropped rather than
refused: a shared or hand-edited link still shows a page. The canonical URL keeps the known
parameters, normalised, and nothing else (no tracking parameters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mercato import catalog, promotions, social
from mercato.core.db import uow
from mercato.core.i18n import gettext
from mercato.core.money import Money
from mercato.core.settings import get_settings
from mercato.storefront.routes.coupons import claimable_cards
from mercato.storefront.routes.home import shopper_frame
from mercato.storefront.routes.offers import Offer, channel_of, clock_text, money_text, offers_of, shopper_id
from mercato.storefront.routes.seo import absolute
from mercato.web.forms import locale_of, parse_id
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 24
MAX_QUERY = 100
MAX_VALUES = 20
MAX_PRICE = Decimal(10**9)
SORTS = (
    catalog.ProductSort.newest,
    catalog.ProductSort.sales,
    catalog.ProductSort.price_asc,
    catalog.ProductSort.price_desc,
)
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]{0,39}:[^\x00-\x1f\x7f]{1,60}")
LISTING = "storefront/catalog/partials/_listing.html"


@dataclass(frozen=True)
class Listing:
    """The filters, sort and page of a results page, as read from (and written to) its URL."""

    q: str = ""
    brands: tuple[int, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    attrs: tuple[str, ...] = ()
    in_stock: bool = False
    sort: catalog.ProductSort = catalog.ProductSort.newest
    page: int = 1
    currency: str = field(default="CNY", compare=False)

    @property
    def filtered(self) -> bool:
        return bool(self.brands or self.price_min is not None or self.price_max is not None or self.attrs)

    def amount(self, value: Decimal | None) -> int | None:
        return None if value is None else Money.from_decimal(value, self.currency).amount

    def pairs(self) -> list[tuple[str, str]]:
        """The query parameters of this state, in a fixed order, defaults left out."""
        pairs: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        pairs += [("brand", str(brand)) for brand in self.brands]
        if self.price_min is not None:
            pairs.append(("min", _plain(self.price_min)))
        if self.price_max is not None:
            pairs.append(("max", _plain(self.price_max)))
        pairs += [("attr", attr) for attr in self.attrs]
        if self.in_stock:
            pairs.append(("in_stock", "1"))
        if self.sort != catalog.ProductSort.newest:
            pairs.append(("sort", self.sort.value))
        if self.page > 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def url(self, path: str, **changes: Any) -> str:
        """``path`` with this state's query, changed by ``changes`` (any filter change resets the page)."""
        state = replace(self, **({"page": 1} | changes) if "page" not in changes else changes)
        query = urlencode(state.pairs())
        return f"{path}?{query}" if query else path

    def without_brand(self, brand: int) -> tuple[int, ...]:
        return tuple(b for b in self.brands if b != brand)

    def without_attr(self, attr: str) -> tuple[str, ...]:
        return tuple(a for a in self.attrs if a != attr)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _price(raw: str | None) -> Decimal | None:
    if not raw or len(raw) > 20:
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        return None
    return value.quantize(Decimal("0.01"))


def read_listing(request: Request) -> Listing:
    params = request.query_params
    q = "".join(ch for ch in params.get("q", "") if ch.isprintable()).strip()[:MAX_QUERY]
    brands: list[int] = []
    for raw in params.getlist("brand")[:MAX_VALUES]:
        brand_id = parse_id(raw)
        if brand_id is not None and brand_id not in brands:
            brands.append(brand_id)
    attrs: list[str] = []
    for raw in params.getlist("attr")[:MAX_VALUES]:
        if ATTRIBUTE.fullmatch(raw) and raw not in attrs:
            attrs.append(raw)
    try:
        sort = catalog.ProductSort(params.get("sort", "newest"))
    except ValueError:
        sort = catalog.ProductSort.newest
    page_raw = params.get("page", "1")
    page = int(page_raw) if page_raw.isascii() and page_raw.isdigit() and len(page_raw) < 6 else 1
    return Listing(
        q=q,
        brands=tuple(brands),
        price_min=_price(params.get("min")),
        price_max=_price(params.get("max")),
        attrs=tuple(attrs),
        in_stock=params.get("in_stock") in {"1", "true", "on"},
        sort=sort,
        page=max(1, min(page, catalog.MAX_PAGE)),
        currency=get_settings().currency,
    )


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """Page links around the current one, with the first and last; None marks a gap."""
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    for number in wanted:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def _is_fragment(request: Request) -> bool:
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


async def _results(
    request: Request,
    *,
    template: str,
    path: str,
    listing: Listing,
    category_id: int | None,
    **context: Any,
) -> Response:
    async with uow(write=False) as session:
        frame = {} if _is_fragment(request) else await shopper_frame(request, session)
        customer_id = await shopper_id(request, session, frame)
        products = await catalog.list_storefront_products(
            session,
            category_id=category_id,
            brand_ids=listing.brands,
            price_min=listing.amount(listing.price_min),
            price_max=listing.amount(listing.price_max),
            attributes=listing.attrs,
            in_stock=True if listing.in_stock else None,
            query=listing.q or None,
            sort=listing.sort,
            page=listing.page,
            page_size=PAGE_SIZE,
        )
        facets = await catalog.get_storefront_facets(
            session, category_id=category_id, query=listing.q or None
        )
        tags = await promotions.card_tags(
            session, cards=products.items, customer_id=customer_id, channel=channel_of(request)
        )
    pages = max(1, -(-products.total // PAGE_SIZE))
    page_context = {
        "listing": listing,
        "path": path,
        "products": products,
        "pages": pages,
        "page_numbers": _page_numbers(listing.page, min(pages, catalog.MAX_PAGE)),
        "sorts": SORTS,
        "facets": facets,
        "offers": offers_of(tags, locale_of(request)),
        "canonical": absolute(listing.url(path, page=listing.page)),
        **context,
    }
    if _is_fragment(request):
        # Push the normalised URL (no empty fields, no default sort), not the raw form serialisation.
        clean = listing.url(path, page=listing.page)
        return render(request, LISTING, headers={"vary": "HX-Request", "hx-push-url": clean}, **page_context)
    return render(
        request,
        template,
        headers={"vary": "HX-Request"},
        **frame,
        **page_context,
    )


def _find(
    nodes: list[catalog.StorefrontCategory], slug: str, trail: tuple[catalog.StorefrontCategory, ...] = ()
) -> tuple[catalog.StorefrontCategory, ...] | None:
    """The path from a root to the category with ``slug``, or None."""
    for node in nodes:
        if node.slug == slug:
            return (*trail, node)
        found = _find(node.children, slug, (*trail, node))
        if found:
            return found
    return None


@router.get("/c/{slug}")
async def category_page(request: Request, slug: str) -> Response:
    if len(slug) > 80 or not SLUG.fullmatch(slug):
        raise HTTPException(status_code=404)
    async with uow(write=False) as session:
        tree = await catalog.get_storefront_category_tree(session)
    trail = _find(tree, slug)
    if trail is None:
        raise HTTPException(status_code=404)
    listing = read_listing(request)
    return await _results(
        request,
        template="storefront/catalog/category.html",
        path=f"/c/{slug}",
        listing=replace(listing, q=""),
        category_id=trail[-1].id,
        category=trail[-1],
        trail=trail[:-1],
    )


@router.get("/categories")
async def category_index(request: Request) -> Response:
    """分类: the top categories in a rail, the chosen one's sub-categories beside it. The rail is
    plain links (``?top=<slug>``, the first top category by default), so it works without script;
    an unknown ``top`` shows the first."""
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        tree = await catalog.get_storefront_category_tree(session)
    wanted = request.query_params.get("top", "")
    chosen = next((top for top in tree if top.slug == wanted), tree[0] if tree else None)
    return render(
        request,
        "storefront/catalog/categories.html",
        **frame,
        categories=tree,
        chosen=chosen,
        canonical=absolute("/categories"),
    )


@router.get("/search")
async def search_page(request: Request) -> Response:
    listing = read_listing(request)
    if not listing.q:
        async with uow(write=False) as session:
            frame = await shopper_frame(request, session)
        return render(
            request,
            "storefront/catalog/search.html",
            **frame,
            listing=listing,
            products=None,
            facets=None,
            canonical=absolute("/search"),
        )
    return await _results(
        request, template="storefront/catalog/search.html", path="/search", listing=listing, category_id=None
    )


# -- product page ---------------------------------------------------------------------------


def _label(zh: str, en: str, locale: str) -> str:
    return en if locale == "en" and en else zh


def _sku_offer(offer: Offer | None, locale: str) -> dict[str, Any] | None:
    """What the product page shows of a SKU's promotions beside the picker's price (the timed
    price's countdown, the 券后价, the preheat price and its countdown), worded; None without."""
    if offer is None:
        return None
    coupon = offer.coupon_amount
    preheat = offer.price.preheat_price_amount
    ends = offer.ends_in if offer.is_promoted else None
    starts = offer.starts_in if offer.is_preheat else None
    return {
        "ends": ends,
        "ends_text": clock_text(ends, locale),
        "coupon": gettext("After coupon {price}", locale, price=money_text(coupon, locale))
        if coupon is not None
        else None,
        "preheat": gettext("Coming price {price}", locale, price=money_text(preheat, locale))
        if preheat is not None and offer.is_preheat
        else None,
        "starts": starts,
        "starts_text": clock_text(starts, locale),
    }


def _picker(product: catalog.ProductDetail, locale: str, offers: dict[int, Offer]) -> dict[str, Any]:
    """What the SKU picker needs, formatted for the page's locale (embedded as JSON). A SKU at a
    timed price shows that price, its list price struck through."""
    labels = {
        (spec.code, value.value): _label(value.value, value.value_en, locale)
        for spec in product.specs
        for value in spec.values
    }
    return {
        "specs": [
            {
                "code": spec.code,
                "name": _label(spec.name, spec.name_en, locale),
                "values": [
                    {"value": v.value, "label": _label(v.value, v.value_en, locale)} for v in spec.values
                ],
            }
            for spec in product.specs
        ],
        "skus": [
            {
                "id": sku.id,
                "label": " / ".join(
                    labels.get((spec.code, sku.spec[spec.code]), sku.spec[spec.code])
                    for spec in product.specs
                    if spec.code in sku.spec
                ),
                "spec": sku.spec,
                "price": Money(offer.now_amount if offer else sku.price_amount, sku.currency).format(locale),
                "market": Money(sku.price_amount, sku.currency).format(locale)
                if offer and offer.is_promoted
                else Money(sku.market_price_amount, sku.currency).format(locale)
                if sku.market_price_amount and sku.market_price_amount > sku.price_amount
                else None,
                "stock": sku.available_quantity,
                "offer": _sku_offer(offer, locale),
            }
            for sku in product.skus
            for offer in [offers.get(sku.id)]
        ],
    }


def _first_choice(product: catalog.ProductDetail) -> catalog.StorefrontSku | None:
    """The SKU chosen when the page opens: the first in stock, else the first."""
    in_stock = [sku for sku in product.skus if sku.available_quantity > 0]
    choices = in_stock or product.skus
    return choices[0] if choices else None


def _structured_data(request: Request, product: catalog.ProductDetail, locale: str) -> dict[str, Any]:
    """schema.org Product with one Offer per SKU (price as a decimal string)."""
    url = absolute(f"/p/{product.slug}")
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": _label(product.title, product.title_en, locale),
        "url": url,
        "image": [
            image.url if image.url.startswith("http") else absolute(image.url) for image in product.images
        ],
        "offers": [
            {
                "@type": "Offer",
                "sku": sku.code,
                "price": str(Money(sku.price_amount, sku.currency).to_decimal()),
                "priceCurrency": sku.currency,
                "availability": "https://schema.org/InStock"
                if sku.available_quantity > 0
                else "https://schema.org/OutOfStock",
                "url": url,
            }
            for sku in product.skus
        ],
    }
    if product.seo_description or product.subtitle:
        data["description"] = product.seo_description or product.subtitle
    if product.skus:
        data["sku"] = product.skus[0].code
    if product.brand:
        data["brand"] = {"@type": "Brand", "name": _label(product.brand.name, product.brand.name_en, locale)}
    return data


@router.get("/p/{slug}")
async def product_page(request: Request, slug: str) -> Response:
    if len(slug) > 120 or not SLUG.fullmatch(slug):
        raise HTTPException(status_code=404)
    locale = locale_of(request)
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        product = await catalog.get_storefront_product_by_slug(session, slug=slug)
        # The product is cached with list prices; promotions are priced on top of it (a guest's
        # view is kept until a promotion starts, ends or is written: never a stale price).
        customer_id = await shopper_id(request, session, frame)
        tags = await promotions.price_tags(
            session, skus=catalog.sellable_of(product), customer_id=customer_id, channel=channel_of(request)
        )
        coupons = await claimable_cards(
            session, customer_id=customer_id, locale=locale, product_id=product.id
        )
        group_offers = await social.offers_for_product(session, product_id=product.id)
    chosen = _first_choice(product)
    offers = offers_of(tags, locale)
    return render(
        request,
        "storefront/catalog/product.html",
        **frame,
        product=product,
        chosen=chosen,
        offer=offers.get(chosen.id) if chosen else None,
        sku_offer=_sku_offer(offers.get(chosen.id), locale) if chosen else None,
        offers=offers,
        coupons=coupons,
        group_offers=group_offers,
        next_url=f"/p/{product.slug}",
        picker=_picker(product, locale, offers),
        structured_data=_structured_data(request, product, locale),
        canonical=absolute(f"/p/{product.slug}"),
    )
