"""Browser-test fixtures: a live Mercato server and Debian's Chromium driven by Playwright.

Everything runs on pytest's session event loop: uvicorn serves the same app object and the same
database engine the other tests use (so services and factories can seed data inside a test, and
the per-test table cleaning applies), and Playwright's async API drives the browser from the
test. Each pytest-xdist worker is its own session, so it gets its own port, server and browser.

Chromium is Debian's (``scripts/browser`` installs it; ``MERCATO_CHROMIUM`` overrides the path);
Playwright's own browser downloads are never used. ``launch`` gives every browser a fresh
temporary profile (Playwright creates and removes the user-data-dir itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright, expect

from mercato.core import events
from mercato.core.settings import get_settings
from tests.e2e.browser import VIEWPORTS
from tests.e2e.shop import DELIVERY
from tests.providers.local_server import free_port

CHROMIUM = os.environ.get("MERCATO_CHROMIUM", "/usr/bin/chromium")
#: Headless, as root, without network: no sandbox (needs user namespaces), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Actions and expectations wait at most this long (ms): a broken page fails fast, a busy CI
#: machine is given time.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)
#: Runs in every document before the page's own scripts: reports each Content-Security-Policy
#: violation (an inline script, style or handler, an eval, a foreign origin) as a console error
#: that ``open_page`` turns into a test failure (ADR 0023). Chromium also logs "Refused to …".
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    "CSP violation: " + event.effectiveDirective + " refused " + (event.blockedURI || "inline")
    + " at " + (event.sourceFile || document.location.href) + ":" + event.lineNumber
    + (event.sample ? " (" + event.sample + ")" : "")
  );
}, true);
"""


def is_csp_violation(message: ConsoleMessage) -> bool:
    """A console error about the Content-Security-Policy (ours or Chromium's own wording)."""
    text = message.text
    return message.type == "error" and (
        text.startswith(("CSP violation:", "Refused to")) or "Content Security Policy" in text
    )


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture(scope="session")
async def live_server(app: object, migrated_database: str) -> AsyncIterator[str]:
    """Mercato on 127.0.0.1 and a free port, for the whole worker session; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,  # type: ignore[arg-type]
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        if task.done():
            task.result()  # raises why the server could not start
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, one per worker session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser (scripts/test does) to install Chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def open_page(
    browser: Browser, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[OpenPage]:
    """Open a page in a fresh browser context (own cookies and cache) on the live server.

    ``await open_page("phone")`` or ``await open_page("desktop", locale="zh_CN")``: relative URLs
    go to the live server; the shop's locale cookie is set (English by default, so tests can
    find elements by their English labels). Uncaught JavaScript errors and Content-Security-Policy
    violations fail the test. For the test, the app's public base URL is the live server's (the
    sandbox gateway's pay links)."""
    monkeypatch.setenv("MERCATO_BASE_URL", live_server)
    get_settings.cache_clear()
    contexts: list[BrowserContext] = []
    errors: list[str] = []
    violations: list[str] = []

    async def _open(viewport: str = "desktop", *, locale: str = "en") -> Page:
        context = await browser.new_context(
            base_url=live_server,
            locale="en-US" if locale == "en" else "zh-CN",
            **VIEWPORTS[viewport],  # type: ignore[arg-type]
        )
        context.set_default_timeout(TIMEOUT_MS)
        await context.add_cookies([{"name": "mercato_locale", "value": locale, "url": live_server}])
        await context.add_init_script(CSP_REPORTER)
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))

        def on_console(message: ConsoleMessage) -> None:
            if is_csp_violation(message):
                violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        return page

    yield _open
    for context in contexts:
        await context.close()
    assert not errors, "uncaught JavaScript errors:\n" + "\n".join(errors)
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def viewport() -> str:
    """The viewport preset of ``page``; parametrize ``viewport`` to run a test at both."""
    return "desktop"


@pytest.fixture
async def page(open_page: OpenPage, viewport: str) -> Page:
    """A page at the ``viewport`` preset (desktop unless parametrized), English locale."""
    return await open_page(viewport)


@pytest.fixture
async def worker(handlers: None) -> AsyncIterator[None]:
    """The worker's outbox delivery, every 0.2 s while the test runs, with every handler
    subscribed (the test settings run no jobs in the web process): a paid order becomes paid."""

    async def deliver() -> None:
        while True:
            async with DELIVERY:
                await events.deliver_pending()
            await asyncio.sleep(0.2)

    task = asyncio.create_task(deliver())
    yield
    async with DELIVERY:  # never cancel a delivery halfway: its SQLite connection would be dropped unclosed
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
