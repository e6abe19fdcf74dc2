"""Fulfilment: staff ship sub-orders, follow and record tracking, and hand over store-pickup
orders; shoppers read their parcels' timelines and their pickup code (with a QR image); carrier
tracking providers post their pushes here."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from pydantic import AwareDatetime

from mercato import fulfillment, orders
from mercato.api.deps import CurrentCustomer, DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.idempotency import IdempotencyKeyReused
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import raises

router = APIRouter(prefix=PREFIX, tags=["fulfillment"])
admin_router = APIRouter(prefix=f"{PREFIX}/admin/fulfillment", tags=["fulfillment"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
TrackerName = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[a-z0-9_]+$")]
Reader = Annotated[StaffAuth, Depends(require("fulfillment.read"))]
Writer = Annotated[StaffAuth, Depends(require("fulfillment.write"))]
PickupClerk = Annotated[StaffAuth, Depends(require("fulfillment.pickup"))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A retry with the same key returns the same shipment instead of failing",
    ),
]


# -- shoppers -------------------------------------------------------------------------------


@router.get("/orders/{order_id}/shipments")
@raises(orders.OrderNotFound)
async def list_my_shipments(
    order_id: Id, auth: CurrentCustomer, session: DbSession
) -> list[fulfillment.CustomerShipment]:
    """The parcels of one of the shopper's orders with their tracking timelines, newest step
    first (another shopper's order is 404)."""
    return await fulfillment.list_order_shipments(session, order_id=order_id, customer_id=auth.customer.id)


@router.get("/orders/{order_id}/pickup-code")
@raises(orders.OrderNotFound, fulfillment.PickupCodeNotFound)
async def get_my_pickup_code(
    order_id: Id, auth: CurrentCustomer, session: DbSession, response: Response
) -> fulfillment.PickupCodeRead:
    """The pickup code of a paid store-pickup order, shown at the store counter."""
    response.headers["Cache-Control"] = "no-store"
    return await fulfillment.get_pickup_code(session, order_id=order_id, customer_id=auth.customer.id)


@router.get(
    "/orders/{order_id}/pickup-code.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
@raises(orders.OrderNotFound, fulfillment.PickupCodeNotFound)
async def get_my_pickup_qr(order_id: Id, auth: CurrentCustomer, session: DbSession) -> Response:
    """The pickup code as a QR image (SVG) for the store's scanner; 404 once it has been used."""
    pickup = await fulfillment.get_pickup_code(session, order_id=order_id, customer_id=auth.customer.id)
    if pickup.code is None:
        raise fulfillment.PickupCodeNotFound()
    buffer = io.BytesIO()
    segno.make(pickup.code, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# -- tracking providers ---------------------------------------------------------------------


@router.post("/fulfillment/notify/{tracker}")
@raises(
    fulfillment.TrackerNotEnabled,
    fulfillment.InvalidPushSignature,
    fulfillment.InvalidPush,
    fulfillment.UnknownTrackingNumber,
)
async def notify(tracker: TrackerName, request: Request, session: DbSession) -> dict[str, Any]:
    """A tracking provider's push (Kuaidi100: form fields ``param`` and ``sign``).

    Answers what the provider expects (``{"result": true, "returnCode": "200", ...}``) when the
    push was applied or had been already; 400 problem+json for a bad signature, a malformed body
    or an unknown tracking number, with nothing changed.
    """
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await fulfillment.handle_tracking_push(session, tracker=tracker, form=fields)


# -- staff ----------------------------------------------------------------------------------


@admin_router.get("/carriers")
async def list_carriers(auth: Reader) -> list[fulfillment.CarrierRead]:
    """The carriers staff can ship with, and who follows each one's parcels."""
    return fulfillment.list_carriers()


@admin_router.get("/shipments")
@raises(InvalidCursor)
async def list_shipments(
    auth: Reader,
    session: DbSession,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    shipment_status: Annotated[fulfillment.TrackingStatus | None, Query(alias="status")] = None,
    carrier: Annotated[str | None, Query(max_length=30)] = None,
    tracking_number: Annotated[str | None, Query(max_length=40)] = None,
    warehouse_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    shipped_from: Annotated[AwareDatetime | None, Query(description="Shipped at or after (ISO 8601)")] = None,
    shipped_before: Annotated[AwareDatetime | None, Query(description="Shipped before (ISO 8601)")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Page[fulfillment.ShipmentSummary]:
    """Shipments, newest first, filtered by order, tracking status, carrier, number, warehouse
    or shipping date."""
    return await fulfillment.list_shipments(
        session,
        order_id=order_id,
        status=shipment_status,
        carrier=carrier,
        tracking_number=tracking_number,
        warehouse_id=warehouse_id,
        shipped_from=shipped_from,
        shipped_before=shipped_before,
        cursor=cursor,
        limit=limit,
    )


@admin_router.post("/shipments", status_code=status.HTTP_201_CREATED)
@raises(
    fulfillment.UnknownCarrier,
    orders.OrderNotFound,
    fulfillment.SubOrderNotFound,
    fulfillment.NotShippable,
    fulfillment.PickupOrder,
    fulfillment.AlreadyShipped,
    fulfillment.TrackingNumberInUse,
    IdempotencyKeyReused,
)
async def ship(
    data: fulfillment.ShipmentCreate,
    auth: Writer,
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> fulfillment.ShipmentRead:
    """Ship one paid sub-order (all its lines) with a carrier and tracking number; the order
    becomes partly shipped, or shipped when it was the last part. A retry with the same
    Idempotency-Key, or the same carrier and number, returns the same shipment; another number
    for a shipped part is 409."""
    return await fulfillment.ship_sub_order(
        session, data=data, actor=auth.actor, idempotency_key=idempotency_key
    )


@admin_router.get("/shipments/{shipment_id}")
@raises(fulfillment.ShipmentNotFound)
async def get_shipment(shipment_id: Id, auth: Reader, session: DbSession) -> fulfillment.ShipmentRead:
    """A shipment with its items, tracking timeline and status history."""
    return await fulfillment.get_shipment(session, shipment_id=shipment_id)


@admin_router.post("/shipments/{shipment_id}/events")
@raises(fulfillment.ShipmentNotFound, fulfillment.EventInFuture, fulfillment.ShipmentFinished)
async def add_tracking_event(
    shipment_id: Id, data: fulfillment.TrackingEventCreate, auth: Writer, session: DbSession
) -> fulfillment.ShipmentRead:
    """Record a tracking step by hand (carriers without a tracking feed); ``delivered``
    delivers the sub-order."""
    return await fulfillment.add_tracking_event(session, shipment_id=shipment_id, data=data, actor=auth.actor)


@admin_router.post("/shipments/{shipment_id}/deliver")
@raises(fulfillment.ShipmentNotFound, fulfillment.ShipmentFinished)
async def deliver(
    shipment_id: Id, auth: Writer, session: DbSession, data: fulfillment.DeliverShipment | None = None
) -> fulfillment.ShipmentRead:
    """Record that the parcel was signed for; the sub-order (and the order, once every part
    has arrived) is delivered."""
    return await fulfillment.mark_shipment_delivered(
        session, shipment_id=shipment_id, data=data or fulfillment.DeliverShipment(), actor=auth.actor
    )


@admin_router.post("/shipments/{shipment_id}/refresh", status_code=status.HTTP_202_ACCEPTED)
@raises(fulfillment.ShipmentNotFound)
async def refresh(shipment_id: Id, auth: Writer, session: DbSession) -> fulfillment.ShipmentRead:
    """Ask the tracking provider for the parcel's status (after this request; read the shipment
    again for the answer). Returns the shipment as it is now."""
    return await fulfillment.request_tracking_refresh(session, shipment_id=shipment_id, actor=auth.actor)


@admin_router.post("/pickup/verify")
@raises(
    fulfillment.PickupAttemptsExceeded,
    fulfillment.PickupCodeInvalid,
    fulfillment.WrongStore,
    fulfillment.PickupAlreadyVerified,
    fulfillment.PickupNotAllowed,
)
async def verify_pickup(
    data: fulfillment.PickupVerify, auth: PickupClerk, session: DbSession
) -> fulfillment.PickupVerification:
    """Hand over a store-pickup order at the counter: the code must be for this store. The order
    is shipped, delivered and completed at once. Wrong codes are limited per store and staff
    member (429 past the limit); a code already used is 409."""
    return await fulfillment.verify_pickup(session, store_id=data.store_id, code=data.code, actor=auth.actor)
