"""Settings read from MERCATO_* environment variables and an optional .env file.

Embedded mode (the default) needs nothing: SQLite under ``var/``, in-process jobs, in-memory
cache, and a secret key generated once and kept in ``var/secret_key``. Production mode
(``MERCATO_MODE=production``) requires every secret to come from the environment.
"""

from __future__ import annotations

import datetime as dt
import secrets
from contextvars import ContextVar, Token
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_name
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
#: Payment providers Mercato has a client for (mercato/payments/providers).
PAYMENT_PROVIDERS = ("sandbox", "alipay", "wechatpay", "stripe")
#: The settings (field names) a payment provider needs besides being enabled; one that is
#: enabled but misses any is not offered, and `mercato check` names what is missing.
PAYMENT_PROVIDER_SETTINGS: dict[str, tuple[str, ...]] = {
    "alipay": ("alipay_app_id", "alipay_private_key", "alipay_public_key", "alipay_gateway_url"),
    "wechatpay": (
        "wechatpay_mchid",
        "wechatpay_appid",
        "wechatpay_apiv3_key",
        "wechatpay_merchant_serial",
        "wechatpay_private_key",
        "wechatpay_platform_key",
        "wechatpay_base_url",
    ),
    "stripe": ("stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret", "stripe_api_base"),
}


#: The shop's time zone for the request being served (set from the shop settings by the web
#: layer, mercato/web/shop.py); ``Settings.tz`` prefers it to ``MERCATO_TIMEZONE``.
_shop_timezone: ContextVar[str | None] = ContextVar("mercato_shop_timezone", default=None)


def use_shop_timezone(name: str | None) -> Token[str | None]:
    """Make ``Settings.tz`` answer ``name`` (an IANA zone) in this context; returns the token
    ``reset_shop_timezone`` takes."""
    return _shop_timezone.set(name)


def reset_shop_timezone(token: Token[str | None]) -> None:
    _shop_timezone.reset(token)


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
    # PostgreSQL connection pool per process: connections kept open, extra ones allowed at peaks
    # (opened and closed again: slow, so size the pool for the usual concurrency), and whether to
    # test each connection before use (one more round trip per request; without it a connection
    # broken by a database restart fails the request that uses it, and the pool is refreshed)
    database_pool_size: Annotated[int, Field(ge=1, le=500)] = 20
    database_max_overflow: Annotated[int, Field(ge=0, le=500)] = 10
    database_pre_ping: bool = False
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
    # SMS, Alibaba Cloud (阿里云短信, docs/decisions/0009-sms-providers.md): the RAM user's
    # AccessKey id and secret, the approved signature (签名; the shop's own, once shop settings
    # name one, is used first) and the approved verification-code template (SMS_..., with a
    # ${code} variable); the endpoint is overridable (tests point it at a local server)
    sms_aliyun_access_key_id: str = ""
    sms_aliyun_access_key_secret: SecretStr = SecretStr("")
    sms_aliyun_sign_name: str = ""
    sms_aliyun_template_code: str = ""
    sms_aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com"
    # WeChat sign-in (docs/decisions/0028-wechat-sign-in.md): the Open Platform website app
    # (网站应用, QR login on computers) and the official account (公众号, sign-in inside WeChat
    # and the payer's openid for WeChat Pay JSAPI), each an appid and its AppSecret; either may
    # be left out. The two hosts are overridable (tests point them at a local server)
    wechat_open_appid: str = ""
    wechat_open_secret: SecretStr = SecretStr("")
    wechat_mp_appid: str = ""
    wechat_mp_secret: SecretStr = SecretStr("")
    wechat_connect_url: str = "https://open.weixin.qq.com"
    wechat_api_url: str = "https://api.weixin.qq.com"
    default_region: str = "CN"
    session_days: Annotated[int, Field(ge=1, le=365)] = 14
    token_days: Annotated[int, Field(ge=1, le=3650)] = 90
    privacy_policy_version: str = "2026-11-01"
    secure_cookies: bool = False
    # Sign-up attempts allowed from one IP address in any hour (every call to register counts);
    # raise it for customers who share addresses (campus or carrier-grade NAT)
    registrations_per_ip_hour: Annotated[int, Field(ge=1, le=100_000)] = 10
    # Media (product images, brand logos): local disk under var/media unless media_dir is set
    media_dir: Path | None = None
    media_url: str = "/media/"
    max_image_bytes: Annotated[int, Field(ge=64 * 1024, le=100 * 1024 * 1024)] = 10 * 1024 * 1024
    # Image decoding (core/images.py): the most pixels in all (width × height, checked from the
    # header before decoding, beside the 8000-pixel side cap), decodes at once per process (each
    # on a thread of its own), how many more may wait for one (beyond: 503 with Retry-After), and
    # how many one customer or staff member may have in flight (beyond: 429 with Retry-After)
    max_image_pixels: Annotated[int, Field(ge=1, le=8000 * 8000)] = 25_000_000
    image_decode_workers: Annotated[int, Field(ge=1, le=64)] = 2
    image_decode_queue: Annotated[int, Field(ge=0, le=1000)] = 8
    image_decodes_per_uploader: Annotated[int, Field(ge=1, le=64)] = 2
    # Demo data (embedded mode): how many products `mercato demo` creates
    demo_products: Annotated[int, Field(ge=0, le=5000)] = 300
    # Orders: minutes a placed order waits for payment before it is cancelled and its stock freed
    order_pay_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    # Flash sales (秒杀): minutes a flash-sale order waits for payment before it is cancelled and
    # its units go back to the session's quota (sold again), and the human check's difficulty
    # (leading zero bits of the proof-of-work hash; 16 is about a second on a phone)
    flash_pay_minutes: Annotated[int, Field(ge=1, le=60)] = 5
    flash_proof_bits: Annotated[int, Field(ge=8, le=24)] = 16
    # Flash sales: buying attempts allowed per account and per IP address (the `limits` library's
    # notation, a moving window); a campus or office shares one IP, so that one is looser
    flash_rate_per_customer: Annotated[str, Field(pattern=r"^\d+/(second|minute|hour)$")] = "20/minute"
    flash_rate_per_ip: Annotated[str, Field(pattern=r"^\d+/(second|minute|hour)$")] = "600/minute"
    # Orders: days after delivery an order completes by itself (the after-sales window closes)
    order_auto_complete_days: Annotated[int, Field(ge=1, le=90)] = 7
    # Orders: what one customer may hold without paying (stock hoarding), checked at placement:
    # unpaid orders at once, and units of one SKU across those unpaid orders
    max_unpaid_orders: Annotated[int, Field(ge=1, le=100)] = 3
    max_unpaid_units_per_sku: Annotated[int, Field(ge=1, le=10_000)] = 20
    # Scheduled delivery (定时达): the daily time slots in shop time ("HH:MM-HH:MM"), how many days
    # ahead they are offered (today is day 0), and how many minutes before its start a slot closes
    delivery_slots: list[str] = ["09:00-12:00", "14:00-18:00", "18:00-21:00"]
    delivery_slot_days: Annotated[int, Field(ge=0, le=30)] = 3
    delivery_slot_lead_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 120
    # Payments: enabled providers (empty: ["sandbox"] in embedded mode, none in production);
    # sandbox_secret signs the sandbox gateway's notifications (derived from secret_key if unset)
    payment_providers: list[str] = []
    # Staging and benchmarks (bench/): production settings on a machine that must not reach real
    # gateways: the sandbox gateway, console SMS and console email are then allowed in
    # production mode (`mercato check` and the start-up log still say so). Never on a live shop.
    allow_test_providers: bool = False
    sandbox_secret: SecretStr = SecretStr("")
    # Payments, Alipay (支付宝, docs/decisions/0015-alipay-and-wechat-pay.md): the app id, the
    # app's RSA2 private key and Alipay's public key as PEM text, and the openapi gateway
    # (tests point it at a local server)
    alipay_app_id: str = ""
    alipay_private_key: SecretStr = SecretStr("")
    alipay_public_key: SecretStr = SecretStr("")
    alipay_gateway_url: str = "https://openapi.alipay.com/gateway.do"
    # Payments, WeChat Pay v3 (微信支付): merchant id, appid, APIv3 key, the merchant API
    # certificate's serial number and private key (PEM), the platform public key or platform
    # certificate (PEM) with its id / serial number (derived from a certificate if unset), and
    # the API base URL (tests point it at a local server)
    wechatpay_mchid: str = ""
    wechatpay_appid: str = ""
    wechatpay_apiv3_key: SecretStr = SecretStr("")
    wechatpay_merchant_serial: str = ""
    wechatpay_private_key: SecretStr = SecretStr("")
    wechatpay_platform_key: SecretStr = SecretStr("")
    wechatpay_platform_serial: str = ""
    wechatpay_base_url: str = "https://api.mch.weixin.qq.com"
    # Payments, Stripe (docs/decisions/0016-stripe-and-reconciliation.md): the secret API key,
    # the publishable key the pay page gives Stripe.js, the webhook endpoint's signing secret
    # (whsec_...), and the API base URL (tests point it at a local server)
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_publishable_key: str = ""
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = "https://api.stripe.com"
    # Notifications (mercato/notify, docs/decisions/0018-notifications.md): email goes to the
    # log (`console`, masked) or through an SMTP server (`smtp`); security is `none`, `starttls`
    # or `tls` (implicit TLS, usually port 465); failed sends are retried with exponential
    # backoff from email_retry_seconds and given up after email_max_attempts
    email_transport: Literal["console", "smtp"] = "console"
    email_from: str = "noreply@mercato.localhost"
    email_from_name: str = "Mercato"
    email_smtp_host: str = "localhost"
    email_smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    email_smtp_username: str = ""
    email_smtp_password: SecretStr = SecretStr("")
    email_smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    email_smtp_timeout_seconds: Annotated[int, Field(ge=1, le=300)] = 30
    email_max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    email_retry_seconds: Annotated[int, Field(ge=1, le=86400)] = 60
    # After-sales (售后): days after delivery a request may be opened (7天无理由), photos per request,
    # and the target for answering a shopper's step (the resolution report; the sources say 4 hours)
    aftersales_window_days: Annotated[int, Field(ge=1, le=365)] = 7
    aftersales_max_photos: Annotated[int, Field(ge=0, le=20)] = 6
    aftersales_response_target_hours: Annotated[int, Field(ge=1, le=720)] = 4
    # Fulfilment (docs/decisions/0017-fulfilment-and-carriers.md): who follows parcels, `manual`
    # (staff record tracking by hand) or `kuaidi100` (subscription pushes and real-time query);
    # Kuaidi100's customer id, key and push salt, and its API base URL (tests: a local server).
    # Pushes arrive at MERCATO_BASE_URL + /api/v1/fulfillment/notify/kuaidi100
    tracking_provider: str = "manual"
    kuaidi100_customer: str = ""
    kuaidi100_key: SecretStr = SecretStr("")
    kuaidi100_salt: SecretStr = SecretStr("")
    kuaidi100_base_url: str = "https://poll.kuaidi100.com"
    # Order exports (console): exports of up to order_export_sync_rows orders download at once,
    # larger ones are made by a job with a progress bar; the file is kept order_export_hours
    order_export_sync_rows: Annotated[int, Field(ge=1, le=100_000)] = 1000
    order_export_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
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
        """Where this shop is reached from outside (links in messages, provider callbacks, canonical
        URLs, the sitemap): ``MERCATO_BASE_URL``, required in production; in embedded mode the
        address `mercato run` listens on. Never the request's Host header, which a client forges."""
        return self.base_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def enabled_payment_providers(self) -> list[str]:
        if self.payment_providers:
            return list(self.payment_providers)
        return [] if self.mode is Mode.production else ["sandbox"]

    def missing_payment_settings(self, provider: str) -> list[str]:
        """The environment variables ``provider`` needs that are empty (none: fully configured)."""
        missing = []
        for name in PAYMENT_PROVIDER_SETTINGS.get(provider, ()):
            value = getattr(self, name)
            if not (value.get_secret_value() if isinstance(value, SecretStr) else value).strip():
                missing.append(f"MERCATO_{name.upper()}")
        return missing

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def tz(self) -> ZoneInfo:
        """The shop's time zone: the shop settings' (for a web request), else ``timezone``."""
        return ZoneInfo(_shop_timezone.get() or self.timezone)

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

    def _email_problems(self) -> list[str]:
        """What keeps notification emails from reaching shoppers (mercato/notify)."""
        found: list[str] = []
        if "@" not in self.email_from:
            found.append("MERCATO_EMAIL_FROM: must be an email address (the sender of notifications)")
        if self.email_transport == "smtp" and not self.email_smtp_host:
            found.append("MERCATO_EMAIL_SMTP_HOST: required when MERCATO_EMAIL_TRANSPORT=smtp")
        if (
            self.mode is Mode.production
            and self.email_transport == "console"
            and not self.allow_test_providers
        ):
            found.append("MERCATO_EMAIL_TRANSPORT: 'console' only logs emails; use 'smtp' in production")
        return found

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
            if not self.base_url.strip():
                found.append(
                    "MERCATO_BASE_URL: required in production mode, the shop's public address "
                    "(https://shop.example.com): links, canonical URLs and the sitemap use it"
                )
            if self.sms_provider == "console" and not self.allow_test_providers:
                found.append("MERCATO_SMS_PROVIDER: 'console' only logs codes; use 'twilio' in production")
        if self.base_url.strip() and not self.base_url.startswith(("https://", "http://")):
            found.append("MERCATO_BASE_URL: must start with https:// (or http://)")
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
        if (
            self.mode is Mode.production
            and "sandbox" in self.payment_providers
            and not self.allow_test_providers
        ):
            found.append("MERCATO_PAYMENT_PROVIDERS: 'sandbox' takes no real money; not in production mode")
        found.extend(self._payment_provider_problems())
        found.extend(self._email_problems())
        found.extend(self._tracking_problems())
        if self.sms_provider not in {"console", "twilio", "aliyun"}:
            found.append("MERCATO_SMS_PROVIDER: choose 'console', 'twilio' or 'aliyun'")
        found.extend(self._aliyun_sms_problems())
        found.extend(self._wechat_problems())
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

    def _aliyun_sms_problems(self) -> list[str]:
        """What keeps Alibaba Cloud SMS from sending codes, when it is the provider."""
        if self.sms_provider != "aliyun":
            return []
        found = [
            f"{name}: required when MERCATO_SMS_PROVIDER=aliyun"
            for name, value in (
                ("MERCATO_SMS_ALIYUN_ACCESS_KEY_ID", self.sms_aliyun_access_key_id),
                (
                    "MERCATO_SMS_ALIYUN_ACCESS_KEY_SECRET",
                    self.sms_aliyun_access_key_secret.get_secret_value(),
                ),
                ("MERCATO_SMS_ALIYUN_SIGN_NAME", self.sms_aliyun_sign_name),
                ("MERCATO_SMS_ALIYUN_TEMPLATE_CODE", self.sms_aliyun_template_code),
            )
            if not value.strip()
        ]
        problem = _url_problem("MERCATO_SMS_ALIYUN_ENDPOINT", self.sms_aliyun_endpoint)
        return [*found, problem] if problem else found

    def wechat_app(self, kind: str) -> tuple[str, str] | None:
        """The appid and AppSecret of WeChat sign-in's ``open`` (website) or ``mp`` (official
        account) app, or None when it is not (fully) configured."""
        appid, secret = {
            "open": (self.wechat_open_appid, self.wechat_open_secret),
            "mp": (self.wechat_mp_appid, self.wechat_mp_secret),
        }[kind]
        value = secret.get_secret_value().strip()
        return (appid.strip(), value) if appid.strip() and value else None

    def _wechat_problems(self) -> list[str]:
        """Half-configured WeChat sign-in apps (an appid without its secret, or the reverse)."""
        found: list[str] = []
        for kind in ("open", "mp"):
            appid_name = f"MERCATO_WECHAT_{kind.upper()}_APPID"
            secret_name = f"MERCATO_WECHAT_{kind.upper()}_SECRET"
            appid = getattr(self, f"wechat_{kind}_appid").strip()
            secret = getattr(self, f"wechat_{kind}_secret").get_secret_value().strip()
            if appid and not secret:
                found.append(f"{secret_name}: required with {appid_name}")
            elif secret and not appid:
                found.append(f"{appid_name}: required with {secret_name}")
        if self.wechat_app("open") or self.wechat_app("mp"):
            found.extend(
                problem
                for problem in (
                    _url_problem("MERCATO_WECHAT_CONNECT_URL", self.wechat_connect_url),
                    _url_problem("MERCATO_WECHAT_API_URL", self.wechat_api_url),
                )
                if problem
            )
        return found

    def _tracking_problems(self) -> list[str]:
        """What keeps parcels from being followed (mercato/fulfillment)."""
        if self.tracking_provider not in {"manual", "kuaidi100"}:
            return ["MERCATO_TRACKING_PROVIDER: choose 'manual' or 'kuaidi100'"]
        if self.tracking_provider != "kuaidi100":
            return []
        return [
            f"{name}: required when MERCATO_TRACKING_PROVIDER=kuaidi100"
            for name, value in (
                ("MERCATO_KUAIDI100_CUSTOMER", self.kuaidi100_customer),
                ("MERCATO_KUAIDI100_KEY", self.kuaidi100_key.get_secret_value()),
                ("MERCATO_KUAIDI100_SALT", self.kuaidi100_salt.get_secret_value()),
            )
            if not value
        ]

    def _payment_provider_problems(self) -> list[str]:
        """Enabled payment providers: missing settings; Alipay and WeChat Pay keys that do not load."""
        found: list[str] = []
        for provider in self.payment_providers:
            found.extend(
                f"{name}: required when {provider!r} is in MERCATO_PAYMENT_PROVIDERS"
                for name in self.missing_payment_settings(provider)
            )
        if "alipay" in self.payment_providers:
            found.extend(
                problem
                for problem in (
                    _pem_problem("MERCATO_ALIPAY_PRIVATE_KEY", self.alipay_private_key, "private"),
                    _pem_problem("MERCATO_ALIPAY_PUBLIC_KEY", self.alipay_public_key, "public"),
                    _url_problem("MERCATO_ALIPAY_GATEWAY_URL", self.alipay_gateway_url),
                )
                if problem
            )
        if "wechatpay" in self.payment_providers:
            key = self.wechatpay_apiv3_key.get_secret_value()
            platform = normalize_pem(self.wechatpay_platform_key.get_secret_value())
            found.extend(
                problem
                for problem in (
                    _pem_problem("MERCATO_WECHATPAY_PRIVATE_KEY", self.wechatpay_private_key, "private"),
                    _pem_problem("MERCATO_WECHATPAY_PLATFORM_KEY", self.wechatpay_platform_key, "platform"),
                    _url_problem("MERCATO_WECHATPAY_BASE_URL", self.wechatpay_base_url),
                    "MERCATO_WECHATPAY_APIV3_KEY: must be the 32-character APIv3 key"
                    if key and len(key.encode()) != 32
                    else None,
                    "MERCATO_WECHATPAY_PLATFORM_SERIAL: required with a platform public key (PUB_KEY_ID_...)"
                    if platform and "CERTIFICATE" not in platform and not self.wechatpay_platform_serial
                    else None,
                    "MERCATO_BASE_URL: WeChat Pay sends notifications only to an https:// address"
                    if not self.public_base_url.startswith("https://")
                    else None,
                )
                if problem
            )
        return found


def normalize_pem(text: str) -> str:
    """PEM text as given in the environment, where newlines may be written as ``\\n``."""
    return text.replace("\\n", "\n").strip()


def _pem_problem(name: str, value: SecretStr, kind: str) -> str | None:
    """Why a configured PEM key does not load (None when it does, or when it is not set)."""
    from cryptography import x509  # noqa: PLC0415 - only when a gateway is configured
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        load_pem_private_key,
        load_pem_public_key,
    )

    text = normalize_pem(value.get_secret_value()).encode()
    if not text:
        return None
    try:
        if kind == "private":
            key: object = load_pem_private_key(text, password=None)
            ok = isinstance(key, rsa.RSAPrivateKey)
        elif b"CERTIFICATE" in text:
            ok = isinstance(x509.load_pem_x509_certificate(text).public_key(), rsa.RSAPublicKey)
        else:
            ok = isinstance(load_pem_public_key(text), rsa.RSAPublicKey)
    except (ValueError, TypeError):
        ok = False
    if ok:
        return None
    expected = {
        "private": "an RSA private key",
        "public": "an RSA public key",
        "platform": "an RSA public key or certificate",
    }[kind]
    return f"{name}: not {expected} in PEM text (-----BEGIN ...)"


def _url_problem(name: str, url: str) -> str | None:
    if not url or url.startswith(("https://", "http://")):
        return None
    return f"{name}: must start with https://"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cleared by tests through ``get_settings.cache_clear``)."""
    return Settings()
