"""The providers offered to shoppers: enabled and fully configured, in the configured order."""

from __future__ import annotations

import pytest

from mercato import payments
from mercato.core.settings import get_settings


def test_the_sandbox_is_offered_by_default_outside_production() -> None:
    assert payments.offered_providers() == ["sandbox"]


def test_an_enabled_provider_without_its_keys_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_PAYMENT_PROVIDERS", '["wechatpay", "sandbox"]')
    get_settings.cache_clear()

    assert payments.offered_providers() == ["sandbox"]
