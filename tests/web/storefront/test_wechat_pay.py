"""Paying with WeChat Pay inside WeChat (JSAPI) as the shopper's official-account openid, against
a local server speaking WeChat Pay's v3 API: the QR payment is closed at WeChat Pay and a JSAPI
one opened for the linked openid, the page hands WeChat's bridge parameters signed the way
WeChat checks them, a reload reuses them, and the notification pays the order. A shopper with no
linked openid goes to authorise first; a browser outside WeChat keeps the QR code; a QR payment
WeChat Pay cannot close now stays as it was."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from httpx import AsyncClient, Response
from sqlalchemy import select

from mercato import orders, payments
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.identity.models import WeChatAccount
from mercato.orders.models import Order
from mercato.payments.models import Payment
from tests.factories.payments import read_payment
from tests.providers.fake_wechatpay import (
    APPID,
    FakeWeChatPay,
    configure,
    merchant_keys,
    running_fake_wechatpay,
)
from tests.web.pages import EN
from tests.web.storefront.test_checkout import place, ready_to_check_out, review

pytestmark = pytest.mark.usefixtures("handlers")

IN_WECHAT = {
    **EN,
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
}
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeWeChatPay]:
    """WeChat Pay, and the official account it belongs to (the same appid) for WeChat sign-in."""
    async with running_fake_wechatpay() as server:
        configure(monkeypatch, server, MERCATO_WECHAT_MP_APPID=APPID, MERCATO_WECHAT_MP_SECRET="mp-secret")
        yield server


async def qr_payment(client: AsyncClient) -> tuple[int, payments.PaymentRead]:
    """A signed-in shopper's order placed with WeChat Pay: (customer id, its Native payment)."""
    _red, address_id = await ready_to_check_out(client)
    step3 = await review(client, f"address_id={address_id}")
    placed = await place(client, step3, provider="wechatpay")
    payment = await read_payment(int(placed.headers["location"].rsplit("/", 1)[1]))
    assert (payment.client_data["channel"], payment.pay_url) == ("native", payment.client_data["qr_code"])
    return int(payment.customer_id or 0), payment


async def link_openid(customer_id: int) -> None:
    async with uow() as s:
        s.add(
            WeChatAccount(
                customer_id=customer_id,
                app_kind="mp",
                appid=APPID,
                openid=OPENID,
                unionid=None,
                nickname="",
                linked_at=clock.now(),
            )
        )


async def all_payments() -> list[tuple[int, str, str]]:
    async with uow(write=False) as s:
        rows = (await s.execute(select(Payment).order_by(Payment.id))).scalars()
        return [(row.id, row.status, str(row.client_data.get("channel"))) for row in rows]


def bridge_parameters(page: Response) -> dict[str, str]:
    found = re.search(r"x-data=\"wechatPay\" data-params='([^']*)'", page.text)
    assert found, page.text
    parameters: dict[str, str] = json.loads(found.group(1))
    return parameters


def verify_pay_sign(parameters: dict[str, str]) -> None:
    """What WeChat does before it shows the pay sheet: RSA-SHA256 over appId, timeStamp,
    nonceStr and package, each followed by a newline, with the merchant's public key."""
    merchant = load_pem_public_key(merchant_keys().public_pem.encode())
    assert isinstance(merchant, rsa.RSAPublicKey)
    message = "".join(f"{parameters[name]}\n" for name in ("appId", "timeStamp", "nonceStr", "package"))
    merchant.verify(base64.b64decode(parameters["paySign"]), message.encode(), padding.PKCS1v15(), SHA256())


async def test_inside_wechat_the_qr_payment_becomes_jsapi_for_the_linked_openid_and_is_paid(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    customer_id, native = await qr_payment(client)
    await link_openid(customer_id)
    calls_before = list(fake.calls)

    switched = await client.get(f"/pay/{native.id}", headers=IN_WECHAT)
    jsapi_path = switched.headers["location"]
    page = await client.get(jsapi_path, headers=IN_WECHAT)
    reloaded = await client.get(jsapi_path, headers=IN_WECHAT)
    calls_after_pages = list(fake.calls)
    jsapi = await read_payment(int(jsapi_path.rsplit("/", 1)[1]))
    trade = fake.orders[str(jsapi.provider_payment_id)]
    parameters = bridge_parameters(page)
    before_paying = await all_payments()
    fake.pay(trade.out_trade_no)  # the shopper confirms in WeChat's pay sheet
    notified = await fake.notify(client, fake.transaction_notification(trade.out_trade_no))
    await events.deliver_pending()
    await events.deliver_pending()

    assert switched.status_code == 303
    assert jsapi_path != f"/pay/{native.id}"
    assert calls_after_pages[len(calls_before) :] == [
        f"POST /v3/pay/transactions/out-trade-no/{native.provider_payment_id}/close",
        "POST /v3/pay/transactions/jsapi",
    ]
    assert fake.orders[str(native.provider_payment_id)].trade_state == "CLOSED"
    assert trade.request["payer"] == {"openid": OPENID}
    assert (trade.trade_type, trade.total) == ("JSAPI", native.amount)
    assert before_paying == [(native.id, "closed", "native"), (jsapi.id, "pending", "jsapi")]
    assert jsapi.client_data["payer"] == hashlib.sha256(OPENID.encode()).hexdigest()
    assert OPENID not in json.dumps(jsapi.client_data)  # only its digest is kept
    assert page.status_code == 200
    assert parameters == jsapi.client_data["jsapi"]
    assert (parameters["appId"], parameters["package"], parameters["signType"]) == (
        APPID,
        f"prepay_id={trade.answer['prepay_id']}",
        "RSA",
    )
    verify_pay_sign(parameters)
    assert 'data-result-url="/checkout/result/' in page.text
    assert 'hx-trigger="every 3s"' not in page.text  # the bridge's answer moves the page on
    assert (reloaded.status_code, bridge_parameters(reloaded)) == (200, parameters)  # reused
    assert notified.status_code == 200
    assert (await read_payment(jsapi.id)).status is payments.PaymentStatus.paid
    async with uow(write=False) as s:
        assert (await s.execute(select(Order.status))).scalar_one() == orders.OrderStatus.paid


async def test_inside_wechat_without_a_linked_openid_the_shopper_goes_to_authorise_first(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    _customer_id, native = await qr_payment(client)
    before, calls = await all_payments(), list(fake.calls)

    page = await client.get(f"/pay/{native.id}", headers=IN_WECHAT)

    assert (page.status_code, page.headers["location"]) == (
        303,
        f"/account/wechat/authorize-payment?next=%2Fpay%2F{native.id}",
    )
    assert await all_payments() == before
    assert fake.calls == calls


async def test_outside_wechat_the_qr_code_stays_and_a_jsapi_payment_becomes_one_again(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    customer_id, native = await qr_payment(client)
    await link_openid(customer_id)
    calls = list(fake.calls)

    browser = await client.get(f"/pay/{native.id}", headers=EN)
    calls_after_browser = list(fake.calls)
    jsapi_path = (await client.get(f"/pay/{native.id}", headers=IN_WECHAT)).headers["location"]
    back_to_qr = await client.get(jsapi_path, headers=EN)
    again = await read_payment(int(back_to_qr.headers["location"].rsplit("/", 1)[1]))
    qr_page = await client.get(f"/pay/{again.id}", headers=EN)

    assert browser.status_code == 200
    assert f'<img src="/pay/{native.id}/qr.svg" alt="QR code to pay with WeChat"' in browser.text
    assert "wechatPay" not in browser.text
    assert calls_after_browser == calls
    assert back_to_qr.status_code == 303
    assert (again.client_data["channel"], again.pay_url) == ("native", again.client_data["qr_code"])
    assert "payer" not in again.client_data
    assert [status for _id, status, _channel in await all_payments()] == ["closed", "closed", "pending"]
    assert f'<img src="/pay/{again.id}/qr.svg"' in qr_page.text


async def test_a_qr_payment_wechat_pay_cannot_close_now_stays_and_the_page_says_so(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    customer_id, native = await qr_payment(client)
    await link_openid(customer_id)
    before = await all_payments()
    fake.fail_with = 500

    page = await client.get(f"/pay/{native.id}", headers=IN_WECHAT)

    assert page.status_code == 503
    assert "The payment provider is not answering. Try again shortly." in page.text
    assert await all_payments() == before
    assert fake.orders[str(native.provider_payment_id)].trade_state == "NOTPAY"
