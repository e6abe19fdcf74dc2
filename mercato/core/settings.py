"""Settings read from MERCATO_* environment variables and an optional .env file.

Embedded mode (the default) needs nothing: SQLite under ``var/``, in-process jobs, in-memory
cache, and a secret key generated once and kept in ``var/secret_key``. Production mode
(``MERCATO_MODE=production``) requires every secret to come from the environment.
"""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_name
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
#: Payment providers Mercato has a client for (mercato/payments/providers).
PAYMENT_PROVIDERS = ("sandbox",)


class Mode(StrEnum):
    """How Mercato runs."""

    embedded = "embedded"  # a laptop, a demo or a small shop: SQLite, in-process jobs
    production = "production"  # PostgreSQL, Redis, several web and worker processes


class Settings(BaseSettings):
    """Every setting Mercato reads; documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="MERCATO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    mode: Mode = Mode.embedded
    var_dir: Path = ROOT / "var"
    database_url: str = ""
    database_echo: bool = False
    redis_url: str = ""
    secret_key: SecretStr = SecretStr("")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    base_url: str = ""
    locale: str = "zh_CN"
    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    log_json: bool = True
    # Identity
    sms_provider: str = "console"
    sms_twilio_account_sid: str = ""
    sms_twilio_auth_token: SecretStr = SecretStr("")
    sms_twilio_from: str = ""
    sms_twilio_base_url: str = "https://api.twilio.com"
    default_region: str = "CN"
    session_days: Annotated[int, Field(ge=1, le=365)] = 14
    token_days: Annotated[int, Field(ge=1, le=3650)] = 90
    privacy_policy_version: str = "2026-11-01"
    secure_cookies: bool = False
    # Media (product images, brand logos): local disk under var/media unless media_dir is set
    media_dir: Path | None = None
    media_url: str = "/media/"
    max_image_bytes: Annotated[int, Field(ge=64 * 1024, le=100 * 1024 * 1024)] = 10 * 1024 * 1024
    # Demo data (embedded mode): how many products `mercato demo` creates
    demo_products: Annotated[int, Field(ge=0, le=5000)] = 300
    # Orders: minutes a placed order waits for payment before it is cancelled and its stock freed
    order_pay_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    # Orders: days after delivery an order completes by itself (the after-sales window closes)
    order_auto_complete_days: Annotated[int, Field(ge=1, le=90)] = 7
    # Scheduled delivery (定时达): the daily time slots in shop time ("HH:MM-HH:MM"), how many days
    # ahead they are offered (today is day 0), and how many minutes before its start a slot closes
    delivery_slots: list[str] = ["09:00-12:00", "14:00-18:00", "18:00-21:00"]
    delivery_slot_days: Annotated[int, Field(ge=0, le=30)] = 3
    delivery_slot_lead_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 120
    # Payments: enabled providers (empty: ["sandbox"] in embedded mode, none in production);
    # sandbox_secret signs the sandbox gateway's notifications (derived from secret_key if unset)
    payment_providers: list[str] = []
    sandbox_secret: SecretStr = SecretStr("")
    # Jobs
    outbox_interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 2
    run_jobs_in_web: bool = True

    @field_validator("delivery_slots")
    @classmethod
    def _slots(cls, value: list[str]) -> list[str]:
        for slot in value:
            start, sep, end = slot.partition("-")
            try:
                ok = sep == "-" and dt.time.fromisoformat(start) < dt.time.fromisoformat(end)
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"delivery slot {slot!r} is not 'HH:MM-HH:MM' with start before end")
        return value

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "mercato.sqlite3"

    @property
    def media_root(self) -> Path:
        """Where local media files live: ``media_dir``, else ``<var_dir>/media``."""
        return self.media_dir or self.var_dir / "media"

    @property
    def public_base_url(self) -> str:
        """Where this shop is reached from outside (links in messages, provider callbacks)."""
        return self.base_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def enabled_payment_providers(self) -> list[str]:
        if self.payment_providers:
            return list(self.payment_providers)
        return [] if self.mode is Mode.production else ["sandbox"]

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def effective_secret_key(self) -> str:
        """Return the signing secret; in embedded mode generate it once under var/."""
        value = self.secret_key.get_secret_value()
        if value:
            return value
        if self.mode is Mode.production:
            raise RuntimeError("MERCATO_SECRET_KEY is required in production mode")
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        generated = secrets.token_urlsafe(48)
        path.write_text(generated)
        path.chmod(0o600)
        return generated

    def problems(self) -> list[str]:
        """Return what is wrong with this configuration, one line per problem."""
        found: list[str] = []
        url = self.effective_database_url
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            found.append(
                "MERCATO_DATABASE_URL: use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
            )
        if self.mode is Mode.production:
            key = self.secret_key.get_secret_value()
            if len(key) < 32:
                found.append("MERCATO_SECRET_KEY: required in production mode, at least 32 characters")
            if url.startswith("sqlite"):
                found.append("MERCATO_DATABASE_URL: production mode needs PostgreSQL")
            if not self.redis_url:
                found.append("MERCATO_REDIS_URL: production mode needs Redis (cache, limits, jobs)")
            if not self.secure_cookies:
                found.append("MERCATO_SECURE_COOKIES: must be true in production mode (HTTPS only cookies)")
            if self.sms_provider == "console":
                found.append("MERCATO_SMS_PROVIDER: 'console' only logs codes; use 'twilio' in production")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            found.append("MERCATO_REDIS_URL: must start with redis://, rediss:// or unix://")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(f"MERCATO_TIMEZONE: unknown time zone {self.timezone!r}")
        try:
            Locale.parse(self.locale)
        except (UnknownLocaleError, ValueError):
            found.append(f"MERCATO_LOCALE: unknown locale {self.locale!r}")
        if len(self.currency) != 3 or get_currency_name(self.currency, locale="en") == self.currency:
            found.append(f"MERCATO_CURRENCY: unknown ISO 4217 currency {self.currency!r}")
        unknown = [name for name in self.payment_providers if name not in PAYMENT_PROVIDERS]
        if unknown:
            found.append(
                f"MERCATO_PAYMENT_PROVIDERS: unknown provider {unknown[0]!r} "
                f"(choose from {', '.join(PAYMENT_PROVIDERS)})"
            )
        if self.mode is Mode.production and "sandbox" in self.payment_providers:
            found.append("MERCATO_PAYMENT_PROVIDERS: 'sandbox' takes no real money; not in production mode")
        if self.sms_provider not in {"console", "twilio"}:
            found.append("MERCATO_SMS_PROVIDER: choose 'console' or 'twilio'")
        if self.sms_provider == "twilio":
            missing = [
                name
                for name, value in (
                    ("MERCATO_SMS_TWILIO_ACCOUNT_SID", self.sms_twilio_account_sid),
                    ("MERCATO_SMS_TWILIO_AUTH_TOKEN", self.sms_twilio_auth_token.get_secret_value()),
                    ("MERCATO_SMS_TWILIO_FROM", self.sms_twilio_from),
                )
                if not value
            ]
            found.extend(f"{name}: required when MERCATO_SMS_PROVIDER=twilio" for name in missing)
        return found


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cleared by tests through ``get_settings.cache_clear``)."""
    return Settings()
