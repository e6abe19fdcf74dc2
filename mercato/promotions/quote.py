"""One price for a cart or order with the live promotions and a coupon.

Stacking — the one place it is written down; ``pricing.calculate`` runs the providers in this
order, each on what the ones before it left:

1. SKU-level timed prices (限时折扣): each line at the lowest timed price of the live timed
   promotions naming its SKU (never above its price after quantity breaks);
2. order-level rules (满减, 满折, 第N件): by priority, higher first, then the older (lower id);
   within one non-empty ``exclusive_group`` only one member applies, the one that leaves the
   lowest total (tried one by one; a tie goes to the first in priority order). Each rule's
   threshold is on its in-scope lines as the rules before it left them;
3. the coupon (at most one): on its in-scope lines except those an applied promotion with
   ``allow_coupons=False`` discounted; its threshold on what the promotions left of them;
4. shipping: the template's fee on the discounted goods, then free-shipping promotions (their
   threshold on the in-scope goods after every line discount, coupon included), then a
   free-shipping coupon; each capped at what is left of the fee.

满赠 (gift) promotions change no price: a gift is reported when the in-scope goods, as finally
priced, reach the threshold. Conditions (new customer, first order, channel, tier) decide which
live promotions take part at all. Line discounts are shared over their lines exactly (largest
remainder), so each order line stores its share.

The coupon: "best" is the usable one giving the lowest total (ties: the soonest to expire, then
the lowest id), or none when none saves anything; "none"; or an id, which must be the customer's,
unused and usable (else the matching error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, pricing
from mercato.core import clock
from mercato.core.i18n import N_, gettext
from mercato.promotions import coupon_terms
from mercato.promotions.coupon_terms import CouponTerms, why_not
from mercato.promotions.coupons.reading import wallet_rows
from mercato.promotions.errors import (
    CouponExpired,
    CouponNotApplicable,
    CouponNotFound,
    CouponNotYetValid,
    CouponsNotCombinable,
    CouponUnavailable,
)
from mercato.promotions.models import Coupon, CustomerStat
from mercato.promotions.rules import kinds, live
from mercato.promotions.schemas import (
    Channel,
    CouponChoice,
    CouponKind,
    CouponOption,
    CouponRead,
    CouponStatus,
    CustomerFacts,
    DealPrice,
    Gift,
    PromotionKind,
    PromotionRead,
    Quote,
    TierHint,
)

ORDER_RULES = frozenset(
    {PromotionKind.full_reduction, PromotionKind.full_discount, PromotionKind.nth_discount}
)


async def customer_facts(session: AsyncSession, *, customer_id: int | None) -> CustomerFacts:
    """What the conditions are checked against: registration time (identity) and paid orders
    (kept by promotions from the order hooks; no row yet means none)."""
    if customer_id is None:
        return CustomerFacts()
    try:
        customer = await identity.get_customer(session, customer_id=customer_id)
    except identity.SessionInvalid:
        return CustomerFacts()
    stat = await session.get(CustomerStat, customer_id)
    return CustomerFacts(
        customer_id=customer_id,
        registered_at=customer.created_at,
        paid_orders=stat.paid_orders if stat is not None else 0,
    )


class Pricer:
    """The promotions that take part in one quote, and ``run`` to price with a given coupon.

    Pure: everything it needs is handed in, so ``display.py`` prices one unit the same way.
    """

    def __init__(
        self,
        *,
        lines: Sequence[pricing.LineIn],
        context: pricing.PricingContext,
        shipping: pricing.ShippingTemplate | None,
        promotions: Sequence[PromotionRead],
    ) -> None:
        self.lines = lines
        self.context = context
        self.shipping = shipping
        self.by_id = {p.id: p for p in promotions}
        self._trials: dict[tuple[tuple[str, int], ...], pricing.PriceResult] = {}
        self._settled: _Settled | None = None  # base's line discounts, to replay with a coupon
        self.timed = kinds.TimedPrices([p for p in promotions if p.kind is PromotionKind.timed_discount])
        self.rules = [
            kinds.rule_provider(p, lines) for p in promotions if p.kind is not PromotionKind.timed_discount
        ]
        self.chosen = self._resolve_groups()
        self._free_shipping = {r.promotion.id: r for r in self.rules if isinstance(r, kinds.FreeShipping)}

    def providers(
        self,
        chosen: dict[str, int],
        coupon: CouponTerms | None = None,
        settled: pricing.PromotionProvider | None = None,
    ) -> list[pricing.PromotionProvider]:
        """The providers in the stacking order; ``settled`` stands for steps 1 and 2 when given."""
        rules = [
            r
            for r in self.rules
            if not r.promotion.exclusive_group or chosen[r.promotion.exclusive_group] == r.promotion.id
        ]
        line_coupon = coupon is not None and coupon.coupon.kind is not CouponKind.free_shipping
        first: list[pricing.PromotionProvider] = (
            [settled]
            if settled is not None
            else [self.timed, *(r for r in rules if r.promotion.kind in ORDER_RULES)]
        )
        return [
            *first,
            *([coupon] if coupon is not None and line_coupon else []),
            *(r for r in rules if r.promotion.kind is PromotionKind.free_shipping),
            *([coupon] if coupon is not None and not line_coupon else []),
        ]

    def total_with(self, coupon: CouponTerms, base: pricing.PriceResult) -> int:
        """The total ``run(coupon)`` gives, cheaper: the promotions' line discounts of ``base`` (priced
        without a coupon) do not depend on the coupon. Where the coupon provably leaves shipping as
        it was, the total is worked out from ``base`` directly (see ``_shortcut``); else the
        promotions' discounts are replayed line by line and the rest priced by the engine."""
        shortcut = self._shortcut(coupon, base)
        if shortcut is not None:
            return shortcut
        return pricing.calculate_total(
            lines=self.lines,
            context=self.context,
            providers=self.providers(self.chosen, coupon, self.settled(base)),
            shipping=self.shipping,
        )

    def settled(self, base: pricing.PriceResult) -> _Settled:
        if self._settled is None or self._settled.base is not base:
            self._settled = _Settled(base)
        return self._settled

    def with_coupon(self, coupon: CouponTerms, base: pricing.PriceResult) -> pricing.PriceResult:
        """``run(coupon)`` from ``base`` (``run()``): its promotions replayed, then the coupon and
        shipping priced by the engine."""
        return pricing.calculate(
            lines=self.lines,
            context=self.context,
            providers=self.providers(self.chosen, coupon, self.settled(base)),
            shipping=self.shipping,
        )

    def _shortcut(self, coupon: CouponTerms, base: pricing.PriceResult) -> int | None:
        """``run(coupon).total_amount`` from ``base`` without the engine, or None when shipping
        might change. With prices including tax, the coupon takes ``c`` = min(its money off the
        in-scope goods left, those goods) off the goods; shipping stays as it was when there is
        no shipping template, or when it was free by a 包邮 promotion whose in-scope goods stay at
        its threshold even with all of ``c`` off them. A free-shipping coupon takes what is left
        of the fee. The property tests hold this to the engine's answer."""
        if self.context.tax_mode is not pricing.TaxMode.included:
            return None
        terms = coupon.coupon
        keys = coupon.keys
        if keys is None:
            keys = frozenset(coupon_terms.eligible_keys(terms, self.lines, coupon.blocked))
        spend = sum(line.total_amount for line in base.lines if line.key in keys)
        if not keys or spend <= 0 or spend < terms.min_spend_amount:
            return base.total_amount  # the coupon proposes nothing
        if terms.kind is CouponKind.free_shipping:
            return base.total_amount - base.shipping_amount
        off = min(coupon.off(spend), spend)
        if off == 0 or self.shipping is None:
            return base.total_amount - off
        if base.shipping_amount != 0:
            return None
        for adjustment in base.adjustments:
            rule = self._free_shipping.get(kinds.promotion_id(adjustment.code) or 0)
            if adjustment.target is not pricing.AdjustmentTarget.shipping or rule is None:
                continue
            in_scope = sum(line.total_amount for line in base.lines if line.key in rule.keys)
            if in_scope - off >= rule.rule.threshold_amount:
                return base.total_amount - off
        return None

    def run(
        self, coupon: CouponTerms | None = None, chosen: dict[str, int] | None = None
    ) -> pricing.PriceResult:
        picked = self.chosen if chosen is None else chosen
        key = tuple(sorted(picked.items()))
        if coupon is None and key in self._trials:  # an exclusion-group trial priced it already
            return self._trials[key]
        result = pricing.calculate(
            lines=self.lines,
            context=self.context,
            providers=self.providers(picked, coupon),
            shipping=self.shipping,
        )
        if coupon is None:
            self._trials[key] = result
        return result

    def active(self) -> list[kinds.RuleProvider]:
        """The rule providers taking part (exclusion groups resolved)."""
        return [
            r
            for r in self.rules
            if not r.promotion.exclusive_group or self.chosen[r.promotion.exclusive_group] == r.promotion.id
        ]

    def _resolve_groups(self) -> dict[str, int]:
        """Per exclusion group, the member leaving the lowest total (first by priority on a tie);
        members with nothing of theirs in the cart are not tried."""
        groups: dict[str, list[kinds.RuleProvider]] = {}
        for rule in self.rules:
            if rule.promotion.exclusive_group:
                groups.setdefault(rule.promotion.exclusive_group, []).append(rule)
        chosen = {group: members[0].promotion.id for group, members in groups.items()}
        for group, members in groups.items():
            candidates = [m for m in members if m.keys] or members[:1]
            if len(candidates) == 1:
                chosen[group] = candidates[0].promotion.id
                continue
            totals = []
            for member in candidates:
                chosen[group] = member.promotion.id
                totals.append(self.run(chosen=dict(chosen)).total_amount)
            chosen[group] = candidates[totals.index(min(totals))].promotion.id
        return chosen


class _Settled:
    """Steps 1 and 2 of ``base`` (priced without a coupon) replayed: each of its line adjustments
    again as a proposal naming the money off each line. They do not depend on the coupon, and
    applied in the same order they leave every line exactly as they left it in ``base``, so
    pricing with a coupon does not work the promotions out again."""

    name = kinds.NAME

    def __init__(self, base: pricing.PriceResult) -> None:
        self.base = base
        self.proposals = [
            pricing.Proposal(
                code=adjustment.code,
                reason=adjustment.reason,
                amount=adjustment.amount,
                line_keys=tuple(adjustment.per_line),
                line_amounts=adjustment.per_line,
            )
            for adjustment in base.adjustments
            if adjustment.target is pricing.AdjustmentTarget.lines
        ]

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        return self.proposals


def _blocked(result: pricing.PriceResult, promotions: dict[int, PromotionRead]) -> frozenset[str]:
    """Lines discounted by an applied promotion that does not combine with coupons."""
    keys: set[str] = set()
    for adjustment in result.adjustments:
        promotion = promotions.get(kinds.promotion_id(adjustment.code) or 0)
        if promotion is not None and not promotion.allow_coupons:
            keys.update(adjustment.per_line)
            if adjustment.target is pricing.AdjustmentTarget.shipping:
                keys.update(line.key for line in result.lines)
    return frozenset(keys)


def _refusal(coupon: CouponRead, reason: pricing.Reason) -> Exception:
    """The error an explicitly chosen coupon raises for ``reason``."""
    if reason.message == coupon_terms.NOT_VALID_YET:
        return CouponNotYetValid(valid_from=coupon.valid_from.strftime("%Y-%m-%d %H:%M UTC"))
    if reason.message == coupon_terms.EXPIRED:
        return CouponExpired()
    if reason.message == coupon_terms.NOT_WITH_PROMOTION:
        return CouponsNotCombinable()
    return CouponNotApplicable(reason=gettext(reason.message, **reason.params))


def _in_scope_amount(result: pricing.PriceResult, keys: frozenset[str]) -> tuple[int, int]:
    lines = [line for line in result.lines if line.key in keys]
    return sum(line.total_amount for line in lines), sum(line.quantity for line in lines)


async def quote(
    session: AsyncSession,
    *,
    lines: Sequence[pricing.LineIn],
    context: pricing.PricingContext,
    shipping: pricing.ShippingTemplate | None,
    customer_id: int | None = None,
    channel: Channel = Channel.web,
    coupon: CouponChoice = "best",
    now: dt.datetime | None = None,
    deal: DealPrice | None = None,
) -> Quote:
    """Price ``lines`` with the promotions live at ``now`` and the coupon chosen ("best": the
    customer's usable coupon that saves most, "none", or a coupon id, which must be usable).
    With a ``deal`` (a social play's price for one SKU), its lines are at the deal's price and
    nothing else takes part: no promotion, no coupon (``DealPrice``); shipping as the template says.

    Raises:
        CouponNotFound (404), CouponUnavailable / CouponExpired / CouponNotYetValid /
        CouponNotApplicable / CouponsNotCombinable (409): only for an explicit coupon id.
    """
    if deal is not None:
        return _deal_quote(lines=lines, context=context, shipping=shipping, deal=deal)
    at = now or clock.now()
    snapshot = await live.live_set(session, now=at)
    # The customer's facts cost two reads: only when a live promotion's conditions ask about them.
    facts = (
        await customer_facts(session, customer_id=customer_id)
        if any(kinds.asks_about_customer(p.conditions) for p in snapshot.promotions)
        else CustomerFacts(customer_id=customer_id)
    )
    promotions = [p for p in snapshot.promotions if kinds.qualifies(p.conditions, facts, channel, at)]
    pricer = Pricer(lines=lines, context=context, shipping=shipping, promotions=promotions)
    base = pricer.run()
    blocked = _blocked(base, pricer.by_id)
    wallet = (
        await wallet_rows(session, customer_id=customer_id, statuses=[CouponStatus.unused])
        if customer_id
        else []
    )

    remaining = {line.key: line.total_amount for line in base.lines}
    options: list[CouponOption] = []
    scoped: dict[int, frozenset[str]] = {}
    for held in wallet:
        scoped[held.id] = frozenset(coupon_terms.eligible_keys(held, lines, frozenset()))
        reason = why_not(
            held,
            lines=lines,
            remaining=remaining,
            currency=context.currency,
            channel=channel,
            now=at,
            blocked=blocked,
            scoped=scoped[held.id],
        )
        if reason is not None:
            options.append(CouponOption(coupon=held, usable=False, reason=reason))
            continue
        total = pricer.total_with(CouponTerms(held, blocked=blocked, scoped=scoped[held.id]), base)
        options.append(CouponOption(coupon=held, usable=True, saving_amount=base.total_amount - total))
    # best first: usable by saving (then soonest to expire, lowest id: the wallet's order), then the rest
    options.sort(key=lambda o: (not o.usable, -o.saving_amount))

    chosen: CouponRead | None = None
    if coupon == "best":
        best = options[0] if options else None
        if best is not None and best.usable and best.saving_amount > 0:
            chosen = best.coupon
    elif coupon != "none":
        option = next((o for o in options if o.coupon.id == coupon), None)
        if option is None:
            await _missing(session, coupon_id=coupon, customer_id=customer_id)
        else:
            if option.reason is not None:
                raise _refusal(option.coupon, option.reason)
            chosen = option.coupon
    result = (
        pricer.with_coupon(CouponTerms(chosen, blocked=blocked, scoped=scoped[chosen.id]), base)
        if chosen is not None
        else base
    )

    active = pricer.active()
    timed_off = _timed_off(result, pricer)
    gifts = []
    hints = []
    for rule in active:
        amount, pieces = _in_scope_amount(result, rule.keys)
        if not pieces:
            continue
        promotion = rule.promotion
        if isinstance(rule, kinds.GiftOver) and rule.reached(amount):
            gifts.append(
                Gift(
                    promotion_id=promotion.id,
                    name=promotion.name,
                    sku_id=rule.rule.gift_sku_id,
                    quantity=rule.rule.gift_quantity,
                )
            )
            continue
        if isinstance(rule, kinds.FreeShipping) and not rule.to_province(context.province):
            continue
        seen = (
            amount
            if promotion.kind is PromotionKind.free_shipping
            else sum(
                line.subtotal_amount - timed_off.get(line.key, 0)
                for line in result.lines
                if line.key in rule.keys
            )
        )
        found = rule.next_tier(seen, pieces, context.currency)
        if found is not None and found[0] > 0:
            hints.append(
                TierHint(
                    promotion_id=promotion.id,
                    name=promotion.name,
                    kind=promotion.kind,
                    gap_amount=found[0],
                    reward=found[1],
                )
            )

    names: dict[str, str] = {}
    applied: set[int] = {g.promotion_id for g in gifts}
    for adjustment in result.adjustments:
        number = kinds.promotion_id(adjustment.code)
        if number is not None and number in pricer.by_id:
            names[adjustment.code] = pricer.by_id[number].name
            applied.add(number)
        elif chosen is not None and adjustment.code == coupon_terms.code(chosen.id):
            names[adjustment.code] = chosen.name
    return Quote(
        result=result,
        coupon_id=chosen.id if chosen is not None else None,
        coupon_options=tuple(options),
        gifts=tuple(gifts),
        hints=tuple(hints),
        names=names,
        promotion_ids=tuple(sorted(applied)),
        coupons_blocked=bool(blocked),
    )


class _DealProvider:
    """A deal's price: the money off each of its SKU's lines down to the deal's unit price."""

    name = "deals"

    def __init__(self, deal: DealPrice) -> None:
        self.deal = deal

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        amounts = {
            state.line.key: (state.unit_price_amount - self.deal.unit_price_amount) * state.line.quantity
            for state in lines
            if state.line.sku_id == self.deal.sku_id and state.unit_price_amount > self.deal.unit_price_amount
        }
        if not amounts:
            return []
        return [
            pricing.Proposal(
                code=self.deal.code,
                reason=pricing.Reason(message=DEAL_PRICE),
                amount=sum(amounts.values()),
                line_keys=tuple(amounts),
                line_amounts=amounts,
            )
        ]


#: The reason a deal's discount gives (the line shows the deal's own name beside it).
DEAL_PRICE = N_("Deal price")


def _deal_quote(
    *,
    lines: Sequence[pricing.LineIn],
    context: pricing.PricingContext,
    shipping: pricing.ShippingTemplate | None,
    deal: DealPrice,
) -> Quote:
    result = pricing.calculate(
        lines=lines, context=context, providers=[_DealProvider(deal)], shipping=shipping
    )
    return Quote(result=result, coupon_id=None, names={deal.code: deal.name}, coupons_blocked=True)


def _timed_off(result: pricing.PriceResult, pricer: Pricer) -> dict[str, int]:
    """Each line's timed-price discount: with its subtotal, the goods as an order rule sees them
    (after timed prices, before other rules), which is what 凑单 hints measure."""
    timed_ids = {p.id for p in pricer.by_id.values() if p.kind is PromotionKind.timed_discount}
    timed_off: dict[str, int] = {}
    for adjustment in result.adjustments:
        if kinds.promotion_id(adjustment.code) in timed_ids:
            for key, share in adjustment.per_line.items():
                timed_off[key] = timed_off.get(key, 0) + share
    return timed_off


async def _missing(session: AsyncSession, *, coupon_id: int, customer_id: int | None) -> None:
    """An explicit coupon that is not among the customer's unused ones.

    Raises: CouponUnavailable (the customer's, used or locked or expired), else CouponNotFound.
    """
    if customer_id is not None:
        held = (
            await session.execute(
                select(Coupon.id).where(Coupon.id == coupon_id, Coupon.customer_id == customer_id)
            )
        ).first()
        if held is not None:
            raise CouponUnavailable()
    raise CouponNotFound()
