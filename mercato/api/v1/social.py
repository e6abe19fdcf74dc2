"""Flash sales (秒杀) for shoppers and staff.

Shoppers: the flash-sale page's sessions (live and upcoming, with the server's clock and the
units left), "remind me", the optional human check's puzzle, the price to an address, and buying
(an ``Idempotency-Key`` is required: a retry returns the same order). A sold-out answer is
409 ``social.flash_sold_out``, cheap by design (admission answers it in front of the database).

Staff (``promotions.read`` to read, ``promotions.write`` to change; the domain audits each write):
sessions with their items, publish (the quotas are carved out of stock), cancel, the live counts
per item and the status history.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from pydantic import BaseModel

from mercato import catalog, checkout, identity, inventory, orders, payments, promotions, social
from mercato.api.deps import CurrentCustomer, DbSession, MaybeCustomer, Meta, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.errors import IllegalTransition
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from mercato.core.settings import get_settings
from mercato.web.openapi import alias, raises

router = APIRouter(prefix=PREFIX, tags=["flash sales"])
admin_router = APIRouter(prefix=f"{PREFIX}/admin", tags=["flash sales"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKey = Annotated[str, Header(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Reader = Annotated[StaffAuth, Depends(require("promotions.read"))]
Writer = Annotated[StaffAuth, Depends(require("promotions.write"))]
ILLEGAL = alias(IllegalTransition, "social.illegal_transition")


class Reminded(BaseModel):
    reminded: bool  # False: asked before (nothing changed)


class Challenge(BaseModel):
    """The human check: find ``proof`` with SHA-256(``challenge`` + ":" + proof) starting with
    ``bits`` zero bits; valid for two to four minutes."""

    challenge: str
    bits: int


# -- shoppers ---------------------------------------------------------------------------------


@router.get("/flash-sale")
async def flash_sale(
    auth: MaybeCustomer, session: DbSession, response: Response
) -> list[social.FlashSessionView]:
    """Sessions live now (抢购中) or starting within two days (即将开始), by start, with the
    server's clock (``server_now``: countdowns run from it) and the units left of each item."""
    response.headers["Cache-Control"] = "no-store"
    return await social.list_flash_sale(session, customer_id=auth.customer.id if auth else None)


@router.post("/flash-sale/sessions/{session_id}/remind")
@raises(social.FlashSessionNotFound, social.FlashEnded)
async def remind_me(session_id: Id, auth: CurrentCustomer, session: DbSession) -> Reminded:
    """提醒我: a message when this upcoming session starts (asking twice changes nothing)."""
    return Reminded(
        reminded=await social.remind_me(session, flash_session_id=session_id, customer_id=auth.customer.id)
    )


@router.get("/flash-sale/items/{item_id}/challenge")
async def challenge(item_id: Id, auth: CurrentCustomer, response: Response) -> Challenge:
    """The human check's puzzle for this item (sessions with ``human_check`` ask for its answer
    as ``proof`` when buying)."""
    response.headers["Cache-Control"] = "no-store"
    return Challenge(
        challenge=social.flash_challenge(item_id=item_id, customer_id=auth.customer.id),
        bits=get_settings().flash_proof_bits,
    )


@router.post("/flash-sale/items/{item_id}/confirm")
@raises(
    social.FlashItemNotFound,
    social.FlashNotStarted,
    social.FlashEnded,
    social.FlashLimitReached,
    social.FlashSoldOut,
    checkout.NoAddress,
    identity.AddressNotFound,
    inventory.NotDeliverable,
)
async def confirm(
    item_id: Id, data: social.FlashConfirm, auth: CurrentCustomer, session: DbSession
) -> checkout.CheckoutQuote:
    """The price of a flash-sale order to this address (the default one unless given), shipping
    included; send its total as ``expected_total_amount`` when buying. Nothing is held."""
    return await social.confirm_flash(
        session,
        customer_id=auth.customer.id,
        item_id=item_id,
        quantity=data.quantity,
        address_id=data.address_id,
        channel=promotions.Channel.app,
    )


@router.post("/flash-sale/items/{item_id}/orders", status_code=status.HTTP_201_CREATED)
@raises(
    social.FlashTooFast,
    social.FlashItemNotFound,
    social.FlashNotStarted,
    social.FlashEnded,
    social.HumanCheckFailed,
    social.FlashSoldOut,
    social.FlashLimitReached,
    checkout.NoAddress,
    identity.AddressNotFound,
    orders.PriceChanged,
    orders.ItemUnavailable,
    orders.UnpaidOrdersLimit,
    orders.UnpaidUnitsLimit,
    inventory.NotDeliverable,
    payments.UnknownProvider,
    IdempotencyKeyReused,
    IdempotencyInProgress,
)
async def buy(
    item_id: Id,
    data: social.FlashBuy,
    auth: CurrentCustomer,
    session: DbSession,
    meta: Meta,
    idempotency_key: Annotated[IdempotencyKey, Header(alias="Idempotency-Key")],
) -> checkout.CheckoutResult:
    """抢购: order the item at its flash-sale price (pay within the short window, 5 minutes by
    default, or the units go back to the sale). Sold out is a clean 409 ``social.flash_sold_out``."""
    return await social.buy_flash(
        session,
        customer_id=auth.customer.id,
        item_id=item_id,
        data=data,
        idempotency_key=idempotency_key,
        channel=promotions.Channel.app,
        ip=meta.ip,
    )


# -- staff ------------------------------------------------------------------------------------


@admin_router.get("/flash-sessions")
async def list_sessions(
    auth: Reader,
    session: DbSession,
    session_status: Annotated[social.FlashSessionStatus | None, Query(alias="status")] = None,
) -> list[social.FlashSessionRead]:
    """Sessions, the latest start first (at most 200)."""
    return await social.list_flash_sessions(session, status=session_status)


@admin_router.post("/flash-sessions", status_code=status.HTTP_201_CREATED)
@raises(social.EndsBeforeStart)
async def create_session(
    data: social.FlashSessionWrite, auth: Writer, session: DbSession
) -> social.FlashSessionRead:
    """A draft session: add its items, then publish it."""
    return await social.create_flash_session(session, data=data, actor=auth.actor)


@admin_router.get("/flash-sessions/{session_id}")
@raises(social.FlashSessionNotFound)
async def get_session(session_id: Id, auth: Reader, session: DbSession) -> social.FlashSessionRead:
    return await social.get_flash_session(session, flash_session_id=session_id)


@admin_router.put("/flash-sessions/{session_id}")
@raises(social.FlashSessionNotFound, social.FlashSessionNotEditable, social.EndsBeforeStart)
async def update_session(
    session_id: Id, data: social.FlashSessionWrite, auth: Writer, session: DbSession
) -> social.FlashSessionRead:
    """Change a draft's name, times, note or human check."""
    return await social.update_flash_session(
        session, flash_session_id=session_id, data=data, actor=auth.actor
    )


@admin_router.post("/flash-sessions/{session_id}/items", status_code=status.HTTP_201_CREATED)
@raises(
    social.FlashSessionNotFound,
    social.FlashSessionNotEditable,
    social.FlashSkuTaken,
    social.FlashPriceNotBelow,
    catalog.SkuNotFound,
)
async def add_item(
    session_id: Id, data: social.FlashItemWrite, auth: Writer, session: DbSession
) -> social.FlashItemRead:
    """Add a SKU to a draft at a sale price below its own, with its quota and per-customer limit."""
    return await social.add_flash_item(session, flash_session_id=session_id, data=data, actor=auth.actor)


@admin_router.delete("/flash-sessions/{session_id}/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
@raises(social.FlashSessionNotFound, social.FlashSessionNotEditable, social.FlashItemNotFound)
async def remove_item(session_id: Id, item_id: Id, auth: Writer, session: DbSession) -> Response:
    await social.remove_flash_item(session, flash_session_id=session_id, item_id=item_id, actor=auth.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.post("/flash-sessions/{session_id}/publish")
@raises(
    social.FlashSessionNotFound,
    social.FlashSessionNotEditable,
    social.FlashSessionEmpty,
    social.EndsBeforeStart,
    social.FlashQuotaUnavailable,
    ILLEGAL,
)
async def publish_session(session_id: Id, auth: Writer, session: DbSession) -> social.FlashSessionRead:
    """Draft → published: every item's quota is carved out of stock now (all or none)."""
    return await social.publish_flash_session(session, flash_session_id=session_id, actor=auth.actor)


@admin_router.post("/flash-sessions/{session_id}/cancel")
@raises(social.FlashSessionNotFound, ILLEGAL)
async def cancel_session(
    session_id: Id, data: social.CancelFlashSession, auth: Writer, session: DbSession
) -> social.FlashSessionRead:
    """Withdraw a draft or published session: what was not sold goes back to stock."""
    return await social.cancel_flash_session(
        session, flash_session_id=session_id, actor=auth.actor, reason=data.reason
    )


@admin_router.get("/flash-sessions/{session_id}/figures")
@raises(social.FlashSessionNotFound)
async def figures(
    session_id: Id, auth: Reader, session: DbSession, response: Response
) -> list[social.FlashItemFigures]:
    """Live counts per item: units left, pending, paid, released (came back and were offered
    again), refunded; orders and buyers."""
    response.headers["Cache-Control"] = "no-store"
    return await social.flash_figures(session, flash_session_id=session_id)


@admin_router.get("/flash-sessions/{session_id}/history")
async def history(session_id: Id, auth: Reader, session: DbSession) -> list[social.StatusChangeRead]:
    """Every status move of the session, oldest first."""
    return await social.list_status_changes(session, subject="flash_session", subject_id=session_id)
