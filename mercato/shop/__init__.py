"""Shop: the shop's own identity and rules — its name, logo, favicon, brand colour,
customer-service details, ICP filing number, SMS signature, time zone and languages, the order
rules (pay window, auto-complete days, after-sales window), which payment methods are switched
on, and its legal pages (privacy policy, terms, after-sales policy).

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- settings (``service/settings.py``): ``get_settings`` (stored now; the environment's
  defaults before the first save — domains applying a rule read this), ``cached_settings`` (the
  shared cached copy every page reads; no session), ``default_settings`` (the environment's),
  the writes ``update_profile`` (with images checked by ``check_shop_image`` and decoded outside
  any transaction), ``update_locale``,
  ``update_order_rules``, ``update_payment_methods``; ``list_payment_methods`` (each provider:
  configured by the environment or which variables are missing, and the shop's switch),
  ``is_payment_method_on``.
- legal pages (``service/legal.py``): ``find_legal_page`` (the current version),
  ``publish_legal_page`` (every save a new version), ``privacy_policy_version`` (what a consent
  records), ``legal_blocks`` (a page's text as headings, paragraphs and lists).

Writes return a ``ShopChange`` (before, after) that the caller records with
``identity.record_audit`` in the same transaction: the shop imports nothing but ``core``, so
identity (the privacy-policy version), orders, after-sales, payments and notify can read it
without an import cycle (docs/decisions/0026-shop-settings-domain.md). Permission (checked by the
callers): ``settings.manage``.

Events emitted: none. Events consumed: none. Depends on: core.
Tables: ``shop_settings`` (one row), ``shop_legal_page`` (one row per published version).
"""

from mercato.shop.errors import (
    BrandColorTooLight,
    DefaultLocaleNotEnabled,
    LegalPageRace,
    ShopImageInvalid,
    ShopImagePixelsTooMany,
    ShopImageTooLarge,
)
from mercato.shop.schemas import (
    LegalBlock,
    LegalKind,
    LegalPageRead,
    LegalPageWrite,
    LocaleWrite,
    OrderRulesWrite,
    PaymentMethodRead,
    PaymentMethodsWrite,
    ProfileWrite,
    ShopChange,
    ShopProfileRead,
    ShopSettingsRead,
)
from mercato.shop.service.legal import (
    count_legal_versions,
    find_legal_page,
    legal_blocks,
    privacy_policy_version,
    publish_legal_page,
)
from mercato.shop.service.settings import (
    MAX_IMAGE_BYTES,
    cached_settings,
    check_shop_image,
    default_settings,
    is_payment_method_on,
    list_payment_methods,
    update_locale,
    update_order_rules,
    update_payment_methods,
    update_profile,
)
from mercato.shop.service.settings import (
    get_shop_settings as get_settings,
)

__all__ = [
    "MAX_IMAGE_BYTES",
    "BrandColorTooLight",
    "DefaultLocaleNotEnabled",
    "LegalBlock",
    "LegalKind",
    "LegalPageRace",
    "LegalPageRead",
    "LegalPageWrite",
    "LocaleWrite",
    "OrderRulesWrite",
    "PaymentMethodRead",
    "PaymentMethodsWrite",
    "ProfileWrite",
    "ShopChange",
    "ShopImageInvalid",
    "ShopImagePixelsTooMany",
    "ShopImageTooLarge",
    "ShopProfileRead",
    "ShopSettingsRead",
    "cached_settings",
    "check_shop_image",
    "count_legal_versions",
    "default_settings",
    "find_legal_page",
    "get_settings",
    "is_payment_method_on",
    "legal_blocks",
    "list_payment_methods",
    "privacy_policy_version",
    "publish_legal_page",
    "update_locale",
    "update_order_rules",
    "update_payment_methods",
    "update_profile",
]
