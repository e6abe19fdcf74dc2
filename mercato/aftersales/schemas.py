"""Public after-sales DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from mercato.aftersales.states import AftersalesStatus
from mercato.core.schemas import IdInt, InputModel, MultilineText, ReadModel

Id = IdInt
Units = Annotated[int, Field(ge=0, le=999)]
Reason = Annotated[MultilineText, Field(min_length=1, max_length=300)]
Carrier = Annotated[str, Field(min_length=1, max_length=40)]
TrackingNumber = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")]


class AftersalesKind(StrEnum):
    refund_only = "refund_only"  # 仅退款: money back, the goods stay (or were never shipped)
    return_refund = "return_refund"  # 退货退款: goods back to the warehouse, then money back
    exchange = "exchange"  # 换货: goods back, the same SKU shipped again


class ReasonCode(StrEnum):
    no_reason = "no_reason"  # 七天无理由: changed their mind, within the window
    quality_problem = "quality_problem"  # 质量问题
    not_as_described = "not_as_described"  # 与描述不符
    wrong_item = "wrong_item"  # 发错货
    damaged = "damaged"  # 运输损坏
    missing_parts = "missing_parts"  # 少件 / 漏发
    size_fit = "size_fit"  # 尺码不合适
    not_wanted = "not_wanted"  # 不想要了 (before shipping)
    other = "other"  # explained in the description


class ActorKind(StrEnum):
    customer = "customer"  # the shopper
    shop = "shop"  # shop staff (customer service, warehouse)
    platform = "platform"  # an arbiter deciding a dispute
    system = "system"  # payments confirming a refund, jobs


class ArbitrationDecision(StrEnum):
    shopper = "shopper"  # the request proceeds as approved (and is refunded)
    shop = "shop"  # the rejection stands: the request is closed


class CreateRequest(InputModel):
    """A shopper's request for ``quantity`` units of one line of one of their orders."""

    order_id: Id
    order_line_id: Id
    kind: AftersalesKind
    quantity: Annotated[int, Field(ge=1, le=999)]
    reason_code: ReasonCode
    description: Annotated[MultilineText, Field(max_length=500)] = ""
    # The refund asked for (minor units); default and maximum: the units' share of the line's payment
    refund_amount: Annotated[int | None, Field(ge=1, le=10**12)] = None


class CancelRequest(InputModel):
    reason: Annotated[MultilineText, Field(max_length=300)] = ""


class ShipBack(InputModel):
    """The shopper's parcel with the goods going back (承运商 + 运单号)."""

    carrier: Carrier
    tracking_number: TrackingNumber


class Escalate(InputModel):
    """The shopper's statement to the platform about a rejected request."""

    statement: Annotated[MultilineText, Field(min_length=1, max_length=1000)]


class Decide(InputModel):
    reason: Annotated[MultilineText, Field(max_length=300)] = ""


class Reject(InputModel):
    reason: Reason


class ReceiveReturn(InputModel):
    """The warehouse's grading of every returned unit (resellable ones go back to stock).

    ``warehouse_id``: where the units arrived (default: the warehouse the line shipped from)."""

    resellable: Units = 0
    defective: Units = 0
    scrap: Units = 0
    warehouse_id: Id | None = None
    note: Annotated[MultilineText, Field(max_length=300)] = ""


class ShipReplacement(InputModel):
    """The exchange's replacement parcel; ``warehouse_id`` defaults to the line's warehouse."""

    carrier: Carrier
    tracking_number: TrackingNumber
    warehouse_id: Id | None = None


class Arbitrate(InputModel):
    decision: ArbitrationDecision
    reason: Reason


class PhotoRead(ReadModel):
    id: int
    url: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    created_at: dt.datetime


class TimelineStep(ReadModel):
    """One step of a request's progress (进度): what happened, when, by whom and why.

    ``actor_label`` (the staff member) is shown to staff only. ``response_seconds`` is set on
    the shop's or platform's answer to a shopper step: how long the shopper waited. ``note`` is
    set when the system wrote ``reason``: its English message id, translated where drawn with
    ``details`` as its parameters; a reason a person typed has none and is shown as typed."""

    from_status: AftersalesStatus | None
    status: AftersalesStatus
    actor: ActorKind
    actor_label: str | None
    reason: str
    note: str | None = None
    details: dict[str, Any]
    response_seconds: int | None
    at: dt.datetime


class AftersalesSummary(ReadModel):
    id: int
    number: str
    order_id: int
    order_number: str
    order_line_id: int
    customer_id: int
    sku_id: int
    title: str
    kind: AftersalesKind
    status: AftersalesStatus
    quantity: int
    currency: str
    refund_amount: int
    created_at: dt.datetime
    updated_at: dt.datetime
    waiting_since: dt.datetime | None  # the shopper's last action, while the shop owes an answer


class AftersalesWindow(ReadModel):
    """Whether the shopper may ask for after-sales on a part (sub-order) of an order now:
    ``reason`` is the refusal's code when not (``aftersales.not_delivered_yet``: on its way,
    possible once delivered; ``aftersales.window_closed``; ``aftersales.order_not_eligible``);
    ``closes_at`` is when the window after delivery closes (or closed)."""

    sub_order_id: int
    open: bool
    reason: str
    closes_at: dt.datetime | None


class ReturnAddress(ReadModel):
    """Where the shopper sends the goods of an approved return or exchange: the warehouse the
    line shipped from (it receives them), with the shop's customer-service phone."""

    warehouse_name: str
    province: str
    city: str
    district: str
    detail: str
    phone: str


class Grading(ReadModel):
    warehouse_id: int
    resellable: int
    defective: int
    scrap: int
    received_at: dt.datetime


class Parcel(ReadModel):
    carrier: str
    tracking_number: str
    shipped_at: dt.datetime


class Dispute(ReadModel):
    statement: str
    disputed_at: dt.datetime
    decision: ArbitrationDecision | None
    reason: str
    decided_at: dt.datetime | None


class AftersalesRead(AftersalesSummary):
    """A request with everything about it and its timeline."""

    sub_order_id: int
    sku_code: str
    reason_code: ReasonCode
    description: str
    before_shipment: bool
    max_refund_amount: int
    shipping_refund_amount: int  # the order's shipping, when the whole order was refunded before shipping
    total_refund_amount: int  # refund_amount + shipping_refund_amount
    payment_id: int | None
    refund_id: int | None
    refund_status: str | None  # pending | succeeded | failed (payments)
    decision_reason: str
    decided_at: dt.datetime | None
    return_parcel: Parcel | None
    grading: Grading | None
    replacement_parcel: Parcel | None
    dispute: Dispute | None
    closed_at: dt.datetime | None
    photos: list[PhotoRead]
    timeline: list[TimelineStep]


class ResolutionReport(ReadModel):
    """How fast the shop answers shoppers (售后处理时效) over ``[since, until)``.

    Every answer of the shop or the platform to a shopper step (a request, a parcel sent back, a
    dispute) is one response; its time runs from the shopper's step to the answer."""

    since: dt.datetime
    until: dt.datetime
    target_seconds: int
    responses: int
    average_seconds: int | None
    p90_seconds: int | None
    max_seconds: int | None
    within_target: int
    waiting_now: int  # requests waiting for an answer right now
    overdue_now: int  # ... of which past the target
