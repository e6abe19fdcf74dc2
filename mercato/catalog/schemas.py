"""Public catalog DTOs and inputs."""

from __future__ import annotations

from mercato.core.schemas import ReadModel


class SkuRef(ReadModel):
    """What other domains need to know about a SKU (inventory, cart, orders)."""

    id: int
    product_id: int
    code: str
    spec: dict[str, str]
    currency: str
    price_amount: int
    weight_grams: int
    status: str
