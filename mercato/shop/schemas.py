"""Public shop DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from mercato.core.schemas import InputModel, MultilineText, ReadModel

#: The languages the shop can offer (the catalogues Mercato ships).
Locale = Literal["zh_CN", "en"]
#: A brand colour: ``#`` and six hexadecimal digits.
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
#: A customer-service number as people write it: digits, spaces, ``+``, ``-`` and parentheses.
PHONE_PATTERN = r"^[0-9+\-() ]{3,30}$"
#: The longest legal page, in characters (each language).
MAX_LEGAL_CHARS = 50_000


def contrast_with_white(color: str) -> float:
    """The WCAG contrast ratio of ``#RRGGBB`` against white (1 to 21)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


class LegalKind(StrEnum):
    """The shop's legal pages."""

    privacy = "privacy"  # 隐私政策: what is collected and why; consent names its version
    terms = "terms"  # 用户协议 / 服务条款
    aftersales = "after-sales"  # 售后政策: returns, refunds, exchanges


class ProfileWrite(InputModel):
    """The shop's name, look and how customers reach it (the logo and favicon are uploads)."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    name_en: Annotated[str, Field(max_length=60)] = ""
    brand_color: Annotated[str, Field(max_length=7, pattern=COLOR_PATTERN)] | None = None
    service_phone: Annotated[str, Field(max_length=30, pattern=PHONE_PATTERN)] | None = None
    service_hours: Annotated[str, Field(max_length=60)] = ""
    service_hours_en: Annotated[str, Field(max_length=60)] = ""
    icp_number: Annotated[str, Field(max_length=40)] = ""
    # Chinese SMS providers register a signature of 2-12 characters, sent as 【signature】
    sms_signature: Annotated[str, Field(max_length=12, pattern=r"^[^【】\[\]]{2,12}$")] | None = None
    remove_logo: bool = False
    remove_favicon: bool = False

    @field_validator("brand_color")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class LocaleWrite(InputModel):
    """The shop's time zone (IANA, e.g. ``Asia/Shanghai``) and languages."""

    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    default_locale: Locale
    enabled_locales: Annotated[list[Locale], Field(min_length=1, max_length=2)]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("enabled_locales")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class OrderRulesWrite(InputModel):
    """How long an order waits for payment, when a delivered order completes, and how long after
    delivery an after-sales request may be opened."""

    order_pay_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    order_auto_complete_days: Annotated[int, Field(ge=1, le=90)]
    aftersales_window_days: Annotated[int, Field(ge=1, le=365)]


class PaymentMethodsWrite(InputModel):
    """The payment methods switched on (the others are not offered to shoppers)."""

    switched_on: Annotated[list[Annotated[str, Field(max_length=30)]], Field(max_length=20)] = []


class LegalPageWrite(InputModel):
    """A new version of a legal page: plain text, a blank line between paragraphs, ``#`` at the
    start of a line for a heading and ``-`` for a list item (never HTML)."""

    body: Annotated[MultilineText, Field(min_length=1, max_length=MAX_LEGAL_CHARS)]
    body_en: Annotated[MultilineText, Field(max_length=MAX_LEGAL_CHARS)] = ""


class PaymentMethodRead(ReadModel):
    """One payment provider: whether the environment configures it, and the shop's switch."""

    name: str  # alipay, wechatpay, stripe, sandbox
    configured: bool  # in MERCATO_PAYMENT_PROVIDERS with every setting it needs
    listed: bool  # in MERCATO_PAYMENT_PROVIDERS (or the embedded default)
    missing: list[str]  # the environment variables it still needs (names only, never values)
    switched_on: bool  # the shop's switch (off: not offered, refused if posted)


class ShopSettingsRead(ReadModel):
    """Everything the shop's settings say, defaults from the environment filled in."""

    name: str
    name_en: str
    logo_url: str | None
    favicon_url: str | None
    brand_color: str  # "#RRGGBB", or "" for the stylesheet's own
    service_phone: str
    service_hours: str
    service_hours_en: str
    icp_number: str
    sms_signature: str  # what Chinese SMS providers put in 【】 (blank: the provider's configured one)
    currency: str  # MERCATO_CURRENCY (prices exist in it: not a shop setting)
    timezone: str
    default_locale: str
    enabled_locales: list[str]
    order_pay_minutes: int
    order_auto_complete_days: int
    aftersales_window_days: int
    payment_methods_off: list[str]
    privacy_policy_version: str  # the version shown where consent is asked (and recorded)
    version: int  # 0 before the first save; +1 on every save
    updated_at: dt.datetime | None

    def display_name(self, locale: str) -> str:
        """The name in ``locale``: the English name on English pages when there is one."""
        return self.name_en if locale == "en" and self.name_en else self.name

    def display_hours(self, locale: str) -> str:
        return self.service_hours_en if locale == "en" and self.service_hours_en else self.service_hours

    @property
    def service_phone_uri(self) -> str:
        """The customer-service number as a ``tel:`` link."""
        return "tel:" + "".join(ch for ch in self.service_phone if ch.isdigit() or ch == "+")

    @property
    def theme_url(self) -> str:
        """The brand-colour stylesheet, its URL changing with every save (cacheable for long)."""
        return f"/shop-theme.css?v={self.version}"

    def cache_value(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def profile(self) -> ShopProfileRead:
        """The public part, with the storefront paths of the legal pages."""
        return ShopProfileRead(
            **self.model_dump(include=set(ShopProfileRead.model_fields) - {"legal_pages"}),
            legal_pages={str(kind): f"/legal/{kind}" for kind in LegalKind},
        )


class ShopProfileRead(ReadModel):
    """What apps show of the shop (GET /api/v1/shop): public details only."""

    name: str
    name_en: str
    logo_url: str | None
    favicon_url: str | None
    brand_color: str
    service_phone: str
    service_hours: str
    service_hours_en: str
    icp_number: str
    currency: str
    default_locale: str
    enabled_locales: list[str]
    privacy_policy_version: str
    legal_pages: dict[str, str]  # kind -> path of the page on the storefront


class LegalBlock(ReadModel):
    """One block of a legal page as shown: a heading, a paragraph, or a list's items."""

    kind: Literal["heading", "paragraph", "list"]
    text: str = ""
    items: list[str] = []


class LegalPageRead(ReadModel):
    kind: LegalKind
    version: int
    version_label: str  # what a consent records, e.g. "2026-12-07.3"
    body: str
    body_en: str
    created_by: str
    created_at: dt.datetime

    def text(self, locale: str) -> str:
        return self.body_en if locale == "en" and self.body_en else self.body


class ShopChange(ReadModel):
    """What a settings write changed, for the audit log (the console records it with the actor)."""

    action: str  # shop.profile_update, shop.locale_update, shop.legal_publish, ...
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def audit(self) -> dict[str, Any]:
        """Keyword arguments for ``identity.record_audit``."""
        return self.model_dump()
