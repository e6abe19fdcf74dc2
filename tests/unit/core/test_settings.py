from __future__ import annotations

from pydantic import SecretStr

from mercato.core.settings import Mode, Settings

PRODUCTION = {
    "mode": Mode.production,
    "database_url": "postgresql+asyncpg://mercato@127.0.0.1:5432/mercato",
    "redis_url": "redis://127.0.0.1:6379/0",
    "secret_key": SecretStr("k" * 40),
    "secure_cookies": True,
    "base_url": "https://shop.example.com",
    "payment_providers": ["sandbox"],
}
TEST_PROVIDER_PROBLEMS = [
    "MERCATO_SMS_PROVIDER: 'console' only logs codes; use 'twilio' in production",
    "MERCATO_PAYMENT_PROVIDERS: 'sandbox' takes no real money; not in production mode",
    "MERCATO_EMAIL_TRANSPORT: 'console' only logs emails; use 'smtp' in production",
]


def test_production_refuses_the_sandbox_and_console_providers() -> None:
    settings = Settings(_env_file=None, **PRODUCTION)  # type: ignore[call-arg]

    assert settings.problems() == TEST_PROVIDER_PROBLEMS


def test_production_requires_the_public_address() -> None:
    unset = Settings(_env_file=None, allow_test_providers=True, **{**PRODUCTION, "base_url": ""})  # type: ignore[call-arg]
    relative = Settings(
        _env_file=None,  # type: ignore[call-arg]
        allow_test_providers=True,
        **{**PRODUCTION, "base_url": "shop.example.com"},
    )
    embedded = Settings(_env_file=None, base_url="")  # type: ignore[call-arg]

    assert unset.problems() == [
        "MERCATO_BASE_URL: required in production mode, the shop's public address "
        "(https://shop.example.com): links, canonical URLs and the sitemap use it"
    ]
    assert relative.problems() == ["MERCATO_BASE_URL: must start with https:// (or http://)"]
    assert embedded.problems() == []
    assert embedded.public_base_url == "http://127.0.0.1:8000"


def test_allow_test_providers_admits_them_in_production_and_nothing_else() -> None:
    allowed = Settings(_env_file=None, allow_test_providers=True, **PRODUCTION)  # type: ignore[call-arg]
    still_wrong = Settings(
        _env_file=None,  # type: ignore[call-arg]
        allow_test_providers=True,
        **{**PRODUCTION, "secure_cookies": False, "redis_url": ""},
    )

    assert allowed.problems() == []
    assert still_wrong.problems() == [
        "MERCATO_REDIS_URL: production mode needs Redis (cache, limits, jobs)",
        "MERCATO_SECURE_COOKIES: must be true in production mode (HTTPS only cookies)",
    ]
