"""The home page, the language switch and the HTML error pages."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.factories.identity import PASSWORD, make_customer
from tests.web.pages import set_cookie_header, sign_in


async def test_home_page_is_in_chinese_by_default(client: AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-CN">' in response.text
    assert "欢迎来到 Mercato" in response.text
    assert '<a href="/account/login">登录</a>' in response.text
    assert '<a href="/account/register">注册</a>' in response.text
    assert "商品目录即将上线" in response.text
    assert "Welcome to Mercato" not in response.text


async def test_home_page_is_in_english_when_the_browser_asks(client: AsyncClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Welcome to Mercato" in response.text
    assert '<a href="/account/login">Sign in</a>' in response.text
    assert "The product catalogue is coming soon." in response.text


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
    assert "http://" not in page.text
    assert "https://" not in page.text
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == ["/static/vendor/htmx/htmx.min.js", "/static/vendor/alpine/cdn.min.js"]
    for src in scripts:
        served = await client.get(src)
        assert served.status_code == 200
        assert served.headers["content-type"] == "text/javascript; charset=utf-8"
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert ":focus-visible" in css.text
