"""Private: notification event handlers, subscribed in mercato/worker.py.

Each runs at least once per event; ``notify_customer`` is idempotent by the fact it reports
(the order, the sub-order that shipped, the refund), so a repeated event — redelivered, or
recorded twice by its producer — writes one message and one email.

Shipping: every parcel is announced (``OrderShipped`` per sub-order), the last one as "order
shipped", the earlier ones as "part of your order shipped" (ADR 0018).

Account emails (identity's verification codes and "you already have an account") have no in-app
message; each event is handled once (the delivery inbox), so each writes one email.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import aftersales, fulfillment, identity, orders, payments, promotions, shop, social
from mercato.core import clock
from mercato.core.events import EventEnvelope
from mercato.notify.schemas import AccountEmailKind, MessageKind
from mercato.notify.service.emails import queue_account_email
from mercato.notify.service.messages import erase_customer_messages, notify_customer

log = structlog.get_logger("mercato.notify")


async def _about_order(
    session: AsyncSession, order: orders.OrderRead, *, kind: MessageKind, dedupe_key: str, **params: object
) -> None:
    """Tell the order's customer ``kind`` about it (``order_number`` added to ``params``)."""
    await notify_customer(
        session,
        customer_id=order.customer_id,
        kind=kind,
        params={"order_number": order.number, **params},
        dedupe_key=dedupe_key,
        link=f"order:{order.id}",
    )


async def on_order_paid(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_paid``: "order paid", with the amount."""
    event = envelope.event
    assert isinstance(event, orders.OrderPaid)
    order = await orders.read_order(session, order_id=event.order_id)
    await _about_order(
        session,
        order,
        kind=MessageKind.order_paid,
        dedupe_key=f"order:{order.id}",
        amount=order.total_amount,
        currency=order.currency,
    )


async def on_order_shipped(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_shipped``: one message per parcel (sub-order)."""
    event = envelope.event
    assert isinstance(event, orders.OrderShipped)
    await _about_order(
        session,
        await orders.read_order(session, order_id=event.order_id),
        kind=MessageKind.order_shipped,
        dedupe_key=f"sub_order:{event.sub_order_id}",
        fully=event.fully,
    )


async def on_order_delivered(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_delivered``: every parcel arrived."""
    event = envelope.event
    assert isinstance(event, orders.OrderDelivered)
    await _about_order(
        session,
        await orders.read_order(session, order_id=event.order_id),
        kind=MessageKind.order_delivered,
        dedupe_key=f"order:{event.order_id}",
    )


async def on_pickup_code_issued(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``fulfillment.pickup_code_issued``: the order can be collected (the code is shown in the
    order, never sent in a message)."""
    event = envelope.event
    assert isinstance(event, fulfillment.PickupCodeIssued)
    await _about_order(
        session,
        await orders.read_order(session, order_id=event.order_id),
        kind=MessageKind.pickup_ready,
        dedupe_key=f"pickup:{event.order_id}",
    )


async def on_payment_refunded(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``payments.payment_refunded``: "refund completed" for the order the payment paid.

    Payments know their payable only by reference; only orders (``order:<id>``) are payables
    today, anything else is skipped.
    """
    event = envelope.event
    assert isinstance(event, payments.PaymentRefunded)
    kind, _, raw_id = event.reference.partition(":")
    if kind != "order" or not raw_id.isdigit():
        log.info("notify.refund_not_for_an_order", payment_id=event.payment_id)
        return
    await _about_order(
        session,
        await orders.read_order(session, order_id=int(raw_id)),
        kind=MessageKind.refund_succeeded,
        dedupe_key=f"refund:{event.refund_id}",
        amount=event.amount,
        currency=event.currency,
    )


async def on_customer_deleted(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``identity.customer_deleted``: erase the customer's messages and emails."""
    event = envelope.event
    assert isinstance(event, identity.CustomerDeleted)
    await erase_customer_messages(session, customer_id=event.customer_id)


async def on_aftersales_decided(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``aftersales.decided``: the shop (or the platform, in a dispute) approved or rejected a
    request; one message per decision (an arbitration after a rejection is a second one). An
    approved return or exchange says where to send the goods (``aftersales.get_return_address``),
    as it stands when the event is handled."""
    event = envelope.event
    assert isinstance(event, aftersales.AftersalesDecided)
    stage = "arbitrated" if event.arbitrated else "decided"
    try:  # an approved return or exchange: where to send the goods (None for anything else)
        address = await aftersales.get_return_address(
            session, request_id=event.request_id, customer_id=event.customer_id
        )
    except aftersales.RequestNotFound:
        address = None
    await notify_customer(
        session,
        customer_id=event.customer_id,
        kind=MessageKind.aftersales_decided,
        params={
            "order_number": event.order_number,
            "approved": event.outcome == "approved",
            "reason": event.reason,
            "request_number": event.number,
            "return_address": address.model_dump() if address is not None else None,
        },
        dedupe_key=f"aftersales:{event.request_id}:{stage}",
        link=f"aftersales:{event.request_id}",
    )


async def on_coupon_expiring(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``promotions.coupon_expiring``: remind the customer a coupon in their wallet ends soon,
    with its end in the shop's time zone (one message per coupon)."""
    event = envelope.event
    assert isinstance(event, promotions.CouponExpiring)
    tz = ZoneInfo((await shop.get_settings(session)).timezone)
    ends = dt.datetime.fromisoformat(event.valid_until).astimezone(tz)
    await notify_customer(
        session,
        customer_id=event.customer_id,
        kind=MessageKind.coupon_expiring,
        params={"coupon_name": event.coupon_name, "valid_until": ends.strftime("%Y-%m-%d %H:%M")},
        dedupe_key=f"coupon:{event.coupon_id}:expiring",
        link=f"coupon:{event.coupon_id}",
    )


async def on_flash_sale_starting(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``social.flash_sale_starting``: tell the customer who asked ("提醒我") that a flash sale
    starts, with its start in the shop's time zone (one message per customer and session)."""
    event = envelope.event
    assert isinstance(event, social.FlashSaleStarting)
    tz = ZoneInfo((await shop.get_settings(session)).timezone)
    starts = dt.datetime.fromisoformat(event.starts_at).astimezone(tz)
    await notify_customer(
        session,
        customer_id=event.customer_id,
        kind=MessageKind.flash_sale_starting,
        params={"session_name": event.session_name, "starts_at": starts.strftime("%Y-%m-%d %H:%M")},
        dedupe_key=f"flash:{event.session_id}:starting",
        link=f"flash:{event.session_id}",
    )


async def on_group_completed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``social.group_completed``: tell each member their group is complete (once per member)."""
    event = envelope.event
    assert isinstance(event, social.GroupCompleted)
    for customer_id in event.customer_ids:
        await notify_customer(
            session,
            customer_id=customer_id,
            kind=MessageKind.group_complete,
            params={"group_id": event.group_id},
            dedupe_key=f"group:{event.group_id}:complete",
            link=f"group:{event.group_id}",
        )


async def on_group_failed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``social.group_failed``: tell each paying member the group failed and their money is on
    its way back (the refund's own message follows when the gateway confirms it)."""
    event = envelope.event
    assert isinstance(event, social.GroupFailed)
    for customer_id in event.customer_ids:
        await notify_customer(
            session,
            customer_id=customer_id,
            kind=MessageKind.group_failed,
            params={"group_id": event.group_id},
            dedupe_key=f"group:{event.group_id}:failed",
            link=f"group:{event.group_id}",
        )


async def _account_name(session: AsyncSession, customer_id: int, email: str) -> str | None:
    """The name of the active account that still uses ``email`` (None: deleted or changed)."""
    try:
        customer = await identity.get_customer(session, customer_id=customer_id)
    except identity.SessionInvalid:
        return None
    return customer.name if customer.email == email else None


async def on_email_code_issued(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``identity.email_code_issued``: email the code (sign-up or password reset). A code that
    has expired by now (a long outage) is not sent: it could only fail."""
    event = envelope.event
    assert isinstance(event, identity.EmailCodeIssued)
    if clock.now() >= envelope.occurred_at + dt.timedelta(minutes=event.expires_minutes):
        log.info("notify.email_code_expired_unsent", event_id=envelope.id)
        return
    name = ""
    if event.customer_id is not None:
        found = await _account_name(session, event.customer_id, event.email)
        if found is None:
            log.info("notify.customer_gone", customer_id=event.customer_id, kind="reset_code")
            return
        name = found
    register = event.purpose == str(identity.CodePurpose.register)
    await queue_account_email(
        session,
        kind=AccountEmailKind.register_code if register else AccountEmailKind.reset_code,
        recipient=event.email,
        params={"code": event.code, "minutes": event.expires_minutes},
        locale=event.locale,
        customer_id=event.customer_id,
        name=name,
        path="/account/register" if register else "/account/password-reset",
    )


async def on_existing_account_sign_up_attempted(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``identity.existing_account_sign_up_attempted``: tell the owner they already have an
    account and how to get in (sign in, or reset the password)."""
    event = envelope.event
    assert isinstance(event, identity.ExistingAccountSignUpAttempted)
    name = await _account_name(session, event.customer_id, event.email)
    if name is None:
        log.info("notify.customer_gone", customer_id=event.customer_id, kind="account_exists")
        return
    await queue_account_email(
        session,
        kind=AccountEmailKind.account_exists,
        recipient=event.email,
        params={"email": event.email},
        locale=event.locale,
        customer_id=event.customer_id,
        name=name,
        path="/account/login",
    )
