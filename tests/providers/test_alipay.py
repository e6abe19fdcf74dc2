"""The Alipay client against a local server speaking Alipay's openapi gateway: signed pay URLs,
RSA2-verified notifications, query, refund and close, and the settings it needs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from mercato.core import clock
from mercato.core.settings import get_settings
from mercato.payments.errors import (
    InvalidNotification,
    InvalidSignature,
    ProviderUnavailable,
    UnknownProvider,
)
from mercato.payments.providers.alipay import AlipayProvider, to_fen, yuan
from mercato.payments.providers.base import CloseResult, PaymentToCreate, RefundResult
from mercato.payments.providers.registry import get_provider
from tests.providers.fake_alipay import (
    APP_ID,
    NOTIFY_URL,
    FakeAlipay,
    alipay_keys,
    app_keys,
    configure,
    rsa_pair,
    running_fake_alipay,
)
from tests.providers.local_server import free_port

EXPIRES = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)  # 16:30 in Beijing
_BJ = dt.timezone(dt.timedelta(hours=8))
_FMT = "%Y-%m-%d %H:%M:%S"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeAlipay]:
    async with running_fake_alipay() as server:
        configure(monkeypatch, server)
        yield server


def to_create(payment_id: int = 42, amount: int = 9900, currency: str = "CNY") -> PaymentToCreate:
    return PaymentToCreate(
        payment_id=payment_id,
        reference=f"order:{payment_id}",
        amount=amount,
        currency=currency,
        expires_at=EXPIRES,
    )


async def opened(fake: FakeAlipay, payment_id: int = 42, amount: int = 9900) -> AlipayProvider:
    """A trade the customer opened in the cashier (it exists at Alipay from then on)."""
    provider = AlipayProvider.from_settings()
    created = await provider.create(to_create(payment_id, amount))
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(created.pay_url)).status_code == 200
    return provider


def test_fen_and_yuan_convert_exactly() -> None:
    assert [yuan(0), yuan(1), yuan(10), yuan(9900), yuan(12345), yuan(10**12 - 1)] == [
        "0.00",
        "0.01",
        "0.10",
        "99.00",
        "123.45",
        "9999999999.99",
    ]
    assert [to_fen("0.01"), to_fen("0.1"), to_fen("20"), to_fen("123.45"), to_fen("9999999999.99")] == [
        1,
        10,
        2000,
        12345,
        10**12 - 1,
    ]
    for bad in ["", "1.234", "-1.00", "1e3", "01.00", " 1.00", "1,00", "NaN"]:
        with pytest.raises(InvalidNotification):
            to_fen(bad)


async def test_create_signs_page_and_wap_pay_urls_the_gateway_accepts(fake: FakeAlipay) -> None:
    provider = AlipayProvider.from_settings()

    created = await provider.create(to_create(42, 9900))
    async with httpx.AsyncClient() as browser:
        page = await browser.get(created.pay_url)
        wap = await browser.get(created.client_data["wap_url"])

    params = dict(parse_qsl(urlsplit(created.pay_url).query))
    assert created.provider_payment_id == "42"
    assert created.pay_url.startswith(fake.gateway_url + "?")
    assert (params["method"], params["app_id"], params["sign_type"], params["notify_url"]) == (
        "alipay.trade.page.pay",
        APP_ID,
        "RSA2",
        NOTIFY_URL,
    )
    assert json.loads(params["biz_content"]) == {
        "out_trade_no": "42",
        "total_amount": "99.00",
        "subject": "order:42",
        "time_expire": "2026-11-27 16:30:00",
        "product_code": "FAST_INSTANT_TRADE_PAY",
    }
    assert dict(parse_qsl(urlsplit(created.client_data["wap_url"]).query))["method"] == "alipay.trade.wap.pay"
    assert (page.status_code, wap.status_code) == (200, 200)
    assert "支付宝收银台" in page.text
    trade = fake.trades["42"]
    assert (trade.total, trade.status, trade.notify_url, trade.product_code) == (
        9900,
        "WAIT_BUYER_PAY",
        NOTIFY_URL,
        "FAST_INSTANT_TRADE_PAY",
    )


async def test_the_gateway_refuses_a_pay_url_whose_amount_was_changed(fake: FakeAlipay) -> None:
    created = await AlipayProvider.from_settings().create(to_create(42, 9900))
    tampered = created.pay_url.replace("99.00", "0.01")
    assert tampered != created.pay_url

    async with httpx.AsyncClient() as browser:
        response = await browser.get(tampered)

    assert response.json()["error_response"]["sub_code"] == "isv.invalid-signature"
    assert fake.trades == {}


async def test_another_currency_is_not_sent_to_alipay(fake: FakeAlipay) -> None:
    with pytest.raises(ValueError, match="CNY"):
        await AlipayProvider.from_settings().create(to_create(42, 9900, currency="USD"))


async def test_a_signed_notification_reads_as_the_trades_status(fake: FakeAlipay) -> None:
    provider = await opened(fake)
    trade = fake.pay("42")

    note = provider.parse_notification({}, fake.notification("42"))

    assert (note.provider_payment_id, note.merchant_payment_id, note.status, note.amount, note.currency) == (
        "42",
        "42",
        "paid",
        9900,
        "CNY",
    )
    assert note.provider_txn_id == note.raw["notify_id"]
    assert (note.raw["trade_no"], note.raw["trade_status"]) == (trade.trade_no, "TRADE_SUCCESS")
    assert "sign" not in note.raw
    assert "buyer_logon_id" not in note.raw  # the buyer's account is not kept
    statuses = {
        status: provider.parse_notification({}, fake.notification("42", trade_status=status)).status
        for status in ["WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED"]
    }
    assert statuses == {
        "WAIT_BUYER_PAY": "pending",
        "TRADE_SUCCESS": "paid",
        "TRADE_FINISHED": "paid",
        "TRADE_CLOSED": "closed",
    }


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("signed_by_another_key", InvalidSignature),
        ("amount_changed_after_signing", InvalidSignature),
        ("no_signature", InvalidSignature),
        ("signature_not_base64", InvalidSignature),
        ("rsa_not_rsa2", InvalidSignature),
        ("sent_27_hours_ago", InvalidSignature),
        ("dated_10_minutes_ahead", InvalidSignature),
        ("no_notify_time", InvalidSignature),
        ("another_app_id", InvalidNotification),
        ("another_notify_type", InvalidNotification),
        ("unknown_trade_status", InvalidNotification),
        ("malformed_amount", InvalidNotification),
        ("a_field_twice", InvalidNotification),
        ("not_utf8", InvalidNotification),
    ],
)
async def test_a_notification_that_fails_a_check_is_refused(
    fake: FakeAlipay, case: str, error: type[Exception]
) -> None:
    provider = await opened(fake)
    fake.pay("42")
    now = clock.now()
    body = {
        "signed_by_another_key": lambda: fake.notification("42", sign_with=rsa_pair().private_pem),
        "amount_changed_after_signing": lambda: fake.notification("42").replace(b"99.00", b"0.01"),
        "no_signature": lambda: fake.notification("42", sign=""),
        "signature_not_base64": lambda: fake.notification("42", sign="%%%"),
        "rsa_not_rsa2": lambda: fake.notification("42", sign_type="RSA"),
        "sent_27_hours_ago": lambda: fake.notification(
            "42", notify_time=(now - dt.timedelta(hours=27)).astimezone(_BJ).strftime(_FMT)
        ),
        "dated_10_minutes_ahead": lambda: fake.notification(
            "42", notify_time=(now + dt.timedelta(minutes=10)).astimezone(_BJ).strftime(_FMT)
        ),
        "no_notify_time": lambda: fake.notification("42", notify_time=None),
        "another_app_id": lambda: fake.notification("42", app_id="2021000000009999"),
        "another_notify_type": lambda: fake.notification("42", notify_type="trade_refund_sync"),
        "unknown_trade_status": lambda: fake.notification("42", trade_status="TRADE_PAID"),
        "malformed_amount": lambda: fake.notification("42", total_amount="99.001"),
        "a_field_twice": lambda: fake.notification("42") + b"&total_amount=0.01",
        "not_utf8": lambda: b"\xff\xfe=1",
    }[case]()

    with pytest.raises(error):
        provider.parse_notification({}, body)


async def test_a_notification_resent_25_hours_later_is_still_read(fake: FakeAlipay) -> None:
    provider = await opened(fake)
    fake.pay("42")
    body = fake.notification("42")

    clock.advance(dt.timedelta(hours=25))
    note = provider.parse_notification({}, body)

    assert note.status == "paid"


async def test_query_reports_the_trade_as_it_stands(fake: FakeAlipay) -> None:
    provider = AlipayProvider.from_settings()

    never_opened = await provider.query("42")
    await opened(fake)
    waiting = await provider.query("42")
    trade = fake.pay("42")
    paid = await provider.query("42")

    assert (never_opened.status, never_opened.amount, never_opened.provider_txn_id) == (
        "pending",
        0,
        "query:42:TRADE_NOT_EXIST",
    )
    assert (waiting.status, waiting.amount) == ("pending", 9900)
    assert (paid.status, paid.amount, paid.merchant_payment_id) == ("paid", 9900, "42")
    assert paid.provider_txn_id == f"query:{trade.trade_no}:TRADE_SUCCESS"
    assert fake.calls.count("alipay.trade.query") == 3


@pytest.mark.parametrize("failure", ["forged_answer", "http_502", "unreachable"])
async def test_a_gateway_that_cannot_be_trusted_or_reached_is_unavailable(
    fake: FakeAlipay, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    provider = await opened(fake)
    if failure == "forged_answer":
        fake.forge_answers = True
    elif failure == "http_502":
        fake.fail_with = 502
    else:
        configure(monkeypatch, fake, MERCATO_ALIPAY_GATEWAY_URL=f"http://127.0.0.1:{free_port()}/gateway.do")
        provider = AlipayProvider.from_settings()

    for call in (provider.query("42"), provider.refund("42", 1, 100), provider.close("42")):
        with pytest.raises(ProviderUnavailable):
            await call


async def test_refunds_are_made_once_per_refund_id_and_never_exceed_the_trade(fake: FakeAlipay) -> None:
    provider = await opened(fake, amount=10_000)
    trade = fake.pay("42")

    first = await provider.refund("42", 7, 3_000)
    again = await provider.refund("42", 7, 3_000)  # a retry: Alipay answers fund_change=N
    too_much = await provider.refund("42", 8, 7_001)
    rest = await provider.refund("42", 9, 7_000)

    assert first == RefundResult(succeeded=True, provider_refund_id=f"{trade.trade_no}:7")
    assert again == first
    assert too_much == RefundResult(
        succeeded=False, failure_reason="ACQ.REFUND_AMT_NOT_EQUAL_TOTAL: 退款金额超限"
    )
    assert rest == RefundResult(succeeded=True, provider_refund_id=f"{trade.trade_no}:9")
    assert fake.trades["42"].refunds == {"7": 3_000, "9": 7_000}
    assert fake.trades["42"].status == "TRADE_CLOSED"  # all of it refunded
    assert fake.calls.count("alipay.trade.fastpay.refund.query") == 1


async def test_close_closes_an_unpaid_trade_and_reports_a_paid_one(fake: FakeAlipay) -> None:
    provider = await opened(fake, payment_id=42)
    await opened(fake, payment_id=43)
    fake.pay("43")

    unpaid = await provider.close("42")
    closed_again = await provider.close("42")
    paid = await provider.close("43")
    never_opened = await provider.close("44")

    assert unpaid == CloseResult(closed=True)
    assert closed_again == CloseResult(closed=True)
    assert paid == CloseResult(closed=False, already_paid=True)
    assert never_opened == CloseResult(closed=True)
    assert (fake.trades["42"].status, fake.trades["43"].status) == ("TRADE_CLOSED", "TRADE_SUCCESS")


async def test_alipay_is_offered_only_when_enabled_and_fully_configured(
    fake: FakeAlipay, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(get_provider("alipay"), AlipayProvider)
    assert get_settings().problems() == []

    monkeypatch.setenv("MERCATO_ALIPAY_PUBLIC_KEY", "")
    get_settings.cache_clear()
    with pytest.raises(UnknownProvider):
        get_provider("alipay")
    assert get_settings().problems() == [
        "MERCATO_ALIPAY_PUBLIC_KEY: required when 'alipay' is in MERCATO_PAYMENT_PROVIDERS"
    ]

    monkeypatch.setenv("MERCATO_ALIPAY_PUBLIC_KEY", "not a key")
    monkeypatch.setenv("MERCATO_ALIPAY_GATEWAY_URL", "openapi.alipay.com/gateway.do")
    get_settings.cache_clear()
    assert get_settings().problems() == [
        "MERCATO_ALIPAY_PUBLIC_KEY: not an RSA public key in PEM text (-----BEGIN ...)",
        "MERCATO_ALIPAY_GATEWAY_URL: must start with https://",
    ]
    with pytest.raises(ProviderUnavailable):
        get_provider("alipay")

    monkeypatch.setenv("MERCATO_PAYMENT_PROVIDERS", '["sandbox"]')
    get_settings.cache_clear()
    with pytest.raises(UnknownProvider):
        get_provider("alipay")
    assert get_settings().problems() == []


async def test_keys_written_with_escaped_newlines_load(
    fake: FakeAlipay, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(
        monkeypatch,
        fake,
        MERCATO_ALIPAY_PRIVATE_KEY=app_keys().private_pem.replace("\n", "\\n"),
        MERCATO_ALIPAY_PUBLIC_KEY=alipay_keys().public_pem.replace("\n", "\\n"),
    )

    provider = await opened(fake)

    assert (await provider.query("42")).status == "pending"
    assert get_settings().problems() == []
