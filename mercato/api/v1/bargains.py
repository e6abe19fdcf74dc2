"""Bargaining (砍价) for shoppers and staff.

Shoppers: the offers open now; starting a bargain; a bargain's page (public: anyone with the link
sees the price now, the helps and every cut with its helper's masked name); helping a friend's
bargain (once per account, never one's own; the app sends its device id as ``X-Device-Id``, the
same device as the initiator's or an earlier helper's is refused); the price to an address; and
buying at the price now (an ``Idempotency-Key`` is required: a retry returns the same order).
Every refusal is a 4xx problem with a stable ``social.bargain_*`` code and changes nothing.

Staff (``promotions.read`` to read, ``promotions.write`` to change; the domain audits each write):
offers (drafts editable), publish, end, the live counts and the status history.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from mercato import catalog, checkout, identity, inventory, orders, payments, promotions, social
from mercato.api.deps import CurrentCustomer, DbSession, MaybeCustomer, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.errors import IllegalTransition
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from mercato.web.openapi import alias, raises

router = APIRouter(prefix=PREFIX, tags=["bargaining"])
admin_router = APIRouter(prefix=f"{PREFIX}/admin", tags=["bargaining"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKey = Annotated[str, Header(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
#: The app's own id of the device (a random id kept on the device), for the same-device check.
DeviceId = Annotated[str, Header(alias="X-Device-Id", max_length=100, pattern=r"^[A-Za-z0-9_.:\-]*$")]
Reader = Annotated[StaffAuth, Depends(require("promotions.read"))]
Writer = Annotated[StaffAuth, Depends(require("promotions.write"))]
ILLEGAL = alias(IllegalTransition, "social.illegal_transition")
CLOSED = (social.BargainNotFound, social.BargainNotYours, social.BargainExpired, social.BargainNotOpen)


# -- shoppers ---------------------------------------------------------------------------------


@router.get("/bargain-offers")
async def list_offers(session: DbSession, response: Response) -> list[social.BargainOfferView]:
    """Offers open now, the soonest end first: the product, the starting price, the floor, the
    helps a bargain needs and the units left."""
    response.headers["Cache-Control"] = "no-store"
    return await social.list_bargain_offers(session)


@router.post("/bargain-offers/{offer_id}/bargains", status_code=status.HTTP_201_CREATED)
@raises(
    social.BargainOfferNotFound,
    social.BargainOfferClosed,
    social.BargainSoldOut,
    social.BargainLimitReached,
)
async def start(
    offer_id: Id, auth: CurrentCustomer, session: DbSession, device: DeviceId = ""
) -> social.BargainRead:
    """发起砍价: start a bargain; share its page with friends so they help cut the price."""
    return await social.start_bargain(session, offer_id=offer_id, customer_id=auth.customer.id, device=device)


@router.get("/bargains/mine")
async def my_bargains(auth: CurrentCustomer, session: DbSession) -> list[social.BargainRead]:
    """The signed-in shopper's bargains, the newest first."""
    return await social.list_my_bargains(session, customer_id=auth.customer.id)


@router.get("/bargains/{bargain_id}")
@raises(social.BargainNotFound)
async def get_bargain(
    bargain_id: Id, auth: MaybeCustomer, session: DbSession, response: Response
) -> social.BargainRead:
    """A bargain as anyone with its link sees it: the price now against the floor, the helps done
    and needed, every cut with its helper's masked name; ``is_mine``, ``helped`` and ``order_id``
    are about the caller (signed in or not)."""
    response.headers["Cache-Control"] = "no-store"
    return await social.get_bargain(
        session, bargain_id=bargain_id, viewer_id=auth.customer.id if auth else None
    )


@router.post("/bargains/{bargain_id}/help", status_code=status.HTTP_201_CREATED)
@raises(
    social.BargainNotFound,
    social.BargainOwnHelp,
    social.BargainAlreadyHelped,
    social.BargainSameDevice,
    social.BargainNewHelpersOnly,
    social.BargainFloorReached,
    social.BargainExpired,
    social.BargainNotOpen,
    identity.CustomerNotFound,
)
async def help_cut(
    bargain_id: Id, auth: CurrentCustomer, session: DbSession, device: DeviceId = ""
) -> social.BargainHelpRead:
    """帮砍一刀: take the bargain's next cut (its position and amount are in the answer)."""
    return await social.help_bargain(
        session, bargain_id=bargain_id, helper_id=auth.customer.id, device=device
    )


@router.post("/bargains/{bargain_id}/confirm")
@raises(
    *CLOSED,
    social.BargainSoldOut,
    checkout.NoAddress,
    identity.AddressNotFound,
    inventory.InsufficientStock,
    inventory.NotDeliverable,
)
async def confirm(
    bargain_id: Id, data: social.BargainConfirm, auth: CurrentCustomer, session: DbSession
) -> checkout.CheckoutQuote:
    """The price of buying the bargain now to this address (the default one unless given),
    shipping included; send its total as ``expected_total_amount`` when buying. Nothing is held."""
    return await social.confirm_bargain(
        session,
        customer_id=auth.customer.id,
        bargain_id=bargain_id,
        address_id=data.address_id,
        channel=promotions.Channel.app,
    )


@router.post("/bargains/{bargain_id}/orders", status_code=status.HTTP_201_CREATED)
@raises(
    *CLOSED,
    social.BargainSoldOut,
    checkout.NoAddress,
    identity.AddressNotFound,
    orders.PriceChanged,
    orders.ItemUnavailable,
    orders.UnpaidOrdersLimit,
    orders.UnpaidUnitsLimit,
    inventory.InsufficientStock,
    inventory.NotDeliverable,
    payments.UnknownProvider,
    IdempotencyKeyReused,
    IdempotencyInProgress,
)
async def buy(
    bargain_id: Id,
    data: social.BargainBuy,
    auth: CurrentCustomer,
    session: DbSession,
    idempotency_key: Annotated[IdempotencyKey, Header(alias="Idempotency-Key")],
) -> checkout.CheckoutResult:
    """Buy the bargain's one unit at its price now (the floor once every help is in). A help that
    lands meanwhile lowers the price: the total then differs and the answer is 409
    ``orders.price_changed`` (confirm again)."""
    return await social.buy_bargain(
        session,
        customer_id=auth.customer.id,
        bargain_id=bargain_id,
        data=data,
        idempotency_key=idempotency_key,
        channel=promotions.Channel.app,
    )


# -- staff ------------------------------------------------------------------------------------


@admin_router.get("/bargain-offers")
async def list_admin_offers(
    auth: Reader,
    session: DbSession,
    offer_status: Annotated[social.BargainOfferStatus | None, Query(alias="status")] = None,
) -> list[social.BargainOfferRead]:
    """Offers, the latest start first (at most 200)."""
    return await social.list_all_bargain_offers(session, status=offer_status)


@admin_router.post("/bargain-offers", status_code=status.HTTP_201_CREATED)
@raises(
    social.EndsBeforeStart,
    social.BargainPriceAboveList,
    social.BargainFloorNotBelow,
    social.BargainCutsTooSmall,
    catalog.SkuNotFound,
)
async def create_offer(
    data: social.BargainOfferWrite, auth: Writer, session: DbSession
) -> social.BargainOfferRead:
    """A draft offer (the starting price is the SKU's own unless a lower one is given); publish it
    when it is ready."""
    return await social.create_bargain_offer(session, data=data, actor=auth.actor)


@admin_router.get("/bargain-offers/{offer_id}")
@raises(social.BargainOfferNotFound)
async def get_offer(offer_id: Id, auth: Reader, session: DbSession) -> social.BargainOfferRead:
    return await social.get_bargain_offer(session, offer_id=offer_id)


@admin_router.put("/bargain-offers/{offer_id}")
@raises(
    social.BargainOfferNotFound,
    social.BargainOfferNotEditable,
    social.EndsBeforeStart,
    social.BargainPriceAboveList,
    social.BargainFloorNotBelow,
    social.BargainCutsTooSmall,
    catalog.SkuNotFound,
)
async def update_offer(
    offer_id: Id, data: social.BargainOfferWrite, auth: Writer, session: DbSession
) -> social.BargainOfferRead:
    """Change a draft offer."""
    return await social.update_bargain_offer(session, offer_id=offer_id, data=data, actor=auth.actor)


@admin_router.post("/bargain-offers/{offer_id}/publish")
@raises(
    social.BargainOfferNotFound,
    social.BargainOfferNotEditable,
    social.EndsBeforeStart,
    catalog.SkuNotFound,
    ILLEGAL,
)
async def publish_offer(offer_id: Id, auth: Writer, session: DbSession) -> social.BargainOfferRead:
    """Draft → active: shoppers may start bargains within its window."""
    return await social.publish_bargain_offer(session, offer_id=offer_id, actor=auth.actor)


@admin_router.post("/bargain-offers/{offer_id}/end")
@raises(social.BargainOfferNotFound, ILLEGAL)
async def end_offer(
    offer_id: Id, data: social.EndBargainOffer, auth: Writer, session: DbSession
) -> social.BargainOfferRead:
    """End an offer (or discard a draft): no new bargains; running ones keep their time limit."""
    return await social.end_bargain_offer(session, offer_id=offer_id, actor=auth.actor, reason=data.reason)


@admin_router.get("/bargain-offers/{offer_id}/figures")
@raises(social.BargainOfferNotFound)
async def figures(
    offer_id: Id, auth: Reader, session: DbSession, response: Response
) -> social.BargainOfferFigures:
    """Live counts: bargains started, by status, how many reached the floor, helps, units sold."""
    response.headers["Cache-Control"] = "no-store"
    return await social.bargain_offer_figures(session, offer_id=offer_id)


@admin_router.get("/bargain-offers/{offer_id}/history")
async def history(offer_id: Id, auth: Reader, session: DbSession) -> list[social.StatusChangeRead]:
    """Every status move of the offer, oldest first."""
    return await social.list_status_changes(session, subject="bargain_offer", subject_id=offer_id)
