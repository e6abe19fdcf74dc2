"""The shop's settings on every page: loaded once per request (from the shared cache) by the
request middleware, given to every template as ``shop``, and applied to the request — its
time zone (``Settings.tz``) and its language (one the shop offers).

JSON API requests, static files and media skip it: they show no shop name.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from mercato import shop
from mercato.core.i18n import negotiate, set_locale
from mercato.core.settings import use_shop_timezone

#: Paths that render no page (and so need no shop settings).
SKIPPED_PREFIXES = ("/api/", "/static/", "/media/", "/metrics")


async def apply_shop(
    state: MutableMapping[str, Any], path: str, *, cookie_locale: str | None, accept_language: str | None
) -> None:
    """Put the shop's settings in the request ``state`` (``state["shop"]``), use its time zone
    for this request, and keep the request's language among those the shop offers: the
    language-switch cookie if offered, else the browser's preference among the offered ones,
    else the shop's default language."""
    if path.startswith(SKIPPED_PREFIXES):
        return
    current = await shop.cached_settings()
    state["shop"] = current
    use_shop_timezone(current.timezone)
    offered = current.enabled_locales
    if cookie_locale in offered:
        locale = cookie_locale
    else:
        locale = negotiate(accept_language, current.default_locale)
        if locale not in offered:
            locale = current.default_locale
    if locale != state.get("locale"):
        state["locale"] = locale
        set_locale(locale)
