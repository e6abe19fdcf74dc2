"""Public cart DTOs and inputs."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from mercato.cart.states import CartStatus
from mercato.core.schemas import IdInt, InputModel, ReadModel
from mercato.promotions import AppliedDiscount, Discount, TierHint

MAX_LINES = 100
MAX_QUANTITY = 999
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Id = IdInt


class AddLine(InputModel):
    sku_id: Id
    quantity: Quantity = 1


class ChangeLine(InputModel):
    quantity: Quantity | None = None
    selected: bool | None = None


class SelectLines(InputModel):
    """Tick or untick lines for checkout; no ``line_ids`` means every line."""

    line_ids: Annotated[list[Id] | None, Field(max_length=MAX_LINES)] = None
    selected: bool


class CartRef(ReadModel):
    """Which cart a caller has (the view comes from ``view_cart``)."""

    id: int
    status: CartStatus
    customer_id: int | None
    currency: str
    checkout_reference: str | None  # what the frozen cart is being paid for


class NoticeCode(StrEnum):
    price_changed = "price_changed"  # the price differs from when it was added
    low_stock = "low_stock"  # only a few left
    sold_out = "sold_out"  # none left, or no longer on sale
    quantity_reduced = "quantity_reduced"  # fewer available than in the cart
    below_minimum = "below_minimum"  # the product has a minimum order quantity


class Notice(ReadModel):
    code: NoticeCode
    message: str  # in the caller's language
    params: dict[str, int | str] = {}


class CartLineView(ReadModel):
    id: int
    sku_id: int
    product_id: int
    product_slug: str
    title: str
    spec: dict[str, str]
    image_url: str | None
    quantity: int
    selected: bool
    can_buy: bool  # on sale, in stock for the quantity, at least the minimum
    unit_price_amount: int  # now, after quantity price breaks
    added_unit_price_amount: int
    market_price_amount: int | None
    subtotal_amount: int
    discount_amount: int
    total_amount: int
    available: int
    notices: list[Notice]
    discounts: list[Discount] = []  # its share of each promotion and coupon, by name


class CartView(ReadModel):
    """The cart as the shopper sees it now: prices and stock re-checked on every read."""

    id: int | None  # None: no cart yet
    status: CartStatus
    currency: str
    lines: list[CartLineView]
    selected_quantity: int
    subtotal_amount: int  # selected, buyable lines
    discount_amount: int
    shipping_amount: int
    total_amount: int
    free_shipping_gap_amount: int | None
    can_checkout: bool
    discounts: list[AppliedDiscount] = []  # each promotion and coupon applied (goods and shipping), by name
    coupon_saving_amount: int = 0  # what the best usable coupon takes off (checkout picks it)
    hints: list[TierHint] = []  # 凑单: what is missing for a promotion's next tier
