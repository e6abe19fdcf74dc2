"""What the shop's pages show of promotions and coupons, worded for the page: the timed price and
its countdown, promotion tags, the 券后价, the preheat price, and a coupon's value, threshold and
validity. Shared by the catalogue, home, coupon and campaign pages.

Every figure comes from the promotions domain (``price_tags``, ``card_tags``, the coupon DTOs),
read per request: cached catalogue pages hold list prices only, so a promotion that starts or ends
shows on the next request. Countdowns are the seconds the server has left, counted down in the
browser (``countdown`` in mercato.js), never the browser clock's idea of the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import promotions
from mercato.core import clock
from mercato.core.i18n import gettext
from mercato.core.money import Money
from mercato.core.settings import get_settings
from mercato.storefront.routes.wechat import in_wechat
from mercato.web.session import current_customer


def channel_of(request: Request) -> promotions.Channel:
    """The sales channel of this browser: inside WeChat, a phone browser (H5) or a computer."""
    if in_wechat(request):
        return promotions.Channel.wechat
    agent = request.headers.get("user-agent", "")
    return promotions.Channel.h5 if "Mobile" in agent else promotions.Channel.web


async def shopper_id(request: Request, session: AsyncSession, frame: Mapping[str, Any]) -> int | None:
    """The signed-in customer's id: from the shop's frame when the route read it, else the session."""
    if frame:
        return frame["customer"].id if frame["customer"] else None
    auth = await current_customer(request, session)
    return auth.customer.id if auth else None


def seconds_until(moment: dt.datetime | None) -> int | None:
    """Whole seconds from now (the server's clock) to ``moment``; None without one."""
    if moment is None:
        return None
    return max(0, int((moment - clock.now()).total_seconds()))


def clock_text(seconds: int | None, locale: str) -> str:
    """A countdown as the page first shows it: 02:13:05, or 3 天 02:13:05 beyond a day (the
    browser's ``countdown`` then counts on in the same format)."""
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{gettext('%(days)sd', locale) % {'days': days}} {text}" if days else text


def money_text(amount: int, locale: str) -> str:
    return Money(amount, get_settings().currency).format(locale)


def message_text(message: str, params: Mapping[str, str | int], locale: str) -> str:
    """A promotion message (a msgid with ``{name}`` parameters) in ``locale``: parameters named
    ``*_amount`` are minor units, shown as money."""
    shown = {
        key: money_text(value, locale) if key.endswith("_amount") and isinstance(value, int) else value
        for key, value in params.items()
    }
    return gettext(message, locale, **shown)


@dataclass(frozen=True)
class Offer:
    """What a product page or card shows beside a SKU's (or a product's cheapest SKU's) price."""

    price: promotions.PriceTag
    tags: tuple[str, ...]  # "满 299 减 30", "限时折扣", translated
    ends_in: int | None  # seconds until the timed price ends
    starts_in: int | None  # seconds until the preheat price starts

    @property
    def now_amount(self) -> int:
        """The price to pay now: the timed price, else the list price."""
        return (
            self.price.promo_price_amount
            if self.price.promo_price_amount is not None
            else self.price.list_price_amount
        )

    @property
    def is_promoted(self) -> bool:
        return (
            self.price.promo_price_amount is not None
            and self.price.promo_price_amount < self.price.list_price_amount
        )

    @property
    def coupon_amount(self) -> int | None:
        """券后价, only when lower than the price to pay now."""
        amount = self.price.coupon_price_amount
        return amount if amount is not None and amount < self.now_amount else None

    @property
    def is_preheat(self) -> bool:
        return self.price.preheat_price_amount is not None and self.starts_in is not None


def offers_of(tags: Mapping[int, promotions.PriceTag], locale: str) -> dict[int, Offer]:
    """``tags`` (by SKU or product id) worded for ``locale``."""
    return {
        key: Offer(
            price=tag,
            tags=tuple(message_text(t.message, t.params, locale) for t in tag.tags),
            ends_in=seconds_until(tag.promo_ends_at) if tag.promo_price_amount is not None else None,
            starts_in=seconds_until(tag.preheat_starts_at) if tag.preheat_price_amount is not None else None,
        )
        for key, tag in tags.items()
    }


# -- coupons ------------------------------------------------------------------------------------


def _tenths(percent_off: int) -> str:
    """折 of a percentage off: 15 % off is 8.5 折, 20 % off is 8 折."""
    return format((Decimal(100 - percent_off) / 10).normalize(), "f")


def coupon_value(
    *, kind: promotions.CouponKind, amount_off: int, percent_off: int | None, locale: str
) -> str:
    """The big figure of a coupon card: ¥20, 8.5 折 (15% off), 免运费 (free shipping)."""
    if kind == promotions.CouponKind.free_shipping:
        return gettext("Free shipping", locale)
    if kind == promotions.CouponKind.percent and percent_off is not None:
        return gettext("{percent}% off", locale, percent=percent_off, fold=_tenths(percent_off))
    return money_text(amount_off, locale)


def coupon_threshold(*, min_spend_amount: int, max_discount_amount: int | None, locale: str) -> str:
    """满 199 可用 (with the cap of a percentage coupon), or 无门槛."""
    text = (
        gettext("Over {min_spend_amount}", locale, min_spend_amount=money_text(min_spend_amount, locale))
        if min_spend_amount
        else gettext("No minimum spend", locale)
    )
    if max_discount_amount:
        text += " · " + gettext(
            "up to {max_amount} off", locale, max_amount=money_text(max_discount_amount, locale)
        )
    return text


def scope_words(scope: promotions.Scope, locale: str) -> str:
    """Where a coupon can be used, in a few words."""
    if scope.all_goods:
        return gettext("Storewide", locale)
    if scope.product_ids or scope.sku_ids:
        return gettext("Selected products", locale)
    if scope.brand_ids and not scope.category_ids:
        return gettext("Selected brands", locale)
    return gettext("Selected categories", locale)


def claimed_percent(template: promotions.CouponTemplateRead) -> int:
    """已抢 63%: issued of the total, rounded down (100 only when none are left)."""
    if template.total_quantity <= 0:
        return 100
    return min(100, template.issued_quantity * 100 // template.total_quantity)


@dataclass(frozen=True)
class CouponCard:
    """A coupon template (claim centre, product page, campaign page) or a wallet coupon, worded."""

    template_id: int
    coupon_id: int | None
    name: str
    value: str
    threshold: str
    scope: str
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    valid_days: int | None
    claimed_percent: int | None
    status: str  # "claimable" | "claimed" | a CouponStatus


def template_card(
    template: promotions.CouponTemplateRead, locale: str, *, status: str = "claimable"
) -> CouponCard:
    return CouponCard(
        template_id=template.id,
        coupon_id=None,
        name=template.name,
        value=coupon_value(
            kind=template.kind,
            amount_off=template.amount_off,
            percent_off=template.percent_off,
            locale=locale,
        ),
        threshold=coupon_threshold(
            min_spend_amount=template.min_spend_amount,
            max_discount_amount=template.max_discount_amount,
            locale=locale,
        ),
        scope=scope_words(template.scope, locale),
        valid_from=None if template.valid_days else template.valid_from,
        valid_until=None if template.valid_days else template.valid_until,
        valid_days=template.valid_days,
        claimed_percent=claimed_percent(template),
        status=status,
    )


def wallet_card(coupon: promotions.CouponRead, locale: str) -> CouponCard:
    return CouponCard(
        template_id=coupon.template_id,
        coupon_id=coupon.id,
        name=coupon.name,
        value=coupon_value(
            kind=coupon.kind, amount_off=coupon.amount_off, percent_off=coupon.percent_off, locale=locale
        ),
        threshold=coupon_threshold(
            min_spend_amount=coupon.min_spend_amount,
            max_discount_amount=coupon.max_discount_amount,
            locale=locale,
        ),
        scope=scope_words(coupon.scope, locale),
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        valid_days=None,
        claimed_percent=None,
        status=coupon.status.value,
    )
