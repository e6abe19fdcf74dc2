"""The shop's settings: read (from the database, or the shared cache every page reads), and
written section by section (profile, languages and time zone, order rules, payment methods).

Until the first save nothing is stored and the environment gives every value (the name from
``MERCATO_EMAIL_FROM_NAME``, the order rules from ``MERCATO_ORDER_PAY_MINUTES`` and friends), so
an existing shop behaves as before. The first save stores the whole row.

Every page reads the settings (the header's name, the footer's ICP number, the brand colour), so
``cached_settings`` serves them from ``core.cache`` (memory in embedded mode, Redis shared by
every process in production). A write deletes the cached copy after its commit; ``CACHE_TTL``
bounds what a lost delete (a crash between the commit and the delete) can leave. Domains that
apply a rule (the pay window, the after-sales window) read the row in their own transaction with
``get_settings``, never the cache.

Writes return a :class:`ShopChange` (before and after): the caller records it in the audit log
in the same transaction. The shop imports nothing but ``core``, so every domain (identity for the
privacy-policy version, orders for the pay window) may read it without an import cycle.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock, images
from mercato.core.cache import get_cache
from mercato.core.db import insert_ignore, uow
from mercato.core.errors import DomainError, FieldError
from mercato.core.i18n import gettext
from mercato.core.settings import PAYMENT_PROVIDERS, get_settings
from mercato.core.storage import get_storage
from mercato.shop.errors import (
    BrandColorTooLight,
    DefaultLocaleNotEnabled,
    ShopImageInvalid,
    ShopImagePixelsTooMany,
    ShopImageTooLarge,
)
from mercato.shop.models import ShopSettings
from mercato.shop.schemas import (
    LocaleWrite,
    OrderRulesWrite,
    PaymentMethodRead,
    PaymentMethodsWrite,
    ProfileWrite,
    ShopChange,
    ShopSettingsRead,
    contrast_with_white,
)
from mercato.shop.service import cache
from mercato.shop.service.legal import privacy_policy_version

log = structlog.get_logger(__name__)

#: The least contrast of the brand colour with white (WCAG AA for text).
MIN_CONTRAST = 4.5
#: The largest logo or favicon upload, in bytes (checked before decoding).
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: The widest or tallest logo and favicon accepted, in pixels.
MAX_SIDE = {"logo": 2000, "favicon": 512}
#: The profile fields (besides the images) the audit log records.
_PROFILE = (
    "name",
    "name_en",
    "brand_color",
    "service_phone",
    "service_hours",
    "service_hours_en",
    "icp_number",
    "sms_signature",
)
#: Every stored value with a default from the environment.
_STORED = (
    *_PROFILE,
    "timezone",
    "default_locale",
    "enabled_locales",
    "order_pay_minutes",
    "order_auto_complete_days",
    "aftersales_window_days",
    "payment_methods_off",
)


def _url(key: str | None) -> str | None:
    return get_storage().url(key) if key else None


def _read(row: ShopSettings | None, privacy_version: str | None = None) -> ShopSettingsRead:
    settings = get_settings()
    privacy_version = privacy_version or settings.privacy_policy_version
    if row is None:
        locale = settings.locale if settings.locale in ("zh_CN", "en") else "zh_CN"
        return ShopSettingsRead(
            name=settings.email_from_name,
            name_en="",
            logo_url=None,
            favicon_url=None,
            brand_color="",
            service_phone="",
            service_hours="",
            service_hours_en="",
            icp_number="",
            sms_signature="",
            currency=settings.currency,
            timezone=settings.timezone,
            default_locale=locale,
            enabled_locales=["zh_CN", "en"],
            order_pay_minutes=settings.order_pay_minutes,
            order_auto_complete_days=settings.order_auto_complete_days,
            aftersales_window_days=settings.aftersales_window_days,
            payment_methods_off=[],
            privacy_policy_version=privacy_version,
            version=0,
            updated_at=None,
        )
    return ShopSettingsRead(
        name=row.name,
        name_en=row.name_en,
        logo_url=_url(row.logo_key),
        favicon_url=_url(row.favicon_key),
        brand_color=row.brand_color,
        service_phone=row.service_phone,
        service_hours=row.service_hours,
        service_hours_en=row.service_hours_en,
        icp_number=row.icp_number,
        sms_signature=row.sms_signature,
        currency=settings.currency,
        timezone=row.timezone,
        default_locale=row.default_locale,
        enabled_locales=list(row.enabled_locales),
        order_pay_minutes=row.order_pay_minutes,
        order_auto_complete_days=row.order_auto_complete_days,
        aftersales_window_days=row.aftersales_window_days,
        payment_methods_off=list(row.payment_methods_off),
        privacy_policy_version=privacy_version,
        version=row.version,
        updated_at=row.updated_at,
    )


def default_settings() -> ShopSettingsRead:
    """The settings of a shop that has saved none: the environment's values."""
    return _read(None)


async def get_settings_row(session: AsyncSession) -> ShopSettings | None:
    return await session.get(ShopSettings, 1, populate_existing=True)


async def get_shop_settings(session: AsyncSession) -> ShopSettingsRead:
    """The settings as stored now (the environment's defaults before the first save)."""
    return _read(await get_settings_row(session), await privacy_policy_version(session))


async def cached_settings() -> ShopSettingsRead:
    """The settings every page shows: the shared cached copy, else read (in a short read-only
    transaction of its own) and cached. A cache outage falls back to the database."""
    shared = get_cache()
    try:
        value = await shared.get(cache.KEY)
    except Exception as exc:  # a cache outage must not take the shop down
        log.warning("shop.cache_failed", operation="get", error=repr(exc))
        value = None
    if isinstance(value, dict):
        try:
            return ShopSettingsRead.model_validate(value)
        except ValueError:  # written by another release: read it again
            pass
    async with uow(write=False) as session:
        current = await get_shop_settings(session)
    try:
        await shared.set(cache.KEY, current.cache_value(), cache.TTL)
    except Exception as exc:
        log.warning("shop.cache_failed", operation="set", error=repr(exc))
    return current


async def _row_for_update(session: AsyncSession) -> ShopSettings:
    """The settings row, created from the defaults on the first save (once, even when two first
    saves race: the second finds the first's row)."""
    defaults = default_settings()
    await insert_ignore(
        session,
        ShopSettings.__table__,
        {
            "id": 1,
            **{name: getattr(defaults, name) for name in _STORED},
            "logo_key": None,
            "favicon_key": None,
            "version": 0,
            "updated_at": clock.now(),
        },
    )
    row = await get_settings_row(session)
    assert row is not None
    return row


async def _saved(
    session: AsyncSession, row: ShopSettings, action: str, before: dict[str, Any], after: dict[str, Any]
) -> ShopChange:
    """Flush the change, move the version on (one statement), forget the cached copy after commit."""
    await session.flush()
    await session.execute(
        update(ShopSettings)
        .where(ShopSettings.id == 1)
        .values(version=ShopSettings.version + 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    cache.forget_after_commit(session)
    return ShopChange(action=action, object_type="shop", object_id="settings", before=before, after=after)


def _view(row: ShopSettings, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


# -- images --------------------------------------------------------------------------------------


def _image_field(field: str, error: type[DomainError], message: str) -> FieldError:
    return FieldError(loc=("body", field), code=error.code, message=message)


def check_shop_image(*, field: str, data: bytes, uploader: str) -> images.Upload:
    """Check a logo (``field="logo"``) or favicon upload before it is decoded (no decoding, no
    writes). Decode the returned upload with ``core.images.decode`` once the transaction is
    ended, then hand it to :func:`update_profile`.

    Raises:
        ShopImageTooLarge (422): over ``MAX_IMAGE_BYTES``.
    """
    max_side = MAX_SIDE[field]
    if len(data) > MAX_IMAGE_BYTES:
        kilobytes = MAX_IMAGE_BYTES // 1024
        raise ShopImageTooLarge(
            max_kilobytes=kilobytes,
            fields=[
                _image_field(
                    field, ShopImageTooLarge, gettext(ShopImageTooLarge.message, max_kilobytes=kilobytes)
                )
            ],
        )

    def refused(exc: images.ImageRejected) -> DomainError:
        if isinstance(exc, images.ImageOverPixelLimit):
            message = gettext(ShopImagePixelsTooMany.message, max_megapixels=exc.megapixels)
            return ShopImagePixelsTooMany(
                max_megapixels=exc.megapixels,
                fields=[_image_field(field, ShopImagePixelsTooMany, message)],
            )
        message = gettext(ShopImageInvalid.message, max_side=max_side)
        return ShopImageInvalid(max_side=max_side, fields=[_image_field(field, ShopImageInvalid, message)])

    return images.Upload(data=data, uploader=uploader, refused=refused, max_side=max_side)


async def _save_image(session: AsyncSession, field: str, image: images.EncodedImage) -> str:
    """Store a decoded image; the file goes away again if the transaction rolls back."""
    key = f"shop/{field}-{uuid.uuid4().hex}.{image.extension}"
    await images.save_files(get_storage(), [(key, image.data, image.content_type)])
    images.delete_if_rolled_back(session, [key])
    return key


# -- writes --------------------------------------------------------------------------------------


async def update_profile(
    session: AsyncSession,
    *,
    data: ProfileWrite,
    logo: images.EncodedImage | None = None,
    favicon: images.EncodedImage | None = None,
) -> ShopChange:
    """Replace the shop's name, brand colour, customer-service details, ICP number and SMS
    signature; with ``logo`` / ``favicon`` (decoded from uploads :func:`check_shop_image`
    checked) store the new image, or remove it when ``data`` asks to (old files are deleted
    after the commit).

    Raises:
        BrandColorTooLight (422): the colour's contrast with white is under ``MIN_CONTRAST``.
    """
    if data.brand_color and contrast_with_white(data.brand_color) < MIN_CONTRAST:
        raise BrandColorTooLight(
            fields=[
                FieldError(
                    loc=("body", "brand_color"),
                    code=BrandColorTooLight.code,
                    message=BrandColorTooLight.message,
                )
            ]
        )
    row = await _row_for_update(session)
    names = (*_PROFILE, "logo_key", "favicon_key")
    before = _view(row, names)
    for name in _PROFILE:
        value = getattr(data, name)
        setattr(row, name, value or "")
    for field, image, remove in (("logo", logo, data.remove_logo), ("favicon", favicon, data.remove_favicon)):
        column = f"{field}_key"
        old = getattr(row, column)
        if image is not None:
            setattr(row, column, await _save_image(session, field, image))
        elif remove:
            setattr(row, column, None)
        if old and old != getattr(row, column):
            images.delete_after_commit(session, [old])
    return await _saved(session, row, "shop.profile_update", before, _view(row, names))


async def update_locale(session: AsyncSession, *, data: LocaleWrite) -> ShopChange:
    """Set the shop's time zone, default language and the languages it offers.

    Raises:
        DefaultLocaleNotEnabled (422): the default language is not offered.
    """
    if data.default_locale not in data.enabled_locales:
        raise DefaultLocaleNotEnabled(
            fields=[
                FieldError(
                    loc=("body", "default_locale"),
                    code=DefaultLocaleNotEnabled.code,
                    message=DefaultLocaleNotEnabled.message,
                )
            ]
        )
    row = await _row_for_update(session)
    names = ("timezone", "default_locale", "enabled_locales")
    before = _view(row, names)
    row.timezone, row.default_locale = data.timezone, data.default_locale
    row.enabled_locales = list(data.enabled_locales)
    return await _saved(session, row, "shop.locale_update", before, _view(row, names))


async def update_order_rules(session: AsyncSession, *, data: OrderRulesWrite) -> ShopChange:
    """Set the pay window, the auto-complete days and the after-sales window. They apply to what
    happens next: an order placed from now on gets the new pay window, a request opened from now
    on the new after-sales window."""
    row = await _row_for_update(session)
    names = ("order_pay_minutes", "order_auto_complete_days", "aftersales_window_days")
    before = _view(row, names)
    for name in names:
        setattr(row, name, getattr(data, name))
    return await _saved(session, row, "shop.order_rules_update", before, _view(row, names))


async def update_payment_methods(session: AsyncSession, *, data: PaymentMethodsWrite) -> ShopChange:
    """Switch payment methods on and off (a provider not named is switched off; unknown names are
    ignored). Their keys stay in the environment: switching on one that is not configured offers
    nothing until it is."""
    row = await _row_for_update(session)
    before = {"payment_methods_off": list(row.payment_methods_off)}
    on = set(data.switched_on)
    row.payment_methods_off = [name for name in PAYMENT_PROVIDERS if name not in on]
    return await _saved(
        session, row, "shop.payment_methods_update", before, {"payment_methods_off": row.payment_methods_off}
    )


# -- reads for other domains ---------------------------------------------------------------------


def list_payment_methods(current: ShopSettingsRead) -> list[PaymentMethodRead]:
    """Every payment provider Mercato has a client for: whether the environment lists and fully
    configures it (``missing`` names the empty variables, never a value), and the shop's switch."""
    settings = get_settings()
    listed = settings.enabled_payment_providers
    methods = []
    for name in PAYMENT_PROVIDERS:
        missing = settings.missing_payment_settings(name)
        if name not in listed:
            missing = ["MERCATO_PAYMENT_PROVIDERS", *missing]
        methods.append(
            PaymentMethodRead(
                name=name,
                listed=name in listed,
                configured=not missing,
                missing=missing,
                switched_on=name not in current.payment_methods_off,
            )
        )
    return methods


async def is_payment_method_on(session: AsyncSession, *, provider: str) -> bool:
    """Whether the shop has ``provider`` switched on (configuration is checked by payments)."""
    row = await get_settings_row(session)
    return row is None or provider not in row.payment_methods_off
