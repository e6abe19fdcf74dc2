"""Public checkout DTOs and inputs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mercato.core.schemas import InputModel, ReadModel
from mercato.pricing import Delivery, PriceResult

AddressId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ConfirmCheckout(InputModel):
    """Step 2 (confirm): where and how; the answer is the price to pay."""

    address_id: AddressId
    delivery: Delivery = Delivery.standard


class CompleteCheckout(ConfirmCheckout):
    """Step 3 (pay): place the order for the ticked lines and open the payment."""

    note: Annotated[str, Field(max_length=200)] = ""
    expected_total_amount: Annotated[int, Field(ge=0, le=10**12)]  # the total the shopper confirmed
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"


class CheckoutQuote(ReadModel):
    address_id: int
    delivery: Delivery
    price: PriceResult


class CheckoutResult(ReadModel):
    order_id: int
    order_number: str
    total_amount: int
    currency: str
    payment_id: int
    pay_path: str  # GET it to be sent to the gateway's pay page


class BuyNow(InputModel):
    """Buy one SKU at once, without the cart, to the default address unless another is chosen."""

    sku_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    quantity: Annotated[int, Field(ge=1, le=999)] = 1
    address_id: AddressId | None = None
    delivery: Delivery = Delivery.standard
    note: Annotated[str, Field(max_length=200)] = ""
    expected_total_amount: Annotated[int, Field(ge=0, le=10**12)]
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"
