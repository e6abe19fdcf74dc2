"""拼团 group buying for shoppers and staff.

Shoppers: a product's live offers with the groups close to complete (凑团), an offer, a group's
page (anyone with the link, once its leader paid), the price to open or join, and opening or
joining (an ``Idempotency-Key`` is required: a retry returns the same order). The seat is taken
when the order is paid; money paid when the group is full or over comes back in full at once.

Staff (``promotions.read`` to read, ``promotions.write`` to change; the domain audits each write):
offers with publish and end, the live counts and the status history.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from mercato import catalog, checkout, identity, inventory, orders, payments, social
from mercato.api.deps import CurrentCustomer, DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.errors import IllegalTransition
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from mercato.promotions import Channel
from mercato.web.openapi import alias, raises

router = APIRouter(prefix=PREFIX, tags=["group buying"])
admin_router = APIRouter(prefix=f"{PREFIX}/admin", tags=["group buying"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKey = Annotated[str, Header(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Reader = Annotated[StaffAuth, Depends(require("promotions.read"))]
Writer = Annotated[StaffAuth, Depends(require("promotions.write"))]
ILLEGAL = alias(IllegalTransition, "social.illegal_transition")
JOINING = (
    social.GroupNotFound,
    social.GroupClosed,
    social.GroupFull,
    social.GroupOwn,
    social.GroupNewJoinersOnly,
    social.GroupLimitReached,
)
PLACING = (
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


# -- shoppers ---------------------------------------------------------------------------------


@router.get("/products/{product_id}/group-offers")
async def product_group_offers(
    product_id: Id, session: DbSession, response: Response
) -> list[social.GroupOfferView]:
    """The product's live group-buying offers, each with its forming groups fewest seats left
    first (凑团: join one to complete it sooner)."""
    response.headers["Cache-Control"] = "no-store"
    return await social.offers_for_product(session, product_id=product_id)


@router.get("/group-offers/{offer_id}")
@raises(social.GroupOfferNotFound)
async def group_offer(offer_id: Id, session: DbSession, response: Response) -> social.GroupOfferView:
    """A live offer with its groups close to complete."""
    response.headers["Cache-Control"] = "no-store"
    return await social.get_offer_view(session, offer_id=offer_id)


@router.get("/groups/{group_id}")
@raises(social.GroupNotFound)
async def group(group_id: Id, session: DbSession, response: Response) -> social.GroupView:
    """A group's page: seats taken and left, time left (from ``server_now``), the members'
    masked names. Anyone with the link may see it once its leader paid."""
    response.headers["Cache-Control"] = "no-store"
    return await social.get_group(session, group_id=group_id)


@router.post("/group-offers/{offer_id}/confirm")
@raises(social.GroupOfferNotFound, social.GroupOfferClosed, social.GroupLimitReached, *PLACING)
async def confirm_open(
    offer_id: Id, data: social.GroupConfirm, auth: CurrentCustomer, session: DbSession
) -> checkout.CheckoutQuote:
    """The price to open a group (the leader's, 团长价 when the offer has one), shipping included."""
    return await social.confirm_group(
        session,
        customer_id=auth.customer.id,
        offer_id=offer_id,
        address_id=data.address_id,
        channel=Channel.app,
    )


@router.post("/group-offers/{offer_id}/groups", status_code=status.HTTP_201_CREATED)
@raises(social.GroupOfferNotFound, social.GroupOfferClosed, social.GroupLimitReached, *PLACING)
async def open_group(
    offer_id: Id,
    data: social.GroupBuy,
    auth: CurrentCustomer,
    session: DbSession,
    idempotency_key: Annotated[IdempotencyKey, Header(alias="Idempotency-Key")],
) -> social.GroupOrder:
    """开团: the leader's order; pay it and the group starts forming (share its link)."""
    return await social.open_group(
        session,
        customer_id=auth.customer.id,
        offer_id=offer_id,
        data=data,
        idempotency_key=idempotency_key,
        channel=Channel.app,
    )


@router.post("/groups/{group_id}/confirm")
@raises(*JOINING, *PLACING)
async def confirm_join(
    group_id: Id, data: social.GroupConfirm, auth: CurrentCustomer, session: DbSession
) -> checkout.CheckoutQuote:
    """The price to join this group, shipping included."""
    return await social.confirm_group(
        session,
        customer_id=auth.customer.id,
        group_id=group_id,
        address_id=data.address_id,
        channel=Channel.app,
    )


@router.post("/groups/{group_id}/members", status_code=status.HTTP_201_CREATED)
@raises(*JOINING, *PLACING)
async def join_group(
    group_id: Id,
    data: social.GroupBuy,
    auth: CurrentCustomer,
    session: DbSession,
    idempotency_key: Annotated[IdempotencyKey, Header(alias="Idempotency-Key")],
) -> social.GroupOrder:
    """参团: order at the group price; the seat is yours when it is paid (if the group filled in
    the meantime, the money comes back in full at once)."""
    return await social.join_group(
        session,
        customer_id=auth.customer.id,
        group_id=group_id,
        data=data,
        idempotency_key=idempotency_key,
        channel=Channel.app,
    )


# -- staff ------------------------------------------------------------------------------------


@admin_router.get("/group-offers")
async def list_offers(
    auth: Reader,
    session: DbSession,
    offer_status: Annotated[social.GroupOfferStatus | None, Query(alias="status")] = None,
) -> list[social.GroupOfferRead]:
    """Offers, the latest start first (at most 200)."""
    return await social.list_group_offers(session, status=offer_status)


@admin_router.post("/group-offers", status_code=status.HTTP_201_CREATED)
@raises(social.EndsBeforeStart, social.GroupPriceNotBelow, catalog.SkuNotFound)
async def create_offer(
    data: social.GroupOfferWrite, auth: Writer, session: DbSession
) -> social.GroupOfferRead:
    """A draft offer: publish it to let shoppers open groups."""
    return await social.create_group_offer(session, data=data, actor=auth.actor)


@admin_router.get("/group-offers/{offer_id}")
@raises(social.GroupOfferNotFound)
async def get_offer(offer_id: Id, auth: Reader, session: DbSession) -> social.GroupOfferRead:
    return await social.get_group_offer(session, offer_id=offer_id)


@admin_router.put("/group-offers/{offer_id}")
@raises(
    social.GroupOfferNotFound,
    social.GroupOfferNotEditable,
    social.EndsBeforeStart,
    social.GroupPriceNotBelow,
    catalog.SkuNotFound,
)
async def update_offer(
    offer_id: Id, data: social.GroupOfferWrite, auth: Writer, session: DbSession
) -> social.GroupOfferRead:
    """Change a draft's terms."""
    return await social.update_group_offer(session, offer_id=offer_id, data=data, actor=auth.actor)


@admin_router.post("/group-offers/{offer_id}/publish")
@raises(social.GroupOfferNotFound, social.EndsBeforeStart, ILLEGAL)
async def publish_offer(offer_id: Id, auth: Writer, session: DbSession) -> social.GroupOfferRead:
    """Draft → active: shoppers can open groups between its start and end."""
    return await social.publish_group_offer(session, offer_id=offer_id, actor=auth.actor)


@admin_router.post("/group-offers/{offer_id}/end")
@raises(social.GroupOfferNotFound, ILLEGAL)
async def end_offer(offer_id: Id, auth: Writer, session: DbSession) -> social.GroupOfferRead:
    """No new groups; groups forming run to their own end."""
    return await social.end_group_offer(session, offer_id=offer_id, actor=auth.actor)


@admin_router.get("/group-offers/{offer_id}/figures")
@raises(social.GroupOfferNotFound)
async def offer_figures(
    offer_id: Id, auth: Reader, session: DbSession, response: Response
) -> social.GroupOfferFigures:
    """Live counts: groups forming, complete, failed, abandoned; paying members; refunds."""
    response.headers["Cache-Control"] = "no-store"
    return await social.group_offer_figures(session, offer_id=offer_id)


@admin_router.get("/group-offers/{offer_id}/history")
async def offer_history(offer_id: Id, auth: Reader, session: DbSession) -> list[social.StatusChangeRead]:
    """Every status move of the offer, oldest first."""
    return await social.list_status_changes(session, subject="group_offer", subject_id=offer_id)
