"""The shop's frame on every page: the tab bar (aria-current, the cart's real count), the
desktop category menu, the 分类 page with its rail of top categories, and the home shelves that
are never the same list twice."""

from __future__ import annotations

import re

from httpx import AsyncClient

from tests.factories.catalog import make_category, make_listed_product
from tests.factories.checkout import open_shop
from tests.web.pages import EN
from tests.web.storefront.shopping import signed_in_shopper
from tests.web.storefront.test_cart import add
from tests.web.storefront.test_home import sold


def tabs(page: str) -> list[tuple[str, str]]:
    """(href, aria-current or "") of each tab of the tab bar."""
    bar = page[page.index('<nav class="tab-bar bottom-bar"') :]
    return re.findall(r'<a class="tab tab-\w+" href="([^"]+)"(?: aria-current="(\w+)")?>', bar)


def badge(page: str) -> str | None:
    """The cart badge's count as rendered, or None when the page fetches it after loading."""
    match = re.search(r'<span class="cart-badge" data-count="(\d+)"', page)
    return match.group(1) if match else None


async def test_the_tab_bar_marks_the_open_section(client: AsyncClient) -> None:
    await make_category("服装", slug="clothing")

    home = await client.get("/", headers=EN)
    categories = await client.get("/categories", headers=EN)
    listing = await client.get("/c/clothing", headers=EN)

    assert tabs(home.text) == [("/", "page"), ("/categories", ""), ("/cart", ""), ("/account", "")]
    assert tabs(categories.text) == [("/", ""), ("/categories", "page"), ("/cart", ""), ("/account", "")]
    assert tabs(listing.text) == [("/", ""), ("/categories", "true"), ("/cart", ""), ("/account", "")]
    assert '<nav class="tab-bar bottom-bar" aria-label="Shop sections">' in home.text


async def test_the_cart_tab_counts_the_units_in_the_shoppers_cart(client: AsyncClient) -> None:
    red, black = await open_shop(stock=5)

    assert badge((await client.get("/", headers=EN)).text) == "0"
    await add(client, red, "2")
    await add(client, black, "1")

    for path in ("/", "/categories", "/search", "/c/nothing-here"):
        page = await client.get(path, headers=EN)
        if page.status_code == 200:
            assert badge(page.text) == "3", path
    fetched = await client.get("/shell/cart-count", headers=EN)
    assert fetched.status_code == 200
    assert fetched.headers["cache-control"] == "no-store"
    assert re.fullmatch(
        r'\s*<span class="cart-badge" data-count="3"><span class="visually-hidden">Items: </span>3</span>\s*',
        fetched.text,
    )


async def test_a_signed_in_customer_sees_their_own_cart_count(client: AsyncClient) -> None:
    red, _black = await open_shop(stock=5)
    await signed_in_shopper(client)
    await add(client, red, "4")

    assert badge((await client.get("/", headers=EN)).text) == "4"
    other = AsyncClient(transport=client._transport, base_url=str(client.base_url))  # a stranger
    async with other:
        assert badge((await other.get("/", headers=EN)).text) == "0"


async def test_pages_whose_route_did_not_count_fetch_the_badge(client: AsyncClient) -> None:
    page = await client.get("/account/login", headers=EN)

    assert badge(page.text) is None
    assert 'hx-get="/shell/cart-count" hx-trigger="load"' in page.text


async def test_the_category_page_shows_the_chosen_top_categorys_children(client: AsyncClient) -> None:
    digital = await make_category("数码", slug="digital")
    phones = await make_category("手机", parent_id=digital.id, slug="phones")
    await make_category("五G手机", parent_id=phones.id, slug="5g-phones")
    await make_category("耳机", parent_id=digital.id, slug="earphones")
    clothing = await make_category("服装", slug="clothing")
    await make_category("男装", parent_id=clothing.id, slug="men")
    await make_category("停用", parent_id=clothing.id, slug="off", is_active=False)

    first = await client.get("/categories")
    chosen = await client.get("/categories", params={"top": "clothing"})
    unknown = await client.get("/categories", params={"top": "<nope>"})

    assert first.status_code == chosen.status_code == unknown.status_code == 200
    rail = re.findall(
        r'<li><a href="/categories\?top=([\w-]+)"( aria-current="page")?>(\w+)</a></li>', first.text
    )
    assert rail == [("digital", ' aria-current="page"', "数码"), ("clothing", "", "服装")]
    assert '<h2 id="category-panel-title">数码</h2>' in first.text
    assert '<a class="category-panel-all" href="/c/digital">' in first.text
    assert '<h3><a href="/c/phones">手机</a></h3>' in first.text
    assert re.findall(r'class="category-tile" href="/c/([\w-]+)"', first.text) == ["5g-phones", "earphones"]
    assert re.findall(r'class="category-tile" href="/c/([\w-]+)"', chosen.text) == ["men"]
    assert '<a href="/categories?top=clothing" aria-current="page">服装</a>' in chosen.text
    assert '<h2 id="category-panel-title">数码</h2>' in unknown.text


async def test_a_shop_without_categories_says_so(client: AsyncClient) -> None:
    page = await client.get("/categories", headers=EN)

    assert page.status_code == 200
    assert "No categories yet." in page.text


async def test_the_desktop_category_menu_lists_top_categories_and_their_children(client: AsyncClient) -> None:
    digital = await make_category("数码", slug="digital")
    await make_category("手机", parent_id=digital.id, slug="phones")

    home = await client.get("/", headers=EN)
    menu = await client.get("/shell/categories")

    assert 'hx-get="/shell/categories" hx-trigger="toggle once"' in home.text
    assert '<a href="/categories">All categories</a>' in home.text  # without script
    assert menu.status_code == 200
    assert '<a class="category-menu-top" href="/c/digital">数码</a>' in menu.text
    assert '<li><a href="/c/phones">手机</a></li>' in menu.text


async def test_best_sellers_that_are_the_new_arrivals_are_not_shown_twice(client: AsyncClient) -> None:
    only = await make_listed_product(title="唯一", slug="only-one")
    await sold(only.id, 2)

    page = await client.get("/", headers=EN)

    assert 'id="new-title"' in page.text
    assert 'id="best-title"' not in page.text
