"""A local server that speaks Alipay's openapi gateway (the parts Mercato uses), for provider tests.

``GET`` or ``POST /gateway.do`` with Alipay's common parameters (``app_id``, ``method``,
``charset=utf-8``, ``sign_type=RSA2``, ``timestamp``, ``version=1.0``, ``biz_content`` as JSON,
``sign``). The request's RSA2 signature is checked with the app's public key over every
parameter but ``sign``, sorted by name and joined as ``k=v`` with ``&``; a request failing its
checks gets Alipay's unsigned ``error_response`` (40002). Answers are
``{"<method with _>_response": {...}, "sign": "..."}``, signed with the gateway's private key
over that object's exact text; a business refusal is ``code`` 40004 with a ``sub_code``.

- ``alipay.trade.page.pay`` / ``alipay.trade.wap.pay``: the customer's browser opening the
  signed URL; the trade is created (``WAIT_BUYER_PAY``) and a cashier page answered.
- ``alipay.trade.query``, ``alipay.trade.refund`` (idempotent per ``out_request_no``: a repeat
  answers ``fund_change=N``), ``alipay.trade.fastpay.refund.query``, ``alipay.trade.close``.
- ``pay`` is the customer paying; ``notification`` writes the form-encoded asynchronous
  notification exactly as Alipay signs it (every field but ``sign`` and ``sign_type``, sorted),
  and ``notify`` posts it to the shop.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from httpx import AsyncClient, Response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from mercato.core import clock
from mercato.core.settings import get_settings
from mercato.payments.providers.alipay import beijing_time, yuan
from tests.providers.local_server import serving

APP_ID = "2021000000000001"
SELLER_ID = "2088101106499364"
SHOP_URL = "https://shop.example.com"
NOTIFY_URL = f"{SHOP_URL}/api/v1/payments/notify/alipay"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def rsa_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(
        private_pem=key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
        public_pem=key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
    )


@functools.cache
def app_keys() -> KeyPair:
    """The merchant app's RSA2 key pair (its public key is uploaded to Alipay)."""
    return rsa_pair()


@functools.cache
def alipay_keys() -> KeyPair:
    """The gateway's RSA2 key pair (its public key is what the shop verifies with)."""
    return rsa_pair()


@functools.cache
def private_key(pem: str) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@functools.cache
def public_key(pem: str) -> rsa.RSAPublicKey:
    key = load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def rsa2_sign(private_pem: str, message: str) -> str:
    return base64.b64encode(
        private_key(private_pem).sign(message.encode(), padding.PKCS1v15(), SHA256())
    ).decode()


def rsa2_valid(public_pem: str, message: str, signature: str) -> bool:
    try:
        public_key(public_pem).verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def signing_string(params: dict[str, str], *, without: tuple[str, ...]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in without)


def to_fen(text: str) -> int:
    return int(Decimal(text) * 100)


@dataclass
class Trade:
    out_trade_no: str
    total: int  # fen
    subject: str
    notify_url: str
    product_code: str
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    refunds: dict[str, int] = field(default_factory=dict)  # out_request_no → fen

    @property
    def refunded(self) -> int:
        return sum(self.refunds.values())


@dataclass
class FakeAlipay:
    base_url: str = ""
    trades: dict[str, Trade] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # methods called, in order
    fail_with: int | None = None  # answer every API call with this HTTP status
    forge_answers: bool = False  # sign answers with a key that is not the gateway's
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url}/gateway.do"

    # -- the gateway ------------------------------------------------------------------------

    async def gateway(self, request: Request) -> StarletteResponse:
        if request.method == "POST":
            params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        else:
            params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        method = params.get("method", "")
        self.calls.append(method)
        if self.fail_with is not None:
            return StarletteResponse("busy", status_code=self.fail_with)
        refusal = self._check_request(params)
        if refusal:
            return _json({"error_response": {"code": "40002", "msg": "Invalid Arguments", **refusal}})
        biz: dict[str, Any] = json.loads(params.get("biz_content") or "{}")
        if method in {"alipay.trade.page.pay", "alipay.trade.wap.pay"}:
            return self._cashier(method, params, biz)
        handler = {
            "alipay.trade.query": self._query,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.trade.close": self._close,
        }.get(method)
        if handler is None:
            return _json(
                {
                    "error_response": {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": "isv.invalid-method",
                    }
                }
            )
        return self._signed(method, handler(biz))

    def _check_request(self, params: dict[str, str]) -> dict[str, str]:
        sign = params.pop("sign", "")
        if params.get("app_id") != APP_ID:
            return {"sub_code": "isv.invalid-app-id", "sub_msg": "无效的AppID参数"}
        if params.get("sign_type") != "RSA2" or params.get("charset") != "utf-8":
            return {"sub_code": "isv.invalid-signature-type", "sub_msg": "无效的签名类型"}
        if not rsa2_valid(app_keys().public_pem, signing_string(params, without=()), sign):
            return {"sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}
        if params.get("version") != "1.0" or len(params.get("timestamp", "")) != 19:
            return {"sub_code": "isv.invalid-timestamp", "sub_msg": "非法的时间戳参数"}
        return {}

    def _signed(self, method: str, answer: dict[str, Any]) -> StarletteResponse:
        inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        key = rsa_pair().private_pem if self.forge_answers else alipay_keys().private_pem
        name = method.replace(".", "_") + "_response"
        raw = f'{{"{name}":{inner},"sign":"{rsa2_sign(key, inner)}"}}'
        return StarletteResponse(raw, media_type="text/html;charset=utf-8")

    def _cashier(self, method: str, params: dict[str, str], biz: dict[str, Any]) -> StarletteResponse:
        expected = "FAST_INSTANT_TRADE_PAY" if method == "alipay.trade.page.pay" else "QUICK_WAP_PAY"
        out_trade_no, amount = str(biz.get("out_trade_no", "")), str(biz.get("total_amount", ""))
        if biz.get("product_code") != expected or not out_trade_no or not biz.get("subject") or not amount:
            return HTMLResponse("<p>缺少必选参数</p>", status_code=400)
        existing = self.trades.get(out_trade_no)
        if existing is not None and existing.total != to_fen(amount):
            return HTMLResponse("<p>交易信息被篡改</p>", status_code=400)
        if existing is None:  # the trade exists at Alipay once the customer opens the cashier
            self.trades[out_trade_no] = Trade(
                out_trade_no=out_trade_no,
                total=to_fen(amount),
                subject=str(biz["subject"]),
                notify_url=params.get("notify_url", ""),
                product_code=expected,
                trade_no=f"2026112722001{next(self._numbers):015d}",
            )
        return HTMLResponse(f"<h1>支付宝收银台</h1><p>{biz['subject']} ¥{amount}</p>")

    def _trade(self, biz: dict[str, Any]) -> Trade | None:
        return self.trades.get(str(biz.get("out_trade_no", "")))

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade is None:
            return _refused("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
            "trade_status": trade.status,
            "total_amount": yuan(trade.total),
            "buyer_logon_id": "159****5620",
        }

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade, request_no = self._trade(biz), str(biz.get("out_request_no") or "")
        amount = to_fen(str(biz.get("refund_amount", "0")))
        if trade is None:
            return _refused("ACQ.TRADE_NOT_EXIST", "交易不存在")
        fund_change = "N"
        if request_no not in trade.refunds:
            if trade.status != "TRADE_SUCCESS":
                return _refused("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if trade.refunded + amount > trade.total:
                return _refused("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            trade.refunds[request_no] = amount
            fund_change = "Y"
            if trade.refunded == trade.total:
                trade.status = "TRADE_CLOSED"
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "159****5620",
            "fund_change": fund_change,
            "refund_fee": yuan(trade.refunded),
        }

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade, request_no = self._trade(biz), str(biz.get("out_request_no") or "")
        if trade is None or request_no not in trade.refunds:
            return {"code": "10000", "msg": "Success"}  # Alipay: no refund_status, nothing refunded
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "out_request_no": request_no,
            "refund_amount": yuan(trade.refunds[request_no]),
            "total_amount": yuan(trade.total),
            "refund_status": "REFUND_SUCCESS",
        }

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade is None:
            return _refused("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade.status != "WAIT_BUYER_PAY":
            return _refused("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status = "TRADE_CLOSED"
        return {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "trade_no": trade.trade_no,
        }

    # -- the customer and the notifications -----------------------------------------------------

    def pay(self, out_trade_no: str) -> Trade:
        """The customer pays the trade in the cashier."""
        trade = self.trades[out_trade_no]
        assert trade.status == "WAIT_BUYER_PAY"
        trade.status = "TRADE_SUCCESS"
        return trade

    def notification(self, out_trade_no: str, /, **changes: str | None) -> bytes:
        """The asynchronous notification of the trade's status, signed by the gateway.

        ``changes`` replace fields after defaults are set (None removes one); ``sign_with``
        signs with another private key, ``sign`` replaces the signature.
        """
        trade = self.trades[out_trade_no]
        fields: dict[str, str | None] = {
            "notify_time": beijing_time(clock.now()),
            "notify_type": "trade_status_sync",
            # the same on each resend of one notification (Alipay's documented behaviour)
            "notify_id": hashlib.sha256(f"{trade.trade_no}:{trade.status}".encode()).hexdigest()[:34],
            "app_id": APP_ID,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_id": "2088102122524333",
            "buyer_logon_id": "159****5620",
            "seller_id": SELLER_ID,
            "trade_status": trade.status,
            "total_amount": yuan(trade.total),
            "receipt_amount": yuan(trade.total),
            "buyer_pay_amount": yuan(trade.total),
            "subject": trade.subject,
            "gmt_create": beijing_time(clock.now()),
            "gmt_payment": beijing_time(clock.now()),
        }
        sign_with = changes.pop("sign_with", None) or alipay_keys().private_pem
        forced_sign = changes.pop("sign", None)
        fields.update(changes)
        params = {k: v for k, v in fields.items() if v is not None}
        signature = rsa2_sign(sign_with, signing_string(params, without=("sign_type",)))
        params["sign"] = signature if forced_sign is None else forced_sign
        return urlencode(params).encode()

    async def notify(self, client: AsyncClient, out_trade_no: str, body: bytes | None = None) -> Response:
        """Post a notification of the trade (``body``, or a fresh one) to the shop's notify URL."""
        path = urlsplit(self.trades[out_trade_no].notify_url).path
        return await client.post(
            path,
            content=body if body is not None else self.notification(out_trade_no),
            headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        )


def _refused(sub_code: str, sub_msg: str) -> dict[str, Any]:
    return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}


def _json(payload: dict[str, Any]) -> StarletteResponse:
    return StarletteResponse(json.dumps(payload, ensure_ascii=False), media_type="text/html;charset=utf-8")


@asynccontextmanager
async def running_fake_alipay() -> AsyncIterator[FakeAlipay]:
    fake = FakeAlipay()
    app = Starlette(routes=[Route("/gateway.do", fake.gateway, methods=["GET", "POST"])])
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake


def configure(monkeypatch: pytest.MonkeyPatch, fake: FakeAlipay, **overrides: str) -> None:
    """Enable the ``alipay`` provider (beside the sandbox), configured for ``fake``."""
    env = {
        "MERCATO_PAYMENT_PROVIDERS": '["sandbox", "alipay"]',
        "MERCATO_BASE_URL": SHOP_URL,
        "MERCATO_ALIPAY_APP_ID": APP_ID,
        "MERCATO_ALIPAY_PRIVATE_KEY": app_keys().private_pem,
        "MERCATO_ALIPAY_PUBLIC_KEY": alipay_keys().public_pem,
        "MERCATO_ALIPAY_GATEWAY_URL": fake.gateway_url,
        **overrides,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
