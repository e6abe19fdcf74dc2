"""Security headers of every response (ADR 0023): a strict Content-Security-Policy on the shop,
the console and the API docs; HSTS only when cookies are Secure; ``Cache-Control: no-store`` on
everything personal, while public pages, assets and media keep their caching."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response

from mercato.core.settings import get_settings
from tests.factories.catalog import make_listed_product
from tests.factories.identity import PASSWORD, signed_in_customer
from tests.web.pages import EN, sign_in, staff_sign_in

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def directives(response: Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as ``{directive: [sources]}``."""
    policy: dict[str, list[str]] = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


async def test_shop_and_console_pages_allow_no_inline_code_and_no_eval(client: AsyncClient) -> None:
    await make_listed_product(slug="tee")
    await staff_sign_in(client, "ops@example.com", superuser=True)

    for path in ("/", "/p/tee", "/c/nothing-here", "/account/login", "/admin/", "/admin/login", "/api/docs"):
        response = await client.get(path, headers=EN)
        policy = directives(response)

        assert response.headers["content-security-policy"] == STRICT_CSP, path
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert "'unsafe-inline'" not in response.headers["content-security-policy"], path
        assert "'unsafe-eval'" not in response.headers["content-security-policy"], path


async def test_no_page_needs_a_nonce(client: AsyncClient) -> None:
    """No inline script is left, so the policy is the same on every request (no nonce)."""
    first = await client.get("/")
    second = await client.get("/")

    assert first.headers["content-security-policy"] == second.headers["content-security-policy"]
    assert "nonce-" not in first.headers["content-security-policy"]
    assert "<script>" not in first.text


async def test_api_docs_are_started_by_a_static_script(client: AsyncClient) -> None:
    page = await client.get("/api/docs")
    starter = await client.get("/static/api-docs.js")

    assert page.status_code == 200
    assert page.headers["content-security-policy"] == STRICT_CSP
    assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>' in page.text
    assert '<script src="/static/api-docs.js"></script>' in page.text
    assert page.text.count("<script") == 2
    assert starter.status_code == 200
    assert "SwaggerUIBundle" in starter.text


async def test_images_may_come_from_an_absolute_media_url(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_MEDIA_URL", "https://cdn.example.com/media/")
    get_settings.cache_clear()

    response = await client.get("/robots.txt")

    assert directives(response)["img-src"] == ["'self'", "data:", "https://cdn.example.com"]
    assert directives(response)["script-src"] == ["'self'"]


async def test_hsts_only_when_cookies_are_secure(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = await client.get("/")
    monkeypatch.setenv("MERCATO_SECURE_COOKIES", "true")
    get_settings.cache_clear()
    secure = await client.get("/")
    api = await client.get("/api/v1/catalog/categories")

    assert "strict-transport-security" not in plain.headers
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert api.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_the_account_api_is_never_stored(client: AsyncClient) -> None:
    _, auth = await signed_in_customer(client)

    me = await client.get("/api/v1/me", headers=auth)
    anonymous = await client.get("/api/v1/me")
    login = await client.post("/api/v1/auth/login/password", json={"identifier": "x", "password": "y"})
    catalog_with_token = await client.get("/api/v1/catalog/categories", headers=auth)

    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    assert anonymous.status_code == 401
    assert anonymous.headers["cache-control"] == "no-store"
    assert login.headers["cache-control"] == "no-store"
    assert catalog_with_token.headers["cache-control"] == "no-store"


async def test_account_and_console_pages_are_never_stored(client: AsyncClient) -> None:
    await make_listed_product(slug="tee")
    customer, _ = await signed_in_customer(client, phone="+8613900000001")
    await sign_in(client, "13900000001", PASSWORD)
    account = await client.get("/account", headers=EN)
    product_signed_in = await client.get("/p/tee", headers=EN)
    client.cookies.clear()
    login_page = await client.get("/admin/login", headers=EN)
    await staff_sign_in(client, "ops@example.com", superuser=True)
    console = await client.get("/admin/", headers=EN)

    assert (account.status_code, account.headers["cache-control"]) == (200, "no-store")
    assert (product_signed_in.status_code, product_signed_in.headers["cache-control"]) == (200, "no-store")
    assert (login_page.status_code, login_page.headers["cache-control"]) == (200, "no-store")
    assert (console.status_code, console.headers["cache-control"]) == (200, "no-store")
    assert customer.name == "测试"


async def test_public_pages_stay_cacheable_for_anonymous_visitors(client: AsyncClient) -> None:
    """A public page is ``private, no-cache`` (it holds the browser's CSRF token) once the browser
    has its CSRF cookie; the first visit, which sets that cookie, is ``no-store``."""
    await make_listed_product(slug="tee")

    first = await client.get("/p/tee", headers=EN)
    again = await client.get("/p/tee", headers=EN)
    listing = await client.get("/search?q=tee", headers=EN)
    robots = await client.get("/robots.txt")
    catalog_api = await client.get("/api/v1/catalog/categories")

    assert "set-cookie" in first.headers
    assert first.headers["cache-control"] == "no-store"
    assert "set-cookie" not in again.headers
    assert (again.status_code, again.headers["cache-control"]) == (200, "private, no-cache")
    assert (listing.status_code, listing.headers["cache-control"]) == (200, "private, no-cache")
    assert robots.headers["cache-control"] == "public, max-age=3600"
    assert "cache-control" not in catalog_api.headers


async def test_static_files_keep_their_caching_with_a_session_cookie(client: AsyncClient) -> None:
    await signed_in_customer(client, phone="+8613900000002")
    await sign_in(client, "13900000002", PASSWORD)

    css = await client.get("/static/mercato.css")
    script = await client.get("/static/mercato.js")

    assert "mercato_session" in client.cookies
    assert (css.status_code, css.headers.get("cache-control")) == (200, None)
    assert (script.status_code, script.headers.get("cache-control")) == (200, None)
    assert css.headers["etag"]
