"""Checkout for signed-in customers: confirm (the price for an address and delivery), complete
(place the order, open the payment; Idempotency-Key required), and the way to the pay page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import RedirectResponse

from mercato import checkout, identity, inventory, orders, payments, promotions
from mercato.api.deps import CurrentCustomer, DbSession
from mercato.api.v1 import PREFIX
from mercato.core.errors import NotFound
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/checkout", tags=["checkout"])

IdempotencyKey = Annotated[str, Header(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class PayPageNotReady(NotFound):
    code = "checkout.pay_page_not_ready"
    message = "The payment page is not ready yet; try again in a moment."


#: What a coupon chosen by id can refuse, at confirm and when placing.
COUPON = (
    promotions.CouponNotFound,
    promotions.CouponUnavailable,
    promotions.CouponExpired,
    promotions.CouponNotYetValid,
    promotions.CouponNotApplicable,
    promotions.CouponsNotCombinable,
)

#: What placing an order can refuse, for the routes that place one (cart checkout and buy-now).
PLACING = (
    *COUPON,
    identity.AddressNotFound,
    orders.InvalidDelivery,
    orders.ItemUnavailable,
    orders.PriceChanged,
    orders.UnpaidOrdersLimit,
    orders.UnpaidUnitsLimit,
    inventory.InsufficientStock,
    inventory.NotDeliverable,
    inventory.NotAtStore,
    payments.UnknownProvider,
    IdempotencyKeyReused,
    IdempotencyInProgress,
)


@router.get("/delivery-slots")
async def delivery_slots(auth: CurrentCustomer) -> list[orders.DeliverySlot]:
    """定时达: the windows a scheduled delivery may be booked for now (send ``starts_at`` back as
    ``slot_starts_at``)."""
    return checkout.delivery_slots()


@router.get("/pickup-stores")
async def pickup_stores(
    auth: CurrentCustomer,
    session: DbSession,
    sku_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="立即购买: the SKU bought")] = None,
    quantity: Annotated[int, Query(ge=1, le=999, description="立即购买: how many")] = 1,
) -> list[checkout.PickupStore]:
    """到店自提: the stores an order can be collected from (send ``id`` as ``pickup_store_id``):
    those holding every ticked line of the caller's cart now, or ``quantity`` of ``sku_id`` for
    立即购买; none for an empty cart."""
    return await checkout.pickup_stores(
        session, customer_id=auth.customer.id, sku_id=sku_id, quantity=quantity
    )


@router.post("/confirm")
@raises(
    checkout.EmptyCart,
    identity.AddressNotFound,
    orders.InvalidDelivery,
    orders.ItemUnavailable,
    inventory.NotDeliverable,
    inventory.NotAtStore,
    inventory.InsufficientStock,
    *COUPON,
)
async def confirm(
    data: checkout.ConfirmCheckout, auth: CurrentCustomer, session: DbSession
) -> checkout.CheckoutQuote:
    """The ticked lines priced for this address and delivery with the live promotions and
    ``coupon`` (a wallet coupon's id, ``best``: the usable one saving most, or ``none``): show it
    with each discount by name and ``coupon_options`` (usable with their saving, or why not), then
    complete with its total and the same ``coupon``."""
    return await checkout.confirm_checkout(
        session, customer_id=auth.customer.id, data=data, channel=promotions.Channel.app
    )


@router.post("/complete")
@raises(checkout.EmptyCart, *PLACING)
async def complete(
    data: checkout.CompleteCheckout,
    auth: CurrentCustomer,
    session: DbSession,
    idempotency_key: IdempotencyKey,
) -> checkout.CheckoutResult:
    """Place the order and open its payment. A retry (same key, or any key while the cart waits
    for this payment) returns the same order; a total other than the confirmed one is refused."""
    return await checkout.complete_checkout(
        session,
        customer_id=auth.customer.id,
        data=data,
        idempotency_key=idempotency_key,
        channel=promotions.Channel.app,
    )


@router.post("/buy-now")
@raises(checkout.NoAddress, orders.NothingToOrder, *PLACING)
async def buy_now(
    data: checkout.BuyNow,
    auth: CurrentCustomer,
    session: DbSession,
    idempotency_key: IdempotencyKey,
) -> checkout.CheckoutResult:
    """立即购买: order one SKU without the cart, to the default address unless another is given."""
    return await checkout.buy_now(
        session,
        customer_id=auth.customer.id,
        data=data,
        idempotency_key=idempotency_key,
        channel=promotions.Channel.app,
    )


@router.post("/buy-now/confirm")
@raises(
    identity.AddressNotFound,
    orders.InvalidDelivery,
    orders.NothingToOrder,
    orders.ItemUnavailable,
    inventory.NotDeliverable,
    inventory.NotAtStore,
    inventory.InsufficientStock,
    *COUPON,
)
async def confirm_buy_now(
    data: checkout.ConfirmBuyNow, auth: CurrentCustomer, session: DbSession
) -> checkout.CheckoutQuote:
    """立即购买's confirm step: the price of one SKU for this address and delivery (nothing is
    held); place it with ``POST /checkout/buy-now`` and this total as ``expected_total_amount``."""
    return await checkout.confirm_buy_now(
        session,
        customer_id=auth.customer.id,
        sku_id=data.sku_id,
        quantity=data.quantity,
        data=checkout.ConfirmCheckout.model_validate(data.model_dump(exclude={"sku_id", "quantity"})),
        channel=promotions.Channel.app,
    )


@router.get("/pay/{payment_id}", response_class=RedirectResponse, status_code=303)
@raises(payments.PaymentNotFound, PayPageNotReady)
async def pay(
    payment_id: Annotated[int, Path(ge=1, le=2**63 - 1)], auth: CurrentCustomer, session: DbSession
) -> RedirectResponse:
    """Send the shopper to the gateway's pay page."""
    url = await checkout.pay_url(session, customer_id=auth.customer.id, payment_id=payment_id)
    if url is None:
        raise PayPageNotReady()
    return RedirectResponse(url, status_code=303)
