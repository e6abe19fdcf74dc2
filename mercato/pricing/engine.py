"""The price calculation: one pure, deterministic function from lines and context to totals.

Steps, in order:

1. unit prices: the lowest quantity price break the line qualifies for, else the list price;
2. promotions: each provider, in the given order, proposes discounts on the running state;
   line discounts are capped at what is left on the eligible lines and shared over them in
   proportion to what is left (largest remainder, so the shares sum exactly to the fen); a line
   never goes below zero. Stacking: a ``stack`` proposal combines with others; an ``exclusive``
   one applies only if nothing applied before it and then stops every later proposal;
3. shipping from the template (by destination, pieces or weight, free over a threshold on the
   discounted goods), then shipping discounts, capped at the fee;
4. tax: with prices including VAT the tax is the part of each line's total, ``total * r/(1+r)``;
   for cross-border orders tax is added on goods and shipping and shared over the lines;
5. totals: goods + shipping (+ added tax). Nothing is ever negative, the lines sum to the goods,
   and the same input gives the same output (no clock, no database, no randomness).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from mercato.core.money import allocate
from mercato.pricing.schemas import (
    Adjustment,
    AdjustmentTarget,
    LineIn,
    LineOut,
    PriceResult,
    PricingContext,
    Proposal,
    ShippingTemplate,
    Stacking,
    TaxMode,
)
from mercato.pricing.shipping import shipping_fee


class LineState(Protocol):
    """What a promotion provider sees of a line while prices are being calculated."""

    @property
    def line(self) -> LineIn: ...
    @property
    def unit_price_amount(self) -> int: ...
    @property
    def subtotal_amount(self) -> int: ...
    @property
    def remaining_amount(self) -> int: ...


class PromotionProvider(Protocol):
    """A source of discounts (coupons, full reductions, member prices ...), run in a fixed order."""

    name: str

    def propose(self, *, lines: Sequence[LineState], context: PricingContext) -> Sequence[Proposal]: ...


class _Line:
    def __init__(self, line: LineIn) -> None:
        self.line = line
        self.unit_price_amount = unit_price(line)
        self.subtotal_amount = self.unit_price_amount * line.quantity
        self.remaining_amount = self.subtotal_amount


def unit_price(line: LineIn) -> int:
    """The list price, or the lowest price break the quantity reaches."""
    if not line.price_breaks:
        return line.unit_price_amount
    prices = [line.unit_price_amount] + [
        b.unit_price_amount for b in line.price_breaks if line.quantity >= b.min_quantity
    ]
    return min(prices)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _apply_line_proposal(
    states: Sequence[_Line], index: dict[str, int], proposal: Proposal, source: str
) -> Adjustment | None:
    """Take ``proposal`` off the eligible lines (``index``: line key -> position, so a proposal
    naming one line of a big cart does not scan them all); ``None`` when nothing is left to take."""
    if proposal.line_amounts is not None:
        return _apply_line_amounts(states, index, proposal, source)
    if proposal.line_keys is None:
        eligible = [s for s in states if s.remaining_amount > 0]
    else:
        positions = sorted({index[k] for k in proposal.line_keys if k in index})
        eligible = [states[i] for i in positions if states[i].remaining_amount > 0]
    room = sum(s.remaining_amount for s in eligible)
    amount = min(proposal.amount, room)
    if amount <= 0:
        return None
    shares = [amount] if len(eligible) == 1 else allocate(amount, [s.remaining_amount for s in eligible])
    per_line: dict[str, int] = {}
    for state, share in zip(eligible, shares, strict=True):
        state.remaining_amount -= share
        if share:
            per_line[state.line.key] = share
    return Adjustment(
        source=source,
        code=proposal.code,
        reason=proposal.reason,
        target=proposal.target,
        amount=amount,
        per_line=per_line,
    )


def _apply_line_amounts(
    states: Sequence[_Line], index: dict[str, int], proposal: Proposal, source: str
) -> Adjustment | None:
    """A proposal naming the money off per line: each line gives at most what is left of it."""
    assert proposal.line_amounts is not None
    per_line: dict[str, int] = {}
    for position in sorted(index[k] for k in proposal.line_amounts if k in index):
        state = states[position]
        share = min(proposal.line_amounts[state.line.key], state.remaining_amount)
        if share > 0:
            state.remaining_amount -= share
            per_line[state.line.key] = share
    if not per_line:
        return None
    return Adjustment(
        source=source,
        code=proposal.code,
        reason=proposal.reason,
        target=proposal.target,
        amount=sum(per_line.values()),
        per_line=per_line,
    )


class _Settlement:
    """Steps 1–3 of a calculation: the lines as the providers left them, the adjustments, and
    shipping after its discounts."""

    def __init__(
        self,
        *,
        lines: Sequence[LineIn],
        context: PricingContext,
        providers: Sequence[PromotionProvider],
        shipping: ShippingTemplate | None,
    ) -> None:
        if len({line.key for line in lines}) != len(lines):
            raise ValueError("line keys must be unique")
        states = [_Line(line) for line in lines]
        index = {line.key: n for n, line in enumerate(lines)}
        adjustments: list[Adjustment] = []
        shipping_proposals: list[tuple[str, Proposal]] = []
        stopped = False
        for provider in providers:
            if stopped:
                break
            for proposal in provider.propose(lines=states, context=context):
                if proposal.stacking is Stacking.exclusive and (adjustments or shipping_proposals):
                    continue
                if proposal.target is AdjustmentTarget.shipping:
                    shipping_proposals.append((provider.name, proposal))
                    applied = True
                else:
                    adjustment = _apply_line_proposal(states, index, proposal, provider.name)
                    applied = adjustment is not None
                    if adjustment is not None:
                        adjustments.append(adjustment)
                if applied and proposal.stacking is Stacking.exclusive:
                    stopped = True
                    break

        self.states = states
        self.subtotal = sum(s.subtotal_amount for s in states)
        self.goods = sum(s.remaining_amount for s in states)
        self.fee, self.gap = shipping_fee(
            template=shipping if states else None,  # nothing to ship, nothing to pay
            province=context.province,
            delivery=context.delivery,
            goods_amount=self.goods,
            pieces=sum(s.line.quantity for s in states),
            grams=sum(s.line.weight_grams * s.line.quantity for s in states),
        )
        shipping_left = self.fee
        for source, proposal in shipping_proposals:
            amount = min(proposal.amount, shipping_left)
            if amount <= 0:
                continue
            shipping_left -= amount
            adjustments.append(
                Adjustment(
                    source=source,
                    code=proposal.code,
                    reason=proposal.reason,
                    target=proposal.target,
                    amount=amount,
                )
            )
        self.shipping_left = shipping_left
        self.adjustments = adjustments


def calculate_total(
    *,
    lines: Sequence[LineIn],
    context: PricingContext,
    providers: Sequence[PromotionProvider] = (),
    shipping: ShippingTemplate | None = None,
) -> int:
    """``calculate(...).total_amount`` without building the result: for comparing many candidate
    providers (the best coupon) where only the total decides."""
    done = _Settlement(lines=lines, context=context, providers=providers, shipping=shipping)
    if context.tax_mode is TaxMode.included:
        return done.goods + done.shipping_left
    return (
        done.goods + done.shipping_left + _round(Decimal(done.goods + done.shipping_left) * context.tax_rate)
    )


def calculate(
    *,
    lines: Sequence[LineIn],
    context: PricingContext,
    providers: Sequence[PromotionProvider] = (),
    shipping: ShippingTemplate | None = None,
) -> PriceResult:
    """Price ``lines`` for ``context``; see the module docstring for the steps and guarantees.

    Raises:
        ValueError: duplicate line keys (a programming error, not a shopper's).
    """
    done = _Settlement(lines=lines, context=context, providers=providers, shipping=shipping)
    states, goods, shipping_left = done.states, done.goods, done.shipping_left

    rate = context.tax_rate
    if context.tax_mode is TaxMode.included:
        line_tax = [_round(Decimal(s.remaining_amount) * rate / (1 + rate)) for s in states]
        tax = sum(line_tax)
        total = goods + shipping_left
    else:
        tax = _round(Decimal(goods + shipping_left) * rate)
        line_tax = allocate(tax, [s.remaining_amount for s in states]) if states else []
        total = goods + shipping_left + tax

    outs = tuple(
        LineOut(
            key=s.line.key,
            sku_id=s.line.sku_id,
            quantity=s.line.quantity,
            list_unit_price_amount=s.line.unit_price_amount,
            unit_price_amount=s.unit_price_amount,
            subtotal_amount=s.subtotal_amount,
            discount_amount=s.subtotal_amount - s.remaining_amount,
            total_amount=s.remaining_amount,
            tax_amount=t,
        )
        for s, t in zip(states, line_tax, strict=True)
    )
    return PriceResult(
        currency=context.currency,
        lines=outs,
        subtotal_amount=done.subtotal,
        discount_amount=done.subtotal - goods,
        goods_amount=goods,
        shipping_fee_amount=done.fee,
        shipping_discount_amount=done.fee - shipping_left,
        shipping_amount=shipping_left,
        tax_amount=tax,
        tax_mode=context.tax_mode,
        total_amount=total,
        adjustments=tuple(done.adjustments),
        free_shipping_gap_amount=done.gap,
    )
