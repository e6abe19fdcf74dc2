"""The automatic listing checks, as a pure function of the product and the banned-term dictionary.

China's Advertising Law (广告法) art. 9(3) forbids absolute terms such as 最, 第一, 国家级, 顶级,
极品 in advertising, and product pages count as advertising. The checks, run on submit:

- banned terms in the title, English title, subtitle and the text of the description: Chinese
  terms match as substrings, English terms case-insensitively as whole words; text is NFKC
  normalised first, so full-width letters do not slip through. A term found only inside a
  longer banned term found at the same place is not reported twice (最佳 hides 最);
- required fields: a title, a category, at least one active SKU, every active SKU priced;
- price sanity: every active SKU's price is above zero and at most its market price (划线价).

Each finding is blocking (the submission is refused) or a note for the reviewer (no image yet;
a high-risk category). ``AUTO_APPROVE_LOW_RISK`` decides what happens to a clean product in a
low-risk category: False (the default) sends it to the review queue like every other product;
True puts it on sale at once, approved by the actor "compliance".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import nh3

from mercato.catalog.schemas import ListingFinding, TermLanguage
from mercato.catalog.states import SkuStatus
from mercato.core.i18n import N_

#: When True, a product passing every check in a category that is not high-risk skips the
#: review queue and goes on sale at once (actor "compliance"). Off by default: every listing
#: is reviewed by a person until the shop decides to trust the checks.
AUTO_APPROVE_LOW_RISK = False

#: The default dictionary loaded by ``ensure_default_banned_terms``: absolute terms of art. 9(3)
#: as the market regulator (市场监管总局) reads them, in Chinese and English.
DEFAULT_BANNED_TERMS: tuple[tuple[str, TermLanguage], ...] = tuple(
    [
        (term, TermLanguage.zh)
        for term in (
            "最",
            "最佳",
            "最具",
            "最爱",
            "最赚",
            "最优",
            "最优秀",
            "最好",
            "最大",
            "最高",
            "最低",
            "最便宜",
            "最新技术",
            "最先进",
            "第一",
            "唯一",
            "首个",
            "首选",
            "独一无二",
            "全国第一",
            "顶级",
            "国家级",
            "世界级",
            "极品",
            "极致",
            "绝对",
            "万能",
            "100%",
            "史无前例",
            "永久",
            "王牌",
            "领袖品牌",
        )  # fmt: skip
    ]
    + [
        (term, TermLanguage.en)
        for term in (
            "best",
            "No.1",
            "number one",
            "top-rated",
            "world-class",
            "the only",
            "ultimate",
            "perfect",
        )
    ]
)

CHECKED_FIELDS = ("title", "title_en", "subtitle", "description_html")


@dataclass(frozen=True)
class CandidateSku:
    id: int
    code: str
    status: str
    price_amount: int
    market_price_amount: int | None


@dataclass(frozen=True)
class ListingCandidate:
    """What the checks look at: the product's texts, category, images and SKUs."""

    title: str
    title_en: str = ""
    subtitle: str = ""
    description_html: str = ""
    category_id: int | None = None
    is_high_risk: bool = False
    image_count: int = 0
    skus: tuple[CandidateSku, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TermRule:
    term: str
    language: TermLanguage


def normalize(text: str) -> str:
    """NFKC (full-width to half-width) and case-folded: the form terms and texts are compared in."""
    return unicodedata.normalize("NFKC", text).casefold()


def description_text(description_html: str) -> str:
    """The visible text of a description: tags dropped, entities decoded."""
    return html.unescape(nh3.clean(description_html, tags=set()))


@lru_cache(maxsize=1024)
def _english_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in normalize(term).split()]
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(words) + r"(?![a-z0-9])")


def find_terms(text: str, terms: Iterable[TermRule]) -> list[str]:
    """The banned terms in ``text``, in order of first appearance, each once.

    A match lying inside a longer match of another term is dropped.
    """
    folded = normalize(text)
    spans: list[tuple[int, int, str]] = []
    for rule in terms:
        needle = normalize(rule.term).strip()
        if not needle:
            continue
        if rule.language == TermLanguage.en:
            spans.extend(
                (m.start(), m.end(), rule.term) for m in _english_pattern(rule.term).finditer(folded)
            )
        else:
            start = folded.find(needle)
            while start != -1:
                spans.append((start, start + len(needle), rule.term))
                start = folded.find(needle, start + 1)
    found: list[str] = []
    reach = (-1, -1)  # (end, start) of the span reaching furthest among those seen
    for start, end, term in sorted(spans, key=lambda span: (span[0], -span[1])):
        inside_longer = reach[0] > end or (reach[0] == end and reach[1] < start)
        if reach[0] < end:
            reach = (end, start)
        if not inside_longer and term not in found:
            found.append(term)
    return found


def check_listing(candidate: ListingCandidate, terms: Sequence[TermRule]) -> list[ListingFinding]:
    """Every finding about ``candidate``: banned terms by field, then required fields, then prices,
    then the reviewer's notes."""
    findings: list[ListingFinding] = []
    texts = {
        "title": candidate.title,
        "title_en": candidate.title_en,
        "subtitle": candidate.subtitle,
        "description_html": description_text(candidate.description_html),
    }
    for name in CHECKED_FIELDS:
        for term in find_terms(texts[name], terms):
            findings.append(
                ListingFinding(
                    code="catalog.banned_term",
                    field=name,
                    term=term,
                    message=N_("Uses a banned absolute term (Advertising Law art. 9)."),
                )
            )
    if not candidate.title.strip():
        findings.append(
            ListingFinding(code="catalog.required", field="title", message=N_("A title is required."))
        )
    if candidate.category_id is None:
        findings.append(
            ListingFinding(
                code="catalog.required", field="category_id", message=N_("A category is required.")
            )
        )
    active = [sku for sku in candidate.skus if sku.status == SkuStatus.active]
    if not active:
        findings.append(
            ListingFinding(
                code="catalog.no_active_sku", field="skus", message=N_("At least one active SKU is required.")
            )
        )
    for sku in active:
        if sku.price_amount <= 0:
            findings.append(
                ListingFinding(
                    code="catalog.price_not_positive",
                    field="price_amount",
                    sku_id=sku.id,
                    message=N_("Set a price greater than zero."),
                )
            )
        elif sku.market_price_amount is not None and sku.price_amount > sku.market_price_amount:
            findings.append(
                ListingFinding(
                    code="catalog.price_above_market_price",
                    field="price_amount",
                    sku_id=sku.id,
                    message=N_("The price must not exceed the market price."),
                )
            )
    if candidate.image_count == 0:
        findings.append(
            ListingFinding(
                code="catalog.no_image", field="images", blocking=False, message=N_("Add at least one image.")
            )
        )
    if candidate.is_high_risk:
        findings.append(
            ListingFinding(
                code="catalog.high_risk_category",
                field="category_id",
                blocking=False,
                message=N_("The category is high-risk: a reviewer must approve the listing."),
            )
        )
    return findings


def finding_loc(finding: ListingFinding) -> tuple[str | int, ...]:
    """Where a finding points, as a problem field error's ``loc``: ``["title", "<term>"]`` for a
    banned term, ``["skus", <sku id>, "price_amount"]`` for a SKU, ``[<field>]`` otherwise."""
    if finding.sku_id is not None:
        return ("skus", finding.sku_id, finding.field)
    if finding.term is not None:
        return (finding.field, finding.term)
    return (finding.field,)
