"""Private: the pure promotion providers, one class per kind (``pricing.PromotionProvider``).

No database and no clock: ``quote.py`` hands each provider its promotion (already checked
against the customer's conditions and the channel with ``qualifies``) and the pricing engine
runs them in the documented order. Every proposal's code is ``promotion:<id>`` and its reason a
message id (marked with ``N_``) with money formatted into the parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache

from mercato import pricing
from mercato.core.i18n import N_, current_locale
from mercato.core.money import Money
from mercato.promotions.schemas import (
    Channel,
    Conditions,
    CustomerFacts,
    FreeShippingRule,
    FullDiscountRule,
    FullReductionRule,
    GiftRule,
    NthDiscountRule,
    PromotionRead,
    Scope,
    TimedDiscountRule,
    TimedItem,
)

NAME = "promotions"
#: Free shipping asks for more than any fee; the engine caps it at the fee.
WHOLE_FEE = 10**12

SPEND_GET_OFF = N_("Spend {threshold}, get {amount} off")
EVERY_SPEND_GET_OFF = N_("{amount} off every {threshold} spent")
SPEND_GET_PERCENT = N_("Spend {threshold}, get {percent} off")
PIECES_GET_PERCENT = N_("Buy {pieces}, get {percent} off")
NTH_ITEM_PERCENT = N_("{percent} off item number {nth}")
TIMED_PRICE = N_("Limited-time price")
FREE_SHIPPING = N_("Free shipping")
FREE_SHIPPING_OVER = N_("Free shipping over {threshold}")
GIFT_OVER = N_("Free gift when you spend {threshold}")
GET_OFF = N_("get {amount} off")
GET_PERCENT = N_("get {percent} off")
GET_FREE_SHIPPING = N_("get free shipping")
GET_GIFT = N_("get a free gift")


def money(amount: int, currency: str) -> str:
    """``amount`` formatted for the current language ("¥12.00"), for a reason's parameters."""
    return _formatted(amount, currency, current_locale())


@lru_cache(maxsize=4096)
def _formatted(amount: int, currency: str, locale: str) -> str:
    return Money(amount, currency).format(locale)  # Babel is slow; the same few amounts recur


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount``, rounded half up to the fen (non-negative amounts)."""
    return (2 * amount * percent + 100) // 200


def fold(percent_off: int) -> str:
    """The Chinese 折 of ``percent_off`` (20 → "8", 15 → "8.5"), a parameter of the messages."""
    tenths = 100 - percent_off
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths / 10:g}"


def matcher(scope: Scope) -> Callable[[pricing.LineIn], bool]:
    """Whether a line is in ``scope``, as a test built once for many lines: exclusions win, then
    everything or what is named (a line carries its category's ancestors, so a category names its
    descendants)."""
    excluded_products, excluded_skus = frozenset(scope.exclude_product_ids), frozenset(scope.exclude_sku_ids)
    if scope.all_goods and not excluded_products and not excluded_skus:
        return lambda line: True
    if scope.all_goods:
        return lambda line: line.product_id not in excluded_products and line.sku_id not in excluded_skus
    skus, products = frozenset(scope.sku_ids), frozenset(scope.product_ids)
    brands, categories = frozenset(scope.brand_ids), frozenset(scope.category_ids)

    def named(line: pricing.LineIn) -> bool:
        if line.product_id in excluded_products or line.sku_id in excluded_skus:
            return False
        return (
            line.sku_id in skus
            or line.product_id in products
            or (line.brand_id is not None and line.brand_id in brands)
            or not categories.isdisjoint(line.category_ids)
        )

    return named


def asks_about_customer(conditions: Conditions) -> bool:
    """Whether ``qualifies`` reads more of the customer than their id (registration, orders, tier)."""
    return conditions.new_customers_only or conditions.first_order_only or bool(conditions.tiers)


def qualifies(conditions: Conditions, facts: CustomerFacts, channel: Channel, now: dt.datetime) -> bool:
    """Whether the customer (a guest when ``facts.customer_id`` is None) and channel meet the
    conditions. A guest is neither a new customer nor one placing a first order: those prices
    show once signed in."""
    if conditions.channels and channel not in conditions.channels:
        return False
    if conditions.new_customers_only and (
        facts.registered_at is None
        or now - facts.registered_at > dt.timedelta(days=conditions.new_customer_days)
    ):
        return False
    if conditions.first_order_only and (facts.customer_id is None or facts.paid_orders > 0):
        return False
    return not conditions.tiers or facts.tier in conditions.tiers


def code(promotion_id: int) -> str:
    return f"promotion:{promotion_id}"


def promotion_id(adjustment_code: str) -> int | None:
    kind, _, number = adjustment_code.partition(":")
    return int(number) if kind == "promotion" and number.isdigit() else None


def timed_unit(item: TimedItem, list_price: int) -> int:
    """The unit price a timed item gives for a SKU listed at ``list_price``."""
    if item.price_amount is not None:
        return item.price_amount
    return list_price - percent_of(list_price, item.percent_off or 0)


class TimedPrices:
    """限时折扣: each line at the lowest timed price among the live timed promotions naming its
    SKU (never above its price after quantity breaks): one proposal per promotion naming the
    money off each of its lines."""

    name = NAME

    def __init__(self, promotions: Sequence[PromotionRead]) -> None:
        # the last cart priced and its proposals: timed prices run first, on the lines as they
        # came in, so a quote pricing one cart several times works them out once
        self._last: tuple[list[pricing.LineIn], Sequence[pricing.Proposal]] | None = None
        self.promotions = tuple(promotions)
        self.items: dict[int, list[tuple[PromotionRead, TimedItem, Callable[[pricing.LineIn], bool]]]] = {}
        for promotion in promotions:
            assert isinstance(promotion.rule, TimedDiscountRule)
            takes = matcher(promotion.scope)
            for item in promotion.rule.items:
                self.items.setdefault(item.sku_id, []).append((promotion, item, takes))

    def best(self, line: pricing.LineIn) -> tuple[PromotionRead, int] | None:
        """The promotion giving ``line``'s SKU its lowest timed unit price, and that price."""
        offers = [
            (timed_unit(item, line.unit_price_amount), promotion)
            for promotion, item, takes in self.items.get(line.sku_id, ())
            if takes(line)
        ]
        if not offers:
            return None
        unit, promotion = min(offers, key=lambda offer: (offer[0], -offer[1].priority, offer[1].id))
        return promotion, unit

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        cart = [state.line for state in lines]
        last = self._last
        if (
            last is not None
            and len(last[0]) == len(cart)
            and all(a is b for a, b in zip(last[0], cart, strict=True))
            and all(state.remaining_amount == state.subtotal_amount for state in lines)
        ):
            return last[1]
        proposals = self._propose(lines)
        self._last = (cart, proposals)
        return proposals

    def _propose(self, lines: Sequence[pricing.LineState]) -> Sequence[pricing.Proposal]:
        by_promotion: dict[int, dict[str, int]] = {}
        for state in lines:
            found = self.best(state.line)
            if found is None:
                continue
            promotion, unit = found
            amount = (state.unit_price_amount - unit) * state.line.quantity
            if amount > 0:
                by_promotion.setdefault(promotion.id, {})[state.line.key] = amount
        reason = pricing.Reason(message=TIMED_PRICE)
        return [
            pricing.Proposal(
                code=code(promotion_id),
                reason=reason,
                amount=sum(amounts.values()),
                line_keys=tuple(amounts),
                line_amounts=amounts,
            )
            for promotion_id, amounts in sorted(by_promotion.items())
        ]


class RuleProvider:
    """A promotion with its in-scope lines of one cart, worked out once per quote: their keys, and
    their positions in the cart, so a rule over three lines of a fifty-line cart reads three."""

    name = NAME

    def __init__(self, promotion: PromotionRead, lines: Sequence[pricing.LineIn]) -> None:
        self.promotion = promotion
        self.size = len(lines)
        takes = matcher(promotion.scope)
        self.positions = tuple(n for n, line in enumerate(lines) if takes(line))
        self.keys = frozenset(lines[n].key for n in self.positions)

    def in_scope_states(self, lines: Sequence[pricing.LineState]) -> Sequence[pricing.LineState]:
        """The engine's states of the in-scope lines (it keeps the cart's order)."""
        if len(lines) != self.size:  # not the cart it was made for: look each line up
            return [state for state in lines if state.line.key in self.keys]
        return [lines[n] for n in self.positions]

    def spend(self, lines: Sequence[pricing.LineState]) -> tuple[int, int, tuple[str, ...]]:
        """In-scope remaining amount, pieces, and the keys of the lines with something left."""
        amount = pieces = 0
        keys = []
        for state in self.in_scope_states(lines):
            left = state.remaining_amount
            amount += left
            pieces += state.line.quantity
            if left > 0:
                keys.append(state.line.key)
        return amount, pieces, tuple(keys)

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        return []

    def proposal(self, amount: int, keys: tuple[str, ...], reason: pricing.Reason) -> list[pricing.Proposal]:
        if amount <= 0 or not keys:
            return []
        return [pricing.Proposal(code=code(self.promotion.id), reason=reason, amount=amount, line_keys=keys)]

    def next_tier(self, amount: int, pieces: int, currency: str) -> tuple[int, pricing.Reason] | None:
        """凑单: the goods in scope still to add for the next tier, and what it gives."""
        return None


class FullReduction(RuleProvider):
    """满减: the best tier the in-scope amount reaches; 每满 (repeat): the single tier's amount for
    every threshold reached, capped."""

    @property
    def rule(self) -> FullReductionRule:
        assert isinstance(self.promotion.rule, FullReductionRule)
        return self.promotion.rule

    def off(self, amount: int) -> int:
        rule = self.rule
        if rule.repeat:
            tier = rule.tiers[0]
            off = amount // tier.threshold_amount * tier.amount_off
            return min(off, rule.cap_amount) if rule.cap_amount is not None else off
        reached = [t.amount_off for t in rule.tiers if amount >= t.threshold_amount]
        return max(reached, default=0)

    def reason(self, amount: int, currency: str) -> pricing.Reason:
        rule = self.rule
        if rule.repeat:
            tier = rule.tiers[0]
            return pricing.Reason(
                message=EVERY_SPEND_GET_OFF,
                params={
                    "threshold": money(tier.threshold_amount, currency),
                    "amount": money(tier.amount_off, currency),
                },
            )
        tier = max((t for t in rule.tiers if amount >= t.threshold_amount), key=lambda t: t.threshold_amount)
        return pricing.Reason(
            message=SPEND_GET_OFF,
            params={
                "threshold": money(tier.threshold_amount, currency),
                "amount": money(tier.amount_off, currency),
            },
        )

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        amount, _pieces, keys = self.spend(lines)
        off = self.off(amount)
        return self.proposal(off, keys, self.reason(amount, context.currency)) if off else []

    def next_tier(self, amount: int, pieces: int, currency: str) -> tuple[int, pricing.Reason] | None:
        rule = self.rule
        if rule.repeat:
            threshold = (amount // rule.tiers[0].threshold_amount + 1) * rule.tiers[0].threshold_amount
            if self.off(threshold) <= self.off(amount):
                return None  # the cap is reached
        else:
            higher = [t.threshold_amount for t in rule.tiers if t.threshold_amount > amount]
            if not higher:
                return None
            threshold = min(higher)
        reward = pricing.Reason(message=GET_OFF, params={"amount": money(self.off(threshold), currency)})
        return threshold - amount, reward


class FullDiscount(RuleProvider):
    """满折: percent off the in-scope remaining amount at the best tier reached (by amount and/or
    pieces), rounded half up to the fen."""

    @property
    def rule(self) -> FullDiscountRule:
        assert isinstance(self.promotion.rule, FullDiscountRule)
        return self.promotion.rule

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        amount, pieces, keys = self.spend(lines)
        reached = [
            t for t in self.rule.tiers if amount >= t.threshold_amount and pieces >= t.threshold_pieces
        ]
        if not reached or not amount:
            return []
        tier = max(reached, key=lambda t: t.percent_off)
        params: dict[str, str | int] = {"percent": f"{tier.percent_off}%", "fold": fold(tier.percent_off)}
        if tier.threshold_amount:
            reason = pricing.Reason(
                message=SPEND_GET_PERCENT,
                params={**params, "threshold": money(tier.threshold_amount, context.currency)},
            )
        else:
            reason = pricing.Reason(
                message=PIECES_GET_PERCENT, params={**params, "pieces": tier.threshold_pieces}
            )
        return self.proposal(percent_of(amount, tier.percent_off), keys, reason)

    def next_tier(self, amount: int, pieces: int, currency: str) -> tuple[int, pricing.Reason] | None:
        """Only tiers by amount (with their pieces already reached) can be shown as money to add."""
        best = max(
            (
                t.percent_off
                for t in self.rule.tiers
                if amount >= t.threshold_amount and pieces >= t.threshold_pieces
            ),
            default=0,
        )
        ahead = [
            t
            for t in self.rule.tiers
            if t.threshold_amount > amount and pieces >= t.threshold_pieces and t.percent_off > best
        ]
        if not ahead:
            return None
        tier = min(ahead, key=lambda t: t.threshold_amount)
        reward = pricing.Reason(
            message=GET_PERCENT, params={"percent": f"{tier.percent_off}%", "fold": fold(tier.percent_off)}
        )
        return tier.threshold_amount - amount, reward


class NthDiscount(RuleProvider):
    """第 N 件 X 折: per in-scope line, every nth unit at percent off its unit price as it stands
    (after timed prices): one proposal naming the money off each line."""

    @property
    def rule(self) -> NthDiscountRule:
        assert isinstance(self.promotion.rule, NthDiscountRule)
        return self.promotion.rule

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        rule = self.rule
        reason = pricing.Reason(
            message=NTH_ITEM_PERCENT,
            params={"percent": f"{rule.percent_off}%", "nth": rule.nth, "fold": fold(rule.percent_off)},
        )
        amounts: dict[str, int] = {}
        for state in self.in_scope_states(lines):
            quantity = state.line.quantity
            units = quantity // rule.nth
            if not units or state.remaining_amount <= 0:
                continue
            # units x (remaining / quantity) x percent / 100, rounded half up, in integers
            amount = (2 * state.remaining_amount * units * rule.percent_off + 100 * quantity) // (
                200 * quantity
            )
            if amount > 0:
                amounts[state.line.key] = amount
        if not amounts:
            return []
        return [
            pricing.Proposal(
                code=code(self.promotion.id),
                reason=reason,
                amount=sum(amounts.values()),
                line_keys=tuple(amounts),
                line_amounts=amounts,
            )
        ]


class FreeShipping(RuleProvider):
    """满 X 包邮: the shipping fee off when the in-scope goods (after the line discounts before it)
    reach the threshold and the destination is one of the provinces."""

    @property
    def rule(self) -> FreeShippingRule:
        assert isinstance(self.promotion.rule, FreeShippingRule)
        return self.promotion.rule

    def to_province(self, province: str | None) -> bool:
        return not self.rule.provinces or province in self.rule.provinces

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        rule = self.rule
        amount, pieces, _keys = self.spend(lines)
        if not pieces or amount < rule.threshold_amount or pieces < rule.threshold_pieces:
            return []
        if not self.to_province(context.province):
            return []
        if rule.threshold_amount:
            reason = pricing.Reason(
                message=FREE_SHIPPING_OVER,
                params={"threshold": money(rule.threshold_amount, context.currency)},
            )
        else:
            reason = pricing.Reason(message=FREE_SHIPPING)
        return [
            pricing.Proposal(
                code=code(self.promotion.id),
                reason=reason,
                target=pricing.AdjustmentTarget.shipping,
                amount=WHOLE_FEE,
            )
        ]

    def next_tier(self, amount: int, pieces: int, currency: str) -> tuple[int, pricing.Reason] | None:
        if amount >= self.rule.threshold_amount or pieces < self.rule.threshold_pieces:
            return None
        return self.rule.threshold_amount - amount, pricing.Reason(message=GET_FREE_SHIPPING)


class GiftOver(RuleProvider):
    """满赠: no pricing effect; ``reached`` tells the quote to add the gift."""

    @property
    def rule(self) -> GiftRule:
        assert isinstance(self.promotion.rule, GiftRule)
        return self.promotion.rule

    def reached(self, amount: int) -> bool:
        return amount >= self.rule.threshold_amount

    def next_tier(self, amount: int, pieces: int, currency: str) -> tuple[int, pricing.Reason] | None:
        if self.reached(amount):
            return None
        return self.rule.threshold_amount - amount, pricing.Reason(message=GET_GIFT)


RULES: dict[str, type[RuleProvider]] = {
    "full_reduction": FullReduction,
    "full_discount": FullDiscount,
    "nth_discount": NthDiscount,
    "free_shipping": FreeShipping,
    "gift": GiftOver,
}


def rule_provider(promotion: PromotionRead, lines: Sequence[pricing.LineIn]) -> RuleProvider:
    """The provider of an order-level, shipping or gift promotion (not a timed one) for ``lines``."""
    return RULES[promotion.kind](promotion, lines)


def tag_reason(promotion: PromotionRead, currency: str) -> pricing.Reason:
    """The headline of a promotion for a product's tags ("满 299 减 30", "限时折扣")."""
    rule = promotion.rule
    if isinstance(rule, FullReductionRule):
        tier = rule.tiers[0]
        params = {
            "threshold": money(tier.threshold_amount, currency),
            "amount": money(tier.amount_off, currency),
        }
        return pricing.Reason(message=EVERY_SPEND_GET_OFF if rule.repeat else SPEND_GET_OFF, params=params)
    if isinstance(rule, FullDiscountRule):
        first = rule.tiers[0]
        base: dict[str, str | int] = {"percent": f"{first.percent_off}%", "fold": fold(first.percent_off)}
        if first.threshold_amount:
            return pricing.Reason(
                message=SPEND_GET_PERCENT,
                params={**base, "threshold": money(first.threshold_amount, currency)},
            )
        return pricing.Reason(message=PIECES_GET_PERCENT, params={**base, "pieces": first.threshold_pieces})
    if isinstance(rule, NthDiscountRule):
        return pricing.Reason(
            message=NTH_ITEM_PERCENT,
            params={"percent": f"{rule.percent_off}%", "nth": rule.nth, "fold": fold(rule.percent_off)},
        )
    if isinstance(rule, FreeShippingRule):
        if rule.threshold_amount:
            return pricing.Reason(
                message=FREE_SHIPPING_OVER, params={"threshold": money(rule.threshold_amount, currency)}
            )
        return pricing.Reason(message=FREE_SHIPPING)
    if isinstance(rule, GiftRule):
        return pricing.Reason(message=GIFT_OVER, params={"threshold": money(rule.threshold_amount, currency)})
    return pricing.Reason(message=TIMED_PRICE)
