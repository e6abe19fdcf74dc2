"""Locale negotiation and translated messages."""

from __future__ import annotations

import pytest

from mercato.core.i18n import gettext, negotiate


@pytest.mark.parametrize(
    ("_case", "header", "expected"),
    [
        ("absent", None, "zh_CN"),
        ("zh-CN", "zh-CN", "zh_CN"),
        ("bare zh", "zh", "zh_CN"),
        ("zh-TW falls to zh_CN", "zh-TW,zh;q=0.9", "zh_CN"),
        ("en", "en", "en"),
        ("en-US with q", "en-US,en;q=0.9,zh;q=0.8", "en"),
        ("quality order wins", "zh;q=0.5, en;q=0.9", "en"),
        ("unsupported", "fr-FR,de", "zh_CN"),
        ("garbage q", "en;q=abc, zh", "zh_CN"),
        ("wildcard", "*", "zh_CN"),
    ],
)
def test_negotiates_a_supported_locale(_case: str, header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_translates_into_chinese_and_formats_params() -> None:
    assert gettext("Not found.", "zh_CN") == "未找到。"
    assert gettext("Not found.", "en") == "Not found."
    assert (
        gettext("Too many attempts. Try again in {seconds} seconds.", "zh_CN", seconds=30)
        == "尝试次数过多，请在 30 秒后重试。"
    )
