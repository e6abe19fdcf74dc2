"""Public DTOs and inputs of 拼团 group buying."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from mercato.core.schemas import AmountInt, IdInt, InputModel, MultilineText, ReadModel


class GroupOfferStatus(StrEnum):
    draft = "draft"  # being set up: invisible to shoppers
    active = "active"  # groups can be opened and joined between its start and end
    ended = "ended"  # no new groups; groups already forming run to their own end


class GroupStatus(StrEnum):
    pending = "pending"  # opened by a leader's order that is not paid yet (not shown to others)
    forming = "forming"  # the leader paid: shown and joinable until it is full or its time runs out
    complete = "complete"  # every seat paid (or, with 模拟成团 disclosed, completed at its end)
    failed = "failed"  # time ran out: every paying member refunded in full
    abandoned = "abandoned"  # the leader's order was never paid


class MemberStatus(StrEnum):
    pending = "pending"  # the order waits for payment
    seated = "seated"  # paid and holds a seat
    cancelled = "cancelled"  # the order was cancelled or not paid in time
    refused = "refused"  # paid when the group was full or over: refunded in full
    refunded = "refunded"  # the group failed: refunded in full


class GroupOfferWrite(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    sku_id: IdInt
    price_amount: AmountInt  # 拼团价, below the SKU's price
    leader_price_amount: AmountInt | None = None  # 团长价, at most the group price
    size: Annotated[int, Field(ge=2, le=50)] = 2
    hours: Annotated[int, Field(ge=1, le=168)] = 24
    new_joiners_only: bool = False  # 老带新: only customers without a paid order may join
    per_customer: Annotated[int, Field(ge=1, le=20)] = 1  # groups one customer may be in
    simulated: bool = False  # 模拟成团: complete a group whose time ran out anyway (disclosed)
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: Annotated[MultilineText, Field(max_length=300)] = ""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times must carry a time zone")
        if self.leader_price_amount is not None and self.leader_price_amount > self.price_amount:
            raise ValueError("the leader's price cannot be above the group price")
        return self


class GroupOfferRead(ReadModel):
    id: int
    name: str
    sku_id: int
    product_id: int
    price_amount: int
    leader_price_amount: int | None
    size: int
    hours: int
    new_joiners_only: bool
    per_customer: int
    simulated: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: GroupOfferStatus
    created_at: dt.datetime
    updated_at: dt.datetime

    def is_open(self, now: dt.datetime) -> bool:
        return self.status is GroupOfferStatus.active and self.starts_at <= now < self.ends_at


class GroupMemberView(ReadModel):
    """A member as anyone with the group's link sees them: a masked name, leader or not."""

    name: str  # masked: 张*
    is_leader: bool
    joined_at: dt.datetime


class GroupView(ReadModel):
    """A group as its page and the product page's 凑团 list show it."""

    id: int
    offer_id: int
    status: GroupStatus
    size: int
    seats: int
    seats_left: int
    expires_at: dt.datetime | None
    server_now: dt.datetime
    members: list[GroupMemberView]
    simulated_completion: bool = False  # completed by 模拟成团 with seats left empty


class GroupOfferView(ReadModel):
    """An offer for shoppers: the product, the prices, and the groups close to complete."""

    offer: GroupOfferRead
    title: str
    spec: dict[str, str]
    image_url: str | None
    list_price_amount: int
    groups: list[GroupView]  # forming groups, fewest seats left first (凑团)


class GroupOfferFigures(ReadModel):
    """The console's live counts of an offer."""

    offer_id: int
    forming: int
    complete: int
    failed: int
    abandoned: int
    seated: int  # paying members in forming or complete groups
    refunds: int  # members refunded (failed groups, or paid without a seat)
    refunded_amount: int


class GroupBuy(InputModel):
    """Open a group (``group_id`` None) or join one, paying the group (or leader's) price."""

    address_id: IdInt | None = None  # the default address unless given
    expected_total_amount: AmountInt
    provider: Annotated[str, Field(min_length=1, max_length=30)] = "sandbox"
    note: Annotated[MultilineText, Field(max_length=200)] = ""


class GroupConfirm(InputModel):
    address_id: IdInt | None = None
