"""Public checkout DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from mercato.core.schemas import AmountInt, IdInt, InputModel, MultilineText, ReadModel
from mercato.orders import DeliverySlot, InvoiceRequest, OrderStatus, OrderSummary
from mercato.payments import PaymentRead
from mercato.pricing import Delivery, PriceResult
from mercato.promotions import AppliedDiscount, CouponOption, Gift

AddressId = IdInt
StoreId = IdInt


#: A wallet coupon's id, the best usable one, or none.
CouponPick = IdInt | Literal["best", "none"]


class ConfirmCheckout(InputModel):
    """Step 2 (confirm): where and how; the answer is the price to pay.

    The address is where the goods go, or for store pickup who collects them (name and phone).
    Scheduled delivery (定时达) needs ``slot_starts_at`` from ``GET /checkout/delivery-slots``;
    store pickup needs ``pickup_store_id`` from ``GET /checkout/pickup-stores``.
    """

    address_id: AddressId
    delivery: Delivery = Delivery.standard
    slot_starts_at: dt.datetime | None = None
    pickup_store_id: StoreId | None = None
    coupon: CouponPick = "best"


class ConfirmBuyNow(ConfirmCheckout):
    """立即购买's confirm step: one SKU priced for this address and delivery, holding nothing."""

    sku_id: IdInt
    quantity: Annotated[int, Field(ge=1, le=999)] = 1


class CompleteCheckout(ConfirmCheckout):
    """Step 3 (pay): place the order for the ticked lines and open the payment."""

    invoice: InvoiceRequest | None = None  # 发票: personal, or company with its tax id
    note: Annotated[MultilineText, Field(max_length=200)] = ""
    expected_total_amount: AmountInt  # the total the shopper confirmed
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"


class CheckoutQuote(ReadModel):
    address_id: int
    delivery: Delivery
    slot: DeliverySlot | None
    pickup_store_id: int | None
    price: PriceResult
    discounts: list[AppliedDiscount] = []  # each promotion and coupon applied, by name
    coupon_id: int | None = None  # the coupon applied ("best": the one saving most)
    coupon_options: list[CouponOption] = []  # the customer's coupons: usable with their saving, or why not
    coupons_blocked: bool = False  # a promotion applied does not combine with coupons
    gifts: list[Gift] = []  # 满赠 reached: added at zero price when in stock


class PickupStore(ReadModel):
    """A store a shopper can collect an order from (到店自提)."""

    id: int
    name: str
    province: str
    city: str
    district: str
    detail: str


class CheckoutResult(ReadModel):
    order_id: int
    order_number: str
    total_amount: int
    currency: str
    payment_id: int
    pay_path: str  # GET it to be sent to the gateway's pay page


class BuyNow(InputModel):
    """Buy one SKU at once, without the cart, to the default address unless another is chosen."""

    sku_id: IdInt
    quantity: Annotated[int, Field(ge=1, le=999)] = 1
    address_id: AddressId | None = None
    delivery: Delivery = Delivery.standard
    slot_starts_at: dt.datetime | None = None
    pickup_store_id: StoreId | None = None
    coupon: CouponPick = "best"
    invoice: InvoiceRequest | None = None
    note: Annotated[MultilineText, Field(max_length=200)] = ""
    expected_total_amount: AmountInt
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"


class PayOutcome(StrEnum):
    """Where an order stands for the shopper after paying (the result page)."""

    paid = "paid"  # the money arrived (the order may have moved on since)
    waiting = "waiting"  # not paid yet: still to pay, or the gateway has not told us
    failed = "failed"  # the last payment failed; the order can still be paid
    cancelled = "cancelled"  # not paid in time, or cancelled; nothing to pay


class OrderPayment(ReadModel):
    """One of the customer's payments with the order it pays for (the pay page)."""

    payment: PaymentRead
    order_id: int
    order_number: str
    order_status: OrderStatus
    outcome: PayOutcome


class OrderOutcome(ReadModel):
    """An order as the result page shows it: its latest payment and what that came to."""

    order: OrderSummary
    payment: PaymentRead | None
    outcome: PayOutcome
