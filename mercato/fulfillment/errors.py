"""Fulfilment errors (stable codes ``fulfillment.*``).

Hierarchy (see ``mercato.core.errors``)::

    DomainError (400)
    ├── InvalidPushSignature     fulfillment.invalid_signature        a carrier push failed its check
    ├── InvalidPush              fulfillment.invalid_push             malformed push body
    ├── UnknownTrackingNumber    fulfillment.unknown_tracking_number  no shipment has that number
    ├── TrackerNotEnabled        fulfillment.tracker_not_enabled      push for a tracker not switched on
    ├── NotFound (404)
    │   ├── ShipmentNotFound     fulfillment.shipment_not_found
    │   ├── ExportNotFound       fulfillment.export_not_found         no such export, or another's
    │   ├── SubOrderNotFound     fulfillment.sub_order_not_found
    │   └── PickupCodeNotFound   fulfillment.pickup_code_not_found
    ├── InvalidInput (422)
    │   ├── UnknownCarrier       fulfillment.unknown_carrier
    │   ├── EventInFuture        fulfillment.event_in_future
    │   ├── PickupCodeInvalid    fulfillment.pickup_code_invalid
    │   ├── BatchRejected        fulfillment.batch_rejected           rows of a batch-shipping file
    │   └── BatchColumnsMissing  fulfillment.batch_columns_missing
    ├── Conflict (409)
    │   ├── NotShippable         fulfillment.not_shippable            unpaid, cancelled or closed
    │   ├── PickupOrder          fulfillment.pickup_order             collected at a store, not shipped
    │   ├── AlreadyShipped       fulfillment.already_shipped
    │   ├── TrackingNumberInUse  fulfillment.tracking_number_in_use
    │   ├── ShipmentFinished     fulfillment.shipment_finished        delivered or returned already
    │   ├── WrongStore           fulfillment.wrong_store
    │   ├── PickupAlreadyVerified fulfillment.pickup_already_verified
    │   ├── PickupNotAllowed     fulfillment.pickup_not_allowed       the order was closed
    │   ├── ExportNotReady       fulfillment.export_not_ready         queued, running or failed
    │   ├── ExportExpired        fulfillment.export_expired           its file was deleted
    │   └── BatchAlreadyShipped  fulfillment.batch_already_shipped    the same file was shipped before
    ├── RateLimited (429)
    │   └── PickupAttemptsExceeded fulfillment.pickup_attempts_exceeded
    └── Unavailable (503)
        └── CarrierUnavailable   fulfillment.carrier_unavailable
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mercato.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    NotFound,
    RateLimited,
    Unavailable,
)


class InvalidPushSignature(DomainError):
    """A tracking push whose signature does not check out (400; nothing changes)."""

    code = "fulfillment.invalid_signature"
    message = "The tracking notification signature is not valid."


class InvalidPush(DomainError):
    code = "fulfillment.invalid_push"
    message = "The tracking notification is not valid."


class UnknownTrackingNumber(DomainError):
    code = "fulfillment.unknown_tracking_number"
    message = "The tracking notification is for an unknown tracking number."


class TrackerNotEnabled(DomainError):
    code = "fulfillment.tracker_not_enabled"
    message = "The tracking provider {tracker} is not enabled."


class ShipmentNotFound(NotFound):
    code = "fulfillment.shipment_not_found"
    message = "Shipment not found."


class SubOrderNotFound(NotFound):
    code = "fulfillment.sub_order_not_found"
    message = "This part of the order does not exist."


class PickupCodeNotFound(NotFound):
    code = "fulfillment.pickup_code_not_found"
    message = "This order has no pickup code."


class UnknownCarrier(InvalidInput):
    code = "fulfillment.unknown_carrier"
    message = "Choose a carrier from the list."


class PickupCodeInvalid(InvalidInput):
    code = "fulfillment.pickup_code_invalid"
    message = "The pickup code is not valid."


class NotShippable(Conflict):
    code = "fulfillment.not_shippable"
    message = "Only a paid order can be shipped."


class PickupOrder(Conflict):
    code = "fulfillment.pickup_order"
    message = "This order is collected at a store: verify its pickup code instead of shipping it."


class AlreadyShipped(Conflict):
    code = "fulfillment.already_shipped"
    message = "This part of the order has already been shipped."


class TrackingNumberInUse(Conflict):
    code = "fulfillment.tracking_number_in_use"
    message = "This tracking number is already used by another shipment."


class ShipmentFinished(Conflict):
    code = "fulfillment.shipment_finished"
    message = "This shipment has already been delivered or returned."


class WrongStore(Conflict):
    code = "fulfillment.wrong_store"
    message = "This pickup code is for another store."


class PickupAlreadyVerified(Conflict):
    code = "fulfillment.pickup_already_verified"
    message = "This order has already been picked up."


class PickupNotAllowed(Conflict):
    code = "fulfillment.pickup_not_allowed"
    message = "This order can no longer be picked up."


class PickupAttemptsExceeded(RateLimited):
    code = "fulfillment.pickup_attempts_exceeded"
    message = "Too many wrong pickup codes. Try again in {seconds} seconds."


class CarrierUnavailable(Unavailable):
    code = "fulfillment.carrier_unavailable"
    message = "The tracking provider is not answering. Try again shortly."


class EventInFuture(InvalidInput):
    code = "fulfillment.event_in_future"
    message = "A tracking step cannot be in the future."


class ExportNotFound(NotFound):
    code = "fulfillment.export_not_found"
    message = "Export not found."


class ExportNotReady(Conflict):
    code = "fulfillment.export_not_ready"
    message = "This export has no file yet."


class ExportExpired(Conflict):
    code = "fulfillment.export_expired"
    message = "This export has expired: export the orders again."


@dataclass(frozen=True)
class BatchRowProblem:
    """Why one row of a batch-shipping file cannot ship: ``message`` is a msgid formatted with
    ``params`` (translated when shown)."""

    row: int
    order_number: str
    column: str
    code: str
    message: str
    params: dict[str, object] = field(default_factory=dict)


class BatchRejected(InvalidInput):
    """Some rows of a batch-shipping file cannot ship; ``rows`` says which and why. Nothing was
    shipped."""

    code = "fulfillment.batch_rejected"
    message = "Nothing was shipped: {count} rows of the file have problems."

    def __init__(self, rows: list[BatchRowProblem]) -> None:
        super().__init__(
            count=len({problem.row for problem in rows}),
            fields=[FieldError(("row", p.row, p.column), p.code, p.message) for p in rows],
        )
        self.rows = rows


class BatchColumnsMissing(InvalidInput):
    code = "fulfillment.batch_columns_missing"
    message = "The file needs the columns order_number, carrier and tracking_number (see the template)."


class BatchAlreadyShipped(Conflict):
    code = "fulfillment.batch_already_shipped"
    message = "This file was shipped already ({rows} rows): nothing was shipped again."
