"""Public DTOs and inputs of bargaining (砍价): offers kept by staff, shoppers' bargains, their
helps (each cut with the helper's masked name, never their id) and the console's live counts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from mercato.core.schemas import IdInt, InputModel, MultilineText, ReadModel

#: The largest price a bargain may start from (¥100,000,000.00, the cut schedule's bound).
MAX_BARGAIN_AMOUNT = 10**10


class BargainOfferStatus(StrEnum):
    draft = "draft"  # being set up: invisible to shoppers, editable
    active = "active"  # shoppers may start bargains within its window
    ended = "ended"  # no new bargains (ended by staff or its end passed); running ones run out


class BargainStatus(StrEnum):
    active = "active"  # collecting helps; the initiator may buy at the price now
    floor_reached = "floor_reached"  # every help needed is in: the floor price (底价)
    ordered = "ordered"  # an order placed at the price then, waiting for payment
    bought = "bought"  # the order was paid
    expired = "expired"  # ended without a purchase: time ran out, or the order was refunded in full


BargainAmount = Annotated[int, Field(ge=0, le=MAX_BARGAIN_AMOUNT)]
Helps = Annotated[int, Field(ge=1, le=500)]


class BargainOfferWrite(InputModel):
    """A bargaining offer on one SKU: from its price down to the floor with a number of helps
    between ``helps_min`` and ``helps_max`` (drawn per bargain when it starts), within ``hours``
    of starting; at most ``stock`` units bought through it."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    sku_id: IdInt
    price_amount: BargainAmount | None = None  # where bargains start; the SKU's price when omitted
    floor_amount: BargainAmount  # 底价, below the starting price
    helps_min: Helps
    helps_max: Helps
    hours: Annotated[int, Field(ge=1, le=168)] = 24  # each bargain's time limit
    stock: Annotated[int, Field(ge=1, le=100_000)]  # units bought through the offer at most
    per_customer: Annotated[int, Field(ge=1, le=99)] = 1  # bargains one customer may start
    new_helpers_only: bool = False  # only accounts registered after the bargain started may help
    starts_at: dt.datetime
    ends_at: dt.datetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times must carry a time zone")
        if self.helps_max < self.helps_min:
            raise ValueError("helps_max must not be below helps_min")
        return self


class BargainOfferRead(ReadModel):
    id: int
    name: str
    sku_id: int
    product_id: int
    price_amount: int
    floor_amount: int
    helps_min: int
    helps_max: int
    hours: int
    stock: int
    sold: int  # units in pending or paid orders through the offer
    per_customer: int
    new_helpers_only: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: BargainOfferStatus
    created_at: dt.datetime
    updated_at: dt.datetime

    def is_open(self, now: dt.datetime) -> bool:
        """Whether shoppers may start a bargain now."""
        return self.status is BargainOfferStatus.active and self.starts_at <= now < self.ends_at


class BargainOfferView(ReadModel):
    """An open offer as the bargaining page shows it: the product, the starting price, the floor,
    and how many units are left."""

    id: int
    name: str
    sku_id: int
    product_id: int
    title: str
    spec: dict[str, str]
    image_url: str | None
    price_amount: int
    floor_amount: int
    helps_min: int
    helps_max: int
    hours: int
    left: int  # units not yet taken through the offer
    ends_at: dt.datetime


class BargainOfferFigures(ReadModel):
    """The console's live counts of one offer. ``started``: every bargain; ``floor_reached``:
    bargains that got every help they needed (whatever became of them since); ``active``,
    ``ordered``, ``bought``, ``expired``: bargains by their status now; ``helps``: every help."""

    offer_id: int
    started: int
    active: int
    floor_reached: int
    ordered: int
    bought: int
    expired: int
    helps: int
    stock: int
    sold: int


class BargainHelpRead(ReadModel):
    """One cut, as anyone with the link sees it: the helper's name masked (张**), never their id."""

    position: int  # 1 for the first help
    amount: int
    helper_name: str  # masked; blank when the account has no name
    created_at: dt.datetime


class BargainRead(ReadModel):
    """A bargain as its page shows it: the price now against the floor, the helps done and
    needed, every cut with its helper's masked name. ``is_mine``, ``helped``, ``my_cut_amount``
    and ``order_id`` are about the viewer (the order only for the initiator)."""

    id: int
    offer_id: int
    offer_name: str
    sku_id: int
    product_id: int
    title: str
    spec: dict[str, str]
    image_url: str | None
    initiator_name: str  # masked
    price_amount: int
    floor_amount: int
    current_amount: int
    helps_needed: int
    helps_done: int
    status: BargainStatus
    expires_at: dt.datetime
    created_at: dt.datetime
    server_now: dt.datetime  # countdowns run from this, not from the device's clock
    helps: list[BargainHelpRead] = []
    is_mine: bool = False
    helped: bool = False
    my_cut_amount: int | None = None  # what the viewer's own help took off
    order_id: int | None = None

    @property
    def left_amount(self) -> int:
        """How much more the helps still to come take off (0 at the floor)."""
        return self.current_amount - self.floor_amount

    @property
    def cut_amount(self) -> int:
        return self.price_amount - self.current_amount

    @property
    def is_open(self) -> bool:
        """Whether it still takes helps (active and not expired by the server's clock)."""
        return self.status is BargainStatus.active and self.server_now < self.expires_at

    @property
    def can_buy(self) -> bool:
        return (
            self.status in (BargainStatus.active, BargainStatus.floor_reached)
            and self.server_now < self.expires_at
        )


class BargainBuy(InputModel):
    """Buying a bargain's one unit at its price now: where to, the total the shopper was shown."""

    address_id: IdInt | None = None  # the default address unless given
    expected_total_amount: Annotated[int, Field(ge=0, le=10**12)]
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"
    note: Annotated[MultilineText, Field(max_length=200)] = ""


class BargainConfirm(InputModel):
    """The confirm step: to which address (the default one unless given)."""

    address_id: IdInt | None = None


class EndBargainOffer(InputModel):
    reason: Annotated[MultilineText, Field(max_length=300)] = ""
