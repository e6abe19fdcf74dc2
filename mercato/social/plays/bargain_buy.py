"""Buying a bargain (砍价), what becomes of its order, and the expiry job.

``buy_bargain``: the initiator buys the one unit at the price now, whenever the bargain runs
(the floor once every help is in), in the request's transaction:

1. the bargain moves to ``ordered`` with one conditional UPDATE (from active or floor_reached,
   not expired) that also reads the price now; a help that lands first lowers it, so the total
   the shopper was shown no longer matches and checkout refuses (``orders.PriceChanged``);
2. the offer's stock: ``sold = sold + 1 WHERE sold < stock``, one conditional UPDATE, so the
   offer never sells more than its stock under any concurrency;
3. ``checkout.buy_now`` with the bargain's ``orders.Deal`` (its price, combined with nothing; one
   unit; free stock reserved as usual; the shop's payment window), and the order kept on the
   bargain. A retry with the same Idempotency-Key returns the same order. Any refusal rolls all
   of it back.

The order's fate comes back through the order events (``on_order_*``): paid → bought; cancelled
or not paid in time → the bargain runs again (active, or floor_reached) unless its time is up
(expired), and the offer's unit is given back; refunded in full before shipping → expired, the
unit given back. ``expire_due_bargains`` (job ``social-bargain``) ends bargains whose time ran out.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import checkout, identity, orders, promotions
from mercato.core import clock
from mercato.core.idempotency import IdempotencyKeyReused
from mercato.social.errors import BargainNotFound, BargainNotOpen, BargainNotYours, BargainSoldOut
from mercato.social.models import Bargain, BargainOffer
from mercato.social.plays.bargain import (
    bargain_row,
    customer_label,
    deal_code,
    move_bargain,
    refuse_closed,
    refuse_sold_out,
)
from mercato.social.plays.bargain_offers import record_move
from mercato.social.schemas_bargains import BargainBuy, BargainStatus
from mercato.social.states import BARGAIN

#: The name a bargain line's discount carries on the order.
DEAL_NAME = "砍价价"
SYSTEM = "system"


def _deal(bargain_id: int, sku_id: int, price_amount: int) -> orders.Deal:
    return orders.Deal(
        price=promotions.DealPrice(
            code=deal_code(bargain_id), name=DEAL_NAME, sku_id=sku_id, unit_price_amount=price_amount
        ),
        max_quantity=1,
        stock_from=None,
        pay_minutes=None,
    )


async def _own(session: AsyncSession, bargain_id: int, customer_id: int) -> tuple[Bargain, int]:
    """The customer's bargain and its SKU.

    Raises: BargainNotFound (404), BargainNotYours (403).
    """
    row = await bargain_row(session, bargain_id)
    if row.customer_id != customer_id:
        raise BargainNotYours()
    offer = await session.get(BargainOffer, row.offer_id)
    if offer is None:
        raise BargainNotFound()
    return row, offer.sku_id


async def confirm_bargain(
    session: AsyncSession,
    *,
    customer_id: int,
    bargain_id: int,
    address_id: int | None = None,
    channel: promotions.Channel = promotions.Channel.web,
) -> checkout.CheckoutQuote:
    """The price of buying the bargain now to the customer's address (the default one unless
    given), shipping included, holding nothing: what ``buy_bargain`` expects as
    ``expected_total_amount``.

    Raises:
        BargainNotFound (404), BargainNotYours (403), BargainExpired / BargainNotOpen (409),
        BargainSoldOut (409), checkout.NoAddress (409), identity.AddressNotFound (404),
        inventory.InsufficientStock / NotDeliverable (409).
    """
    row, sku_id = await _own(session, bargain_id, customer_id)
    refuse_closed(row, clock.now())
    await refuse_sold_out(session, row.offer_id)
    if address_id is None:
        addresses = await identity.list_addresses(session, customer_id=customer_id)
        if not addresses:
            raise checkout.NoAddress()
        address_id = addresses[0].id
    return await checkout.confirm_buy_now(
        session,
        customer_id=customer_id,
        sku_id=sku_id,
        quantity=1,
        data=checkout.ConfirmCheckout(address_id=address_id, coupon="none"),
        channel=channel,
        deal=_deal(row.id, sku_id, row.current_amount),
    )


async def buy_bargain(
    session: AsyncSession,
    *,
    customer_id: int,
    bargain_id: int,
    data: BargainBuy,
    idempotency_key: str,
    channel: promotions.Channel = promotions.Channel.web,
) -> checkout.CheckoutResult:
    """Order the bargain's unit at its price now and open its payment (see the module docstring).

    Raises:
        BargainNotFound (404), BargainNotYours (403), BargainExpired / BargainNotOpen (409),
        BargainSoldOut (409), checkout.NoAddress (409), identity.AddressNotFound (404),
        orders.PriceChanged / ItemUnavailable / UnpaidOrdersLimit / UnpaidUnitsLimit (409),
        inventory.InsufficientStock / NotDeliverable (409), payments.UnknownProvider (422),
        IdempotencyKeyReused (409): the key was used for another request or an order gone since.
    """
    row, sku_id = await _own(session, bargain_id, customer_id)
    buy = checkout.BuyNow(
        sku_id=sku_id,
        quantity=1,
        address_id=data.address_id,
        expected_total_amount=data.expected_total_amount,
        provider=data.provider,
        note=data.note,
        coupon="none",
    )
    if row.status == str(BargainStatus.ordered) and row.order_id is not None:
        # a retry of the order placed: the same key gives the same order; any other is refused
        again = await checkout.buy_now(
            session,
            customer_id=customer_id,
            data=buy,
            idempotency_key=idempotency_key,
            channel=channel,
            deal=_deal(row.id, sku_id, row.current_amount),
        )
        if again.order_id == row.order_id:
            return again
        raise BargainNotOpen()
    now = clock.now()
    refuse_closed(row, now)
    price = (
        await session.execute(
            update(Bargain)
            .where(
                Bargain.id == row.id,
                Bargain.status.in_(BARGAIN.sources(BargainStatus.ordered)),
                Bargain.expires_at > now,
            )
            .values(status=str(BargainStatus.ordered), updated_at=now)
            .returning(Bargain.current_amount, Bargain.helps_done, Bargain.helps_needed)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if price is None:  # ordered, bought or expired meanwhile
        refuse_closed(await bargain_row(session, bargain_id), now)
        raise BargainNotOpen()
    current_amount, helps_done, helps_needed = price
    taken = (
        await session.execute(
            update(BargainOffer)
            .where(BargainOffer.id == row.offer_id, BargainOffer.sold < BargainOffer.stock)
            .values(sold=BargainOffer.sold + 1, updated_at=now)
            .returning(BargainOffer.sold)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if taken is None:  # the bargain's move above rolls back with this refusal
        raise BargainSoldOut()
    result = await checkout.buy_now(
        session,
        customer_id=customer_id,
        data=buy,
        idempotency_key=idempotency_key,
        channel=channel,
        deal=_deal(row.id, sku_id, current_amount),
    )
    placed = await orders.read_order(session, order_id=result.order_id, customer_id=customer_id)
    if placed.status is not orders.OrderStatus.pending_payment:  # the key's order is gone
        raise IdempotencyKeyReused()
    await session.execute(
        update(Bargain)
        .where(Bargain.id == row.id)
        .values(order_id=result.order_id)
        .execution_options(synchronize_session=False)
    )
    reached = helps_done >= helps_needed
    from_status = BargainStatus.floor_reached if reached else BargainStatus.active
    record_move(
        session,
        subject="bargain",
        subject_id=row.id,
        from_status=str(from_status),
        to_status=str(BargainStatus.ordered),
        actor_id=None,
        actor_label=customer_label(customer_id),
        reason=f"order {result.order_number}",
    )
    await session.flush()
    return result


async def _by_order(session: AsyncSession, order_id: int) -> Bargain | None:
    return (
        await session.execute(
            select(Bargain).where(Bargain.order_id == order_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def _give_back_unit(session: AsyncSession, offer_id: int) -> None:
    await session.execute(
        update(BargainOffer)
        .where(BargainOffer.id == offer_id, BargainOffer.sold > 0)
        .values(sold=BargainOffer.sold - 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def on_order_paid(session: AsyncSession, *, order_id: int) -> None:
    """A bargain's order was paid: bought (no-op for other orders, and when delivered twice)."""
    row = await _by_order(session, order_id)
    if row is None or row.status != str(BargainStatus.ordered):
        return
    await move_bargain(session, row, target=BargainStatus.bought, actor_label=SYSTEM, reason="order paid")


async def on_order_released(session: AsyncSession, *, order_id: int) -> None:
    """A bargain's order was cancelled, not paid in time, or refunded in full before shipping:
    the offer's unit is given back; an unpaid one lets the bargain run again (active, or
    floor_reached) unless its time is up (expired); a refunded one ends it (expired). A no-op
    for other orders and when delivered twice."""
    row = await _by_order(session, order_id)
    if row is None:
        return
    if row.status == str(BargainStatus.ordered):
        if row.expires_at <= clock.now():
            target = BargainStatus.expired
        elif row.helps_done >= row.helps_needed:
            target = BargainStatus.floor_reached
        else:
            target = BargainStatus.active
        moved = await move_bargain(
            session,
            row,
            target=target,
            actor_label=SYSTEM,
            reason=f"order {order_id} cancelled",
            values={"order_id": None},
        )
    elif row.status == str(BargainStatus.bought):
        moved = await move_bargain(
            session,
            row,
            target=BargainStatus.expired,
            actor_label=SYSTEM,
            reason=f"order {order_id} refunded",
        )
    else:
        return
    if moved:
        await _give_back_unit(session, row.offer_id)
        await session.flush()


async def expire_due_bargains(session: AsyncSession, *, limit: int = 200) -> int:
    """Bargains whose time ran out before an order → expired (the ``social-bargain`` job); an
    ordered one waits for its order's fate. Returns how many expired."""
    due = list(
        (
            await session.execute(
                select(Bargain)
                .where(
                    Bargain.status.in_([str(BargainStatus.active), str(BargainStatus.floor_reached)]),
                    Bargain.expires_at <= clock.now(),
                )
                .order_by(Bargain.expires_at, Bargain.id)
                .limit(limit)
            )
        ).scalars()
    )
    expired = 0
    for row in due:
        if await move_bargain(
            session, row, target=BargainStatus.expired, actor_label=SYSTEM, reason="time up"
        ):
            expired += 1
    await session.flush()
    return expired
