"""Public promotions DTOs: promotion rules, coupons, campaigns, and what a quote returns.

Amounts are integer minor units (fen) of the shop's currency. Percentages are whole percent
*off* (20 = 20 % off = 8 折). Times are aware UTC datetimes.

Shared by the three parts of the domain (``rules/``, ``coupons/``, ``campaigns/``) and by
``quote.py``, which combines them into one price for a cart or order.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from mercato import pricing
from mercato.core.schemas import AmountInt, IdInt, InputModel, ReadModel

Percent = Annotated[int, Field(ge=1, le=99)]
Name = Annotated[str, Field(min_length=1, max_length=60)]
ScopeIds = Annotated[tuple[IdInt, ...], Field(max_length=1000)]


# -- statuses ------------------------------------------------------------------------------


class PromotionStatus(StrEnum):
    draft = "draft"  # being written; not priced
    active = "active"  # priced between starts_at and ends_at
    paused = "paused"  # stopped by staff; can resume
    ended = "ended"  # ended early by staff or closed after ends_at; terminal


class CouponTemplateStatus(StrEnum):
    draft = "draft"
    active = "active"  # claimable / issuable; coupons already held stay usable in every status
    paused = "paused"  # no new issuance
    ended = "ended"  # terminal: no new issuance


class CampaignStatus(StrEnum):
    draft = "draft"
    published = "published"  # shown from preheat_starts_at (or starts_at) to ends_at
    ended = "ended"


class CouponStatus(StrEnum):
    unused = "unused"
    locked = "locked"  # held by a placed, unpaid order
    used = "used"
    expired = "expired"
    void = "void"  # withdrawn by staff


class Phase(StrEnum):
    """Where a scheduled thing stands now: computed from status and the clock, never stored."""

    draft = "draft"
    scheduled = "scheduled"  # active/published but not started (or in preheat)
    preheat = "preheat"
    running = "running"
    paused = "paused"
    ended = "ended"


# -- scope and conditions --------------------------------------------------------------------


class Scope(ReadModel):
    """Which goods a promotion or coupon applies to. Everything when ``all_goods``; else a line is
    in scope when its category (or an ancestor), brand, product or SKU is named; exclusions win."""

    all_goods: bool = True
    category_ids: ScopeIds = ()  # with descendants (a line carries its ancestors)
    brand_ids: ScopeIds = ()
    product_ids: ScopeIds = ()
    sku_ids: ScopeIds = ()
    exclude_product_ids: ScopeIds = ()
    exclude_sku_ids: ScopeIds = ()


class Channel(StrEnum):
    web = "web"  # desktop storefront
    h5 = "h5"  # phone browser
    wechat = "wechat"  # inside WeChat
    app = "app"  # API clients


class Conditions(ReadModel):
    """Who may get it: everyone by default."""

    new_customers_only: bool = False  # registered within ``new_customer_days``
    new_customer_days: Annotated[int, Field(ge=1, le=365)] = 30
    first_order_only: bool = False  # no paid order yet
    channels: tuple[Channel, ...] = ()  # () = every channel
    tiers: tuple[str, ...] = ()  # loyalty tiers (the loyalty issue fills this hook)


class CustomerFacts(ReadModel):
    """What the conditions are checked against (``None`` customer: a guest)."""

    customer_id: int | None = None
    registered_at: dt.datetime | None = None
    paid_orders: int = 0
    tier: str | None = None


# -- promotion rules --------------------------------------------------------------------------


class PromotionKind(StrEnum):
    full_reduction = "full_reduction"  # 满减: tiers of amount off at spend thresholds, or 每满 X 减 Y
    full_discount = "full_discount"  # 满折: percent off at a spend or piece threshold
    nth_discount = "nth_discount"  # 第 N 件 X 折
    timed_discount = "timed_discount"  # 限时折扣: a price or percent per SKU in a window
    gift = "gift"  # 满赠: a gift SKU at a threshold
    free_shipping = "free_shipping"  # 满 X 包邮


class ReductionTier(ReadModel):
    threshold_amount: Annotated[int, Field(ge=1, le=10**12)]  # 满 (goods in scope, after timed prices)
    amount_off: Annotated[int, Field(ge=1, le=10**12)]  # 减


class FullReductionRule(ReadModel):
    kind: Literal["full_reduction"] = "full_reduction"
    tiers: Annotated[tuple[ReductionTier, ...], Field(min_length=1, max_length=10)]
    repeat: bool = False  # 每满: the single tier's amount off for every threshold reached
    cap_amount: AmountInt | None = None  # the most a repeating reduction gives


class DiscountTier(ReadModel):
    threshold_amount: AmountInt = 0  # 满 X 元 (0: not by amount)
    threshold_pieces: Annotated[int, Field(ge=0, le=1000)] = 0  # 满 N 件 (0: not by pieces)
    percent_off: Percent


class FullDiscountRule(ReadModel):
    kind: Literal["full_discount"] = "full_discount"
    tiers: Annotated[tuple[DiscountTier, ...], Field(min_length=1, max_length=10)]


class NthDiscountRule(ReadModel):
    kind: Literal["nth_discount"] = "nth_discount"
    nth: Annotated[int, Field(ge=2, le=10)] = 2  # 第二件
    percent_off: Annotated[int, Field(ge=1, le=100)] = 50  # 半价; 100 = free (买一送一)


class TimedItem(ReadModel):
    sku_id: IdInt
    price_amount: AmountInt | None = None  # the price in the window, or
    percent_off: Percent | None = None  # percent off the list price


class TimedDiscountRule(ReadModel):
    kind: Literal["timed_discount"] = "timed_discount"
    items: Annotated[tuple[TimedItem, ...], Field(min_length=1, max_length=500)]


class GiftRule(ReadModel):
    kind: Literal["gift"] = "gift"
    threshold_amount: Annotated[int, Field(ge=1, le=10**12)]
    gift_sku_id: IdInt
    gift_quantity: Annotated[int, Field(ge=1, le=10)] = 1


class FreeShippingRule(ReadModel):
    kind: Literal["free_shipping"] = "free_shipping"
    threshold_amount: AmountInt = 0  # 满 X 包邮 (goods in scope after discounts); 0 = always
    threshold_pieces: Annotated[int, Field(ge=0, le=1000)] = 0
    provinces: tuple[str, ...] = ()  # () = everywhere (else only these destinations)


PromotionRule = Annotated[
    FullReductionRule | FullDiscountRule | NthDiscountRule | TimedDiscountRule | GiftRule | FreeShippingRule,
    Field(discriminator="kind"),
]


class PromotionWrite(InputModel):
    name: Name
    rule: PromotionRule
    scope: Scope = Scope()
    conditions: Conditions = Conditions()
    starts_at: dt.datetime
    ends_at: dt.datetime
    exclusive_group: Annotated[str, Field(max_length=40)] = ""
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    allow_coupons: bool = True
    campaign_id: IdInt | None = None


class PromotionRead(ReadModel):
    id: int
    name: str
    kind: PromotionKind
    status: PromotionStatus
    phase: Phase
    rule: PromotionRule
    scope: Scope
    conditions: Conditions
    starts_at: dt.datetime
    ends_at: dt.datetime
    exclusive_group: str
    priority: int
    allow_coupons: bool
    campaign_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


# -- coupons ------------------------------------------------------------------------------------


class CouponKind(StrEnum):
    amount = "amount"  # ¥X off (with min_spend: 满减券)
    percent = "percent"  # X % off, capped by max_discount_amount
    free_shipping = "free_shipping"  # the shipping fee off


class IssueTrigger(StrEnum):
    registration = "registration"  # 新人礼包
    first_order = "first_order"  # first paid order
    invite_inviter = "invite_inviter"  # invite-a-friend, the one who invited
    invite_invitee = "invite_invitee"  # invite-a-friend, the friend
    win_back = "win_back"  # 回归券: silent for 30 days
    birthday = "birthday"  # birthday month
    repurchase = "repurchase"  # after delivery


class CouponSource(StrEnum):
    claim = "claim"  # 领券中心 / product page
    code = "code"  # a redeemed code
    event = "event"  # an IssueTrigger
    bulk = "bulk"  # staff issued to a list
    staff = "staff"


class CouponTemplateWrite(InputModel):
    name: Name
    kind: CouponKind
    amount_off: AmountInt = 0
    percent_off: Percent | None = None
    max_discount_amount: AmountInt | None = None
    min_spend_amount: AmountInt = 0
    scope: Scope = Scope()
    channels: tuple[Channel, ...] = ()
    total_quantity: Annotated[int, Field(ge=1, le=10_000_000)]
    per_customer_limit: Annotated[int, Field(ge=1, le=100)] = 1
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    valid_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    claim_starts_at: dt.datetime | None = None
    claim_ends_at: dt.datetime | None = None
    claimable: bool = True
    issue_on: IssueTrigger | None = None
    return_on_refund: bool = True
    campaign_id: IdInt | None = None


class CouponTemplateRead(ReadModel):
    id: int
    name: str
    kind: CouponKind
    status: CouponTemplateStatus
    amount_off: int
    percent_off: int | None
    max_discount_amount: int | None
    min_spend_amount: int
    scope: Scope
    channels: tuple[Channel, ...]
    total_quantity: int
    issued_quantity: int
    per_customer_limit: int
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    valid_days: int | None
    claim_starts_at: dt.datetime | None
    claim_ends_at: dt.datetime | None
    claimable: bool
    issue_on: IssueTrigger | None
    return_on_refund: bool
    campaign_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CouponRead(ReadModel):
    """A coupon in a customer's wallet, with its template's terms."""

    id: int
    template_id: int
    customer_id: int
    name: str
    kind: CouponKind
    amount_off: int
    percent_off: int | None
    max_discount_amount: int | None
    min_spend_amount: int
    scope: Scope
    channels: tuple[Channel, ...]
    status: CouponStatus
    source: CouponSource
    valid_from: dt.datetime
    valid_until: dt.datetime
    issued_at: dt.datetime
    order_id: int | None
    used_at: dt.datetime | None


# -- campaigns ----------------------------------------------------------------------------------


class BannerBlock(ReadModel):
    kind: Literal["banner"] = "banner"
    image_url: Annotated[str, Field(min_length=1, max_length=300)]
    link: Annotated[str, Field(max_length=300)] = ""
    alt: Annotated[str, Field(max_length=120)] = ""


class ProductsBlock(ReadModel):
    kind: Literal["products"] = "products"
    title: Annotated[str, Field(max_length=60)] = ""
    product_ids: Annotated[tuple[IdInt, ...], Field(min_length=1, max_length=60)]


LandingBlock = Annotated[BannerBlock | ProductsBlock, Field(discriminator="kind")]


class CampaignWrite(InputModel):
    name: Name
    slug: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    description: Annotated[str, Field(max_length=300)] = ""
    preheat_starts_at: dt.datetime | None = None
    starts_at: dt.datetime
    ends_at: dt.datetime
    budget_amount: AmountInt | None = None
    blocks: Annotated[list[LandingBlock], Field(max_length=30)] = []


class CampaignRead(ReadModel):
    id: int
    name: str
    slug: str
    description: str
    status: CampaignStatus
    phase: Phase
    preheat_starts_at: dt.datetime | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    budget_amount: int | None
    spent_amount: int  # discount cost of paid, unrefunded orders so far
    blocks: tuple[LandingBlock, ...]
    created_at: dt.datetime
    updated_at: dt.datetime


# -- what shoppers see ----------------------------------------------------------------------------


class Tag(ReadModel):
    """A promotion tag on a product card or page ("满 299 减 30", "限时折扣"), translated when shown."""

    promotion_id: int | None = None
    kind: str  # PromotionKind or "coupon"
    message: str  # message id
    params: dict[str, str | int] = {}
    ends_at: dt.datetime | None = None  # for a countdown


class PriceTag(ReadModel):
    """What a product card or page shows for a SKU beside its list price."""

    sku_id: int
    list_price_amount: int
    promo_price_amount: int | None = None  # 限时折扣 price now (struck-through: the list price)
    promo_ends_at: dt.datetime | None = None
    coupon_price_amount: int | None = None  # 券后价: after the best coupon the shopper can claim or holds
    coupon_template_id: int | None = None  # that coupon's template (claim button)
    preheat_price_amount: int | None = None  # 预热: the coming price ...
    preheat_starts_at: dt.datetime | None = None  # ... and when it starts (countdown)
    tags: tuple[Tag, ...] = ()


class CouponOption(ReadModel):
    """A wallet coupon at checkout: usable with its saving, or why not ("还差 ¥12.00")."""

    coupon: CouponRead
    usable: bool
    saving_amount: int = 0
    reason: pricing.Reason | None = None  # why not usable


class Gift(ReadModel):
    promotion_id: int
    name: str
    sku_id: int
    quantity: int


class TierHint(ReadModel):
    """凑单: "再买 ¥23.00 可减 ¥30.00" — what is missing for a promotion's next tier."""

    promotion_id: int
    name: str
    kind: PromotionKind
    gap_amount: int  # goods in scope still to add
    reward: pricing.Reason  # what reaching it gives, as a message


CouponChoice = int | Literal["best", "none"]


class DealPrice(ReadModel):
    """A social play's price for one SKU (秒杀, 拼团, 砍价), set by the play, not by a promotion.

    An order at a deal price combines with nothing else: no live promotion and no coupon takes
    part (the play's price is the whole offer, as the shopper was shown it); shipping is the
    template's fee. ``quote(deal=...)`` prices it; the discount is the adjustment ``code``."""

    code: Annotated[str, Field(min_length=3, max_length=40)]  # "flash:12": the adjustment's code
    name: Annotated[str, Field(min_length=1, max_length=60)]  # shown by the line, e.g. "秒杀价"
    sku_id: int
    unit_price_amount: Annotated[int, Field(ge=0, le=10**12)]


class Quote(ReadModel):
    """A cart or order priced with the live promotions and the chosen coupon."""

    result: pricing.PriceResult
    coupon_id: int | None  # the coupon applied (None: none)
    coupon_options: tuple[CouponOption, ...] = ()  # the customer's unused coupons, best first
    gifts: tuple[Gift, ...] = ()  # 满赠 reached: to add at zero price when in stock
    hints: tuple[TierHint, ...] = ()  # 凑单
    names: dict[str, str] = {}  # adjustment code -> the promotion's or coupon's name (shown by line)
    promotion_ids: tuple[int, ...] = ()  # applied promotions
    coupons_blocked: bool = False  # an applied promotion does not combine with coupons


class DailyFigure(ReadModel):
    """One day of a report (the shop's time zone): paid orders placed that day and their discount."""

    day: dt.date
    orders: int
    discount_amount: int


class PromotionReport(ReadModel):
    """Issued/claimed/used (coupons), orders, GMV, discount cost and return on discount."""

    subject: Literal["promotion", "coupon_template", "campaign"]
    subject_id: int
    issued: int = 0
    used: int = 0
    orders: int = 0  # paid orders it applied to
    gmv_amount: int = 0  # their goods after discounts
    discount_amount: int = 0  # what it cost
    refunded_amount: int = 0
    return_on_discount: str = "0"  # GMV / discount, as a decimal string ("12.34"); "0" when no cost
    daily: tuple[DailyFigure, ...] = ()  # the last 30 days, oldest first, for the chart


class IssueRunRead(ReadModel):
    """A bulk run (codes generated, or coupons issued to a list) and its progress."""

    id: int
    template_id: int
    kind: Literal["codes", "customers"]
    status: Literal["queued", "running", "done", "failed"]
    total: int
    done: int
    issued: int
    skipped: int
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


# -- console+api --


class StatusChangeRead(ReadModel):
    """One status move of a promotion, coupon template or campaign: who, when, from, to, why."""

    from_status: str
    to_status: str
    actor_id: int | None
    actor_label: str
    reason: str
    created_at: dt.datetime


# -- trade --


class Discount(ReadModel):
    """One discount by name: a line's, a cart's or an order's share of a promotion or coupon."""

    code: str  # the adjustment's code: "promotion:<id>" or "coupon:<coupon id>"
    name: str  # the promotion's or coupon's name (``Quote.names``), else the code
    amount: int

    @classmethod
    def of_line(cls, quote: Quote, key: str) -> list[Discount]:
        """The line ``key``'s share of each adjustment on goods, in the order they applied."""
        return [
            cls(code=adj.code, name=quote.names.get(adj.code, adj.code), amount=adj.per_line[key])
            for adj in quote.result.adjustments
            if adj.target is pricing.AdjustmentTarget.lines and adj.per_line.get(key)
        ]


class AppliedDiscount(Discount):
    """An adjustment applied to a cart or order: by whom, on goods or on shipping, how much."""

    source: str  # "promotions" or "coupons" (the provider's name)
    target: pricing.AdjustmentTarget

    @classmethod
    def of_quote(cls, quote: Quote) -> list[AppliedDiscount]:
        """Every adjustment that took money off, in the order they applied."""
        return [
            cls(
                code=adj.code,
                name=quote.names.get(adj.code, adj.code),
                amount=adj.amount,
                source=adj.source,
                target=adj.target,
            )
            for adj in quote.result.adjustments
            if adj.amount
        ]


#: The most codes one batch generates, and the most customers one bulk run issues to.
MAX_CODE_BATCH = 100_000
MAX_ISSUE_RUN = 100_000


class CodeBatchCreate(InputModel):
    """Generate this many redeemable codes of a template (a run)."""

    count: Annotated[int, Field(ge=1, le=MAX_CODE_BATCH)]


class IssueRunCreate(InputModel):
    """Issue one coupon of a template to each of these customers (a run)."""

    customer_ids: Annotated[list[IdInt], Field(min_length=1, max_length=MAX_ISSUE_RUN)]


class RedeemCode(InputModel):
    """A redeemable code (兑换码) typed by the shopper."""

    code: Annotated[str, Field(min_length=1, max_length=32)]
