"""Message catalogue upkeep: collect every user-facing message and keep the .po files complete.

Messages come from four places: ``gettext(...)``/``_(...)``/``N_(...)`` calls in Python,
``_()``/``{% trans %}`` in templates, the ``message`` of every ``DomainError`` subclass, and
the field messages of the problem renderer. ``scripts/i18n update`` adds new ones to each
catalogue; a test fails while any message lacks a Chinese translation.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

import mercato
from mercato.core.errors import DomainError
from mercato.core.i18n import LOCALE_DIR
from mercato.web.problems import FIELD_MESSAGES

PACKAGE = Path(mercato.__file__).resolve().parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
TRANSLATED_LOCALES = ("zh_CN",)


def _import_all() -> None:
    for info in pkgutil.walk_packages(mercato.__path__, "mercato."):
        if ".templates" in info.name or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def collect() -> dict[str, str]:
    """Return every msgid and one place it comes from."""
    _import_all()
    found: dict[str, str] = {}
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHODS, options_map=options, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"mercato/{filename}:{lineno}")
    classes: list[type[DomainError]] = [DomainError, *_subclasses(DomainError)]
    for cls in classes:
        if "message" in cls.__dict__:
            found.setdefault(cls.message, f"{cls.__module__}.{cls.__qualname__}")
    for key, msgid in FIELD_MESSAGES.items():
        found.setdefault(msgid, f"mercato.web.problems.FIELD_MESSAGES[{key!r}]")
    return found


def _po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = _po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="Mercato")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update(locale: str) -> list[str]:
    """Add new msgids to the catalogue (keeping translations) and drop vanished ones; return the added."""
    catalog = load(locale)
    messages = collect()
    added = [m for m in messages if m not in catalog]
    fresh = Catalog(locale=locale, project="Mercato", fuzzy=False)
    for msgid, where in sorted(messages.items()):
        old = catalog.get(msgid)
        fresh.add(
            msgid,
            old.string if old is not None else "",
            locations=[(where, 0)]
            if ":" not in where
            else [(where.rsplit(":", 1)[0], int(where.rsplit(":", 1)[1]))],
        )
    path = _po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, fresh, width=100, sort_output=True, omit_header=False)
    return added


def missing(locale: str) -> list[str]:
    """Msgids without a translation in ``locale``."""
    catalog = load(locale)
    return sorted(m for m in collect() if catalog.get(m) is None or not catalog.get(m).string)  # type: ignore[union-attr]
