"""Chooses payment providers by name among those enabled in the settings."""

from __future__ import annotations

from mercato.core.settings import get_settings
from mercato.payments.errors import UnknownProvider
from mercato.payments.providers.base import Provider
from mercato.payments.providers.sandbox import SandboxProvider

_overrides: dict[str, Provider] = {}


def get_provider(name: str) -> Provider:
    """Raises: UnknownProvider (422) when ``name`` is not enabled."""
    if name not in get_settings().enabled_payment_providers:
        raise UnknownProvider(provider=name)
    if name in _overrides:
        return _overrides[name]
    if name == "sandbox":
        return SandboxProvider()
    raise UnknownProvider(provider=name)


def set_provider(name: str, provider: Provider | None) -> None:
    """Replace a provider's client (tests: a gateway that fails or answers slowly)."""
    if provider is None:
        _overrides.pop(name, None)
    else:
        _overrides[name] = provider
