"""Money that arrives for an order that can no longer be paid is refunded automatically (or
flagged when the gateway refuses the refund), never kept: the cancel closes the payment in its own
transaction, so a payment racing it — right after a shopper's cancel, or at the deadline — finds
it closed and is captured and refunded at once; a cancel that loses the race is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update

from mercato import checkout, identity, inventory, orders, payments
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import AuditEntry
from mercato.notify.models import Message
from mercato.payments.models import Refund, SandboxRefund, SandboxTransaction
from mercato.payments.providers.base import CloseResult, ProviderUnavailable, RefundResult
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from mercato.payments.schemas import SandboxOutcome, SandboxPay
from tests.factories.cart import listed_skus
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.factories.payments import (
    body_for,
    counts,
    history,
    make_payment,
    notification_outcomes,
    notify,
    pay_on_gateway,
    read_payment,
    signed,
)

pytestmark = pytest.mark.usefixtures("handlers")

LATE = "paid after the payment was closed: refunded automatically"


class GatewayClosesTooLate(SandboxProvider):
    """The gateway's close does not get through: the trade can still be paid there (the moment
    between the cancel's commit and the close reaching the gateway, held open)."""

    async def close(self, provider_payment_id: str) -> CloseResult:
        raise ProviderUnavailable()


class GatewayRefusesRefunds(GatewayClosesTooLate):
    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        return RefundResult(succeeded=False, failure_reason="the card was closed")


@pytest.fixture
def close_too_late() -> Iterator[None]:
    set_provider("sandbox", GatewayClosesTooLate())
    yield
    set_provider("sandbox", None)


@pytest.fixture
def refunds_refused() -> Iterator[None]:
    set_provider("sandbox", GatewayRefusesRefunds())
    yield
    set_provider("sandbox", None)


async def placed(client: AsyncClient) -> tuple[dict[str, str], dict[str, Any], int]:
    """A shopper's order of 2 × 30 元 (70 元 with shipping) waiting for its sandbox payment."""
    auth, address_id, red = await shopper_with_cart(client, price=3000, quantity=2)
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    done = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": "race-0001"},
    )
    assert done.status_code == 200, done.text
    return auth, done.json(), red


async def order_status(order_id: int) -> orders.OrderStatus:
    async with uow(write=False) as s:
        return (await orders.read_order(s, order_id=order_id)).status


async def refunds_of(payment_id: int) -> list[tuple[int, str, str, str, str]]:
    async with uow(write=False) as s:
        rows = await s.execute(
            select(Refund.amount, Refund.status, Refund.reason, Refund.actor, Refund.idempotency_key)
            .where(Refund.payment_id == payment_id)
            .order_by(Refund.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def gateway(trade_id: str | None) -> tuple[str, int, list[int]]:
    """The sandbox gateway's own books: the trade's status, refunded amount, and refunds."""
    async with uow(write=False) as s:
        txn = (
            await s.execute(select(SandboxTransaction).where(SandboxTransaction.trade_id == trade_id))
        ).scalar_one()
        refunded = list(
            (
                await s.execute(select(SandboxRefund.amount).where(SandboxRefund.trade_id == trade_id))
            ).scalars()
        )
    return txn.status, txn.refunded_amount, refunded


async def event_names() -> list[str]:
    async with uow(write=False) as s:
        return list((await s.execute(select(OutboxEvent.name).order_by(OutboxEvent.id))).scalars())


async def refund_messages(customer_id: int) -> list[tuple[str, str]]:
    async with uow(write=False) as s:
        rows = await s.execute(
            select(Message.kind, Message.dedupe_key)
            .where(Message.customer_id == customer_id)
            .order_by(Message.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def deliver_all() -> None:
    for _ in range(5):  # events beget events: captured → refused → refunded → notified
        await events.deliver_pending()


async def test_paying_right_after_the_shopper_cancels_is_refunded(
    client: AsyncClient, close_too_late: None
) -> None:
    auth, result, red = await placed(client)
    payment = await read_payment(result["payment_id"])
    customer_id = payment.customer_id
    assert customer_id is not None

    cancelled = await client.post(
        f"/api/v1/orders/{result['order_id']}/cancel", json={"reason": "买错了"}, headers=auth
    )
    right_after = await read_payment(payment.id)  # before any event handler has run
    paid = await pay_on_gateway(client, payment)  # the gateway still takes the money
    await deliver_all()

    assert cancelled.status_code == 200, cancelled.text
    assert (right_after.status, right_after.closed_at is not None) == (payments.PaymentStatus.closed, True)
    assert paid.status_code in {200, 303}
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount, final.needs_review) == (
        payments.PaymentStatus.refunded,
        7000,
        False,
    )
    assert final.captured_at is not None
    assert await history(payment.id) == [
        ("pending", "closed", f"customer:{customer_id}"),
        ("closed", "paid", "provider:sandbox"),
        ("paid", "refunded", "system"),
    ]
    assert await refunds_of(payment.id) == [(7000, "succeeded", LATE, "system", f"unwanted:{payment.id}")]
    assert await gateway(payment.provider_payment_id) == ("paid", 7000, [7000])
    assert await notification_outcomes(payment.id) == [
        (f"{payment.provider_payment_id}:paid", "paid", "paid_after_close")
    ]
    assert await order_status(result["order_id"]) is orders.OrderStatus.cancelled
    names = await event_names()
    assert "payments.payment_captured.v1" not in names  # the cancelled order never hears of it
    assert names.count("payments.payment_refunded.v1") == 1
    assert await refund_messages(customer_id) == [
        ("refund_succeeded", f"refund:{(await refunds_ids(payment.id))[0]}")
    ]
    async with uow(write=False) as s:
        outcome = await checkout.get_order_outcome(s, customer_id=customer_id, number=result["order_number"])
        audit = (
            await s.execute(
                select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.object_id).where(
                    AuditEntry.action == "payment.refund"
                )
            )
        ).all()
    assert (outcome.outcome, outcome.payment and outcome.payment.refunded_amount) == (
        checkout.PayOutcome.cancelled,
        7000,
    )
    assert audit == [("payment.refund", "system", str(payment.id))]
    async with uow(write=False) as s:
        [stock] = (await inventory.get_stock_levels(s, sku_ids=[red]))[red]
    assert (stock.on_hand, stock.reserved) == (5, 0)  # the cancel gave the stock back


async def refunds_ids(payment_id: int) -> list[int]:
    async with uow(write=False) as s:
        return list((await s.execute(select(Refund.id).where(Refund.payment_id == payment_id))).scalars())


async def test_money_taken_just_before_the_deadline_is_refunded_by_the_timeout_cancel(
    client: AsyncClient,
) -> None:
    _auth, result, _red = await placed(client)
    payment = await read_payment(result["payment_id"])
    assert payment.provider_payment_id is not None
    clock.advance(dt.timedelta(minutes=29, seconds=59))
    async with uow() as s:  # the shopper pays at 29:59; the gateway's notification is slow
        await payments.submit_sandbox_payment(
            s, trade_id=payment.provider_payment_id, data=SandboxPay(outcome=SandboxOutcome.pay)
        )
        s.info.pop("after_commit")
    clock.advance(dt.timedelta(seconds=1))  # pay_by: the timeout job runs

    cancelled = await checkout.cancel_unpaid_orders()
    late = await notify(client, body_for(payment))  # the notification finally arrives
    await deliver_all()

    assert cancelled == 1
    assert (late.status_code, late.text) == (200, "success")
    assert await order_status(result["order_id"]) is orders.OrderStatus.cancelled
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount, final.needs_review) == (
        payments.PaymentStatus.refunded,
        7000,
        False,
    )
    assert await history(payment.id) == [
        ("pending", "closed", "system"),
        ("closed", "paid", "provider:sandbox"),
        ("paid", "refunded", "system"),
    ]
    assert await refunds_of(payment.id) == [(7000, "succeeded", LATE, "system", f"unwanted:{payment.id}")]
    assert await gateway(payment.provider_payment_id) == ("paid", 7000, [7000])
    # the gateway's close said "paid": its answer to the query captured and refunded the money;
    # the notification that came afterwards was the same event, applied once
    assert await notification_outcomes(payment.id) == [
        (f"{payment.provider_payment_id}:paid", "paid", "paid_after_close")
    ]
    assert (await event_names()).count("payments.payment_refunded.v1") == 1


async def test_a_cancel_that_loses_the_race_to_the_money_is_refused_and_changes_nothing(
    client: AsyncClient,
) -> None:
    auth, result, red = await placed(client)
    payment = await read_payment(result["payment_id"])
    captured = await notify(client, body_for(payment))  # paid; the order has not heard yet
    before = (await counts(), await event_names())

    cancel = await client.post(
        f"/api/v1/orders/{result['order_id']}/cancel", json={"reason": "不要了"}, headers=auth
    )
    with pytest.raises(orders.CannotCancel):
        async with uow() as s:  # the console's cancel, the same use case
            await checkout.cancel_order(
                s, order_id=result["order_id"], reason="x", actor=identity.Actor(staff_id=None, label="t")
            )
    after = (await counts(), await event_names())
    await deliver_all()

    assert captured.status_code == 200
    assert (cancel.status_code, cancel.json()["code"]) == (409, "orders.cannot_cancel")
    assert after == before  # no close, no cancel, no event
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid
    assert await order_status(result["order_id"]) is orders.OrderStatus.paid
    assert await refunds_of(payment.id) == []
    async with uow(write=False) as s:
        [stock] = (await inventory.get_stock_levels(s, sku_ids=[red]))[red]
    assert (stock.on_hand, stock.reserved) == (5, 2)


async def test_money_captured_for_an_order_cancelled_without_closing_its_payment_is_refunded(
    client: AsyncClient,
) -> None:
    _auth, result, _red = await placed(client)
    payment = await read_payment(result["payment_id"])
    async with uow() as s:  # orders alone: the payment stays open until checkout's handler runs
        await orders.cancel_order(
            s, order_id=result["order_id"], reason="test", actor=identity.Actor(staff_id=None, label="t")
        )
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending

    await pay_on_gateway(client, payment)
    await deliver_all()

    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.refunded, 7000)
    order_id = result["order_id"]
    reason = f"order {order_id} cannot take this payment (the order is cancelled): refunded automatically"
    assert await refunds_of(payment.id) == [(7000, "succeeded", reason, "system", f"unwanted:{payment.id}")]
    assert await history(payment.id) == [
        ("pending", "paid", "provider:sandbox"),
        ("paid", "refunded", "system"),
    ]
    names = await event_names()
    assert names.count("orders.order_payment_refused.v1") == 1
    assert names.count("payments.payment_refunded.v1") == 1
    assert await order_status(result["order_id"]) is orders.OrderStatus.cancelled


async def test_a_refund_the_gateway_refuses_flags_the_payment_for_a_person(
    client: AsyncClient, refunds_refused: None
) -> None:
    auth, result, _red = await placed(client)
    payment = await read_payment(result["payment_id"])
    await client.post(f"/api/v1/orders/{result['order_id']}/cancel", json={"reason": "x"}, headers=auth)

    await pay_on_gateway(client, payment)
    await deliver_all()

    final = await read_payment(payment.id)
    [refund_id] = await refunds_ids(payment.id)
    reason = f"automatic refund {refund_id} failed (the card was closed): refund the customer"
    assert (final.status, final.refunded_amount, final.needs_review, final.review_reason) == (
        payments.PaymentStatus.paid,
        0,
        True,
        reason,
    )
    assert await refunds_of(payment.id) == [(7000, "failed", LATE, "system", f"unwanted:{payment.id}")]
    names = await event_names()
    assert names.count("payments.payment_needs_review.v1") == 1
    assert "payments.payment_refunded.v1" not in names
    async with uow(write=False) as s:
        flagged = await payments.list_payments(s, needs_review=True)
    assert [p.id for p in flagged.items] == [payment.id]


async def test_a_cancel_and_a_payment_at_the_same_moment_never_keep_the_money() -> None:
    """Raced for real (PostgreSQL runs both at once): whichever wins, the money is either the
    paid order's or given back, never kept for a cancelled order."""
    red, _black = await listed_skus(price=3000, stock=50)
    outcomes: list[str] = []
    for n in range(6):
        customer = await make_customer()
        order = await place(customer.id, (red, 1), key=f"race:{n}")
        payment = await make_payment(
            reference=f"order:{order.id}", customer_id=customer.id, amount=order.total_amount
        )
        await paid_at_gateway(payment)

        async def cancel(order_id: int = order.id) -> str:
            try:
                async with uow() as s:
                    await checkout.cancel_order(
                        s, order_id=order_id, reason="race", actor=identity.Actor(staff_id=None, label="t")
                    )
            except orders.CannotCancel:
                return "refused"
            return "cancelled"

        async def pay(body: bytes = body_for(payment)) -> None:
            async with uow() as s:
                await payments.handle_notification(s, provider="sandbox", headers=signed(body), body=body)

        cancelled, _ = await asyncio.gather(cancel(), pay())
        await deliver_all()

        status = await order_status(order.id)
        final = await read_payment(payment.id)
        if cancelled == "cancelled":
            assert (status, final.status, final.refunded_amount) == (
                orders.OrderStatus.cancelled,
                payments.PaymentStatus.refunded,
                order.total_amount,
            )
        else:
            assert (status, final.status, final.refunded_amount) == (
                orders.OrderStatus.paid,
                payments.PaymentStatus.paid,
                0,
            )
        outcomes.append(cancelled)
    assert len(outcomes) == 6


async def paid_at_gateway(payment: payments.PaymentRead) -> None:
    """The gateway took the money (its own books); its notification is on its way."""
    async with uow() as s:
        await s.execute(
            update(SandboxTransaction)
            .where(SandboxTransaction.trade_id == payment.provider_payment_id)
            .values(status="paid", paid_amount=payment.amount)
        )
