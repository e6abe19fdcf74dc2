"""Public order DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import EmailStr, Field, field_validator, model_validator

from mercato.core.schemas import AmountInt, IdInt, InputModel, MultilineText, ReadModel
from mercato.orders.states import OrderStatus
from mercato.pricing import Delivery
from mercato.promotions import AppliedDiscount, Channel, DealPrice, Discount


class OrderItem(InputModel):
    sku_id: IdInt
    quantity: Annotated[int, Field(ge=1, le=999)]


class AddressSnapshot(ReadModel):
    """The delivery address as it was when the order was placed."""

    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str = ""


class DeliverySlot(ReadModel):
    """A scheduled-delivery (定时达) window, in UTC; shown in shop time."""

    starts_at: dt.datetime
    ends_at: dt.datetime


class DeliveryChoice(ReadModel):
    """How the order reaches the shopper, as checked: the slot or the pickup store if any."""

    delivery: Delivery
    slot: DeliverySlot | None = None
    pickup_store_id: int | None = None


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def is_valid_tax_id(value: str) -> bool:
    """Whether ``value`` is a unified social credit code (统一社会信用代码, GB 32100-2015): 18
    characters whose last is the check character of the first 17 — the taxpayer id on every
    company invoice since 2015."""
    if len(value) != 18 or any(ch not in _USCC_CHARS for ch in value):
        return False
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == value[17]


class InvoiceKind(StrEnum):
    personal = "personal"  # 个人: the title is the shopper's name (or "个人")
    company = "company"  # 企业: the title is the company's name, with its tax id


class InvoiceRequest(InputModel):
    """An electronic VAT invoice (增值税电子普通发票) requested at checkout, issued after payment."""

    kind: InvoiceKind
    title: Annotated[str, Field(min_length=1, max_length=100)]
    tax_id: Annotated[str | None, Field(max_length=18)] = None  # required for a company
    email: EmailStr | None = None  # where the invoice is sent; else it is shown in the order

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str | None) -> str | None:
        return value.upper() or None if value is not None else None

    @model_validator(mode="after")
    def _company_has_tax_id(self) -> Self:
        if self.kind is InvoiceKind.company:
            if not self.tax_id:
                raise ValueError("a company invoice needs the company's tax id")
            if not is_valid_tax_id(self.tax_id):
                raise ValueError("the tax id is not a valid unified social credit code")
        elif self.tax_id:
            raise ValueError("a personal invoice has no tax id")
        return self


class PlaceOrder(InputModel):
    source_key: Annotated[str, Field(min_length=1, max_length=200)]  # e.g. "cart:12:3"; one order per key
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=100)]
    address: AddressSnapshot
    delivery: Delivery = Delivery.standard
    slot_starts_at: dt.datetime | None = None  # scheduled delivery: one of the offered slots
    pickup_store_id: IdInt | None = None  # store pickup
    invoice: InvoiceRequest | None = None
    note: Annotated[MultilineText, Field(max_length=200)] = ""
    expected_total_amount: AmountInt | None = None  # what the shopper confirmed; a different total is refused
    coupon: IdInt | Literal["best", "none"] = "best"  # a wallet coupon's id, the best usable one, or none
    channel: Channel = Channel.web  # where the shopper buys (promotions and coupons may be limited to some)


class Deal(ReadModel):
    """An order placed through a social play (秒杀, 拼团, 砍价) rather than at the shop's prices:
    the play's price for its one SKU (``price``: no promotion or coupon combines with it), at most
    ``max_quantity`` units, the quota hold its units come from (``stock_from``: a flash sale's
    units carved out of stock; None: free stock) and the play's own payment window.

    Only the domains running the plays build one; it is never read from a shopper's request."""

    price: DealPrice
    max_quantity: Annotated[int, Field(ge=1, le=999)] = 1
    stock_from: str | None = None
    pay_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None  # None: the shop's window
    hold_shipping: bool = False  # ships only once the play releases it (a group once complete)


class OrderLineRead(ReadModel):
    id: int
    sub_order_id: int
    sku_id: int
    product_id: int
    sku_code: str
    title: str
    spec: dict[str, str]
    image_url: str | None
    quantity: int
    refunded_quantity: int  # refunded before shipping: these units do not ship
    list_unit_price_amount: int
    unit_price_amount: int
    discount_amount: int
    total_amount: int
    tax_amount: int
    discounts: list[Discount] = []  # its share of each promotion and coupon; sums to discount_amount
    is_gift: bool = False  # 满赠: a gift at zero price


class SubOrderRead(ReadModel):
    id: int
    warehouse_id: int
    status: str
    goods_amount: int
    shipping_amount: int
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None


class StatusChangeRead(ReadModel):
    """One step of an order's timeline. ``note`` is set when the system wrote ``reason``: its
    English message id, translated where drawn with ``details`` as its parameters; a reason a
    person typed (a cancellation's) has none and is shown as typed."""

    sub_order_id: int | None  # set when only that sub-order moved
    from_status: str
    to_status: str
    actor_label: str
    reason: str
    note: str | None = None
    details: dict[str, str] = {}
    created_at: dt.datetime


class OrderSummary(ReadModel):
    id: int
    number: str
    customer_id: int
    status: OrderStatus
    currency: str
    total_amount: int
    placed_at: dt.datetime
    pay_by: dt.datetime
    paid_at: dt.datetime | None


class OrderLinePreview(ReadModel):
    """What an order card in the shopper's list shows of a line."""

    id: int
    sku_id: int
    title: str
    spec: dict[str, str]
    image_url: str | None
    quantity: int


class OrderCard(OrderSummary):
    """One order in the shopper's list: its summary, its lines' preview and its totals."""

    subtotal_amount: int
    discount_amount: int
    shipping_amount: int
    lines: list[OrderLinePreview]


class OrderRead(OrderSummary):
    subtotal_amount: int
    discount_amount: int
    shipping_amount: int
    tax_amount: int
    address: AddressSnapshot
    delivery: Delivery
    slot: DeliverySlot | None  # scheduled delivery
    pickup_store_id: int | None  # store pickup
    invoice: InvoiceRequest | None
    note: str
    payment_id: int | None
    shipped_at: dt.datetime | None  # the last sub-order left
    delivered_at: dt.datetime | None  # the last sub-order arrived
    closed_at: dt.datetime | None  # cancelled or completed
    adjustments: list[AppliedDiscount] = []  # every promotion and coupon applied (goods and shipping)
    coupon_id: int | None = None  # the coupon used (locked until paid)
    gift_unavailable: bool = False  # a 满赠 gift was reached but out of stock: the order went without it
    deal: str = ""  # placed at a social play's price: its code ("flash:12"); "" otherwise
    ship_hold: bool = False  # paid but waiting (a group not complete yet): nothing ships until released
    sub_orders: list[SubOrderRead]
    lines: list[OrderLineRead]
    history: list[StatusChangeRead]


class CancelOrder(InputModel):
    reason: Annotated[MultilineText, Field(min_length=1, max_length=300)]


class BuyerSearch(ReadModel):
    """The console's search for a customer's orders: orders of these accounts, or addressed to a
    recipient with this mobile number (E.164, as addresses are stored) or this exact name."""

    customer_ids: tuple[IdInt, ...] = ()
    recipient_phone: str | None = None
    recipient_name: str = ""


class CustomerOrderStats(ReadModel):
    """One customer's orders in figures (customer 360): ``orders`` counts every order placed;
    spend, paid orders, average order value and the last purchase count paid orders only (see
    ``PAID_STATUSES``), in ``currency``'s minor units."""

    currency: str
    orders: int
    paid_orders: int
    spend_amount: int  # GMV of the customer's paid orders (lifetime spend)
    average_order_amount: int  # spend / paid orders, rounded half up; 0 without paid orders
    last_purchase_at: dt.datetime | None  # when the latest paid order was paid
