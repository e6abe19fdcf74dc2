"""Every user-facing message has a Chinese translation (run scripts/i18n update to add new ones)."""

from __future__ import annotations

from mercato.web import catalog


def test_every_message_is_translated_into_chinese() -> None:
    assert catalog.missing("zh_CN") == []
