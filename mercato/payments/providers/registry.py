"""Chooses payment providers by name among those enabled, and fully configured, in the settings.

Adding a provider: one entry in ``_FACTORIES`` (its name and what builds its client from the
settings), its name in ``core.settings.PAYMENT_PROVIDERS`` and the settings it needs in
``core.settings.PAYMENT_PROVIDER_SETTINGS``.
"""

from __future__ import annotations

from collections.abc import Callable

from mercato.core.settings import get_settings
from mercato.payments.errors import UnknownProvider
from mercato.payments.providers.alipay import AlipayProvider
from mercato.payments.providers.base import Provider
from mercato.payments.providers.sandbox import SandboxProvider
from mercato.payments.providers.stripe import StripeProvider
from mercato.payments.providers.wechatpay import WeChatPayProvider

#: Provider name → what builds its client from the settings.
_FACTORIES: dict[str, Callable[[], Provider]] = {
    "sandbox": SandboxProvider,
    "alipay": AlipayProvider.from_settings,
    "wechatpay": WeChatPayProvider.from_settings,
    "stripe": StripeProvider.from_settings,
}

_overrides: dict[str, Provider] = {}


def get_provider(name: str) -> Provider:
    """The client of the provider ``name``.

    Raises:
        UnknownProvider (422): ``name`` is not enabled, or a setting it needs is empty.
        ProviderUnavailable (503): a configured key does not load (``mercato check`` says which).
    """
    settings = get_settings()
    if name not in settings.enabled_payment_providers:
        raise UnknownProvider(provider=name)
    if name in _overrides:
        return _overrides[name]
    factory = _FACTORIES.get(name)
    if factory is None or settings.missing_payment_settings(name):
        raise UnknownProvider(provider=name)
    return factory()


def set_provider(name: str, provider: Provider | None) -> None:
    """Replace a provider's client (tests: a gateway that fails or answers slowly)."""
    if provider is None:
        _overrides.pop(name, None)
    else:
        _overrides[name] = provider


def offered_providers() -> list[str]:
    """The providers a shopper can choose now: enabled and fully configured, in settings order."""
    settings = get_settings()
    return [
        name
        for name in settings.enabled_payment_providers
        if name in _FACTORIES and not settings.missing_payment_settings(name)
    ]
