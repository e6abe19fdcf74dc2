"""Fulfilment: shipments per sub-order with carrier tracking, and store pickup (到店核销).

Public API (service functions take an ``AsyncSession`` first and keyword arguments; those that
call a tracking provider between two transactions own their transactions and take no session):

- shipping: ``ship_sub_order`` (one paid sub-order, one carrier and tracking number; idempotent
  by Idempotency-Key and by carrier + number; moves the order to partly shipped / shipped
  through ``orders.mark_sub_order_shipped``; audited), ``list_carriers``
- reads: ``get_shipment``, ``list_shipments`` (staff filters), ``list_order_shipments`` (an
  order's parcels and timelines, customer-scoped)
- tracking: ``handle_tracking_push`` (verify, deduplicate, apply; signed for → the sub-order
  is delivered through ``orders.mark_sub_order_delivered``), ``add_tracking_event`` and
  ``mark_shipment_delivered`` (by hand, audited), ``request_tracking_refresh`` /
  ``refresh_tracking`` (the provider's real-time query, after the commit),
  ``subscribe_tracking`` / ``subscribe_due_shipments`` (job ``fulfillment-subscribe-tracking``)
- order operations (ADR 0027): ``prepare_order_export`` / ``record_order_export`` /
  ``write_prepared_export`` (the console list's orders as CSV or XLSX, masked; large ones
  queued for the ``fulfillment.run_order_export`` job, ``get_order_export`` /
  ``open_order_export`` for the staff member who asked, ``sweep_order_exports`` deletes expired
  files), ``ship_batch`` (a spreadsheet of order number + carrier + tracking number, all rows
  checked first, all shipped in one transaction or none; ``batch_template``),
  ``read_order_documents`` + ``render_packing_lists`` / ``render_waybills`` (PDFs per
  sub-order), ``reveal_recipient`` (audited ``orders.recipient_revealed``)
- store pickup: ``issue_pickup_code`` (from ``orders.order_paid``), ``get_pickup_code``
  (customer-scoped), ``verify_pickup`` (staff at the store: ship, deliver and complete in one
  transaction; wrong codes rate-limited), ``cancel_pickup_code`` (from ``orders.order_closed``)

States (states.py): tracking ``shipped → collected / in_transit / out_for_delivery / exception /
refused / returning → delivered | returned`` (final); pickup ``open → verified | cancelled``.
Every change is a ``fulfillment_status_change`` row.

Events emitted: ``ShipmentCreated``, ``TrackingUpdated``, ``PickupCodeIssued``,
``PickupVerified``. Events consumed: ``orders.order_paid.v1`` (``handlers.on_order_paid``),
``orders.order_closed.v1`` (``handlers.on_order_closed``).
Depends on: core, identity (audit, customers), orders, inventory (warehouses), payments
(an order's provider, for exports), pricing. Trackers: ``carriers/base.py`` (the Protocol),
``manual``, ``kuaidi100``; chosen by ``MERCATO_TRACKING_PROVIDER``. Glossary: CONTEXT.md
(子订单, 部分发货, 到店自提). Decision record: docs/decisions/0017-fulfilment-and-carriers.md.
"""

from mercato.fulfillment.carriers.base import Parcel, Tracker, TrackerRefused, TrackingUpdate, TrackPoint
from mercato.fulfillment.carriers.kuaidi100 import Kuaidi100Tracker
from mercato.fulfillment.carriers.registry import set_tracker
from mercato.fulfillment.errors import (
    AlreadyShipped,
    BatchAlreadyShipped,
    BatchColumnsMissing,
    BatchRejected,
    BatchRowProblem,
    CarrierUnavailable,
    EventInFuture,
    ExportExpired,
    ExportNotFound,
    ExportNotReady,
    InvalidPush,
    InvalidPushSignature,
    NotShippable,
    PickupAlreadyVerified,
    PickupAttemptsExceeded,
    PickupCodeInvalid,
    PickupCodeNotFound,
    PickupNotAllowed,
    PickupOrder,
    ShipmentFinished,
    ShipmentNotFound,
    SubOrderNotFound,
    TrackerNotEnabled,
    TrackingNumberInUse,
    UnknownCarrier,
    UnknownTrackingNumber,
    WrongStore,
)
from mercato.fulfillment.events import PickupCodeIssued, PickupVerified, ShipmentCreated, TrackingUpdated
from mercato.fulfillment.schemas import (
    BatchShipped,
    CarrierRead,
    CustomerShipment,
    DeliverShipment,
    DocumentLine,
    OrderDocument,
    OrderExportFilters,
    OrderExportRead,
    PickupCodeRead,
    PickupVerification,
    PickupVerify,
    ShipmentCreate,
    ShipmentItemRead,
    ShipmentRead,
    ShipmentSummary,
    ShippedRow,
    StatusChangeRead,
    TrackingEventCreate,
    TrackingEventRead,
)
from mercato.fulfillment.service.batch import BATCH_MAX_ROWS, batch_template, ship_batch
from mercato.fulfillment.service.documents import (
    read_order_documents,
    render_packing_lists,
    render_waybills,
    reveal_recipient,
)
from mercato.fulfillment.service.exports import (
    get_order_export,
    open_order_export,
    prepare_order_export,
    record_order_export,
    sweep_order_exports,
    write_prepared_export,
)
from mercato.fulfillment.service.pickup import (
    cancel_pickup_code,
    get_pickup_code,
    issue_pickup_code,
    verify_pickup,
)
from mercato.fulfillment.service.reads import (
    get_shipment,
    list_carriers,
    list_order_shipments,
    list_shipments,
)
from mercato.fulfillment.service.shipments import (
    add_tracking_event,
    mark_shipment_delivered,
    request_tracking_refresh,
    ship_sub_order,
)
from mercato.fulfillment.service.tracking import (
    handle_tracking_push,
    refresh_tracking,
    subscribe_due_shipments,
    subscribe_tracking,
)
from mercato.fulfillment.states import ExportStatus, PickupStatus, TrackingStatus

__all__ = [
    "BATCH_MAX_ROWS",
    "AlreadyShipped",
    "BatchAlreadyShipped",
    "BatchColumnsMissing",
    "BatchRejected",
    "BatchRowProblem",
    "BatchShipped",
    "CarrierRead",
    "CarrierUnavailable",
    "CustomerShipment",
    "DeliverShipment",
    "DocumentLine",
    "EventInFuture",
    "ExportExpired",
    "ExportNotFound",
    "ExportNotReady",
    "ExportStatus",
    "InvalidPush",
    "InvalidPushSignature",
    "Kuaidi100Tracker",
    "NotShippable",
    "OrderDocument",
    "OrderExportFilters",
    "OrderExportRead",
    "Parcel",
    "PickupAlreadyVerified",
    "PickupAttemptsExceeded",
    "PickupCodeInvalid",
    "PickupCodeIssued",
    "PickupCodeNotFound",
    "PickupCodeRead",
    "PickupNotAllowed",
    "PickupOrder",
    "PickupStatus",
    "PickupVerification",
    "PickupVerified",
    "PickupVerify",
    "ShipmentCreate",
    "ShipmentCreated",
    "ShipmentFinished",
    "ShipmentItemRead",
    "ShipmentNotFound",
    "ShipmentRead",
    "ShipmentSummary",
    "ShippedRow",
    "StatusChangeRead",
    "SubOrderNotFound",
    "TrackPoint",
    "Tracker",
    "TrackerNotEnabled",
    "TrackerRefused",
    "TrackingEventCreate",
    "TrackingEventRead",
    "TrackingNumberInUse",
    "TrackingStatus",
    "TrackingUpdate",
    "TrackingUpdated",
    "UnknownCarrier",
    "UnknownTrackingNumber",
    "WrongStore",
    "add_tracking_event",
    "batch_template",
    "cancel_pickup_code",
    "get_order_export",
    "get_pickup_code",
    "get_shipment",
    "handle_tracking_push",
    "issue_pickup_code",
    "list_carriers",
    "list_order_shipments",
    "list_shipments",
    "mark_shipment_delivered",
    "open_order_export",
    "prepare_order_export",
    "read_order_documents",
    "record_order_export",
    "refresh_tracking",
    "render_packing_lists",
    "render_waybills",
    "request_tracking_refresh",
    "reveal_recipient",
    "set_tracker",
    "ship_batch",
    "ship_sub_order",
    "subscribe_due_shipments",
    "subscribe_tracking",
    "sweep_order_exports",
    "verify_pickup",
    "write_prepared_export",
]
