"""Product descriptions as rich text: what the console's editor makes, sanitised with nh3.

Only the formats the editor offers survive (ADR 0030): paragraphs and line breaks, bold, italic,
underline, strike, headings 2 and 3, lists, quotes, links (``href`` only, over http, https or
mailto, given ``rel="nofollow noopener"``) and images stored by this shop (``src`` under the
media URL). Everything else is dropped: scripts and styles with their content, event handlers,
``style`` and ``class`` attributes, ``javascript:`` and ``data:`` URLs, comments.

Text with no tag at all (the plain textarea, a spreadsheet, descriptions written before the
editor) is text, not HTML: it is escaped and its blank-line-separated blocks become paragraphs,
single line breaks ``<br>``. :func:`as_paragraphs` does the same for what is already stored, so
old plain-text descriptions read as paragraphs without rewriting them.
"""

from __future__ import annotations

import html
import re

import nh3

from mercato.core.storage import check_key, get_storage

TAGS = frozenset(
    {"p", "br", "strong", "em", "u", "s", "h2", "h3", "ul", "ol", "li", "blockquote", "a", "img"}
)
LINK_REL = "nofollow noopener"
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_TAG = re.compile(r"<[a-zA-Z/!?]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def _own_media(url: str) -> bool:
    """Whether ``url`` is the URL of a safe key in this shop's media storage."""
    probe = "products/probe.jpg"
    prefix = get_storage().url(probe).removesuffix(probe)
    if not url.startswith(prefix):
        return False
    try:
        check_key(url.removeprefix(prefix))
    except ValueError:
        return False
    return True


def _keep_own_images(tag: str, attribute: str, value: str) -> str | None:
    """An image's ``src`` must be a file of this shop's media storage; other attributes pass.
    Never raises: nh3 would keep the attribute of a filter that fails."""
    if tag == "img" and attribute == "src":
        try:
            return value if _own_media(value) else None
        except Exception:  # noqa: BLE001 - a storage that cannot answer keeps nothing
            return None
    return value


_cleaner = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "img": {"src", "alt", "width", "height"}},
    attribute_filter=_keep_own_images,
    link_rel=LINK_REL,
    url_schemes=set(URL_SCHEMES),
)


def is_plain_text(value: str) -> bool:
    """True when ``value`` holds no tag, comment or declaration."""
    return _TAG.search(value) is None


def as_paragraphs(text: str) -> str:
    """Already-escaped ``text`` as paragraphs (blank lines) and line breaks (single newlines);
    a value holding any tag is returned as it is."""
    if not text.strip() or not is_plain_text(text):
        return text
    blocks = _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n").strip())
    return "".join("<p>" + block.strip().replace("\n", "<br>") + "</p>" for block in blocks if block.strip())


def sanitize_description(value: str) -> str:
    """The description as stored: HTML cleaned to the allowed formats, plain text escaped and
    made into paragraphs."""
    if not value.strip():
        return ""
    if is_plain_text(value):
        value = as_paragraphs(html.escape(value, quote=False))
    return _cleaner.clean(value).strip()
