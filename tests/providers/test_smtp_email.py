"""The SMTP email transport against a local aiosmtpd server: the message on the wire (headers,
encoded subject, both parts), STARTTLS with AUTH, implicit TLS, and which failures are retried."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from mercato import notify
from tests.providers.local_server import free_port
from tests.providers.smtp_server import PASSWORD, USERNAME, SmtpServer, running_smtp_server

EMAIL = notify.OutgoingEmail(
    sender="shop@mercato.test",
    sender_name="美加商城",
    recipient="alice@example.com",
    subject="【美加商城】订单已支付",
    text="您好：\n\n订单 M1 已支付。\n",
    html="<p>您好：</p>\n<p>订单 M1 已支付。</p>\n",
    message_id="<notify.1@mercato.test>",
    date=dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC),
)


@pytest.fixture
async def server() -> AsyncIterator[SmtpServer]:
    async with running_smtp_server() as running:
        yield running


def plain(port: int, **kwargs: object) -> notify.SmtpEmail:
    return notify.SmtpEmail(host="127.0.0.1", port=port, security="none", timeout=5, **kwargs)  # type: ignore[arg-type]


async def test_sends_a_multipart_message_with_encoded_headers(server: SmtpServer) -> None:
    await plain(server.port).send(EMAIL)

    (received,) = server.received
    assert (received.mail_from, received.rcpt_tos) == ("shop@mercato.test", ["alice@example.com"])
    message = received.message
    assert message["From"] == "美加商城 <shop@mercato.test>"
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "【美加商城】订单已支付"
    assert message["Date"] == "Fri, 27 Nov 2026 08:30:00 +0000"
    assert message["Message-ID"] == "<notify.1@mercato.test>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert received.part("plain") == "您好：\n\n订单 M1 已支付。\n"
    assert received.part("html") == "<p>您好：</p>\n<p>订单 M1 已支付。</p>\n"
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: =?utf-8?" in raw_headers  # RFC 2047: the wire stays ASCII
    assert b"From: =?utf-8?" in raw_headers


async def test_starttls_then_auth() -> None:
    async with running_smtp_server(starttls=True) as server:
        smtp = notify.SmtpEmail(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            password=PASSWORD,
            security="starttls",
            timeout=5,
            tls_context=server.client_tls,
        )

        await smtp.send(EMAIL)

    assert server.logins == [USERNAME]
    assert [r.rcpt_tos for r in server.received] == [["alice@example.com"]]


async def test_wrong_credentials_are_a_transient_failure() -> None:
    async with running_smtp_server(starttls=True) as server:
        smtp = notify.SmtpEmail(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            password="wrong",
            security="starttls",
            timeout=5,
            tls_context=server.client_tls,
        )

        with pytest.raises(notify.EmailDeliveryFailed) as failed:
            await smtp.send(EMAIL)

    assert (failed.value.permanent, failed.value.reason) == (
        False,
        "535 5.7.8 Authentication credentials invalid",
    )
    assert server.received == []


async def test_a_server_that_requires_starttls_refuses_plain_mail() -> None:
    async with running_smtp_server(starttls=True) as server:
        with pytest.raises(notify.EmailDeliveryFailed) as failed:
            await plain(server.port).send(EMAIL)

    assert failed.value.permanent is False
    assert server.received == []


async def test_implicit_tls() -> None:
    async with running_smtp_server(implicit_tls=True) as server:
        smtp = notify.SmtpEmail(
            host="127.0.0.1", port=server.port, security="tls", timeout=5, tls_context=server.client_tls
        )

        await smtp.send(EMAIL)

    assert [r.message["Subject"] for r in server.received] == ["【美加商城】订单已支付"]


@pytest.mark.parametrize(
    ("_case", "rcpt", "data", "permanent", "reason"),
    [
        ("try later", "451 4.3.0 Try again later", None, False, "451 4.3.0 Try again later"),
        (
            "no such user",
            "550 5.1.1 <alice@example.com>: user unknown",
            None,
            True,
            "550 5.1.1 <a***@example.com>: user unknown",
        ),
        ("content refused", None, "554 5.6.0 Message rejected", True, "554 5.6.0 Message rejected"),
        ("content deferred", None, "452 4.3.1 Insufficient storage", False, "452 4.3.1 Insufficient storage"),
    ],
)
async def test_refusals_are_permanent_only_for_5xx_replies(
    server: SmtpServer, _case: str, rcpt: str | None, data: str | None, permanent: bool, reason: str
) -> None:
    server.refuse_rcpt, server.refuse_data = rcpt, data

    with pytest.raises(notify.EmailDeliveryFailed) as failed:
        await plain(server.port).send(EMAIL)

    assert (failed.value.permanent, failed.value.reason) == (permanent, reason)
    assert server.received == []


async def test_a_server_that_is_down_is_a_transient_failure() -> None:
    with pytest.raises(notify.EmailDeliveryFailed) as failed:
        await plain(free_port()).send(EMAIL)

    assert failed.value.permanent is False
    assert failed.value.reason.startswith("SMTPConnectError: ")
