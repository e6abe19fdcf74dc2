"""After-sales (售后) over the API: shoppers open, follow, withdraw and escalate their own requests
and send goods back; staff work the queue (decide, receive and grade, refund, ship
replacements), arbitrate disputes and read the resolution report. Another customer's request is
404; every staff write is permission-checked here and audited by the domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status
from pydantic import AwareDatetime

from mercato import aftersales, inventory, orders, payments
from mercato.api.deps import CurrentCustomer, DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.errors import IllegalTransition
from mercato.core.images import ImageDecodersBusy, TooManyImageUploads
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import alias, raises
from mercato.web.uploads import decode_upload

router = APIRouter(prefix=f"{PREFIX}/aftersales", tags=["after-sales"])
admin_router = APIRouter(prefix=f"{PREFIX}/admin/aftersales", tags=["after-sales"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 20)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Reader = Annotated[StaffAuth, Depends(require("aftersales.read"))]
Writer = Annotated[StaffAuth, Depends(require("aftersales.write"))]
Receiver = Annotated[StaffAuth, Depends(require("aftersales.receive"))]
Arbiter = Annotated[StaffAuth, Depends(require("aftersales.arbitrate"))]
Photo = Annotated[UploadFile, File(description="A JPEG, PNG or WebP photo (decided by its content)")]


# --- the shopper ---------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED)
@raises(
    aftersales.LineNotFound,
    aftersales.OrderNotEligible,
    aftersales.KindNotAllowed,
    aftersales.NotDeliveredYet,
    aftersales.WindowClosed,
    aftersales.QuantityExceedsBought,
    aftersales.RefundTooLarge,
    aftersales.PaymentExhausted,
)
async def create_request(
    data: aftersales.CreateRequest, auth: CurrentCustomer, session: DbSession
) -> aftersales.AftersalesRead:
    """Ask for a refund, a return or an exchange of some units of one line of your order."""
    return await aftersales.create_request(session, customer_id=auth.customer.id, data=data)


@router.get("")
@raises(InvalidCursor)
async def list_my_requests(
    auth: CurrentCustomer,
    session: DbSession,
    request_status: Annotated[aftersales.AftersalesStatus | None, Query(alias="status")] = None,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[aftersales.AftersalesSummary]:
    """Your requests, newest first."""
    return await aftersales.list_requests(
        session,
        customer_id=auth.customer.id,
        status=request_status,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{request_id}")
@raises(aftersales.RequestNotFound)
async def get_my_request(
    request_id: Id, auth: CurrentCustomer, session: DbSession
) -> aftersales.AftersalesRead:
    """One of your requests with its progress timeline (another customer's is 404)."""
    return await aftersales.get_request(session, request_id=request_id, customer_id=auth.customer.id)


@router.post("/{request_id}/cancel")
@raises(aftersales.RequestNotFound, alias(IllegalTransition, "aftersales.illegal_transition"))
async def cancel_my_request(
    request_id: Id, data: aftersales.CancelRequest, auth: CurrentCustomer, session: DbSession
) -> aftersales.AftersalesRead:
    """Withdraw a request that was not approved (yet); its units can be requested again."""
    return await aftersales.cancel_request(
        session, request_id=request_id, customer_id=auth.customer.id, data=data
    )


@router.post("/{request_id}/ship-back")
@raises(
    aftersales.RequestNotFound,
    aftersales.KindNotAllowed,
    alias(IllegalTransition, "aftersales.illegal_transition"),
)
async def ship_back(
    request_id: Id, data: aftersales.ShipBack, auth: CurrentCustomer, session: DbSession
) -> aftersales.AftersalesRead:
    """You sent the goods of an approved return or exchange back: the carrier and tracking number."""
    return await aftersales.ship_back(session, request_id=request_id, customer_id=auth.customer.id, data=data)


@router.post("/{request_id}/escalate")
@raises(aftersales.RequestNotFound, alias(IllegalTransition, "aftersales.illegal_transition"))
async def escalate(
    request_id: Id, data: aftersales.Escalate, auth: CurrentCustomer, session: DbSession
) -> aftersales.AftersalesRead:
    """Ask the platform to decide a rejected request (平台介入), with your statement."""
    return await aftersales.escalate_request(
        session, request_id=request_id, customer_id=auth.customer.id, data=data
    )


@router.post("/{request_id}/photos", status_code=status.HTTP_201_CREATED)
@raises(
    aftersales.PhotoInvalid,
    aftersales.PhotoTooLarge,
    aftersales.RequestNotFound,
    aftersales.PhotosClosed,
    aftersales.TooManyPhotos,
    TooManyImageUploads,
    ImageDecodersBusy,
)
async def add_photo(
    request_id: Id, file: Photo, auth: CurrentCustomer, session: DbSession
) -> aftersales.PhotoRead:
    """Attach a photo of the goods (metadata such as the GPS position is removed).

    The request's status and photo count are checked before the photo is decoded, and the decode
    runs with no transaction open (at most ``image_decodes_per_uploader`` at once per customer:
    429 ``core.too_many_image_uploads`` beyond)."""
    upload = await aftersales.check_photo(
        session, request_id=request_id, customer_id=auth.customer.id, data=await file.read()
    )
    image = await decode_upload(session, upload)
    return await aftersales.add_photo(
        session, request_id=request_id, customer_id=auth.customer.id, image=image
    )


# --- staff ---------------------------------------------------------------------------------


@admin_router.get("")
@raises(InvalidCursor)
async def list_requests(
    auth: Reader,
    session: DbSession,
    request_status: Annotated[aftersales.AftersalesStatus | None, Query(alias="status")] = None,
    kind: aftersales.AftersalesKind | None = None,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    waiting: Annotated[bool | None, Query(description="Waiting for the shop's answer (or not)")] = None,
    overdue: Annotated[bool, Query(description="Waiting longer than the response target")] = False,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[aftersales.AftersalesSummary]:
    """The after-sales queue, newest first, with filters."""
    return await aftersales.list_requests(
        session,
        customer_id=customer_id,
        status=request_status,
        kind=kind,
        order_id=order_id,
        waiting=waiting,
        overdue=overdue,
        cursor=cursor,
        limit=limit,
    )


@admin_router.get("/reports/resolution")
@raises(aftersales.InvalidPeriod)
async def resolution_report(
    auth: Reader,
    session: DbSession,
    since: Annotated[AwareDatetime, Query(description="Answers given at or after (ISO 8601)")],
    until: Annotated[AwareDatetime, Query(description="Answers given before (ISO 8601)")],
) -> aftersales.ResolutionReport:
    """How long shoppers waited for the shop's answers in a period: average, p90, within target."""
    return await aftersales.resolution_report(session, since=since, until=until)


@admin_router.get("/{request_id}")
@raises(aftersales.RequestNotFound)
async def get_request(request_id: Id, auth: Reader, session: DbSession) -> aftersales.AftersalesRead:
    """A request with its photos and timeline (with the staff behind each step)."""
    return await aftersales.get_request(session, request_id=request_id)


@admin_router.post("/{request_id}/approve")
@raises(
    aftersales.RequestNotFound,
    alias(IllegalTransition, "aftersales.illegal_transition"),
    aftersales.RequestChanged,
    orders.CannotClose,
    payments.RefundExceedsPayment,
    payments.NotRefundable,
)
async def approve(
    request_id: Id, data: aftersales.Decide, auth: Writer, session: DbSession
) -> aftersales.AftersalesRead:
    """Approve; a refund-only request is refunded to the original payment at once."""
    return await aftersales.approve_request(session, request_id=request_id, data=data, actor=auth.actor)


@admin_router.post("/{request_id}/reject")
@raises(aftersales.RequestNotFound, alias(IllegalTransition, "aftersales.illegal_transition"))
async def reject(
    request_id: Id, data: aftersales.Reject, auth: Writer, session: DbSession
) -> aftersales.AftersalesRead:
    """Reject with a reason the shopper sees."""
    return await aftersales.reject_request(session, request_id=request_id, data=data, actor=auth.actor)


@admin_router.post("/{request_id}/receive")
@raises(
    aftersales.RequestNotFound,
    aftersales.TooManyUnitsGraded,
    aftersales.UnitsNotGraded,
    alias(IllegalTransition, "aftersales.illegal_transition"),
    inventory.WarehouseNotFound,
    inventory.WarehouseInactive,
    aftersales.RequestChanged,
    orders.CannotClose,
    payments.RefundExceedsPayment,
    payments.NotRefundable,
)
async def receive(
    request_id: Id, data: aftersales.ReceiveReturn, auth: Receiver, session: DbSession
) -> aftersales.AftersalesRead:
    """Book the returned goods in, grading every unit; resellable ones go back to stock, and a
    return is refunded."""
    return await aftersales.receive_return(session, request_id=request_id, data=data, actor=auth.actor)


@admin_router.post("/{request_id}/refund")
@raises(
    aftersales.RequestNotFound,
    aftersales.KindNotAllowed,
    alias(IllegalTransition, "aftersales.illegal_transition"),
    aftersales.RequestChanged,
    orders.CannotClose,
    payments.RefundExceedsPayment,
    payments.NotRefundable,
)
async def refund(request_id: Id, auth: Writer, session: DbSession) -> aftersales.AftersalesRead:
    """Issue a refund the payment provider refused again."""
    return await aftersales.refund_request(session, request_id=request_id, actor=auth.actor)


@admin_router.post("/{request_id}/ship-replacement")
@raises(
    aftersales.RequestNotFound,
    aftersales.KindNotAllowed,
    alias(IllegalTransition, "aftersales.illegal_transition"),
    inventory.WarehouseNotFound,
    inventory.BelowReserved,
)
async def ship_replacement(
    request_id: Id, data: aftersales.ShipReplacement, auth: Writer, session: DbSession
) -> aftersales.AftersalesRead:
    """Ship an exchange's replacement (it leaves stock); the request completes."""
    return await aftersales.ship_replacement(session, request_id=request_id, data=data, actor=auth.actor)


@admin_router.post("/{request_id}/arbitrate")
@raises(
    aftersales.RequestNotFound,
    alias(IllegalTransition, "aftersales.illegal_transition"),
    aftersales.RequestChanged,
    orders.CannotClose,
    payments.RefundExceedsPayment,
    payments.NotRefundable,
)
async def arbitrate(
    request_id: Id, data: aftersales.Arbitrate, auth: Arbiter, session: DbSession
) -> aftersales.AftersalesRead:
    """Decide a dispute for the shopper (the request proceeds as approved) or for the shop (closed)."""
    return await aftersales.arbitrate_request(session, request_id=request_id, data=data, actor=auth.actor)
