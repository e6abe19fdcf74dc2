"""What product lists and pages show beside a price: the timed price, tags, 券后价, the preheat
price; and 凑单 suggestions.

One unit of a SKU bought now, as ``quote`` would price it (its module doc has the stacking):

- the timed price: the lowest live timed price the customer qualifies for (a guest meets no
  condition that needs a customer), with its end for the countdown;
- tags: the timed discount giving that price, then every other live promotion the customer
  qualifies for whose scope holds the SKU, in priority order, each headlined by
  ``kinds.tag_reason`` (of several 包邮 for everywhere, only the lowest threshold);
- 券后价: the lowest price after one coupon, on top of the timed price (none when the timed
  discount does not combine with coupons), among the customer's unused coupons valid now and
  the templates they may still claim (``list_claimable``), each as the coupon claiming it would
  give; checked and priced by the coupon provider (``coupon_terms``); shown only when lower than
  the price now, with the template's id when the best one is still to claim (the claim button);
- 预热: the lowest timed price of a published campaign in preheat, when lower than the price now,
  and when it starts (``preheat.py``).

A grid card (``card_tags``) shows its product's SKU with the lowest price now (a timed price on a
dearer SKU can make it the cheapest).

Queries per call, whatever the number of SKUs: the live set and the preheat snapshot are kept per
process (one query each when they turn over); the customer's facts only when a live promotion has
a condition that needs them; then the wallet (signed in) and the claimable templates, one each.
A guest's view is kept per process and channel (see ``_shown``): none while it stands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, pricing
from mercato.core import clock
from mercato.core.settings import get_settings
from mercato.promotions.coupon_terms import CouponTerms, why_not
from mercato.promotions.coupons.reading import wallet_rows
from mercato.promotions.coupons.wallet import list_claimable, next_claim_start
from mercato.promotions.quote import customer_facts
from mercato.promotions.rules import kinds, live, preheat
from mercato.promotions.schemas import (
    Channel,
    CouponKind,
    CouponRead,
    CouponSource,
    CouponStatus,
    CouponTemplateRead,
    CustomerFacts,
    FreeShippingRule,
    PriceTag,
    PromotionKind,
    PromotionRead,
    Tag,
)

#: A coupon a 券后价 may use, and its template's id when it is still to claim.
Candidate = tuple[CouponRead, int | None]
#: Tags a view keeps before starting over.
MEMO_LIMIT = 50_000
#: The most tags a card carries (the timed discount first, then by priority); a product page has
#: them all. A grid of 24 cards under a hundred live promotions stays small.
CARD_TAGS = 3


async def price_tags(
    session: AsyncSession,
    *,
    skus: Sequence[pricing.SellableLike],
    customer_id: int | None = None,
    channel: Channel = Channel.web,
) -> dict[int, PriceTag]:
    """Per SKU id, what to show for one unit bought now (see ``PriceTag`` and the module doc)."""
    if not skus:
        return {}
    shown = await _shown(session, customer_id=customer_id, channel=channel)
    return {sku.sku_id: shown.price_tag(sku) for sku in skus}


@dataclass(frozen=True)
class _GuestView:
    """What a guest on one channel is shown, kept in this process between ``loaded_at`` and
    ``valid_until`` while the live set's version token stands."""

    version: str
    loaded_at: dt.datetime
    valid_until: dt.datetime
    shown: _Shown

    def covers(self, version: str, now: dt.datetime) -> bool:
        return self.version == version and self.loaded_at <= now < self.valid_until


_guests: dict[Channel, _GuestView] = {}


async def _shown(session: AsyncSession, *, customer_id: int | None, channel: Channel) -> _Shown:
    """What this customer is shown now, read once for any number of SKUs.

    A guest's view is the same for every guest, so it is kept per process and channel (with each
    SKU's tag worked out once) until the first of: the live set's or the preheat snapshot's next
    boundary, a claimable template's claim window or validity starting or ending, ``MAX_AGE``
    after it was read, or a write to a promotion or coupon template (the live set's version
    token). What no write announces — a template selling out — shows within ``MAX_AGE``.
    """
    now = clock.now()
    snapshot = await live.live_set(session, now=now)
    if customer_id is None:
        cached = _guests.get(channel)
        if cached is not None and cached.covers(snapshot.version, now):
            return cached.shown
    upcoming = await preheat.coming(session, version=snapshot.version, now=now)
    facts = (
        await customer_facts(session, customer_id=customer_id)
        if any(kinds.asks_about_customer(p.conditions) for p in (*snapshot.promotions, *upcoming.promotions))
        else CustomerFacts(customer_id=customer_id)
    )
    running = [p for p in snapshot.promotions if kinds.qualifies(p.conditions, facts, channel, now)]
    held = (
        await wallet_rows(session, customer_id=customer_id, statuses=[CouponStatus.unused], valid_at=now)
        if customer_id is not None
        else []
    )
    offered = await list_claimable(session, customer_id=customer_id)
    shown = _Shown(
        timed=kinds.TimedPrices([p for p in running if p.kind is PromotionKind.timed_discount]),
        others=[p for p in running if p.kind is not PromotionKind.timed_discount],
        coming=kinds.TimedPrices(
            [p for p in upcoming.promotions if kinds.qualifies(p.conditions, facts, channel, p.starts_at)]
        ),
        coupons=_candidates(held, offered, customer_id=customer_id, now=now),
        channel=channel,
        now=now,
    )
    if customer_id is None:
        previous = _guests.get(channel)
        if previous is not None and shown.same_as(previous.shown):
            shown.keep_tags_of(previous.shown)  # a turnover that changed nothing: tags stand
        opens = await next_claim_start(session, now=now)
        boundaries = [
            moment
            for template in offered
            for moment in (template.claim_ends_at, template.valid_from, template.valid_until)
            if moment is not None and moment > now
        ]
        _guests[channel] = _GuestView(
            version=snapshot.version,
            loaded_at=now,
            valid_until=min(
                [snapshot.valid_until, upcoming.valid_until, now + live.MAX_AGE, *boundaries]
                + ([opens] if opens is not None else [])
            ),
            shown=shown,
        )
    return shown


def _candidates(
    held: Sequence[CouponRead],
    offered: Sequence[CouponTemplateRead],
    *,
    customer_id: int | None,
    now: dt.datetime,
) -> list[Candidate]:
    """The customer's unused coupons valid now, then the templates they may still claim: those
    that can take money off goods (a free-shipping coupon changes no product's price)."""
    return [
        candidate
        for candidate in [
            *((coupon, None) for coupon in held),
            *((_as_claimed(t, customer_id=customer_id, now=now), t.id) for t in offered),
        ]
        if candidate[0].kind is not CouponKind.free_shipping
    ]


def _as_claimed(template: CouponTemplateRead, *, customer_id: int | None, now: dt.datetime) -> CouponRead:
    """The coupon claiming ``template`` now would give (never stored: it prices the 券后价)."""
    if template.valid_days is not None:
        valid_from, valid_until = now, now + dt.timedelta(days=template.valid_days)
    else:  # fixed dates (a template has one or the other); a missing one reads as over
        valid_from, valid_until = template.valid_from or now, template.valid_until or now
    return CouponRead(
        id=0,
        template_id=template.id,
        customer_id=customer_id or 0,
        name=template.name,
        kind=template.kind,
        amount_off=template.amount_off,
        percent_off=template.percent_off,
        max_discount_amount=template.max_discount_amount,
        min_spend_amount=template.min_spend_amount,
        scope=template.scope,
        channels=template.channels,
        status=CouponStatus.unused,
        source=CouponSource.claim,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_at=now,
        order_id=None,
        used_at=None,
    )


def _line(sku: pricing.SellableLike) -> pricing.LineIn:
    return pricing.LineIn.for_sku(sku, key=str(sku.sku_id), quantity=1)


class _Shown:
    """What one call shows, worked out once and applied to each SKU."""

    def __init__(
        self,
        *,
        timed: kinds.TimedPrices,
        others: list[PromotionRead],
        coming: kinds.TimedPrices,
        coupons: list[Candidate],
        channel: Channel,
        now: dt.datetime,
    ) -> None:
        self.timed = timed
        self.others = others
        self.coming = coming
        self.coupons = coupons
        self.channel = channel
        self.now = now
        self.currency = get_settings().currency
        self._headlines: dict[tuple[int, dt.datetime | None], Tag] = {}
        self._scopes = [(p, kinds.matcher(p.scope)) for p in others]
        # each SKU's tag once (a guest's view serves many requests); keyed by what it is priced on
        self._tags: dict[tuple[int, int, int, tuple[int, ...], int | None], PriceTag] = {}
        self._cards: dict[tuple[int, tuple[int, ...], int | None, tuple[tuple[int, int], ...]], PriceTag] = {}

    def tag(self, promotion: PromotionRead, ends_at: dt.datetime | None = None) -> Tag:
        """The promotion's tag (made once per view: many SKUs share it)."""
        found = self._headlines.get((promotion.id, ends_at))
        if found is None:
            reason = kinds.tag_reason(promotion, self.currency)
            found = self._headlines[(promotion.id, ends_at)] = Tag(
                promotion_id=promotion.id,
                kind=promotion.kind.value,
                message=reason.message,
                params=reason.params,
                ends_at=ends_at,
            )
        return found

    def same_as(self, other: _Shown) -> bool:
        """Whether ``other`` shows exactly what this view shows (then its tags can be kept)."""
        return (
            self.channel is other.channel
            and self.currency == other.currency
            and self.others == other.others
            and self.timed.promotions == other.timed.promotions
            and self.coming.promotions == other.coming.promotions
            and self._coupon_terms() == other._coupon_terms()
        )

    def _coupon_terms(self) -> list[tuple[object, ...]]:
        """What the 券后价 depends on: each candidate's terms and whether it is valid now (a coupon
        claimed now would be dated now, which changes nothing shown)."""
        return [
            (
                template_id,
                coupon.id,
                coupon.kind,
                coupon.amount_off,
                coupon.percent_off,
                coupon.max_discount_amount,
                coupon.min_spend_amount,
                coupon.scope,
                coupon.channels,
                coupon.valid_from <= self.now < coupon.valid_until,
            )
            for coupon, template_id in self.coupons
        ]

    def keep_tags_of(self, other: _Shown) -> None:
        self._headlines = other._headlines
        self._tags = other._tags
        self._cards = other._cards

    def timed_price(self, line: pricing.LineIn) -> tuple[PromotionRead | None, int]:
        """The timed discount giving ``line`` (one unit) a price below its list price, if any, and
        its price now."""
        found = self.timed.best(line)
        if found is not None and found[1] < line.unit_price_amount:
            return found
        return None, line.unit_price_amount

    def price_tag(self, sku: pricing.SellableLike) -> PriceTag:
        key = (sku.sku_id, sku.product_id, sku.price_amount, tuple(sku.category_ids), sku.brand_id)
        tag = self._tags.get(key)
        if tag is None:
            if len(self._tags) >= MEMO_LIMIT:
                self._tags.clear()
            tag = self._tags[key] = self._price_tag(sku)
        return tag

    def card_of(self, skus: Sequence[pricing.SellableLike]) -> PriceTag:
        """A card's tag: its SKU with the lowest price now (on a tie the lower list price, then the
        lower id), with the first ``CARD_TAGS`` tags (what a card has room for). ``skus``: one
        product's, which share its category and brand."""
        first = skus[0]
        key = (
            first.product_id,
            tuple(first.category_ids),
            first.brand_id,
            tuple((sku.sku_id, sku.price_amount) for sku in skus),
        )
        tag = self._cards.get(key)
        if tag is None:
            cheapest = min(
                skus, key=lambda sku: (self.timed_price(_line(sku))[1], sku.price_amount, sku.sku_id)
            )
            full = self.price_tag(cheapest)
            if len(self._cards) >= MEMO_LIMIT:
                self._cards.clear()
            tag = self._cards[key] = (
                full.model_copy(update={"tags": full.tags[:CARD_TAGS]})
                if len(full.tags) > CARD_TAGS
                else full
            )
        return tag

    def _price_tag(self, sku: pricing.SellableLike) -> PriceTag:
        line = _line(sku)
        applied, price_now = self.timed_price(line)
        tags = [self.tag(applied, ends_at=applied.ends_at)] if applied is not None else []
        tags += [self.tag(p) for p in _undominated([p for p, takes in self._scopes if takes(line)])]
        blocked = frozenset({line.key}) if applied is not None and not applied.allow_coupons else frozenset()
        coupon = self.coupon_price(line, price_now, blocked)
        ahead = self.coming.best(line)
        if ahead is not None and ahead[1] >= price_now:
            ahead = None
        return PriceTag(
            sku_id=sku.sku_id,
            list_price_amount=line.unit_price_amount,
            promo_price_amount=price_now if applied is not None else None,
            promo_ends_at=applied.ends_at if applied is not None else None,
            coupon_price_amount=coupon[0] if coupon is not None else None,
            coupon_template_id=coupon[1] if coupon is not None else None,
            preheat_price_amount=ahead[1] if ahead is not None else None,
            preheat_starts_at=ahead[0].starts_at if ahead is not None else None,
            tags=tuple(tags),
        )

    def coupon_price(
        self, line: pricing.LineIn, price_now: int, blocked: frozenset[str]
    ) -> tuple[int, int | None] | None:
        """The lowest price of ``line`` (one unit at ``price_now``) after one usable coupon, and
        the coupon's template id when it is still to claim (a coupon held wins a tie); None when
        no coupon lowers it."""
        best: tuple[int, int | None] | None = None
        for coupon, template_id in self.coupons:
            reason = why_not(
                coupon,
                lines=(line,),
                remaining={line.key: price_now},
                currency=self.currency,
                channel=self.channel,
                now=self.now,
                blocked=blocked,
            )
            if reason is not None:
                continue
            price = price_now - min(CouponTerms(coupon).off(price_now), price_now)
            if price < price_now and (best is None or price < best[0]):
                best = (price, template_id)
        return best


def _undominated(promotions: list[PromotionRead]) -> list[PromotionRead]:
    """``promotions`` (priority order) less the 包邮 ones another makes pointless: of those for every
    destination with no piece count, only the lowest threshold says anything (满 99 包邮 already
    covers 满 199 包邮); a tie goes to the first."""
    plain = [
        (p.rule.threshold_amount, n)
        for n, p in enumerate(promotions)
        if isinstance(p.rule, FreeShippingRule) and not p.rule.provinces and not p.rule.threshold_pieces
    ]
    if len(plain) < 2:
        return promotions
    dropped = {n for _, n in plain} - {min(plain)[1]}
    return [p for n, p in enumerate(promotions) if n not in dropped]


async def filler_products(
    session: AsyncSession,
    *,
    promotion_id: int,
    gap_amount: int,
    exclude_product_ids: Sequence[int] = (),
    limit: int = 6,
) -> list[catalog.ProductCard]:
    """凑单: in-stock products in the promotion's scope whose price fits the gap (cheapest that
    reaches it first, then the dearest below it), leaving out ``exclude_product_ids`` (what the
    cart holds). A promotion that is not live, or a timed discount (no tier to reach), has none."""
    promotion = (await live.live_set(session)).by_id().get(promotion_id)
    if promotion is None or promotion.kind is PromotionKind.timed_discount:
        return []
    scope = promotion.scope
    product_ids = await catalog.list_products_near_price(
        session,
        target_amount=gap_amount,
        everything=scope.all_goods,
        category_ids=scope.category_ids,
        brand_ids=scope.brand_ids,
        product_ids=scope.product_ids,
        sku_ids=scope.sku_ids,
        exclude_product_ids={*scope.exclude_product_ids, *exclude_product_ids},
        exclude_sku_ids=scope.exclude_sku_ids,
        limit=limit,
    )
    return await catalog.list_storefront_cards(session, product_ids=product_ids)


async def card_tags(
    session: AsyncSession,
    *,
    cards: Sequence[catalog.ProductCard],
    customer_id: int | None = None,
    channel: Channel = Channel.web,
) -> dict[int, PriceTag]:
    """Per product id, in the cards' order, the ``PriceTag`` of its cheapest sellable SKU now (after
    timed prices: a card shows the lowest price the product can be bought at; product grids), with
    at most ``CARD_TAGS`` tags: the cards' SKUs (cached by the catalog), then what ``price_tags``
    reads."""
    if not cards:
        return {}
    sellable = await catalog.get_card_skus(session, product_ids=[card.id for card in cards])
    shown = await _shown(session, customer_id=customer_id, channel=channel)
    return {card.id: shown.card_of(skus) for card in cards if (skus := sellable.get(card.id))}
