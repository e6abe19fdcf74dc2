"""Public pricing DTOs: what goes into a price calculation and what comes out.

All amounts are integer minor units (fen for CNY) of ``currency``; discounts are stored as
positive amounts taken off. Rates are ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import Field, field_validator

from mercato.core.schemas import InputModel, ReadModel, check_text

Amount = Annotated[int, Field(ge=0, le=10**12)]
Units = Annotated[int, Field(ge=1, le=1_000_000)]


class PriceBreakIn(ReadModel):
    min_quantity: Annotated[int, Field(ge=2)]
    unit_price_amount: Amount


class SellableLike(Protocol):
    """What ``LineIn.for_sku`` reads from a SKU (``catalog.SellableSku`` has it all)."""

    @property
    def sku_id(self) -> int: ...
    @property
    def product_id(self) -> int: ...
    @property
    def category_ids(self) -> Sequence[int]: ...
    @property
    def price_amount(self) -> int: ...
    @property
    def weight_grams(self) -> int: ...
    @property
    def seller_id(self) -> int | None: ...
    @property
    def brand_id(self) -> int | None: ...
    @property
    def price_breaks(self) -> Sequence[Any]: ...  # each with min_quantity and unit_price_amount


class LineIn(ReadModel):
    """One line to price: a SKU, how many, its list price and what shipping needs to know."""

    key: Annotated[str, Field(min_length=1, max_length=64)]  # the cart line (or SKU) it belongs to
    sku_id: int
    product_id: int
    category_ids: tuple[int, ...] = ()  # the category and its ancestors, for promotion targeting
    quantity: Units
    unit_price_amount: Amount
    price_breaks: tuple[PriceBreakIn, ...] = ()
    weight_grams: Annotated[int, Field(ge=0)] = 0
    seller_id: int | None = None
    brand_id: int | None = None  # for promotion targeting

    @classmethod
    def for_sku(cls, sku: SellableLike, *, key: str, quantity: int) -> LineIn:
        """The line for ``quantity`` units of a SKU as the catalog sells it now."""
        return cls(
            key=key,
            sku_id=sku.sku_id,
            product_id=sku.product_id,
            category_ids=tuple(sku.category_ids),
            quantity=quantity,
            unit_price_amount=sku.price_amount,
            price_breaks=tuple(
                PriceBreakIn(min_quantity=b.min_quantity, unit_price_amount=b.unit_price_amount)
                for b in sku.price_breaks
            ),
            weight_grams=sku.weight_grams,
            seller_id=sku.seller_id,
            brand_id=sku.brand_id,
        )


class ShippingBasis(StrEnum):
    pieces = "pieces"  # 按件: fee by the number of units
    weight = "weight"  # 按重量: fee by the total weight in grams


class ShippingRule(ReadModel):
    """Fee for the destinations in ``regions`` ("*": anywhere not named by another rule)."""

    regions: tuple[str, ...] = ("*",)
    basis: ShippingBasis = ShippingBasis.pieces
    first_units: Units = 1  # pieces, or grams
    first_fee_amount: Amount = 0
    additional_units: Units = 1
    additional_fee_amount: Amount = 0
    free_over_amount: Amount | None = None  # 满 X 包邮: goods total at which shipping is free


class ShippingTemplate(ReadModel):
    name: str
    rules: tuple[ShippingRule, ...]
    express_surcharge_amount: Amount = 0  # 加急 on top of the standard fee


class Delivery(StrEnum):
    standard = "standard"  # 普通快递
    express = "express"  # 加急: the standard fee plus the template's surcharge
    scheduled = "scheduled"  # 定时达: a chosen time slot, priced like standard
    pickup = "pickup"  # 到店自提: no shipping fee


class TaxMode(StrEnum):
    included = "included"  # prices include VAT (mainland China): tax is the part of the total
    added = "added"  # cross-border: tax is added on top of goods and shipping


class PricingContext(ReadModel):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    province: str | None = None  # destination; None before an address is chosen
    delivery: Delivery = Delivery.standard
    tax_mode: TaxMode = TaxMode.included
    tax_rate: Decimal = Decimal("0.13")
    customer_id: int | None = None
    codes: tuple[str, ...] = ()  # coupon codes the shopper entered


class AdjustmentTarget(StrEnum):
    lines = "lines"  # money off goods, shared across the eligible lines
    shipping = "shipping"  # money off the shipping fee


class Stacking(StrEnum):
    stack = "stack"  # combines with every other stacking adjustment
    exclusive = "exclusive"  # applies only if nothing applied before it, and stops later ones


class Reason(ReadModel):
    """Why the shopper gets it, as a message id and its parameters (translated when shown)."""

    message: str
    params: dict[str, str | int] = {}


class Proposal(ReadModel):
    """What a promotion provider asks for; the engine caps and shares it."""

    code: str  # the promotion's stable id, e.g. "coupon:SPRING10" or "full-reduction:7"
    reason: Reason
    target: AdjustmentTarget = AdjustmentTarget.lines
    amount: Amount  # money off wanted (capped so nothing goes below zero)
    line_keys: tuple[str, ...] | None = None  # eligible lines; None = every line
    stacking: Stacking = Stacking.stack
    #: SKU-level prices (限时折扣): the exact money off each named line (each capped at what is left
    #: of it) instead of ``amount`` shared over ``line_keys``; ``amount`` is then their sum.
    line_amounts: dict[str, Annotated[int, Field(ge=0, le=10**12)]] | None = None


class Adjustment(ReadModel):
    """An applied discount: who gave it, why, how much, and how it was shared over the lines."""

    source: str  # the provider's name
    code: str
    reason: Reason
    target: AdjustmentTarget
    amount: int  # money off actually applied (>= 0)
    per_line: dict[str, int] = {}  # line key -> its share (sums to amount for line targets)


class LineOut(ReadModel):
    key: str
    sku_id: int
    quantity: int
    list_unit_price_amount: int  # the SKU's price
    unit_price_amount: int  # after quantity price breaks
    subtotal_amount: int  # unit price x quantity
    discount_amount: int  # its share of the line discounts
    total_amount: int  # subtotal - discount
    tax_amount: int  # the VAT inside total (included), or the tax added for it (added)


class PriceResult(ReadModel):
    currency: str
    lines: tuple[LineOut, ...]
    subtotal_amount: int  # goods before discounts
    discount_amount: int  # money off goods
    goods_amount: int  # subtotal - discount
    shipping_fee_amount: int  # before shipping discounts
    shipping_discount_amount: int
    shipping_amount: int  # what is paid for shipping
    tax_amount: int
    tax_mode: TaxMode
    total_amount: int  # what the shopper pays
    adjustments: tuple[Adjustment, ...]
    free_shipping_gap_amount: int | None  # "再买 ¥12 包邮": goods still to add; None if no threshold


class ShippingTemplateWrite(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    rules: Annotated[list[ShippingRule], Field(min_length=1, max_length=50)]
    express_surcharge_amount: Amount = 0
    is_default: bool = False

    @field_validator("rules")
    @classmethod
    def _safe_regions(cls, rules: list[ShippingRule]) -> list[ShippingRule]:
        """A rule is a read model (templates are read back through it), so ``InputModel`` does not
        walk its text: the regions are checked here, on the way in only."""
        for rule in rules:
            for region in rule.regions:
                check_text(region)
        return rules


class ShippingTemplateRead(ReadModel):
    id: int
    name: str
    rules: tuple[ShippingRule, ...]
    express_surcharge_amount: int
    currency: str
    is_default: bool

    def template(self) -> ShippingTemplate:
        return ShippingTemplate(
            name=self.name, rules=self.rules, express_surcharge_amount=self.express_surcharge_amount
        )
