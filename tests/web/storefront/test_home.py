"""The home page, the language switch and the HTML error pages."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from mercato import catalog, content
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_category, make_listed_product
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.inventory import make_warehouse, receive
from tests.factories.media import decoded, image_bytes
from tests.factories.orders import place
from tests.service.orders.test_reports import paid
from tests.web.pages import set_cookie_header, sign_in


async def test_home_page_is_in_chinese_by_default(client: AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-CN">' in response.text
    assert "欢迎来到 Mercato" in response.text
    assert '<a href="/account/login">登录</a>' in response.text
    assert '<a href="/account/register">注册</a>' in response.text
    assert '<link rel="canonical" href="http://127.0.0.1:8000/">' in response.text
    assert "Welcome to Mercato" not in response.text


async def test_home_page_is_in_english_when_the_browser_asks(client: AsyncClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Welcome to Mercato" in response.text
    assert '<a href="/account/login">Sign in</a>' in response.text
    assert 'id="new-title"' not in response.text  # a shelf with nothing to show is left out
    assert 'id="best-title"' not in response.text
    assert "No products on sale yet." in response.text


async def test_home_page_greets_a_signed_in_customer(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000", name="")
    await sign_in(client, "13800138000", PASSWORD)

    response = await client.get("/", headers={"Accept-Language": "en"})

    assert "Hello, +86138****8000." in response.text
    assert '<a href="/account">My account</a>' in response.text
    assert "13800138000" not in response.text


async def test_language_switch_sets_a_cookie_that_wins_over_accept_language(client: AsyncClient) -> None:
    switched = await client.get("/locale/en", params={"next": "/account/login"})

    assert switched.status_code == 303
    assert switched.headers["location"] == "/account/login"
    cookie = set_cookie_header(switched, "mercato_locale")
    assert cookie.startswith("mercato_locale=en;")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = await client.get("/account/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in page.text
    back = await client.get("/locale/zh_CN")
    assert back.headers["location"] == "/"
    page = await client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in page.text


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example", "evil"])
async def test_language_switch_never_leaves_the_site(client: AsyncClient, target: str) -> None:
    response = await client.get("/locale/en", params={"next": target})

    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_an_unknown_language_is_not_found(client: AsyncClient) -> None:
    response = await client.get("/locale/fr")

    assert response.status_code == 404
    assert "mercato_locale" not in response.headers["set-cookie"]
    assert response.headers["content-type"] == "text/html; charset=utf-8"


async def test_unknown_pages_are_html_but_the_api_keeps_problem_json(client: AsyncClient) -> None:
    page = await client.get("/no-such-page", headers={"Accept-Language": "en"})
    api = await client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})

    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Page not found" in page.text
    assert "This page does not exist." in page.text
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "core.not_found"


async def test_pages_use_only_local_assets_under_the_security_headers(client: AsyncClient) -> None:
    page = await client.get("/")
    css = await client.get("/static/mercato.css")

    assert page.headers["content-security-policy"].startswith("default-src 'self';")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert '<link rel="stylesheet" href="/static/mercato.css">' in page.text
    assert re.findall(r"https?://[^\s\"'<>]+", page.text) == ["http://127.0.0.1:8000/"]  # the canonical link
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == [
        "/static/vendor/htmx/htmx.min.js",
        "/static/mercato.js",  # the Alpine components, registered before Alpine starts
        "/static/vendor/alpine/cdn.min.js",  # Alpine's CSP build (@alpinejs/csp)
    ]
    for src in scripts:
        served = await client.get(src)
        assert served.status_code == 200
        assert served.headers["content-type"] == "text/javascript; charset=utf-8"
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert ":focus-visible" in css.text


async def sold(product_id: int, units: int) -> None:
    """``units`` of the product's first SKU in a paid order placed now."""
    skus = await _skus(product_id)
    warehouse = await make_warehouse(f"W{product_id}")
    await receive(skus[0], warehouse.id, units)
    await paid(await place((await make_customer()).id, (skus[0], units)))


async def _skus(product_id: int) -> list[int]:
    async with uow(write=False) as session:
        return [sku.id for sku in await catalog.list_skus(session, product_id=product_id)]


async def _banner(title: str, **fields: object) -> content.BannerRead:
    async with uow() as session:
        return await content.create_banner(
            session,
            data=content.BannerWrite.model_validate({"title": title, "link": "/c/phones", **fields}),
            image=decoded(image_bytes("PNG", (1200, 400)), thumbnail=False),
            actor=SYSTEM,
        )


async def test_home_shows_live_banners_category_entrances_and_product_shelves(client: AsyncClient) -> None:
    digital = await make_category("手机数码", slug="digital")
    await make_category("手机", parent_id=digital.id, slug="phones")
    await make_category("停用类目", slug="off", is_active=False)
    older = await make_listed_product(title="老款手机", slug="older-phone", category_id=digital.id)
    await make_listed_product(title="新款手机", slug="newer-phone", category_id=digital.id)
    async with uow() as session:
        await catalog.record_sales(session, sold={older.id: 5})  # lifetime sales: not the shelf's measure
    await sold(older.id, 1)
    second = await _banner("第二", position=2, title_en="Second", subtitle_en="Sub <b>two</b>")
    first = await _banner("第一", position=1, link="/p/older-phone")
    await _banner("已关闭", is_enabled=False)

    page = await client.get("/", headers={"Accept-Language": "en"})

    assert page.status_code == 200
    banners = re.findall(r'<li class="banner">\s*<a href="([^"]+)">\s*<img src="([^"]+)"', page.text)
    assert banners == [("/p/older-phone", first.image_url), ("/c/phones", second.image_url)]
    assert "<strong>Second</strong>" in page.text
    assert "Sub &lt;b&gt;two&lt;/b&gt;" in page.text
    assert "已关闭" not in page.text
    assert 'aria-label="Next promotion"' in page.text
    assert '<a class="category-entrance" href="/c/digital">' in page.text
    assert '<li><a href="/c/phones">' in page.text
    assert 'href="/c/off"' not in page.text
    shelves = re.findall(r'<h2 id="(new|best)-title">.*?</ul>', page.text, re.DOTALL)
    assert shelves == ["new", "best"]
    new_shelf = page.text[page.text.index('id="new-title"') : page.text.index('id="best-title"')]
    best_shelf = page.text[page.text.index('id="best-title"') :]
    assert re.findall(r'href="/p/([^"]+)"', new_shelf) == ["newer-phone", "older-phone"]
    assert re.findall(r'href="/p/([^"]+)"', best_shelf) == ["older-phone"]  # sold in the last 30 days


async def test_the_header_has_a_labelled_search_box_and_a_cart_link(client: AsyncClient) -> None:
    page = await client.get("/", headers={"Accept-Language": "en"})

    search_form = (
        '<form class="site-search" role="search" method="get" action="/search" aria-label="Search products">'
    )
    assert search_form in page.text
    assert '<label for="site-search-q" class="visually-hidden">Search products</label>' in page.text
    assert '<a href="/cart">Cart</a>' in page.text


async def test_scripts_and_styles_are_served_compressed(client: AsyncClient) -> None:
    plain = await client.get("/static/vendor/htmx/htmx.min.js", headers={"accept-encoding": "identity"})
    packed = await client.get("/static/vendor/htmx/htmx.min.js", headers={"accept-encoding": "gzip"})
    css = await client.get("/static/mercato.css", headers={"accept-encoding": "gzip"})

    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx decodes; the bytes on the wire are fewer
    assert int(packed.headers["content-length"]) < len(plain.content) // 2
    assert css.headers["content-encoding"] == "gzip"
