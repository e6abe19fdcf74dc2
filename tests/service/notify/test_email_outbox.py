"""The email outbox against a real SMTP server (aiosmtpd on a free local port): sent after the
commit, exactly once; a server that is down or refuses is retried with backoff and the email
goes out once when it is back; given up after the limit or at once on a permanent refusal; two
workers never send the same email; a worker that died mid-send is taken over after its lease."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest
import structlog
from sqlalchemy import delete, update
from structlog.testing import capture_logs

from mercato import notify
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.notify.models import Delivery, DeliveryStatusChange
from tests.factories.identity import make_customer
from tests.providers.smtp_server import SmtpServer, running_smtp_server
from tests.service.notify import flow

S = notify.DeliveryStatus
JOB = "job:notify.send_emails"


@pytest.fixture
async def smtp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmtpServer]:
    async with running_smtp_server() as server:
        for name, value in {
            "EMAIL_TRANSPORT": "smtp",
            "EMAIL_SMTP_HOST": "127.0.0.1",
            "EMAIL_SMTP_PORT": str(server.port),
            "EMAIL_SMTP_SECURITY": "none",
            "EMAIL_SMTP_TIMEOUT_SECONDS": "5",
            "EMAIL_MAX_ATTEMPTS": "3",
            "EMAIL_RETRY_SECONDS": "60",
            "EMAIL_FROM": "shop@mercato.test",
            "EMAIL_FROM_NAME": "美加商城",
        }.items():
            monkeypatch.setenv(f"MERCATO_{name}", value)
        get_settings.cache_clear()
        yield server


async def queue(*, email: str = "alice@example.com", name: str = "Alice") -> int:
    """An order-paid message for a new customer (its email queued in the same transaction)."""
    customer = await make_customer(email=email, name=name)
    async with uow() as s:
        message = await notify.notify_customer(
            s,
            customer_id=customer.id,
            kind=notify.MessageKind.order_paid,
            params={"order_number": "2026112700000001", "amount": 9900, "currency": "CNY"},
            dedupe_key="order:1",
            link="order:1",
        )
    assert message is not None
    return message.id


async def the_delivery() -> notify.DeliveryRead:
    (delivery,) = await flow.deliveries()
    return delivery


async def test_the_email_is_sent_after_the_commit_exactly_as_rendered(smtp: SmtpServer) -> None:
    customer = await make_customer(email="alice@example.com", name="Alice")
    async with uow() as s:
        await notify.notify_customer(
            s,
            customer_id=customer.id,
            kind=notify.MessageKind.order_paid,
            params={"order_number": "2026112700000001", "amount": 9900, "currency": "CNY"},
            dedupe_key="order:1",
        )
        assert smtp.received == []  # nothing leaves inside the transaction

    await flow.deliver()  # waits for the job kicked after the commit

    (received,) = smtp.received
    assert (received.mail_from, received.rcpt_tos) == ("shop@mercato.test", ["alice@example.com"])
    message = received.message
    assert (message["From"], message["To"], message["Subject"]) == (
        "美加商城 <shop@mercato.test>",
        "alice@example.com",
        "【美加商城】订单已支付",
    )
    assert received.part("plain") == (
        "Alice，您好：\n"
        "\n"
        "您的订单 2026112700000001 已支付成功，实付 ¥99.00。我们会尽快为您发货。\n"
        "\n"
        "查看详情：http://127.0.0.1:8000/account\n"
        "\n"
        "——\n"
        "此邮件由系统自动发送，请勿直接回复。\n"
        "美加商城\n"
    )
    assert received.part("html") == (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        "<title>订单已支付</title>\n"
        "</head>\n"
        '<body style="margin:0;padding:24px;font-family:sans-serif;color:#222;">\n'
        '<h1 style="font-size:20px;">订单已支付</h1>\n'
        "<p>Alice，您好：</p>\n"
        "<p>您的订单 2026112700000001 已支付成功，实付 ¥99.00。我们会尽快为您发货。</p>\n"
        '<p><a href="http://127.0.0.1:8000/account">查看详情</a></p>\n'
        '<p style="color:#888;font-size:12px;">此邮件由系统自动发送，请勿直接回复。<br>美加商城</p>\n'
        "</body>\n"
        "</html>\n"
    )
    assert message["Message-ID"].endswith("@mercato.test>")
    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, delivery.recipient, delivery.last_error) == (
        S.sent,
        1,
        "a***@example.com",
        "",
    )
    assert await flow.history(delivery.id) == [
        (None, "pending", "system", "queued"),
        ("pending", "sending", JOB, "attempt 1"),
        ("sending", "sent", JOB, "accepted (smtp)"),
    ]
    assert await notify.send_due_emails() == 0
    assert len(smtp.received) == 1


async def test_a_server_that_is_down_is_retried_later_and_sends_once_when_back(smtp: SmtpServer) -> None:
    await smtp.stop()
    await queue()
    await flow.deliver()  # the kicked attempt fails: connection refused

    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == (S.pending, 1, None)
    assert delivery.last_error.startswith("SMTPConnectError: ")
    assert delivery.next_attempt_at - delivery.created_at >= dt.timedelta(seconds=60)

    await smtp.start()
    assert await notify.send_due_emails() == 0  # backing off: not due yet
    clock.advance(dt.timedelta(seconds=61))
    assert await notify.send_due_emails() == 1
    assert await notify.send_due_emails() == 0

    assert [r.rcpt_tos for r in smtp.received] == [["alice@example.com"]]
    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (S.sent, 2, "")
    assert [(f, t) for f, t, _actor, _reason in await flow.history(delivery.id)] == [
        (None, "pending"),
        ("pending", "sending"),
        ("sending", "pending"),
        ("pending", "sending"),
        ("sending", "sent"),
    ]


async def test_a_refusing_server_is_retried_with_backoff_and_given_up_after_the_limit(
    smtp: SmtpServer,
) -> None:
    smtp.refuse_rcpt = "451 4.3.0 Try again later"
    await queue()
    await flow.deliver()  # attempt 1
    clock.advance(dt.timedelta(seconds=61))
    assert await notify.send_due_emails() == 0  # attempt 2, refused
    clock.advance(dt.timedelta(seconds=119))
    assert await notify.send_due_emails() == 0  # the second wait is 120 s: not due yet
    assert (await the_delivery()).attempts == 2
    clock.advance(dt.timedelta(seconds=2))
    assert await notify.send_due_emails() == 0  # attempt 3, refused: the limit

    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        S.failed,
        3,
        "451 4.3.0 Try again later",
    )
    assert [(f, t, reason) for f, t, _actor, reason in await flow.history(delivery.id)] == [
        (None, "pending", "queued"),
        ("pending", "sending", "attempt 1"),
        ("sending", "pending", "retry after attempt 1: 451 4.3.0 Try again later"),
        ("pending", "sending", "attempt 2"),
        ("sending", "pending", "retry after attempt 2: 451 4.3.0 Try again later"),
        ("pending", "sending", "attempt 3"),
        ("sending", "failed", "gave up after 3 attempts: 451 4.3.0 Try again later"),
    ]
    smtp.refuse_rcpt = None
    clock.advance(dt.timedelta(days=1))
    assert await notify.send_due_emails() == 0
    assert smtp.received == []


async def test_a_permanent_refusal_is_given_up_at_once(smtp: SmtpServer) -> None:
    smtp.refuse_rcpt = "550 5.1.1 <alice@example.com>: user unknown"
    await queue()
    await flow.deliver()

    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        S.failed,
        1,
        "550 5.1.1 <a***@example.com>: user unknown",
    )
    assert (await flow.history(delivery.id))[-1][3] == (
        "refused for good: 550 5.1.1 <a***@example.com>: user unknown"
    )


async def test_two_workers_never_send_the_same_email(smtp: SmtpServer) -> None:
    with flow.console_email():  # the kicked job sends nothing: the workers below race for it
        await queue()
        await flow.deliver()
    async with uow() as s:  # put it back in the queue as if the kick had been lost
        await s.execute(
            update(Delivery).values(status="pending", attempts=0, sent_at=None, next_attempt_at=clock.now())
        )
        await s.execute(delete(DeliveryStatusChange).where(DeliveryStatusChange.to_status != "pending"))
    delivery = await the_delivery()

    results = await asyncio.gather(
        notify.send_due_emails(), notify.send_due_emails(), notify.send_email(delivery.id)
    )

    sent = sum(r for r in results if isinstance(r, int)) + sum(1 for r in results if r is S.sent)
    assert sent == 1  # one worker sent it, the others found it claimed or sent
    assert len(smtp.received) == 1
    assert (await the_delivery()).attempts == 1


class Stopped:
    """A transport whose worker is stopped while the email is on its way: nothing is recorded."""

    name = "stopped"

    async def send(self, email: notify.OutgoingEmail) -> None:
        raise asyncio.CancelledError


class Broken:
    """A transport that fails in a way nobody planned for."""

    name = "broken"

    async def send(self, email: notify.OutgoingEmail) -> None:
        raise ValueError(f"cannot encode {email.recipient}")


async def test_a_claim_whose_worker_died_is_taken_over_after_its_lease(smtp: SmtpServer) -> None:
    with flow.console_email():
        await queue()  # the kicked job sends it to the console...
        await flow.deliver()
    async with uow() as s:  # ...so put it back, as if the kick had been lost
        await s.execute(update(Delivery).values(status="pending", attempts=0, sent_at=None))
    notify.use_email_transport(Stopped())
    try:
        with pytest.raises(asyncio.CancelledError):
            await notify.send_due_emails()
    finally:
        notify.use_email_transport(None)
    assert ((await the_delivery()).status, len(smtp.received)) == (S.sending, 0)

    clock.advance(dt.timedelta(seconds=2 * 5 + 59))
    assert await notify.send_due_emails() == 0  # the lease (2 × timeout + 60 s) still holds
    clock.advance(dt.timedelta(seconds=2))
    assert await notify.send_due_emails() == 1

    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, len(smtp.received)) == (S.sent, 2, 1)
    assert (await flow.history(delivery.id))[-2][3] == "attempt 2 (the last claim expired)"


async def test_an_unexpected_transport_error_is_a_failed_attempt_and_is_given_up_at_the_limit(
    smtp: SmtpServer,
) -> None:
    notify.use_email_transport(Broken())
    try:
        await queue()
        await flow.deliver()  # attempt 1
        for _ in range(2):
            clock.advance(dt.timedelta(hours=1))
            assert await notify.send_due_emails() == 0
    finally:
        notify.use_email_transport(None)

    delivery = await the_delivery()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        S.failed,
        3,
        "ValueError: cannot encode a***@example.com",
    )


async def test_the_console_transport_logs_one_masked_line() -> None:
    before = structlog.get_config()
    # another test may have configured logging at WARNING (create_app): capture at INFO here
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with capture_logs() as logs:
            await queue()
            await flow.deliver()
    finally:
        structlog.configure(**before)

    lines = [entry for entry in logs if entry["event"] == "email.console"]
    assert len(lines) == 1
    assert (lines[0]["to"], lines[0]["subject"]) == ("a***@example.com", "【Mercato】订单已支付")
    assert "alice@example.com" not in repr(logs)
    assert (await the_delivery()).status is S.sent
