"""The WeChat Pay v3 client against a local server speaking the v3 API: Native, JSAPI and H5
orders, signed and encrypted notifications, query, refund (pending too) and close, and the
settings it needs."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from mercato.core import clock
from mercato.core.settings import get_settings
from mercato.payments.errors import (
    InvalidNotification,
    InvalidSignature,
    NotificationForUnknownPayment,
    ProviderUnavailable,
    UnknownProvider,
)
from mercato.payments.providers.base import (
    CloseResult,
    Notification,
    PaymentToCreate,
    RefundNotification,
    RefundResult,
)
from mercato.payments.providers.registry import get_provider
from mercato.payments.providers.wechatpay import WeChatPayProvider, out_trade_no
from tests.providers.fake_alipay import rsa_pair
from tests.providers.fake_wechatpay import (
    APPID,
    MCHID,
    NOTIFY_URL,
    FakeWeChatPay,
    configure,
    merchant_keys,
    platform_certificate,
    running_fake_wechatpay,
)
from tests.providers.local_server import free_port

EXPIRES = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)  # 16:30 in Beijing


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeWeChatPay]:
    async with running_fake_wechatpay() as server:
        configure(monkeypatch, server)
        yield server


def to_create(payment_id: int = 42, amount: int = 9900, **options: str) -> PaymentToCreate:
    return PaymentToCreate(
        payment_id=payment_id,
        reference=f"order:{payment_id}",
        amount=amount,
        currency="CNY",
        expires_at=EXPIRES,
        **options,
    )


async def placed(payment_id: int = 42, amount: int = 9900) -> WeChatPayProvider:
    provider = WeChatPayProvider.from_settings()
    await provider.create(to_create(payment_id, amount))
    return provider


def read(provider: WeChatPayProvider, fake: FakeWeChatPay, body: str) -> Notification | RefundNotification:
    return provider.parse_notification(fake.headers(body), body.encode())


async def test_native_is_the_default_and_its_code_url_is_the_pay_url(fake: FakeWeChatPay) -> None:
    created = await WeChatPayProvider.from_settings().create(to_create(42, 9900))

    order = fake.orders["000042"]
    assert created.provider_payment_id == "000042" == out_trade_no(42)
    assert created.pay_url == order.answer["code_url"]
    assert created.pay_url.startswith("weixin://wxpay/bizpayurl?pr=")
    assert created.client_data == {"channel": "native", "qr_code": created.pay_url}
    assert order.request == {
        "notify_url": NOTIFY_URL,
        "description": "order:42",
        "out_trade_no": "000042",
        "amount": {"total": 9900, "currency": "CNY"},
        "time_expire": "2026-11-27T16:30:00+08:00",
        "appid": APPID,
        "mchid": MCHID,
    }
    assert fake.calls == ["POST /v3/pay/transactions/native"]


async def test_jsapi_gives_the_signed_bridge_parameters_and_h5_its_page(fake: FakeWeChatPay) -> None:
    provider = WeChatPayProvider.from_settings()

    jsapi = await provider.create(to_create(43, channel="jsapi", payer_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    h5 = await provider.create(to_create(44, channel="h5", client_ip="203.0.113.7"))

    bridge = jsapi.client_data["jsapi"]
    assert (jsapi.pay_url, jsapi.client_data["channel"]) == ("", "jsapi")
    assert (bridge["appId"], bridge["package"], bridge["signType"]) == (
        APPID,
        f"prepay_id={fake.orders['000043'].answer['prepay_id']}",
        "RSA",
    )
    merchant = load_pem_public_key(merchant_keys().public_pem.encode())
    assert isinstance(merchant, rsa.RSAPublicKey)
    message = f"{APPID}\n{bridge['timeStamp']}\n{bridge['nonceStr']}\n{bridge['package']}\n".encode()
    merchant.verify(
        base64.b64decode(bridge["paySign"]), message, padding.PKCS1v15(), SHA256()
    )  # raises if bad
    assert fake.orders["000043"].request["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    assert (h5.pay_url, h5.client_data) == (fake.orders["000044"].answer["h5_url"], {"channel": "h5"})
    assert fake.orders["000044"].request["scene_info"] == {
        "payer_client_ip": "203.0.113.7",
        "h5_info": {"type": "Wap"},
    }
    with pytest.raises(ValueError, match="openid"):
        await provider.create(to_create(45, channel="jsapi"))
    with pytest.raises(ValueError, match="IP"):
        await provider.create(to_create(46, channel="h5"))
    assert set(fake.orders) == {"000043", "000044"}


async def test_an_order_refused_by_the_gateway_is_unavailable(
    fake: FakeWeChatPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, fake, MERCATO_BASE_URL="http://shop.example.com")  # WeChat wants https

    with pytest.raises(ProviderUnavailable):
        await WeChatPayProvider.from_settings().create(to_create(42))

    assert fake.orders == {}


async def test_a_signed_encrypted_notification_reads_as_the_trades_status(fake: FakeWeChatPay) -> None:
    provider = await placed()
    order = fake.pay("000042")

    note = read(provider, fake, fake.transaction_notification("000042"))

    assert isinstance(note, Notification)
    assert (note.provider_payment_id, note.merchant_payment_id, note.status, note.amount, note.currency) == (
        "000042",
        "42",
        "paid",
        9900,
        "CNY",
    )
    assert note.provider_txn_id.startswith("EV-")
    assert (note.raw["transaction_id"], note.raw["trade_state"]) == (order.transaction_id, "SUCCESS")
    assert "payer" not in note.raw  # the payer's openid is not kept


def _resigned(fake: FakeWeChatPay, body: str, **changes: str) -> dict[str, str]:
    return {**fake.headers(body), **changes}


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("signed_by_another_key", InvalidSignature),
        ("body_changed_after_signing", InvalidSignature),
        ("another_platform_serial", InvalidSignature),
        ("stale_timestamp", InvalidSignature),
        ("future_timestamp", InvalidSignature),
        ("no_headers", InvalidSignature),
        ("malformed_nonce", InvalidSignature),
        ("another_signature_type", InvalidSignature),
        ("encrypted_with_another_key", InvalidNotification),
        ("another_mchid", InvalidNotification),
        ("another_appid", InvalidNotification),
        ("unknown_event_type", InvalidNotification),
        ("not_json", InvalidNotification),
    ],
)
async def test_a_notification_that_fails_a_check_is_refused(
    fake: FakeWeChatPay, case: str, error: type[Exception]
) -> None:
    provider = await placed()
    fake.pay("000042")
    body = fake.transaction_notification("000042")
    now = int(clock.now().timestamp())
    if case == "body_changed_after_signing":
        headers, body = fake.headers(body), body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ')
    elif case == "encrypted_with_another_key":
        body = fake.transaction_notification("000042", key="b" * 32)
        headers = fake.headers(body)
    elif case in {"another_mchid", "another_appid"}:
        body = fake.transaction_notification("000042", **{case.removeprefix("another_"): "1900009999"})
        headers = fake.headers(body)
    elif case == "unknown_event_type":
        body = body.replace("TRANSACTION.SUCCESS", "TRANSACTION.PAID")
        headers = fake.headers(body)
    elif case == "not_json":
        body = "success"
        headers = fake.headers(body)
    else:
        headers = {
            "signed_by_another_key": lambda: fake.headers(body, key=rsa_pair().private_pem),
            "another_platform_serial": lambda: fake.headers(
                body, serial="PUB_KEY_ID_0000000000000000000000000000"
            ),
            "stale_timestamp": lambda: fake.headers(body, timestamp=now - 301),
            "future_timestamp": lambda: fake.headers(body, timestamp=now + 360),  # slack for a slow run
            "no_headers": dict,
            "malformed_nonce": lambda: _resigned(fake, body, **{"Wechatpay-Nonce": "a b"}),
            "another_signature_type": lambda: _resigned(
                fake, body, **{"Wechatpay-Signature-Type": "HMAC-SHA256"}
            ),
        }[case]()

    with pytest.raises(error):
        provider.parse_notification(headers, body.encode())


async def test_a_notification_signed_four_minutes_ago_is_read_six_is_not(fake: FakeWeChatPay) -> None:
    provider = await placed()
    fake.pay("000042")
    body = fake.transaction_notification("000042")
    headers = fake.headers(body)

    clock.advance(dt.timedelta(minutes=4))
    assert provider.parse_notification(headers, body.encode()).status == "paid"
    clock.advance(dt.timedelta(minutes=2))
    with pytest.raises(InvalidSignature):
        provider.parse_notification(headers, body.encode())


async def test_refund_notifications_read_as_refund_results(fake: FakeWeChatPay) -> None:
    provider = await placed()
    fake.pay("000042")
    fake.refund_status = "PROCESSING"
    await provider.refund("000042", 7, 2_000)
    await provider.refund("000042", 8, 3_000)
    await provider.refund("000042", 9, 4_000)

    done = read(provider, fake, fake.refund_notification(fake.finish_refund("7", "SUCCESS").out_refund_no))
    abnormal = read(
        provider, fake, fake.refund_notification(fake.finish_refund("8", "ABNORMAL").out_refund_no)
    )
    closed = read(provider, fake, fake.refund_notification(fake.finish_refund("9", "CLOSED").out_refund_no))

    assert isinstance(done, RefundNotification)
    assert isinstance(abnormal, RefundNotification)
    assert isinstance(closed, RefundNotification)
    refund_7 = fake.refunds["7"].refund_id
    assert (done.refund_id, done.amount, done.currency, done.merchant_payment_id, done.review_reason) == (
        7,
        2_000,
        "CNY",
        "42",
        "",
    )
    assert done.result == RefundResult(succeeded=True, provider_refund_id=refund_7)
    assert "user_received_account" not in done.raw
    assert abnormal.result == RefundResult.pending_refund(fake.refunds["8"].refund_id)
    assert abnormal.review_reason.startswith("abnormal at WeChat Pay")
    assert closed.result == RefundResult(
        succeeded=False, provider_refund_id=fake.refunds["9"].refund_id, failure_reason="closed by WeChat Pay"
    )
    with pytest.raises(NotificationForUnknownPayment):
        read(provider, fake, fake.refund_notification("7", out_refund_no="R-7"))
    with pytest.raises(InvalidNotification):
        read(provider, fake, fake.refund_notification("7", mchid="1900009999"))


async def test_query_reports_the_order_as_it_stands(fake: FakeWeChatPay) -> None:
    provider = WeChatPayProvider.from_settings()

    never_placed = await provider.query("000042")
    await provider.create(to_create(42))
    waiting = await provider.query("000042")
    order = fake.pay("000042")
    paid = await provider.query("000042")

    assert (never_placed.status, never_placed.amount, never_placed.provider_txn_id) == (
        "pending",
        0,
        "query:000042:ORDER_NOT_EXIST",
    )
    assert (waiting.status, waiting.amount, waiting.provider_txn_id) == ("pending", 0, "query:000042:NOTPAY")
    assert (paid.status, paid.amount, paid.merchant_payment_id) == ("paid", 9900, "42")
    assert paid.provider_txn_id == f"query:{order.transaction_id}:SUCCESS"


@pytest.mark.parametrize("failure", ["forged_answer", "http_500", "http_429", "unreachable"])
async def test_a_gateway_that_cannot_be_trusted_or_reached_is_unavailable(
    fake: FakeWeChatPay, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    provider = await placed()
    if failure == "forged_answer":
        fake.forge_answers = True
    elif failure.startswith("http_"):
        fake.fail_with = int(failure.removeprefix("http_"))
    else:
        configure(monkeypatch, fake, MERCATO_WECHATPAY_BASE_URL=f"http://127.0.0.1:{free_port()}")
        provider = WeChatPayProvider.from_settings()

    for call in (provider.query("000042"), provider.refund("000042", 1, 100), provider.close("000042")):
        with pytest.raises(ProviderUnavailable):
            await call
    with pytest.raises(ProviderUnavailable):
        await provider.create(to_create(43))


async def test_a_request_signed_with_another_merchant_key_is_refused(
    fake: FakeWeChatPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, fake, MERCATO_WECHATPAY_PRIVATE_KEY=rsa_pair().private_pem)

    with pytest.raises(ProviderUnavailable):
        await WeChatPayProvider.from_settings().create(to_create(42))

    assert fake.orders == {}


async def test_refunds_are_made_once_per_refund_id_and_may_finish_later(fake: FakeWeChatPay) -> None:
    provider = await placed(amount=10_000)
    fake.pay("000042")

    first = await provider.refund("000042", 7, 3_000)
    again = await provider.refund("000042", 7, 3_000)
    too_much = await provider.refund("000042", 8, 7_001)
    fake.refund_status = "PROCESSING"
    accepted = await provider.refund("000042", 9, 7_000)
    still = await provider.query_refund("000042", 9)
    fake.finish_refund("9")
    finished = await provider.query_refund("000042", 9)

    assert first == RefundResult(succeeded=True, provider_refund_id=fake.refunds["7"].refund_id)
    assert again == first
    assert too_much == RefundResult(
        succeeded=False, failure_reason="INVALID_REQUEST: 申请退款金额超过订单可退金额"
    )
    assert accepted == still == RefundResult.pending_refund(fake.refunds["9"].refund_id)
    assert finished == RefundResult(succeeded=True, provider_refund_id=fake.refunds["9"].refund_id)
    assert {no: r.amount for no, r in fake.refunds.items()} == {"7": 3_000, "9": 7_000}
    with pytest.raises(ProviderUnavailable):
        await provider.query_refund("000042", 99)  # never asked for


async def test_close_closes_an_unpaid_order_and_reports_a_paid_one(fake: FakeWeChatPay) -> None:
    provider = await placed(42)
    await placed(43)
    fake.pay("000043")

    unpaid = await provider.close("000042")
    closed_again = await provider.close("000042")
    paid = await provider.close("000043")
    never_placed = await provider.close("000044")

    assert unpaid == closed_again == never_placed == CloseResult(closed=True)
    assert paid == CloseResult(closed=False, already_paid=True)
    assert (fake.orders["000042"].trade_state, fake.orders["000043"].trade_state) == ("CLOSED", "SUCCESS")


async def test_a_platform_certificate_works_in_place_of_the_public_key(
    fake: FakeWeChatPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem, serial = platform_certificate()
    configure(monkeypatch, fake, MERCATO_WECHATPAY_PLATFORM_KEY=pem, MERCATO_WECHATPAY_PLATFORM_SERIAL="")
    fake.platform_serial = serial

    provider = await placed()
    fake.pay("000042")
    note = read(provider, fake, fake.transaction_notification("000042"))

    assert provider.platform_serial == serial
    assert (note.status, (await provider.query("000042")).status) == ("paid", "paid")
    assert get_settings().problems() == []


async def test_wechatpay_is_offered_only_when_enabled_and_fully_configured(
    fake: FakeWeChatPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(get_provider("wechatpay"), WeChatPayProvider)
    assert get_settings().problems() == []

    monkeypatch.setenv("MERCATO_WECHATPAY_MCHID", "")
    monkeypatch.setenv("MERCATO_WECHATPAY_APIV3_KEY", "")
    get_settings.cache_clear()
    with pytest.raises(UnknownProvider):
        get_provider("wechatpay")
    assert get_settings().problems() == [
        "MERCATO_WECHATPAY_MCHID: required when 'wechatpay' is in MERCATO_PAYMENT_PROVIDERS",
        "MERCATO_WECHATPAY_APIV3_KEY: required when 'wechatpay' is in MERCATO_PAYMENT_PROVIDERS",
    ]

    configure(
        monkeypatch,
        fake,
        MERCATO_WECHATPAY_APIV3_KEY="too-short",
        MERCATO_WECHATPAY_PRIVATE_KEY=rsa_pair().public_pem,
        MERCATO_WECHATPAY_PLATFORM_SERIAL="",
        MERCATO_BASE_URL="http://shop.example.com",
    )
    assert get_settings().problems() == [
        "MERCATO_WECHATPAY_PRIVATE_KEY: not an RSA private key in PEM text (-----BEGIN ...)",
        "MERCATO_WECHATPAY_APIV3_KEY: must be the 32-character APIv3 key",
        "MERCATO_WECHATPAY_PLATFORM_SERIAL: required with a platform public key (PUB_KEY_ID_...)",
        "MERCATO_BASE_URL: WeChat Pay sends notifications only to an https:// address",
    ]
    with pytest.raises(ProviderUnavailable):
        get_provider("wechatpay")
