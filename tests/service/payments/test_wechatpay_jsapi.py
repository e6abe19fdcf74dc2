"""``create_payment`` with WeChat Pay's JSAPI channel, against a local server speaking WeChat Pay's
v3 API: the order reaches WeChat Pay as the payer's openid, the payment keeps the signed bridge
parameters and only a digest of the openid; the pending payment is reused for the same payer
and refused (PendingPaymentDiffers, nothing changed) for another payer or the QR code."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator

import pytest

from mercato import payments
from mercato.core.db import uow
from tests.factories.payments import read_payment
from tests.providers.fake_wechatpay import APPID, FakeWeChatPay, configure, running_fake_wechatpay

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeWeChatPay]:
    async with running_fake_wechatpay() as server:
        configure(monkeypatch, server)
        yield server


async def create(**way: str) -> payments.PaymentRead:
    async with uow() as s:
        return await payments.create_payment(
            s,
            reference="order:42",
            customer_id=7,
            amount=7000,
            currency="CNY",
            provider="wechatpay",
            expires_in=dt.timedelta(minutes=30),
            **way,
        )


async def test_a_jsapi_payment_reaches_wechat_pay_as_the_payer_and_is_reused_for_them_only(
    fake: FakeWeChatPay,
) -> None:
    created = await create(channel="jsapi", payer_openid=OPENID)
    opened = await read_payment(created.id)
    again = await create(channel="jsapi", payer_openid=OPENID)
    with pytest.raises(payments.PendingPaymentDiffers):
        await create(channel="jsapi", payer_openid="oAnotherPayer")
    with pytest.raises(payments.PendingPaymentDiffers):
        await create()  # the QR code

    trade = fake.orders[str(opened.provider_payment_id)]
    assert fake.calls == ["POST /v3/pay/transactions/jsapi"]
    assert (trade.request["payer"], trade.request["appid"]) == ({"openid": OPENID}, APPID)
    assert (opened.status, opened.pay_url) == (payments.PaymentStatus.pending, "")
    assert opened.client_data == {
        "channel": "jsapi",
        "payer": hashlib.sha256(OPENID.encode()).hexdigest(),
        "jsapi": opened.client_data["jsapi"],
    }
    assert opened.client_data["jsapi"]["package"] == f"prepay_id={trade.answer['prepay_id']}"
    assert again.id == created.id
    assert await read_payment(created.id) == opened


async def test_a_jsapi_payment_needs_the_payers_openid(fake: FakeWeChatPay) -> None:
    with pytest.raises(ValueError, match="openid"):
        await create(channel="jsapi")

    async with uow(write=False) as s:
        assert (await payments.list_payments(s, reference="order:42")).items == []
    assert fake.calls == []
