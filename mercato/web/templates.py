"""The one Jinja2 environment of the HTML pages, its filters, and ``render()``.

Templates are found by namespaced paths: ``storefront/...`` under
``mercato/storefront/templates``, ``admin/...`` under ``mercato/admin/templates``, and the shared
``base.html``, ``error.html`` and ``_forms.html`` under ``mercato/web/templates``. Autoescaping
is on for HTML. ``_()`` and ``{% trans %}`` translate into the request's locale (gettext
new-style: placeholders are ``%(name)s``, and their values are escaped).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mercato.core.i18n import DEFAULT_LOCALE, format_datetime, gettext, translations
from mercato.core.money import Money
from mercato.core.security import mask_email, mask_phone
from mercato.core.settings import get_settings
from mercato.shop import ShopSettingsRead, default_settings
from mercato.web.csrf import csrf_token

PACKAGE = Path(__file__).resolve().parents[1]
SEARCH_PATH = [
    PACKAGE / "storefront" / "templates",
    PACKAGE / "admin" / "templates",
    PACKAGE / "web" / "templates",
]
#: The value of ``<html lang>`` for each supported locale (BCP 47).
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
#: Cache-Control of a rendered page (see ``render``).
PAGE_CACHE_CONTROL = "private, no-cache"


def _locale(context: Context) -> str:
    value = context.get("locale")
    return value if isinstance(value, str) else DEFAULT_LOCALE


@pass_context
def _gettext(context: Context, message: str) -> str:
    return gettext(message, _locale(context))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_locale(context)).ngettext(singular, plural, n)


@pass_context
def _datetime(context: Context, value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, get_settings().tz, _locale(context))


@pass_context
def _money(context: Context, value: Money | int | None, currency: str = "CNY") -> str:
    """``Money`` (or minor units plus a currency) formatted for the page's locale: ``¥12.34``."""
    if value is None:
        return ""
    money = value if isinstance(value, Money) else Money(int(value), currency)
    return money.format(_locale(context))


@pass_context
def _number(context: Context, value: int | None) -> str:
    """A count with the locale's grouping: ``12,345``."""
    return "" if value is None else format_decimal(value, locale=_locale(context))


@pass_context
def _date(context: Context, value: dt.date | dt.datetime | None) -> str:
    """A date (a datetime is first moved into the shop's time zone) in the locale's medium form."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(get_settings().tz).date()
    return format_date(value, format="medium", locale=_locale(context))


@pass_context
def _time_range(context: Context, starts: dt.datetime, ends: dt.datetime) -> str:
    """A time slot in the shop's time zone, its day said once: ``12月8日 09:00–12:00``."""
    tz, locale = get_settings().tz, _locale(context)
    start, end = starts.astimezone(tz), ends.astimezone(tz)
    if start.date() != end.date():
        return f"{format_datetime(starts, tz, locale)} – {format_datetime(ends, tz, locale)}"
    day = format_skeleton("MMMd", start, locale=locale)
    return f"{day} {format_time(start, 'HH:mm', locale=locale)}–{format_time(end, 'HH:mm', locale=locale)}"


def _show(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, str) and value:
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """``(key, old, new)`` for every key whose value differs; ``—`` marks a side that is absent."""
    old, new = before or {}, after or {}
    keys = list(dict.fromkeys([*old, *new]))
    return [
        (key, _show(old[key]) if key in old else "—", _show(new[key]) if key in new else "—")
        for key in keys
        if key not in old or key not in new or old[key] != new[key]
    ]


def _build() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(path) for path in SEARCH_PATH]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["mask_phone"] = mask_phone
    env.filters["mask_email"] = mask_email
    env.filters["datetime"] = _datetime
    env.filters["date"] = _date
    env.filters["money"] = _money
    env.filters["number"] = _number
    env.filters["time_range"] = _time_range
    env.globals["audit_changes"] = audit_changes
    return env


templates = _build()


def shop_of(request: Request) -> ShopSettingsRead:
    """The shop's settings the middleware loaded for this request (``mercato.web.shop``); the
    environment's defaults where it loaded none (a page rendered for a skipped path)."""
    loaded = getattr(request.state, "shop", None)
    return loaded if isinstance(loaded, ShopSettingsRead) else default_settings()


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` for this request, with ``csrf_token``, ``locale``, ``request`` and
    ``shop`` (the shop's settings: its name, logo, colours, footer details).

    Pages are per browser (they carry a CSRF token): ``private, no-cache``, so no shared cache
    keeps them and the browser asks again before reusing one. Everything personal (any page
    outside the public shop pages, any request with a session or cart cookie, any response that
    sets a cookie) is made ``no-store`` by the middleware (ADR 0023).
    """
    locale = getattr(request.state, "locale", DEFAULT_LOCALE)
    context.setdefault("shop", shop_of(request))
    response = HTMLResponse(
        status_code=status_code, headers={"cache-control": PAGE_CACHE_CONTROL, **(headers or {})}
    )
    token = csrf_token(request, response)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = templates.get_template(template).render(
        request=request,
        here=here,
        csrf_token=token,
        locale=locale,
        html_lang=HTML_LANG.get(locale, locale),
        **context,
    )
    response.body = response.render(html)
    response.headers["content-length"] = str(len(response.body))
    return response
