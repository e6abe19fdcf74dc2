"""Order events become messages: one per fact, in the shop's language, with an email when the
customer has an address; a repeated event notifies once; deleted customers are not written to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mercato import identity, notify, orders, payments
from mercato.core import events
from mercato.core.db import uow
from mercato.core.events import EventEnvelope
from mercato.core.settings import get_settings
from mercato.notify import handlers
from tests.factories.identity import PASSWORD, make_customer
from tests.service.notify import flow

ZH = {
    "order_paid": ("订单已支付", "您的订单 {n} 已支付成功，实付 ¥99.00。我们会尽快为您发货。"),
    "partly_shipped": ("订单部分发货", "您的订单 {n} 有一个包裹已发货，其余商品将陆续发出。"),
    "shipped": ("订单已发货", "您的订单 {n} 已全部发货，请留意查收。"),
    "order_delivered": ("订单已送达", "您的订单 {n} 已送达。如商品有问题，可在订单详情中申请售后。"),
    "refund_succeeded": ("退款成功", "订单 {n} 的退款 ¥33.00 已原路退回，到账时间以支付渠道为准。"),
}
EN = {
    "order_paid": (
        "Order paid",
        "We have received your payment of CN¥99.00 for order {n}. We will ship it soon.",
    ),
    "partly_shipped": (
        "Part of your order shipped",
        "A parcel of order {n} has shipped; the rest will follow.",
    ),
    "shipped": ("Order shipped", "Everything in order {n} has shipped and will be with you soon."),
    "order_delivered": (
        "Order delivered",
        "Order {n} has been delivered. If anything is wrong, you can ask for a return or refund "
        "from the order page.",
    ),
    "refund_succeeded": (
        "Refund completed",
        "A refund of CN¥33.00 for order {n} has been sent back to your original payment method. "
        "When it arrives depends on your payment provider.",
    ),
}
SUBJECT_PREFIX = {"zh_CN": "【Mercato】", "en": "[Mercato] "}


@pytest.fixture
def sent() -> Iterator[notify.ConsoleEmail]:
    with flow.console_email() as transport:
        yield transport


async def walk(customer_id: int) -> tuple[orders.OrderRead, payments.PaymentRead]:
    """Pay, ship both parcels, deliver both, refund 33.00."""
    order = await flow.split_order(customer_id)
    payment = await flow.pay(order)
    first, second = order.sub_orders
    await flow.ship(order, first.id)
    await flow.ship(order, second.id)
    await flow.arrive(order, first.id)
    await flow.arrive(order, second.id)
    await flow.refund(payment.id, 3300, "refund-1")
    return order, payment


@pytest.mark.parametrize(("locale", "texts"), [("zh_CN", ZH), ("en", EN)])
async def test_each_event_writes_one_message_and_one_email_in_the_shops_language(
    monkeypatch: pytest.MonkeyPatch, sent: notify.ConsoleEmail, locale: str, texts: dict[str, tuple[str, str]]
) -> None:
    monkeypatch.setenv("MERCATO_LOCALE", locale)
    get_settings.cache_clear()
    customer = await make_customer(email="alice@example.com", name="Alice")

    order, _payment = await walk(customer.id)

    link = f"order:{order.id}"
    expected = [
        (kind, title, body.format(n=order.number), link)
        for kind, (title, body) in (
            ("refund_succeeded", texts["refund_succeeded"]),
            ("order_delivered", texts["order_delivered"]),
            ("order_shipped", texts["shipped"]),
            ("order_shipped", texts["partly_shipped"]),
            ("order_paid", texts["order_paid"]),
        )
    ]
    assert await flow.inbox(customer.id) == expected
    async with uow(write=False) as s:
        page = await notify.list_messages(s, customer_id=customer.id)
    assert {m.locale for m in page.items} == {locale}
    assert [(e.recipient, e.subject) for e in sent.sent] == [
        ("alice@example.com", SUBJECT_PREFIX[locale] + title)
        for _kind, title, _body, _link in reversed(expected)
    ]
    assert [(d.status, d.attempts) for d in await flow.deliveries()] == [(notify.DeliveryStatus.sent, 1)] * 5


async def test_an_event_delivered_again_notifies_once(sent: notify.ConsoleEmail) -> None:
    customer = await make_customer(email="alice@example.com")
    order, payment = await walk(customer.id)
    before = await flow.counts()
    first, second = order.sub_orders
    async with uow() as s:
        refunds = await payments.list_refunds(s, payment_id=payment.id)
        # the producers record the same facts again (at-least-once): new outbox rows, same facts
        for event in (
            orders.OrderPaid(order_id=order.id, payment_id=payment.id),
            orders.OrderShipped(order_id=order.id, sub_order_id=first.id, fully=False),
            orders.OrderShipped(order_id=order.id, sub_order_id=second.id, fully=True),
            orders.OrderDelivered(order_id=order.id),
            payments.PaymentRefunded(
                payment_id=payment.id,
                refund_id=refunds[0].id,
                reference=f"order:{order.id}",
                amount=3300,
                currency="CNY",
                refunded_total=3300,
                is_full=False,
            ),
        ):
            await events.record_event(s, event)
    await flow.deliver()
    # and a handler runs again for an event it already handled
    async with uow() as s:
        envelope = EventEnvelope(
            1, order.placed_at, orders.OrderPaid(order_id=order.id, payment_id=payment.id)
        )
        await handlers.on_order_paid(s, envelope)
        await handlers.on_order_paid(s, envelope)
    await flow.deliver()

    assert before == {"notify_message": 5, "notify_delivery": 5, "notify_delivery_status_change": 15}
    assert await flow.counts() == before
    assert len(sent.sent) == 5


async def test_a_customer_without_an_email_gets_the_in_app_message_only(sent: notify.ConsoleEmail) -> None:
    customer = await make_customer()  # a mobile number, no email
    order = await flow.split_order(customer.id)

    await flow.pay(order)

    assert [kind for kind, *_ in await flow.inbox(customer.id)] == ["order_paid"]
    assert await flow.counts() == {
        "notify_message": 1,
        "notify_delivery": 0,
        "notify_delivery_status_change": 0,
    }
    assert list(sent.sent) == []


async def test_a_deleted_customer_is_not_notified_and_their_messages_are_erased(
    sent: notify.ConsoleEmail,
) -> None:
    customer = await make_customer(email="alice@example.com")
    other = await make_customer(email="bob@example.com")
    order = await flow.split_order(customer.id)
    await flow.pay(order)
    await flow.pay(await flow.split_order(other.id))
    assert (await flow.counts())["notify_message"] == 2

    async with uow() as s:
        await identity.delete_customer(
            s, customer_id=customer.id, data=identity.DeleteAccount(password=PASSWORD)
        )
    await flow.deliver()
    await flow.ship(order, order.sub_orders[0].id)

    assert await flow.inbox(customer.id) == []
    assert [kind for kind, *_ in await flow.inbox(other.id)] == ["order_paid"]
    assert await flow.counts() == {
        "notify_message": 1,
        "notify_delivery": 1,
        "notify_delivery_status_change": 3,
    }
    assert [e.recipient for e in sent.sent] == ["alice@example.com", "bob@example.com"]
