"""Public order DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from mercato.core.schemas import InputModel, ReadModel
from mercato.orders.states import OrderStatus
from mercato.pricing import Delivery


class OrderItem(InputModel):
    sku_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
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


class PlaceOrder(InputModel):
    source_key: Annotated[str, Field(min_length=1, max_length=100)]  # e.g. "cart:12:3"; one order per key
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=100)]
    address: AddressSnapshot
    delivery: Delivery = Delivery.standard
    note: Annotated[str, Field(max_length=200)] = ""
    expected_total_amount: int | None = None  # what the shopper confirmed; a different total is refused


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
    list_unit_price_amount: int
    unit_price_amount: int
    discount_amount: int
    total_amount: int
    tax_amount: int


class SubOrderRead(ReadModel):
    id: int
    warehouse_id: int
    status: str
    goods_amount: int
    shipping_amount: int


class StatusChangeRead(ReadModel):
    from_status: str
    to_status: str
    actor_label: str
    reason: str
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


class OrderRead(OrderSummary):
    subtotal_amount: int
    discount_amount: int
    shipping_amount: int
    tax_amount: int
    address: AddressSnapshot
    delivery: Delivery
    note: str
    payment_id: int | None
    sub_orders: list[SubOrderRead]
    lines: list[OrderLineRead]
    history: list[StatusChangeRead]


class CancelOrder(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=300)]
