"""Translations (gettext catalogs via Babel), the request's locale, and locale-aware formatting.

Catalogs live in ``mercato/locale/<locale>/LC_MESSAGES/messages.po`` and are compiled in memory
at first use, so no build step is needed. Message ids are English; ``en`` needs no catalog.
"""

from __future__ import annotations

import datetime as dt
import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
SUPPORTED = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"

_current: ContextVar[str | None] = ContextVar("mercato_locale", default=None)


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """Return the compiled catalog of ``locale`` (an empty one for English)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick a supported locale from an Accept-Language header (zh, zh-CN, en, en-US, ...)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().replace("-", "_")
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, tag))
    for _q, _p, tag in sorted(ranked):
        if tag == "*":
            return default
        language = tag.split("_")[0].lower()
        if language == "zh":
            return "zh_CN"
        if language == "en":
            return "en"
    return default


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, don't translate"
    """Mark a message for extraction into the catalogues without translating it here."""
    return message


def current_locale() -> str:
    """Return the locale of the current request or job (the shop default otherwise)."""
    value = _current.get()
    if value:
        return value
    from mercato.core.settings import get_settings  # noqa: PLC0415 - avoids an import cycle

    return get_settings().locale


def set_locale(locale: str) -> None:
    """Set the locale for the current context (middleware does this per request)."""
    _current.set(locale)


def gettext(message: str, locale: str | None = None, /, **params: object) -> str:
    """Translate ``message`` into ``locale`` (the current one by default) and format it."""
    text = translations(locale or current_locale()).gettext(message)
    return text.format(**params) if params else text


def format_datetime(value: dt.datetime, tz: dt.tzinfo, locale: str | None = None) -> str:
    """Format a UTC datetime in the shop's time zone for ``locale``."""
    return dates.format_datetime(
        value.astimezone(tz), format="medium", locale=Locale.parse(locale or current_locale())
    )
