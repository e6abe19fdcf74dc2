"""The catalogue pages: category and search results (filters, sorts, pages, the htmx fragment),
the product page (SKU picker data, forms, structured data) and their 404s."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
from dataclasses import dataclass

import pytest
from httpx import AsyncClient

from mercato import catalog
from mercato.core import clock
from mercato.core.db import uow
from mercato.storefront.routes import catalog as catalog_pages
from tests.factories.catalog import (
    SYSTEM,
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
    make_product_type,
)
from tests.factories.media import decoded, image_bytes, media_root
from tests.web.pages import EN

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


@dataclass
class Shop:
    clothing: catalog.CategoryRead
    men: catalog.CategoryRead
    acme: catalog.BrandRead
    other: catalog.BrandRead
    ids: dict[str, int]
    slugs: dict[str, str]


async def stock(product_id: int, available: int) -> None:
    async with uow() as session:
        for n, sku in enumerate(await catalog.list_skus(session, product_id=product_id)):
            await catalog.apply_stock_level(session, sku_id=sku.id, available=available, version=n + 1)


async def shop() -> Shop:
    """服装 > 男装; tee (Acme, red/black, 59 元, in stock), shirt (Acme, white, 159 元, none in
    stock), dress (Other, black, 299 元, in stock, directly in 服装); a draft tee; published a
    minute apart in that order."""
    clothing = await make_category("服装", slug="clothing")
    men = await make_category("男装", parent_id=clothing.id, slug="men")
    await make_category("家居", slug="home-living")
    acme, other = await make_brand("Acme"), await make_brand("Other")
    product_type = await make_product_type()
    ids: dict[str, int] = {}
    slugs: dict[str, str] = {}
    for name, title, category_id, brand_id, price, specs, params, available in [
        ("tee", "纯棉T恤", men.id, acme.id, 5900, {"colour": ["红色", "黑色"]}, {"material": "棉"}, 8),
        ("shirt", "牛津纺衬衫", men.id, acme.id, 15900, {"colour": ["白色"]}, {"material": "棉"}, 0),
        ("dress", "亚麻连衣裙", clothing.id, other.id, 29900, {"colour": ["黑色"]}, {"material": "麻"}, 3),
    ]:
        product = await make_listed_product(
            title=title,
            title_en=f"{name.title()} in English",
            slug=f"{name}-1",
            category_id=category_id,
            brand_id=brand_id,
            product_type_id=product_type.id,
            price_amount=price,
            specs=specs,
            params=params,
        )
        await stock(product.id, available)
        ids[name], slugs[name] = product.id, product.slug
        clock.advance(dt.timedelta(minutes=1))
    draft, _ = await make_priced_product(
        title="草稿T恤", slug="draft-1", category_id=men.id, product_type_id=product_type.id
    )
    ids["draft"], slugs["draft"] = draft.id, draft.slug
    return Shop(clothing, men, acme, other, ids, slugs)


def product_links(page: str) -> list[str]:
    """The product slugs of the grid, in order."""
    return re.findall(r'<a class="product-card-link" href="/p/([^"]+)">', page)


def structured_data(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert match is not None
    data = json.loads(match.group(1))
    assert isinstance(data, dict)
    return data


def canonical_of(page: str) -> str:
    match = re.search(r'<link rel="canonical" href="([^"]+)">', page)
    assert match is not None
    return html.unescape(match.group(1))


async def test_a_category_page_lists_its_products_and_its_subcategories(client: AsyncClient) -> None:
    s = await shop()

    page = await client.get("/c/clothing")

    assert page.status_code == 200
    assert product_links(page.text) == ["dress-1", "shirt-1", "tee-1"]  # newest first, men's included
    assert "<title>服装 · Mercato</title>" in page.text
    assert canonical_of(page.text) == "http://127.0.0.1:8000/c/clothing"
    assert '<a class="chip" href="/c/men">男装</a>' in page.text
    assert "¥299.00" in page.text
    assert "草稿T恤" not in page.text
    english = await client.get("/c/clothing", headers=EN)
    description = f"{s.clothing.name_en}: products, prices and offers at Mercato."
    assert f'<meta name="description" content="{description}">' in english.text


async def test_a_subcategory_page_shows_its_breadcrumb_in_english(client: AsyncClient) -> None:
    await shop()

    page = await client.get("/c/men", headers=EN)

    assert product_links(page.text) == ["shirt-1", "tee-1"]
    assert '<li><a href="/c/clothing">Category' in page.text
    assert '<span aria-current="page">Category' in page.text
    assert "Tee in English" in page.text
    assert "CN¥59.00" in page.text
    assert "1 products" not in page.text
    assert "2 products" in page.text


async def test_filters_sort_and_in_stock(client: AsyncClient) -> None:
    s = await shop()

    by_brand = await client.get("/c/clothing", params={"brand": s.acme.id})
    by_price = await client.get("/c/clothing", params={"min": "100", "max": "299"})
    by_attr = await client.get("/c/clothing", params={"attr": "material:棉"})
    by_colour = await client.get("/c/clothing", params=[("attr", "colour:黑色"), ("in_stock", "1")])
    cheapest = await client.get("/c/clothing", params={"sort": "price_asc"})

    assert product_links(by_brand.text) == ["shirt-1", "tee-1"]
    assert f'name="brand" value="{s.acme.id}" checked' in by_brand.text
    assert product_links(by_price.text) == ["dress-1", "shirt-1"]
    assert 'name="min" type="text"' in by_price.text
    assert product_links(by_attr.text) == ["shirt-1", "tee-1"]
    assert product_links(by_colour.text) == ["dress-1", "tee-1"]
    assert product_links(cheapest.text) == ["tee-1", "shirt-1", "dress-1"]
    assert '<option value="price_asc" selected>' in cheapest.text


async def test_in_stock_only_hides_sold_out_products(client: AsyncClient) -> None:
    await shop()

    page = await client.get("/c/men", params={"in_stock": "1"}, headers=EN)

    assert product_links(page.text) == ["tee-1"]
    all_men = await client.get("/c/men", headers=EN)
    assert all_men.text.count('<span class="out-of-stock">Out of stock</span>') == 1


async def test_pages_keep_the_filters_in_their_links(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await shop()
    monkeypatch.setattr(catalog_pages, "PAGE_SIZE", 1)

    first = await client.get("/c/clothing", params={"brand": s.acme.id, "sort": "price_desc"}, headers=EN)
    second = await client.get("/c/clothing", params={"brand": s.acme.id, "sort": "price_desc", "page": "2"})

    assert product_links(first.text) == ["shirt-1"]
    assert f'href="/c/clothing?brand={s.acme.id}&amp;sort=price_desc&amp;page=2" rel="next"' in first.text
    assert product_links(second.text) == ["tee-1"]
    assert f'href="/c/clothing?brand={s.acme.id}&amp;sort=price_desc" rel="prev"' in second.text
    assert (
        canonical_of(second.text)
        == f"http://127.0.0.1:8000/c/clothing?brand={s.acme.id}&sort=price_desc&page=2"
    )


async def test_the_canonical_url_drops_tracking_and_unknown_parameters(client: AsyncClient) -> None:
    s = await shop()

    page = await client.get(
        "/c/clothing", params={"utm_source": "wechat", "from": "share", "brand": s.other.id, "page": "1"}
    )

    assert canonical_of(page.text) == f"http://127.0.0.1:8000/c/clothing?brand={s.other.id}"


async def test_malformed_filters_are_ignored(client: AsyncClient) -> None:
    await shop()

    page = await client.get(
        "/c/clothing",
        params=[
            ("brand", "abc"),
            ("brand", "99999999999999999999999"),
            ("min", "-5"),
            ("max", "NaN"),
            ("attr", "Bad Code:x"),
            ("sort", "cheapest"),
            ("page", "x"),
        ],
    )

    assert page.status_code == 200
    assert product_links(page.text) == ["dress-1", "shirt-1", "tee-1"]
    assert canonical_of(page.text) == "http://127.0.0.1:8000/c/clothing"


async def test_htmx_gets_only_the_listing_fragment(client: AsyncClient) -> None:
    s = await shop()

    fragment = await client.get(
        "/c/clothing", params={"brand": s.other.id, "sort": "newest", "min": "", "max": ""}, headers=HTMX
    )
    restore = await client.get("/c/clothing", headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="listing" class="listing">')
    assert "<html" not in fragment.text
    assert product_links(fragment.text) == ["dress-1"]
    assert fragment.headers["vary"] == "HX-Request"
    assert fragment.headers["hx-push-url"] == f"/c/clothing?brand={s.other.id}"
    assert 'hx-get="/c/clothing"' in fragment.text
    assert "<html" in restore.text


@pytest.mark.parametrize(
    "path", ["/c/no-such-category", "/c/Bad_Slug", "/p/no-such-product", "/p/draft-1", "/p/x--y"]
)
async def test_unknown_or_hidden_pages_are_not_found(client: AsyncClient, path: str) -> None:
    await shop()

    page = await client.get(path, headers=EN)

    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Page not found" in page.text


async def test_an_inactive_category_is_not_found(client: AsyncClient) -> None:
    await make_category("停用", slug="hidden", is_active=False)

    assert (await client.get("/c/hidden")).status_code == 404


async def test_search_finds_titles_in_either_language_and_is_not_indexed(client: AsyncClient) -> None:
    await shop()

    page = await client.get("/search", params={"q": "tee in", "utm_campaign": "x"}, headers=EN)
    empty = await client.get("/search", headers=EN)

    assert product_links(page.text) == ["tee-1"]
    assert "Results for “tee in”" in page.text
    assert '<meta name="robots" content="noindex, follow">' in page.text
    assert canonical_of(page.text) == "http://127.0.0.1:8000/search?q=tee+in"
    assert re.search(r'id="site-search-q"[^>]*value="tee in"', page.text)  # the header's box keeps it
    assert '<input type="hidden" name="q" value="tee in">' in page.text
    assert empty.status_code == 200
    assert '<label for="search-q">What are you looking for?</label>' in empty.text
    assert product_links(empty.text) == []


async def test_a_search_with_no_match_says_so(client: AsyncClient) -> None:
    await shop()

    page = await client.get("/search", params={"q": "冰箱"}, headers=EN)

    assert product_links(page.text) == []
    assert "No products match." in page.text


async def test_the_product_page_offers_every_sku_with_price_and_stock(client: AsyncClient) -> None:
    s = await shop()
    async with uow(write=False) as session:
        skus = await catalog.list_skus(session, product_id=s.ids["tee"])

    page = await client.get("/p/tee-1", headers=EN)

    assert page.status_code == 200
    assert "<title>Tee in English · Mercato</title>" in page.text
    assert canonical_of(page.text) == "http://127.0.0.1:8000/p/tee-1"
    assert '<form class="buy-form" method="post" action="/cart/add"' in page.text
    assert 'formaction="/checkout/buy-now"' in page.text
    assert '<select id="buy-sku" name="sku_id"' in page.text
    assert 'name="quantity" type="number"' in page.text
    assert re.search(r'name="csrf_token" value="[^"]+"', page.text)
    picker = json.loads(html.unescape(re.search(r"data-picker='([^']+)'", page.text).group(1)))  # type: ignore[union-attr]
    assert picker["specs"] == [
        {
            "code": "colour",
            "name": "Colour",
            "values": [{"value": "红色", "label": "Red"}, {"value": "黑色", "label": "Black"}],
        }
    ]
    assert [(sku["id"], sku["label"], sku["price"], sku["stock"]) for sku in picker["skus"]] == [
        (skus[0].id, "Red", "CN¥59.00", 8),
        (skus[1].id, "Black", "CN¥59.00", 8),
    ]
    assert f'<option value="{skus[0].id}" selected>Red — CN¥59.00 (8 in stock)</option>' in page.text
    assert "<dt>Material</dt>" in page.text
    assert "<dd>棉</dd>" in page.text
    assert "Usually ships within 48 hours of payment." in page.text


async def test_a_sold_out_product_cannot_be_bought(client: AsyncClient) -> None:
    await shop()

    page = await client.get("/p/shirt-1", headers=EN)

    assert page.text.count("disabled>") == 4  # add to cart and buy now, in the form and the phone's buy bar
    assert "(out of stock)</option>" in page.text


async def test_the_product_page_carries_schema_org_product_data(client: AsyncClient) -> None:
    s = await shop()
    async with uow(write=False) as session:
        skus = await catalog.list_skus(session, product_id=s.ids["dress"])

    page = await client.get("/p/dress-1")

    data = structured_data(page.text)
    assert data == {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "亚麻连衣裙",
        "url": "http://127.0.0.1:8000/p/dress-1",
        "image": [],
        "sku": skus[0].code,
        "brand": {"@type": "Brand", "name": "Other"},
        "offers": [
            {
                "@type": "Offer",
                "sku": skus[0].code,
                "price": "299.00",
                "priceCurrency": "CNY",
                "availability": "https://schema.org/InStock",
                "url": "http://127.0.0.1:8000/p/dress-1",
            }
        ],
    }


async def test_user_text_is_escaped_on_every_catalogue_page(client: AsyncClient) -> None:
    category = await make_category("<b>类目</b>", slug="xss")
    await make_listed_product(
        title="<script>alert(1)</script>",
        subtitle='"><img src=x onerror=alert(2)>',
        slug="xss-1",
        category_id=category.id,
        description_html="<p>ok</p><script>alert(3)</script>",
    )

    pages = [
        await client.get("/"),
        await client.get("/c/xss"),
        await client.get("/search", params={"q": "<script>"}),
        await client.get("/p/xss-1"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<img src=x" not in page.text
        assert "<b>类目</b>" not in page.text
    product = pages[3].text
    assert "alert(3)" not in product
    assert "<p>ok</p>" in product
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in product  # inert inside JSON-LD


async def test_the_gallery_shows_every_image_and_the_structured_data_links_them(client: AsyncClient) -> None:
    product = await make_listed_product(slug="pictured")
    async with uow() as session:
        for n in range(2):
            await catalog.add_product_image(
                session,
                product_id=product.id,
                image=decoded(image_bytes("PNG", (300, 300))),
                filename=f"{n}.png",
                declared_type="image/png",
                alt=f"角度 {n + 1}",
                actor=SYSTEM,
            )
    async with uow(write=False) as session:
        images = await catalog.list_product_images(session, product_id=product.id)

    page = await client.get("/p/pictured", headers=EN)

    mains = re.findall(r'<img class="product-gallery-main" src="([^"]+)" alt="([^"]+)"', page.text)
    assert mains == [(images[0].url, "角度 1"), (images[1].url, "角度 2")]
    assert page.text.count('x-on:click="show"') == 2  # the thumbnails (Alpine component ``gallery``)
    assert 'alt="Picture 2"' in page.text
    data = structured_data(page.text)
    assert data["image"] == [f"http://127.0.0.1:8000{images[0].url}", f"http://127.0.0.1:8000{images[1].url}"]
    assert f'<meta property="og:image" content="http://127.0.0.1:8000{images[0].url}">' in page.text
    shutil.rmtree(media_root(), ignore_errors=True)
