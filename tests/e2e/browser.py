"""Helpers for the browser tests: screenshots, axe-core checks, the JavaScript budget, sign-in.

Each takes a Playwright ``Page`` opened by the fixtures in ``conftest.py`` (one live Mercato
server and one Debian Chromium per pytest worker).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from playwright.async_api import Dialog, Page, Response

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: Viewport presets: a current phone (touch, mobile meta viewport honoured) and a laptop screen.
VIEWPORTS: dict[str, dict[str, object]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
#: Impacts that fail a page; "minor" and "moderate" findings are only listed on failure.
AXE_FAILING = ("serious", "critical")
#: "No page ships more than 150 KB of JavaScript" (issue 6), in KiB of script as served.
JS_BUDGET_BYTES = 150 * 1024


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def viewport_name(page: Page) -> str:
    size = page.viewport_size
    width = size["width"] if size else 0
    for name, preset in VIEWPORTS.items():
        if preset["viewport"] == size:
            return name
    return f"{width}px"


async def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-output/screenshots/<name>-<viewport>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{viewport_name(page)}.png"
    await page.screenshot(path=path, full_page=True, animations="disabled")
    return path


def record_dialogs(page: Page) -> list[str]:
    """Record (and dismiss) every alert, confirm or prompt the page opens; assert on the list."""
    dialogs: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


async def shoot_both(page: Page, name: str) -> None:
    """Screenshot and axe-check the current page at phone width, then at desktop width (the
    same page resized, so a journey's state is kept), then back to the size it had."""
    size = page.viewport_size
    for preset in ("phone", "desktop"):
        await page.set_viewport_size(VIEWPORTS[preset]["viewport"])  # type: ignore[arg-type]
        await shoot(page, name)
        await axe(page)
    if size:
        await page.set_viewport_size(size)


def _describe(violations: list[dict[str, object]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:  # type: ignore[index]
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    at {target}: {summary[:300]}")
            lines.append(f"    html: {str(node.get('html', ''))[:200]}")
        extra = len(v["nodes"]) - 5  # type: ignore[arg-type]
        if extra > 0:
            lines.append(f"    … and {extra} more")
    return "\n".join(lines)


async def axe(page: Page, *, disable: tuple[str, ...] = ()) -> list[dict[str, object]]:
    """Run axe-core (from node_modules) on the current page; fail on serious or critical
    violations, listing each rule with the offending elements. Returns all violations."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Not page.add_script_tag: the strict CSP (ADR 0023) refuses an inline <script>, while a
        # function Playwright evaluates runs outside the page's policy (axe needs no eval).
        await page.evaluate("() => {\n" + _axe_source() + "\n}")
    options = {"resultTypes": ["violations"], "rules": {rule: {"enabled": False} for rule in disable}}
    result = await page.evaluate(
        "async (options) => { const r = await axe.run(document, options); return r.violations; }",
        options,
    )
    failing = [v for v in result if v.get("impact") in AXE_FAILING]
    assert not failing, f"axe-core on {page.url} ({viewport_name(page)}):\n{_describe(failing)}"
    return list(result)


@dataclass
class ScriptLoad:
    url: str
    raw: int  # decoded body bytes: what the browser parses and runs
    transferred: int  # body bytes on the wire, as served (equal to raw when not compressed)
    gzipped: int  # the same body gzip-compressed (level 6), for comparison with compressed budgets


@dataclass
class JsWeight:
    scripts: list[ScriptLoad] = field(default_factory=list)

    @property
    def raw(self) -> int:
        return sum(s.raw for s in self.scripts)

    @property
    def transferred(self) -> int:
        return sum(s.transferred for s in self.scripts)

    @property
    def gzipped(self) -> int:
        return sum(s.gzipped for s in self.scripts)

    def report(self) -> str:
        rows = [
            f"  {s.url}: {s.raw} B raw, {s.transferred} B transferred, {s.gzipped} B gzip"
            for s in self.scripts
        ]
        total = f"total: {self.raw} B raw, {self.transferred} B transferred, {self.gzipped} B gzip-equivalent"
        return "\n".join([*rows, total])


async def load_measuring_js(page: Page, path: str) -> JsWeight:
    """Open ``path`` and weigh every script response of that page load (after the network is idle).

    Use a page whose context has not loaded the scripts before (each test gets a fresh one),
    or cached scripts would not be counted."""
    responses: list[Response] = []

    def on_response(response: Response) -> None:
        if response.request.resource_type == "script":
            responses.append(response)

    page.on("response", on_response)
    try:
        await page.goto(path, wait_until="networkidle")
    finally:
        page.remove_listener("response", on_response)
    weight = JsWeight()
    for response in responses:
        body = await response.body()
        # Content-Length is the body as served (compressed when Content-Encoding is set); the
        # CDP transfer sizes are not reported for every response, the header is.
        served = (await response.all_headers()).get("content-length")
        weight.scripts.append(
            ScriptLoad(
                url=response.url,
                raw=len(body),
                transferred=int(served) if served is not None else len(body),
                gzipped=len(gzip.compress(body, compresslevel=6)),
            )
        )
    return weight


def assert_js_budget(weight: JsWeight, budget: int = JS_BUDGET_BYTES) -> None:
    """The enforced measure is the raw (decoded) script bytes; see ``test_pages``."""
    assert weight.raw <= budget, f"JavaScript over budget ({weight.raw} > {budget} B):\n{weight.report()}"


async def no_horizontal_scroll(page: Page, width: int = 360) -> None:
    """At ``width`` CSS pixels the page must not scroll sideways."""
    await page.set_viewport_size({"width": width, "height": 740})
    scroll_width = await page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width > width:
        wide = await page.evaluate(
            """(width) => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .slice(0, 8)
                .map(el => el.tagName.toLowerCase()
                     + (el.id ? '#' + el.id : '')
                     + (typeof el.className === 'string' && el.className.trim()
                        ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
                     + ' right=' + Math.round(el.getBoundingClientRect().right))""",
            width,
        )
        raise AssertionError(
            f"{page.url} scrolls sideways at {width}px: scrollWidth={scroll_width}; over: {json.dumps(wide)}"
        )


async def staff_sign_in(page: Page, email: str, password: str, *, next_path: str = "/admin/") -> None:
    """Sign in to the console through its form (English labels)."""
    await page.goto(f"/admin/login?next={next_path}")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{next_path}")


async def customer_sign_in(page: Page, identifier: str, password: str) -> None:
    """Sign in to the shop through the password form (English labels); stays where it lands."""
    await page.goto("/account/login")
    await page.get_by_label("Mobile number or email").fill(identifier)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state()
