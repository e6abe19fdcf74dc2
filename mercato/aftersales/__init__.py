"""After-sales (售后): refund only (仅退款), return and refund (退货退款) and exchange (换货) per order
line, with the shop's decision, the parcel back, grading on receipt, the refund to the original
payment, the replacement, disputes decided by the platform, a progress timeline for the shopper
and response-time figures for staff.

Public API (service functions take an ``AsyncSession`` first and keyword arguments, and return
schemas):

- shopper: ``check_new_request`` (its checks, before photos are decoded), ``create_request``
  (within ``aftersales_window_days`` of delivery, or refund only before shipment),
  ``cancel_request``, ``ship_back``, ``escalate_request``; photos:
  ``check_photo`` (or ``check_new_photos`` for a request still to be created), then
  ``core.images.decode`` outside any transaction, then ``add_photo``
- staff: ``approve_request``, ``reject_request``, ``receive_return`` (grade every unit; resellable
  units back to stock), ``refund_request`` (issue a refused refund again), ``ship_replacement``,
  ``arbitrate_request`` (aftersales.arbitrate), all audited
- for the shopper's pages: ``aftersales_windows`` (per sub-order: possible now, or once
  delivered, or the window closed and when), ``get_return_address`` (an approved return's
  destination: the warehouse the line shipped from)
- reads: ``get_request`` (customer-scoped or staff), ``list_requests`` (the queue),
  ``count_waiting_requests`` (the console's to-do), ``resolution_report``
- ``check_refunds`` (the ``aftersales-check-refunds`` job), ``record_refund_outcome``
- states: ``REQUEST`` (the transition table), ``AftersalesStatus``

Refunds go through ``payments.refund_payment`` with the key ``aftersales-<id>-<attempt>``. A
refund-only request is refunded once approved (by the shop, or by an arbiter), a return once its
goods are received. When refund-only requests before shipment cover the whole order, the order is
closed first (``orders.close_paid_order``) and the order's shipping is refunded too.

Events emitted: ``AftersalesRequested``, ``AftersalesDecided``, ``AftersalesRefunded``,
``AftersalesCompleted``. Events consumed: ``payments.payment_refunded.v1``
(``handlers.on_payment_refunded``).
Depends on: core, identity (audit), orders, payments, inventory. Glossary: CONTEXT.md.
Decision record: docs/decisions/0019-after-sales.md.
"""

from mercato.aftersales.errors import (
    InvalidPeriod,
    KindNotAllowed,
    LineNotFound,
    NotDeliveredYet,
    OrderNotEligible,
    PaymentExhausted,
    PhotoInvalid,
    PhotoPixelsTooMany,
    PhotosClosed,
    PhotoTooLarge,
    QuantityExceedsBought,
    RefundTooLarge,
    RequestChanged,
    RequestNotFound,
    TooManyPhotos,
    TooManyUnitsGraded,
    UnitsNotGraded,
    WindowClosed,
)
from mercato.aftersales.events import (
    AftersalesCompleted,
    AftersalesDecided,
    AftersalesRefunded,
    AftersalesRequested,
)
from mercato.aftersales.schemas import (
    ActorKind,
    AftersalesKind,
    AftersalesRead,
    AftersalesSummary,
    Arbitrate,
    ArbitrationDecision,
    CancelRequest,
    CreateRequest,
    Decide,
    Dispute,
    Escalate,
    Grading,
    Parcel,
    PhotoRead,
    ReasonCode,
    ReceiveReturn,
    Reject,
    ResolutionReport,
    ShipBack,
    ShipReplacement,
    TimelineStep,
)
from mercato.aftersales.service.handling import (
    approve_request,
    arbitrate_request,
    receive_return,
    refund_request,
    reject_request,
    ship_replacement,
)
from mercato.aftersales.service.photos import add_photo, check_new_photos, check_photo
from mercato.aftersales.service.reads import (
    count_waiting_requests,
    get_request,
    list_requests,
    resolution_report,
)
from mercato.aftersales.service.refunds import check_refunds, record_refund_outcome
from mercato.aftersales.service.requests import (
    cancel_request,
    check_new_request,
    create_request,
    escalate_request,
    ship_back,
)
from mercato.aftersales.states import REQUEST, AftersalesStatus

__all__ = [
    "REQUEST",
    "ActorKind",
    "AftersalesCompleted",
    "AftersalesDecided",
    "AftersalesKind",
    "AftersalesRead",
    "AftersalesRefunded",
    "AftersalesRequested",
    "AftersalesStatus",
    "AftersalesSummary",
    "Arbitrate",
    "ArbitrationDecision",
    "CancelRequest",
    "CreateRequest",
    "Decide",
    "Dispute",
    "Escalate",
    "Grading",
    "InvalidPeriod",
    "KindNotAllowed",
    "LineNotFound",
    "NotDeliveredYet",
    "OrderNotEligible",
    "Parcel",
    "PaymentExhausted",
    "PhotoInvalid",
    "PhotoPixelsTooMany",
    "PhotoRead",
    "PhotoTooLarge",
    "PhotosClosed",
    "QuantityExceedsBought",
    "ReasonCode",
    "ReceiveReturn",
    "RefundTooLarge",
    "Reject",
    "RequestChanged",
    "RequestNotFound",
    "ResolutionReport",
    "ShipBack",
    "ShipReplacement",
    "TimelineStep",
    "TooManyPhotos",
    "TooManyUnitsGraded",
    "UnitsNotGraded",
    "WindowClosed",
    "add_photo",
    "approve_request",
    "arbitrate_request",
    "cancel_request",
    "check_new_photos",
    "check_photo",
    "check_refunds",
    "check_new_request",
    "create_request",
    "escalate_request",
    "get_request",
    "list_requests",
    "count_waiting_requests",
    "receive_return",
    "record_refund_outcome",
    "refund_request",
    "reject_request",
    "resolution_report",
    "ship_back",
    "ship_replacement",
]

from mercato.aftersales.schemas import AftersalesWindow, ReturnAddress  # noqa: E402
from mercato.aftersales.service.availability import aftersales_windows, get_return_address  # noqa: E402

__all__ += ["AftersalesWindow", "ReturnAddress", "aftersales_windows", "get_return_address"]
