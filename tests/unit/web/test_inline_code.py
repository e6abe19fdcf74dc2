"""No template brings code or styles inline (ADR 0023): the pages' Content-Security-Policy
refuses inline scripts, event handlers, ``javascript:`` URLs, ``style`` attributes and
``<style>`` blocks, and Alpine's CSP build only reads property or method names. This scan keeps
every template, including those of modules yet to come, inside those rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "mercato"
#: HTML emails, never served by the web app (so no page policy applies): mail clients drop
#: <style> blocks and stylesheets, so inline ``style`` attributes are how emails are styled.
EMAIL_TEMPLATES = PACKAGE / "notify" / "templates"

JINJA_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)  # onclick=, onload=, …
HTMX_ON = re.compile(r"\shx-on[:-]", re.IGNORECASE)  # htmx evaluates hx-on:* as code
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style[\s>]", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
#: Script elements that are data, not code: browsers never run them, so no policy applies.
DATA_SCRIPT = re.compile(r"""\stype\s*=\s*["']application/(?:ld\+)?json["']""", re.IGNORECASE)
#: An Alpine directive with a value: x-data="…", x-on:click="…", x-bind:hidden="…", x-model.number="…".
ALPINE = re.compile(r"""\s(x-[a-z]+(?::[\w.-]+)?(?:\.[\w-]+)*)\s*=\s*"([^"]*)\"""")
#: What the CSP build is given: a name or a property path (``spec.code``), or ``item in list``.
REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
LOOP = re.compile(rf"{REFERENCE.pattern} in {REFERENCE.pattern}")


def inline_code(text: str) -> list[str]:
    """Every inline script, handler, style or Alpine expression in ``text`` (outside Jinja
    comments), described."""
    text = JINJA_COMMENT.sub("", text)
    found = [f"inline event handler {m.group(0).strip()!r}" for m in HANDLER.finditer(text)]
    found += [f"htmx code attribute {m.group(0).strip()!r}" for m in HTMX_ON.finditer(text)]
    found += ["style attribute" for _ in STYLE_ATTRIBUTE.finditer(text)]
    found += ["<style> block" for _ in STYLE_BLOCK.finditer(text)]
    found += ["javascript: URL" for _ in JAVASCRIPT_URL.finditer(text)]
    for match in SCRIPT.finditer(text):
        attributes = match.group(1)
        if not re.search(r"\ssrc\s*=", attributes) and not DATA_SCRIPT.search(attributes):
            found.append(f"inline script {match.group(0)!r}")
    for match in ALPINE.finditer(text):
        directive, value = match.groups()
        simple = LOOP if directive == "x-for" else REFERENCE
        if not simple.fullmatch(value.strip()):
            found.append(f"Alpine expression {directive}={value!r} (name a component property or method)")
    return found


def templates() -> list[Path]:
    return sorted(
        path for path in PACKAGE.glob("**/templates/**/*.html") if not path.is_relative_to(EMAIL_TEMPLATES)
    )


@pytest.mark.parametrize(
    ("_case", "html", "expected"),
    [
        ("handler", '<button onclick="go()">', ["inline event handler 'onclick='"]),
        ("htmx code", '<form hx-on:submit="go()">', ["htmx code attribute 'hx-on:'"]),
        ("style attribute", '<p style="color: red">', ["style attribute"]),
        ("style block", "<style>p { color: red }</style>", ["<style> block"]),
        ("javascript url", '<a href="javascript:go()">', ["javascript: URL"]),
        ("inline script", "<script>go()</script>", ["inline script '<script>'"]),
        (
            "module script",
            '<script type="module">go()</script>',
            ["inline script '<script type=\"module\">'"],
        ),
        (
            "alpine expression",
            '<div x-on:click="open = !open">',
            ["Alpine expression x-on:click='open = !open' (name a component property or method)"],
        ),
        (
            "alpine object",
            '<div x-data="{ open: false }">',
            ["Alpine expression x-data='{ open: false }' (name a component property or method)"],
        ),
        ("external script", '<script src="/static/mercato.js" defer></script>', []),
        ("json data", '<script type="application/json" id="d">{"a": 1}</script>', []),
        ("json-ld", '<script type="application/ld+json">{}</script>', []),
        ("alpine names", '<form x-data="skuPicker" x-on:submit="ask"><b x-text="spec.name"></b>', []),
        ("alpine loop", '<template x-for="option in spec.values" x-bind:key="option.value">', []),
        ("alpine bare", "<section x-data>", []),
        ("words", "<p>Turn on notifications = better. Style is personal.</p>", []),
        ("jinja comment", "{# htmx must not inject its <style> #}", []),
    ],
)
def test_the_scan_finds_each_kind(_case: str, html: str, expected: list[str]) -> None:
    assert inline_code(html) == expected


def test_no_template_has_inline_code_or_styles() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}: {problem}"
        for path in templates()
        for problem in inline_code(path.read_text(encoding="utf-8"))
    ]

    assert len(templates()) > 50  # the scan sees the shop's, the console's and the shared templates
    assert found == []
