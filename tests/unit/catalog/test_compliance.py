"""The listing checks as a pure function: banned terms, required fields, price sanity, reviewer notes."""

from __future__ import annotations

import pytest

from mercato.catalog.schemas import ListingFinding, TermLanguage
from mercato.catalog.service.compliance import (
    DEFAULT_BANNED_TERMS,
    CandidateSku,
    ListingCandidate,
    TermRule,
    check_listing,
    description_text,
    find_terms,
    finding_loc,
)

TERMS = [TermRule(term, language) for term, language in DEFAULT_BANNED_TERMS]
PRICED = (CandidateSku(id=1, code="1-1", status="active", price_amount=9900, market_price_amount=None),)


def candidate(**fields: object) -> ListingCandidate:
    values: dict[str, object] = {"title": "纯棉T恤", "category_id": 1, "image_count": 1, "skus": PRICED}
    values.update(fields)
    return ListingCandidate(**values)  # type: ignore[arg-type]


def codes(findings: list[ListingFinding]) -> list[tuple[str, str, str | None]]:
    return [(f.code, f.field, f.term) for f in findings]


def test_a_clean_product_has_no_findings() -> None:
    assert check_listing(candidate(), TERMS) == []


def test_the_default_dictionary_has_the_chinese_and_english_terms() -> None:
    chinese = [t for t, language in DEFAULT_BANNED_TERMS if language == TermLanguage.zh]
    english = [t for t, language in DEFAULT_BANNED_TERMS if language == TermLanguage.en]

    assert len(chinese) == 32
    assert {"最", "最佳", "第一", "顶级", "国家级", "极品", "100%", "领袖品牌"} <= set(chinese)
    assert english == [
        "best",
        "No.1",
        "number one",
        "top-rated",
        "world-class",
        "the only",
        "ultimate",
        "perfect",
    ]
    assert len({t for t, _ in DEFAULT_BANNED_TERMS}) == len(DEFAULT_BANNED_TERMS)


@pytest.mark.parametrize(
    ("_case", "text", "found"),
    [
        ("a Chinese term anywhere", "本店销量全国第一", ["全国第一"]),
        ("a longer term hides the shorter one inside it", "最佳选择", ["最佳"]),
        ("separate occurrences are each found", "最佳面料，最大优惠", ["最佳", "最大"]),
        ("a lone 最 is found too", "最近上新", ["最"]),
        ("English case-insensitively", "The BEST tee", ["best"]),
        ("English only as whole words", "bestseller, perfectly, ultimately", []),
        ("English phrases across spacing", "the   only one", ["the only"]),
        ("full-width letters are normalised", "ＢＥＳＴ ＴＥＥ", ["best"]),
        ("punctuation inside a term", "Rated No.1 in China", ["No.1"]),
        ("a per cent sign", "100%纯棉", ["100%"]),
        ("each term once", "best best BEST", ["best"]),
        ("English next to Chinese characters", "最best品质", ["最", "best"]),
    ],
)
def test_find_terms(_case: str, text: str, found: list[str]) -> None:
    assert find_terms(text, TERMS) == found


def test_terms_are_found_in_every_checked_field_in_order() -> None:
    findings = check_listing(
        candidate(
            title="顶级T恤",
            title_en="Perfect tee",
            subtitle="国家级工艺",
            description_html="<p>极<b>品</b>面料 &amp; the <i>ultimate</i> fit</p>",
        ),
        TERMS,
    )

    assert codes(findings) == [
        ("catalog.banned_term", "title", "顶级"),
        ("catalog.banned_term", "title_en", "perfect"),
        ("catalog.banned_term", "subtitle", "国家级"),
        ("catalog.banned_term", "description_html", "极品"),
        ("catalog.banned_term", "description_html", "ultimate"),
    ]
    assert all(f.blocking for f in findings)


def test_the_description_is_checked_as_visible_text() -> None:
    assert description_text('<p title="最佳">普通<script>最好</script> &lt;b&gt;</p>') == "普通 <b>"
    assert check_listing(candidate(description_html='<p title="最佳">普通</p>'), TERMS) == []


def test_required_fields_and_active_skus() -> None:
    disabled = CandidateSku(id=2, code="1-2", status="disabled", price_amount=0, market_price_amount=None)

    findings = check_listing(candidate(title="  ", category_id=None, skus=(disabled,)), TERMS)

    assert codes(findings) == [
        ("catalog.required", "title", None),
        ("catalog.required", "category_id", None),
        ("catalog.no_active_sku", "skus", None),
    ]


def test_prices_must_be_positive_and_at_most_the_market_price() -> None:
    skus = (
        CandidateSku(id=1, code="a", status="active", price_amount=0, market_price_amount=None),
        CandidateSku(id=2, code="b", status="active", price_amount=12000, market_price_amount=9900),
        CandidateSku(id=3, code="c", status="active", price_amount=9900, market_price_amount=9900),
        CandidateSku(id=4, code="d", status="disabled", price_amount=0, market_price_amount=None),
    )

    findings = check_listing(candidate(skus=skus), TERMS)

    assert [(f.code, f.sku_id, finding_loc(f)) for f in findings] == [
        ("catalog.price_not_positive", 1, ("skus", 1, "price_amount")),
        ("catalog.price_above_market_price", 2, ("skus", 2, "price_amount")),
    ]


def test_a_missing_image_and_a_high_risk_category_are_notes_not_refusals() -> None:
    findings = check_listing(candidate(image_count=0, is_high_risk=True), TERMS)

    assert [(f.code, f.blocking) for f in findings] == [
        ("catalog.no_image", False),
        ("catalog.high_risk_category", False),
    ]


def test_a_finding_points_at_its_field_and_term() -> None:
    finding = ListingFinding(code="catalog.banned_term", field="title", term="最", message="m")

    assert finding_loc(finding) == ("title", "最")
    assert finding_loc(ListingFinding(code="catalog.required", field="title", message="m")) == ("title",)


def test_an_empty_dictionary_finds_no_terms() -> None:
    assert check_listing(candidate(title="最佳顶级T恤"), []) == []
