"""Checkout factories: a shop with a default shipping template and a shopper with an address."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import pricing
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.catalog import SYSTEM
from tests.factories.identity import signed_in_customer

ADDRESS = {
    "recipient": "韩梅梅",
    "phone": "13900000000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
    "postal_code": "310000",
    "is_default": True,
}


async def open_shop(*, price: int = 3000, stock: int = 5) -> tuple[int, int]:
    """The default shipping template (8 元, 2 元 each further piece, free over 99 元) and a
    T-shirt on sale in red and black at ``price``, ``stock`` of each; returns (red, black)."""
    async with uow() as s:
        await pricing.create_shipping_template(
            s,
            data=pricing.ShippingTemplateWrite(
                name="标准",
                rules=[
                    pricing.ShippingRule(
                        first_fee_amount=800, additional_fee_amount=200, free_over_amount=9900
                    )
                ],
                is_default=True,
            ),
            actor=SYSTEM,
        )
    red, black = await listed_skus(price=price, stock=stock)
    return red, black


async def shopper(client: AsyncClient) -> tuple[dict[str, str], int]:
    """A signed-in customer with a default address: (Authorization header, address id)."""
    _customer, auth = await signed_in_customer(client)
    address = (await client.post("/api/v1/me/addresses", json=ADDRESS, headers=auth)).json()
    return auth, address["id"]


async def shopper_with_cart(
    client: AsyncClient, *, price: int = 3000, stock: int = 5, quantity: int = 2
) -> tuple[dict[str, str], int, int]:
    """An open shop and a shopper with ``quantity`` red in the cart: (auth, address id, red)."""
    red, _black = await open_shop(price=price, stock=stock)
    auth, address_id = await shopper(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": quantity}, headers=auth)
    return auth, address_id, red
