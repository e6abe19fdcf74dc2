"""Public DTOs and inputs of the social plays (flash sales so far)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from mercato.core.schemas import AmountInt, IdInt, InputModel, MultilineText, ReadModel


class FlashSessionStatus(StrEnum):
    draft = "draft"  # being set up: invisible to shoppers, items editable
    published = "published"  # shown (即将开始 before its start, 抢购中 until its end); quotas held
    ended = "ended"  # its end passed; the unsold quota went back to stock
    cancelled = "cancelled"  # withdrawn; the unsold quota went back to stock


class FlashPhase(StrEnum):
    """Where a published session stands for shoppers, from the server's clock."""

    upcoming = "upcoming"  # 即将开始
    live = "live"  # 抢购中
    over = "over"  # 已结束


class PurchaseStatus(StrEnum):
    pending = "pending"  # placed, waiting for payment (the play's short window)
    paid = "paid"
    released = "released"  # cancelled or not paid in time: the units went back to the quota
    refunded = "refunded"  # refunded in full before shipping: the units went back too


Quota = Annotated[int, Field(ge=1, le=100_000)]
PerCustomer = Annotated[int, Field(ge=1, le=99)]


class FlashSessionWrite(InputModel):
    """A session (场次): a name and when it runs."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: Annotated[MultilineText, Field(max_length=300)] = ""  # shown under the tabs, e.g. the rules
    human_check: bool = False  # buyers solve a proof-of-work puzzle first (against scripted buying)

    @model_validator(mode="after")
    def _aware(self) -> Self:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times must carry a time zone")
        return self


class FlashItemWrite(InputModel):
    """One SKU in a session: its sale price, the units set aside and how many one customer may buy."""

    sku_id: IdInt
    price_amount: AmountInt  # 秒杀价, below the SKU's price
    quota: Quota  # units carved out of stock when the session is published
    per_customer: PerCustomer = 1  # units one customer may buy in this session (one order by default)
    position: Annotated[int, Field(ge=0, le=10_000)] = 0


class FlashItemRead(ReadModel):
    id: int
    session_id: int
    sku_id: int
    product_id: int
    price_amount: int
    quota: int
    per_customer: int
    position: int


class FlashSessionRead(ReadModel):
    id: int
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: str
    human_check: bool
    status: FlashSessionStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None
    items: list[FlashItemRead] = []

    def phase(self, now: dt.datetime) -> FlashPhase:
        if self.status is not FlashSessionStatus.published or now >= self.ends_at:
            return FlashPhase.over
        return FlashPhase.live if now >= self.starts_at else FlashPhase.upcoming


class FlashItemFigures(ReadModel):
    """What became of one item's quota (the console's live counts): ``left`` units not taken,
    ``pending`` in orders waiting for payment, ``paid``; ``released`` units that came back from
    orders not paid in time or cancelled (and were offered again), ``refunded``."""

    item_id: int
    quota: int
    left: int
    pending: int
    paid: int
    released: int
    refunded: int
    orders: int  # every order placed for it
    buyers: int  # distinct customers with a pending or paid order


class FlashOffer(ReadModel):
    """One item as the flash-sale page shows it: the product, both prices, and how much is left."""

    item_id: int
    session_id: int
    sku_id: int
    product_id: int
    title: str
    spec: dict[str, str]
    image_url: str | None
    list_price_amount: int
    price_amount: int
    quota: int
    left: int  # units not yet taken (0: sold out; orders not paid in time bring units back)
    per_customer: int

    @property
    def sold_out(self) -> bool:
        return self.left <= 0

    @property
    def sold_percent(self) -> int:
        return min(100, (self.quota - max(self.left, 0)) * 100 // self.quota) if self.quota else 100


class FlashSessionView(ReadModel):
    """A published session for shoppers, with its phase from the server's clock and its offers."""

    id: int
    name: str
    note: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    phase: FlashPhase
    server_now: dt.datetime  # countdowns run from this, not from the device's clock
    human_check: bool
    offers: list[FlashOffer]
    reminded: bool = False  # the signed-in customer asked to be reminded of its start


class FlashBuy(InputModel):
    """A flash-sale order: the item, how many (within the per-customer limit), where to."""

    quantity: Annotated[int, Field(ge=1, le=99)] = 1
    address_id: IdInt | None = None  # the default address unless given
    expected_total_amount: AmountInt
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"
    note: Annotated[MultilineText, Field(max_length=200)] = ""
    proof: Annotated[str, Field(max_length=200)] = ""  # the human check's answer when it is on


class FlashConfirm(InputModel):
    """The confirm step: how many, to which address (the default one unless given)."""

    quantity: Annotated[int, Field(ge=1, le=99)] = 1
    address_id: IdInt | None = None


class CancelFlashSession(InputModel):
    reason: Annotated[MultilineText, Field(max_length=300)] = ""


class AdmissionVerdict(StrEnum):
    admitted = "admitted"
    sold_out = "sold_out"
    over_limit = "over_limit"


class StatusChangeRead(ReadModel):
    """One recorded status move of a session (the console's history)."""

    from_status: str
    to_status: str
    actor_id: int | None
    actor_label: str
    reason: str
    created_at: dt.datetime
