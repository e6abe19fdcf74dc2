"""Checkout: cart → confirm (address, delivery) → pay → done, in at most four steps.

``complete_checkout`` places the order for the cart's ticked lines, freezes the cart while the
order waits for payment, and opens the payment; all in the request's transaction (the payment
provider is called after commit by ``payments``). It is idempotent twice over: the same
Idempotency-Key returns the same order (the order's ``source_key``), and while the cart is
frozen any retry returns the order it is frozen for. The key is tied to a hash of the request
body (``core.idempotency.bind_request``), so the same key with another body is refused (409
``core.idempotency_key_reused``) instead of silently answered with the first order; ``buy_now``
does the same under its own scope. When the order is paid, the ordered lines leave the cart; when
it is cancelled, the cart thaws (``handlers.py``).

Cancelling an unpaid order (``cancel_order``: the shopper, staff, or ``cancel_unpaid_orders`` at
its deadline) happens here rather than in ``orders`` because it must close the order's open
payments in the same transaction, and checkout is the one domain that sees both (orders and
payments never import each other; they meet through events). From the commit on, a gateway
notification that races the cancel finds the payment closed, and payments refunds the money at
once; the trade at the gateway is closed right after the commit. A cancel that loses the race
(the money arrived first) is refused and rolls back: the order becomes paid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import cart, identity, inventory, orders, payments, promotions
from mercato.checkout.errors import EmptyCart, NoAddress
from mercato.checkout.schemas import (
    BuyNow,
    CheckoutQuote,
    CheckoutResult,
    CompleteCheckout,
    ConfirmCheckout,
    OrderOutcome,
    OrderPayment,
    PayOutcome,
    PickupStore,
)
from mercato.core import clock, idempotency
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.money import Money
from mercato.core.schemas import InputModel
from mercato.pricing import Delivery


async def _items(session: AsyncSession, customer_id: int) -> tuple[cart.CartRef, list[orders.OrderItem]]:
    found = await cart.find_cart(session, customer_id=customer_id, guest_token=None)
    if found is None:
        raise EmptyCart()
    items = [
        orders.OrderItem(sku_id=s, quantity=q)
        for s, q in await cart.checkout_items(session, cart_id=found.id)
    ]
    if not items:
        raise EmptyCart()
    return found, items


def _snapshot(address: identity.AddressRead) -> orders.AddressSnapshot:
    return orders.AddressSnapshot(
        recipient=address.recipient,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        detail=address.detail,
        postal_code=address.postal_code,
    )


async def confirm_checkout(
    session: AsyncSession,
    *,
    customer_id: int,
    data: ConfirmCheckout,
    channel: promotions.Channel = promotions.Channel.web,
) -> CheckoutQuote:
    """The price of the ticked lines delivered to the chosen address, with the live promotions
    and the coupon chosen (the best usable one by default), and the customer's coupons to pick.

    Raises:
        EmptyCart (409), AddressNotFound (404), orders.InvalidDelivery (422), ItemUnavailable (409),
        inventory.NotDeliverable / NotAtStore / InsufficientStock (409): it cannot reach them now,
        promotions.CouponNotFound (404), promotions.CouponUnavailable / CouponExpired /
        CouponNotYetValid / CouponNotApplicable / CouponsNotCombinable (409): the coupon chosen.
    """
    _cart, items = await _items(session, customer_id)
    return await _confirm(session, customer_id=customer_id, items=items, data=data, channel=channel)


async def _confirm(
    session: AsyncSession,
    *,
    customer_id: int,
    items: list[orders.OrderItem],
    data: ConfirmCheckout,
    channel: promotions.Channel,
    deal: orders.Deal | None = None,
) -> CheckoutQuote:
    address = await identity.get_address(session, customer_id=customer_id, address_id=data.address_id)
    choice = await orders.check_delivery(
        session,
        delivery=data.delivery,
        slot_starts_at=data.slot_starts_at,
        pickup_store_id=data.pickup_store_id,
        now=clock.now(),
    )
    quote = await orders.quote_order(
        session,
        items=items,
        province=address.province,
        delivery=data.delivery,
        pickup_store_id=choice.pickup_store_id,
        customer_id=customer_id,
        coupon=data.coupon,
        channel=channel,
        deal=deal,
    )
    return CheckoutQuote(
        address_id=address.id,
        delivery=data.delivery,
        slot=choice.slot,
        pickup_store_id=choice.pickup_store_id,
        price=quote.result,
        discounts=promotions.AppliedDiscount.of_quote(quote),
        coupon_id=quote.coupon_id,
        coupon_options=list(quote.coupon_options),
        coupons_blocked=quote.coupons_blocked,
        gifts=list(quote.gifts),
    )


def delivery_slots() -> list[orders.DeliverySlot]:
    """The scheduled-delivery slots a shopper may choose now."""
    return orders.offered_slots(clock.now())


async def delivery_fees(
    session: AsyncSession,
    *,
    customer_id: int,
    address_id: int,
    sku_id: int | None = None,
    quantity: int = 1,
) -> dict[Delivery, Money]:
    """The shipping fee (promotions applied) of each way of delivery to the address:
    the cart's ticked lines, or ``quantity`` of ``sku_id`` (立即购买). A way that cannot be priced
    now (the items cannot reach the address) is left out, and all are with nothing to deliver;
    store pickup, free, is not priced here.

    Raises:
        AddressNotFound (404).
    """
    if sku_id is not None:
        items = [orders.OrderItem(sku_id=sku_id, quantity=quantity)]
    else:
        try:
            _cart, items = await _items(session, customer_id)
        except EmptyCart:
            return {}
    address = await identity.get_address(session, customer_id=customer_id, address_id=address_id)
    fees: dict[Delivery, Money] = {}
    for delivery in (Delivery.standard, Delivery.express, Delivery.scheduled):
        try:
            quote = await orders.quote_order(
                session, items=items, province=address.province, delivery=delivery, customer_id=customer_id
            )
        except DomainError:
            continue
        fees[delivery] = Money(quote.result.shipping_amount, quote.result.currency)
    return fees


async def pickup_stores(
    session: AsyncSession, *, customer_id: int | None = None, sku_id: int | None = None, quantity: int = 1
) -> list[PickupStore]:
    """The active stores that hand over orders (到店自提), by name. For a customer's checkout
    (their cart's ticked lines, or ``quantity`` of ``sku_id`` for 立即购买) only the stores that
    hold every line now: a store that could not supply them is not offered."""
    if customer_id is None:
        warehouses = [
            w
            for w in await inventory.list_warehouses(session, active_only=True)
            if w.kind is inventory.WarehouseKind.store
        ]
    else:
        if sku_id is not None:
            items = [orders.OrderItem(sku_id=sku_id, quantity=quantity)]
        else:
            try:
                _cart, items = await _items(session, customer_id)
            except EmptyCart:
                return []
        lines = [inventory.DemandLine(sku_id=item.sku_id, quantity=item.quantity) for item in items]
        warehouses = await inventory.stores_holding(session, lines=lines)
    stores = [PickupStore.model_validate(w, from_attributes=True) for w in warehouses]
    return sorted(stores, key=lambda s: (s.name, s.id))


async def _bind_key(
    session: AsyncSession, *, action: str, customer_id: int, key: str, data: InputModel
) -> None:
    """Tie the customer's Idempotency-Key to this request's body for ``action``.

    Raises:
        IdempotencyKeyInvalid (422), IdempotencyKeyReused (409): used before with another body.
    """
    await idempotency.bind_request(
        session, scope=f"checkout.{action}:{customer_id}", key=key, payload=data.model_dump(mode="json")
    )


async def _result(session: AsyncSession, order: orders.OrderRead, provider: str) -> CheckoutResult:
    """The order and its payment: the one already opened for it, else a new one."""
    opened = await payments.list_payments(session, reference=f"order:{order.id}", limit=1)
    payment = opened.items[0] if opened.items else None
    if payment is None or (
        order.status is orders.OrderStatus.pending_payment
        and payment.status is not payments.PaymentStatus.pending
    ):
        payment = await payments.create_payment(
            session,
            reference=f"order:{order.id}",
            customer_id=order.customer_id,
            amount=order.total_amount,
            currency=order.currency,
            provider=provider,
            expires_in=max(order.pay_by - order.placed_at, dt.timedelta(minutes=1)),
        )
    return CheckoutResult(
        order_id=order.id,
        order_number=order.number,
        total_amount=order.total_amount,
        currency=order.currency,
        payment_id=payment.id,
        pay_path=f"/api/v1/checkout/pay/{payment.id}",
    )


async def complete_checkout(
    session: AsyncSession,
    *,
    customer_id: int,
    data: CompleteCheckout,
    idempotency_key: str,
    channel: promotions.Channel = promotions.Channel.web,
) -> CheckoutResult:
    """Place the order for the ticked lines and open its payment (see the module docstring).

    Raises:
        EmptyCart, AddressNotFound, orders.InvalidDelivery (422), orders.ItemUnavailable,
        orders.PriceChanged (409: the total differs from ``expected_total_amount``),
        orders.UnpaidOrdersLimit / UnpaidUnitsLimit (409: too much already waits for payment),
        inventory.InsufficientStock / NotDeliverable / NotAtStore (409), payments.UnknownProvider (422),
        IdempotencyKeyReused (409): the key was used for another request body,
        promotions.CouponNotFound (404), promotions.CouponUnavailable / CouponExpired /
        CouponNotYetValid / CouponNotApplicable / CouponsNotCombinable (409): the coupon chosen.
    """
    await _bind_key(session, action="complete", customer_id=customer_id, key=idempotency_key, data=data)
    found = await cart.find_cart(session, customer_id=customer_id, guest_token=None)
    if found is not None and found.checkout_reference is not None:
        order_id = int(found.checkout_reference.removeprefix("order:"))
        existing = await orders.read_order(session, order_id=order_id, customer_id=customer_id)
        return await _result(session, existing, data.provider)
    placed_cart, items = await _items(session, customer_id)
    address = await identity.get_address(session, customer_id=customer_id, address_id=data.address_id)
    order = await orders.place_order(
        session,
        customer_id=customer_id,
        data=orders.PlaceOrder(
            source_key=f"checkout:{customer_id}:{idempotency_key}",
            items=items,
            address=_snapshot(address),
            delivery=data.delivery,
            slot_starts_at=data.slot_starts_at,
            pickup_store_id=data.pickup_store_id,
            invoice=data.invoice,
            note=data.note,
            expected_total_amount=data.expected_total_amount,
            coupon=data.coupon,
            channel=channel,
        ),
    )
    if order.status is orders.OrderStatus.pending_payment:
        await cart.freeze_cart(session, cart_id=placed_cart.id, reference=f"order:{order.id}")
    return await _result(session, order, data.provider)


async def pay_url(session: AsyncSession, *, customer_id: int, payment_id: int) -> str | None:
    """Where to send the shopper to pay (None until the provider has opened the trade)."""
    payment = await payments.get_payment(session, payment_id=payment_id, customer_id=customer_id)
    return payment.pay_url


async def buy_now(
    session: AsyncSession,
    *,
    customer_id: int,
    data: BuyNow,
    idempotency_key: str,
    channel: promotions.Channel = promotions.Channel.web,
    deal: orders.Deal | None = None,
) -> CheckoutResult:
    """Place an order for one SKU straight away ("立即购买"), skipping the cart; the default
    address is used unless ``address_id`` is given. Idempotent by the Idempotency-Key. With a
    ``deal`` (a social play's order, built by the play's domain, never from the request) the
    order is at the play's price, from its quota, with its payment window (``orders.Deal``).

    Raises:
        NoAddress (409), AddressNotFound (404), orders.InvalidDelivery (422),
        orders.ItemUnavailable, orders.PriceChanged, orders.UnpaidOrdersLimit / UnpaidUnitsLimit,
        inventory.InsufficientStock / NotDeliverable / NotAtStore (409), payments.UnknownProvider (422),
        IdempotencyKeyReused (409): the key was used for another request body,
        promotions.CouponNotFound (404), promotions.CouponUnavailable / CouponExpired /
        CouponNotYetValid / CouponNotApplicable / CouponsNotCombinable (409): the coupon chosen.
    """
    action = "buy_now" if deal is None else f"deal:{deal.price.code}"
    await _bind_key(session, action=action, customer_id=customer_id, key=idempotency_key, data=data)
    if data.address_id is not None:
        address = await identity.get_address(session, customer_id=customer_id, address_id=data.address_id)
    else:
        addresses = await identity.list_addresses(session, customer_id=customer_id)
        if not addresses:
            raise NoAddress()
        address = addresses[0]  # the default one comes first
    order = await orders.place_order(
        session,
        customer_id=customer_id,
        data=orders.PlaceOrder(
            source_key=(
                f"buy-now:{customer_id}:{idempotency_key}"
                if deal is None
                else f"{deal.price.code}:{customer_id}:{idempotency_key}"[:200]
            ),
            items=[orders.OrderItem(sku_id=data.sku_id, quantity=data.quantity)],
            address=_snapshot(address),
            delivery=data.delivery,
            slot_starts_at=data.slot_starts_at,
            pickup_store_id=data.pickup_store_id,
            invoice=data.invoice,
            note=data.note,
            expected_total_amount=data.expected_total_amount,
            coupon=data.coupon if deal is None else "none",
            channel=channel,
        ),
        deal=deal,
    )
    return await _result(session, order, data.provider)


async def confirm_buy_now(
    session: AsyncSession,
    *,
    customer_id: int,
    sku_id: int,
    quantity: int,
    data: ConfirmCheckout,
    channel: promotions.Channel = promotions.Channel.web,
    deal: orders.Deal | None = None,
) -> CheckoutQuote:
    """The price of ``quantity`` of one SKU delivered to the chosen address, with the live
    promotions and the coupon chosen (立即购买's confirm step; place it with ``buy_now`` and this
    total).

    Raises:
        AddressNotFound (404), orders.InvalidDelivery (422), NothingToOrder (422), ItemUnavailable (409),
        inventory.NotDeliverable / NotAtStore / InsufficientStock (409): it cannot reach them now,
        promotions.CouponNotFound (404), promotions.CouponUnavailable / CouponExpired /
        CouponNotYetValid / CouponNotApplicable / CouponsNotCombinable (409): the coupon chosen.
    """
    items = [orders.OrderItem(sku_id=sku_id, quantity=quantity)]
    return await _confirm(
        session, customer_id=customer_id, items=items, data=data, channel=channel, deal=deal
    )


SYSTEM = identity.Actor(staff_id=None, label="system")


async def cancel_order(
    session: AsyncSession,
    *,
    order_id: int,
    reason: str,
    actor: identity.Actor,
    customer_id: int | None = None,
) -> None:
    """Cancel an unpaid order, give its stock back, and close its open payments, all in this
    transaction (their trades at the gateway right after the commit); a staff member's cancel is
    audited. ``customer_id`` limits it to that customer's order (a shopper cancelling their own).

    Raises:
        orders.OrderNotFound (404).
        orders.CannotCancel (409): paid, shipped or closed, or its money has just arrived (the
            order has not heard yet and will be paid). Raised after writes in the second case:
            let it leave the unit of work, which rolls the whole cancel back.
    """
    await orders.cancel_order(session, order_id=order_id, reason=reason, actor=actor, customer_id=customer_id)
    try:
        await payments.close_open_payments(
            session, reference=f"order:{order_id}", actor=actor, reason=f"order cancelled: {reason}"
        )
    except payments.ReferenceAlreadyPaid as exc:
        raise orders.CannotCancel() from exc


async def cancel_unpaid_orders(*, limit: int = 200) -> int:
    """Cancel unpaid orders past their payment deadline (the ``orders-cancel-unpaid`` job), each in
    its own transaction with its payments (``cancel_order``); return how many were cancelled.
    One paid at the last moment is skipped (its payment decides)."""
    async with uow(write=False) as session:
        due = await orders.list_overdue_unpaid_orders(session, limit=limit)
    cancelled = 0
    for order_id in due:
        try:
            async with uow() as session:
                await cancel_order(session, order_id=order_id, reason=orders.NOT_PAID_IN_TIME, actor=SYSTEM)
        except orders.CannotCancel:
            continue
        cancelled += 1
    return cancelled


_PAID = frozenset(orders.OrderStatus) - {orders.OrderStatus.pending_payment, orders.OrderStatus.cancelled}
_SETTLED = frozenset(
    {
        payments.PaymentStatus.paid,
        payments.PaymentStatus.partially_refunded,
        payments.PaymentStatus.refunded,
    }
)


def _outcome(status: orders.OrderStatus, payment: payments.PaymentRead | None) -> PayOutcome:
    if status is orders.OrderStatus.cancelled:  # money that still came is refunded (payment.refunded_amount)
        return PayOutcome.cancelled
    if status in _PAID or (payment is not None and payment.status in _SETTLED):
        return PayOutcome.paid
    if payment is not None and payment.status is payments.PaymentStatus.failed:
        return PayOutcome.failed
    return PayOutcome.waiting


def _order_id(reference: str) -> int | None:
    prefix, _, number = reference.partition(":")
    return int(number) if prefix == "order" and number.isdigit() and len(number) < 19 else None


async def get_order_payment(session: AsyncSession, *, customer_id: int, payment_id: int) -> OrderPayment:
    """One of the customer's order payments with its order (the pay page).

    Raises:
        PaymentNotFound (404): no such payment, another customer's, or not for an order.
    """
    payment = await payments.get_payment(session, payment_id=payment_id, customer_id=customer_id)
    order_id = _order_id(payment.reference)
    if order_id is None:
        raise payments.PaymentNotFound()
    try:
        order = await orders.read_order(session, order_id=order_id, customer_id=customer_id)
    except orders.OrderNotFound as exc:
        raise payments.PaymentNotFound() from exc
    return OrderPayment(
        payment=payment,
        order_id=order.id,
        order_number=order.number,
        order_status=order.status,
        outcome=_outcome(order.status, payment),
    )


async def get_order_outcome(
    session: AsyncSession, *, customer_id: int, number: str | None = None, reference: str | None = None
) -> OrderOutcome:
    """One of the customer's orders, by number or by payment reference (``order:42``, as a
    gateway hands it back), with its latest payment and what that came to (the result page).

    Raises:
        OrderNotFound (404): no such order, or another customer's.
    """
    summary: orders.OrderSummary | None = None
    if number:
        page = await orders.list_orders(session, customer_id=customer_id, number=number, limit=1)
        summary = page.items[0] if page.items else None
    elif reference and (order_id := _order_id(reference)) is not None:
        summary = await orders.read_order(session, order_id=order_id, customer_id=customer_id)
    if summary is None or summary.customer_id != customer_id:
        raise orders.OrderNotFound()
    latest = (await payments.list_payments(session, reference=f"order:{summary.id}", limit=1)).items
    payment = latest[0] if latest else None
    return OrderOutcome(
        order=orders.OrderSummary.model_validate(
            summary.model_dump(include=set(orders.OrderSummary.model_fields))
        ),
        payment=payment,
        outcome=_outcome(summary.status, payment),
    )


async def pay_order(
    session: AsyncSession,
    *,
    customer_id: int,
    order_id: int,
    provider: str,
    channel: str = "",
    payer_openid: str = "",
) -> CheckoutResult:
    """Pay one of the customer's unpaid orders with ``provider``: its pending payment there, else
    a new one (paying another way, or again after a failed attempt). ``channel`` and
    ``payer_openid`` go to ``payments.create_payment`` (WeChat Pay JSAPI inside WeChat).

    Raises:
        OrderNotFound (404), payments.UnknownProvider (422),
        payments.ReferenceAlreadyPaid (409): the order is paid or no longer payable.
        payments.PendingPaymentDiffers (409): the pending payment there is paid another way.
    """
    order = await orders.read_order(session, order_id=order_id, customer_id=customer_id)
    if order.status is not orders.OrderStatus.pending_payment:
        raise payments.ReferenceAlreadyPaid()
    payment = await payments.create_payment(
        session,
        reference=f"order:{order.id}",
        customer_id=customer_id,
        amount=order.total_amount,
        currency=order.currency,
        provider=provider,
        expires_in=max(order.pay_by - clock.now(), dt.timedelta(minutes=1)),
        channel=channel,
        payer_openid=payer_openid,
    )
    return CheckoutResult(
        order_id=order.id,
        order_number=order.number,
        total_amount=order.total_amount,
        currency=order.currency,
        payment_id=payment.id,
        pay_path=f"/api/v1/checkout/pay/{payment.id}",
    )
