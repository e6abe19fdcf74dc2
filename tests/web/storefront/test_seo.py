"""robots.txt and sitemap.xml: what crawlers may visit, and every public page with an absolute URL."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from mercato.core.settings import get_settings
from tests.factories.catalog import make_category, make_listed_product, make_priced_product


async def test_robots_keeps_crawlers_out_of_private_pages_and_points_to_the_sitemap(
    client: AsyncClient,
) -> None:
    response = await client.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == (
        "User-agent: *\n"
        "Disallow: /admin\n"
        "Disallow: /account\n"
        "Disallow: /cart\n"
        "Disallow: /checkout\n"
        "Disallow: /pay\n"
        "Disallow: /sandbox-gateway\n"
        "Disallow: /api\n"
        "Disallow: /locale\n"
        "Disallow: /search\n"
        "\n"
        "Sitemap: http://127.0.0.1:8000/sitemap.xml\n"
    )


async def test_the_sitemap_lists_home_active_categories_and_products_on_sale(client: AsyncClient) -> None:
    top = await make_category(slug="top")
    await make_category(slug="leaf", parent_id=top.id)
    await make_category(slug="hidden", is_active=False)
    await make_listed_product(slug="on-sale", category_id=top.id)
    await make_priced_product(slug="still-a-draft", category_id=top.id)

    response = await client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    assert response.text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    )
    assert re.findall(r"<loc>([^<]+)</loc>", response.text) == [
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/c/top",
        "http://127.0.0.1:8000/c/leaf",
        "http://127.0.0.1:8000/p/on-sale",
    ]
    assert re.search(
        r"<loc>http://127.0.0.1:8000/p/on-sale</loc><lastmod>\d{4}-\d{2}-\d{2}</lastmod>", response.text
    )


async def test_absolute_urls_use_the_configured_public_address(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_BASE_URL", "https://shop.example.cn/")
    get_settings.cache_clear()
    await make_listed_product(slug="on-sale")

    robots = await client.get("/robots.txt")
    sitemap = await client.get("/sitemap.xml")
    product = await client.get("/p/on-sale")

    assert robots.text.endswith("Sitemap: https://shop.example.cn/sitemap.xml\n")
    assert "<loc>https://shop.example.cn/p/on-sale</loc>" in sitemap.text
    assert '<link rel="canonical" href="https://shop.example.cn/p/on-sale">' in product.text


async def test_a_forged_host_header_never_reaches_absolute_urls(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_BASE_URL", "https://shop.example.cn")
    get_settings.cache_clear()
    await make_listed_product(slug="on-sale")
    forged = {"host": "evil.example", "x-forwarded-host": "evil.example"}

    robots = await client.get("/robots.txt", headers=forged)
    sitemap = await client.get("/sitemap.xml", headers=forged)
    home = await client.get("/", headers=forged)
    product = await client.get("/p/on-sale", headers=forged)

    assert robots.text.endswith("Sitemap: https://shop.example.cn/sitemap.xml\n")
    assert re.findall(r"<loc>([^<]+)</loc>", sitemap.text) == [
        "https://shop.example.cn/",
        "https://shop.example.cn/c/c-1",  # the factory's category
        "https://shop.example.cn/p/on-sale",
    ]
    assert '<link rel="canonical" href="https://shop.example.cn/">' in home.text
    assert '<link rel="canonical" href="https://shop.example.cn/p/on-sale">' in product.text
    assert all("evil.example" not in r.text for r in (robots, sitemap, home, product))


async def test_without_a_configured_address_embedded_mode_uses_its_own_not_the_host_header(
    client: AsyncClient,
) -> None:
    await make_listed_product(slug="on-sale")

    sitemap = await client.get("/sitemap.xml", headers={"host": "evil.example"})
    product = await client.get("/p/on-sale", headers={"host": "evil.example"})

    assert "<loc>http://127.0.0.1:8000/p/on-sale</loc>" in sitemap.text
    assert '<link rel="canonical" href="http://127.0.0.1:8000/p/on-sale">' in product.text
    assert "evil.example" not in sitemap.text + product.text
