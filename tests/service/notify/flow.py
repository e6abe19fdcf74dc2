"""Helpers for notification tests: an order walked through payment, shipping in two parcels,
delivery and a refund by the real services, with the outbox delivered to the real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select, update

from mercato import identity, notify, orders, payments
from mercato.catalog.models import Product, Sku
from mercato.core import events
from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.notify.models import Delivery, DeliveryStatusChange, Message
from mercato.payments.schemas import SandboxOutcome, SandboxPay
from mercato.worker import register
from tests.factories.inventory import make_skus, make_warehouse, receive
from tests.factories.orders import place
from tests.factories.payments import make_payment

SYSTEM = identity.Actor(staff_id=None, label="tests")


async def deliver() -> None:
    """Hand every due event to its handlers (handlers record more events: a few rounds), then
    wait for the jobs they kicked (the email sender)."""
    register()
    for _ in range(3):
        await events.deliver_pending()
    await broker.wait_all()


async def split_order(customer_id: int) -> orders.OrderRead:
    """A placed order for 3 units at 33.00 split over two warehouses (2 + 1): two parcels."""
    (sku,) = await make_skus()
    async with uow() as s:
        product_id = (await s.execute(select(Sku.product_id).where(Sku.id == sku))).scalar_one()
        await s.execute(update(Product).where(Product.id == product_id).values(status="on_sale"))
        await s.execute(update(Sku).where(Sku.id == sku).values(price_amount=3300))
    near = await make_warehouse(f"N{sku}", priority=1)
    far = await make_warehouse(f"F{sku}", priority=50)
    await receive(sku, near.id, 2)
    await receive(sku, far.id, 2)
    return await place(customer_id, (sku, 3))


async def pay(order: orders.OrderRead) -> payments.PaymentRead:
    """Pay the order at the sandbox gateway and deliver the events (the order becomes paid)."""
    payment = await make_payment(
        reference=f"order:{order.id}", customer_id=order.customer_id, amount=order.total_amount
    )
    assert payment.provider_payment_id is not None
    async with uow() as s:
        await payments.submit_sandbox_payment(
            s, trade_id=payment.provider_payment_id, data=SandboxPay(outcome=SandboxOutcome.pay)
        )
        s.info.pop("after_commit")  # no notification job: the query below stands in for it
    paid = await payments.query_payment(payment_id=payment.id)
    await deliver()
    return paid


async def ship(order: orders.OrderRead, sub_order_id: int) -> None:
    async with uow() as s:
        assert await orders.mark_sub_order_shipped(
            s, order_id=order.id, sub_order_id=sub_order_id, actor=SYSTEM
        )
    await deliver()


async def arrive(order: orders.OrderRead, sub_order_id: int) -> None:
    async with uow() as s:
        assert await orders.mark_sub_order_delivered(
            s, order_id=order.id, sub_order_id=sub_order_id, actor=SYSTEM
        )
    await deliver()


async def refund(payment_id: int, amount: int, key: str) -> payments.RefundRead:
    async with uow() as s:
        pending = await payments.refund_payment(
            s, payment_id=payment_id, amount=amount, reason="returned", idempotency_key=key, actor=SYSTEM
        )
    await deliver()
    return pending


async def inbox(customer_id: int) -> list[tuple[str, str, str, str | None]]:
    """``(kind, title, body, link)`` of the customer's messages, newest first."""
    async with uow(write=False) as s:
        page = await notify.list_messages(s, customer_id=customer_id, limit=100)
    return [(str(m.kind), m.title, m.body, m.link) for m in page.items]


async def counts() -> dict[str, int]:
    """Rows in every notify table."""
    async with uow(write=False) as s:
        return {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Message, Delivery, DeliveryStatusChange)
        }


async def deliveries() -> list[notify.DeliveryRead]:
    async with uow(write=False) as s:
        return list(reversed((await notify.list_deliveries(s, limit=100)).items))


async def history(delivery_id: int) -> list[tuple[str | None, str, str, str]]:
    """``(from, to, actor, reason)`` of each status change of an email."""
    async with uow(write=False) as s:
        return [
            (str(c.from_status) if c.from_status else None, str(c.to_status), c.actor, c.reason)
            for c in await notify.list_delivery_history(s, delivery_id=delivery_id)
        ]


@contextmanager
def console_email() -> Iterator[notify.ConsoleEmail]:
    """Send with a fresh console transport (read what was 'sent'), then back to the settings."""
    transport = notify.ConsoleEmail()
    notify.use_email_transport(transport)
    try:
        yield transport
    finally:
        notify.use_email_transport(None)
