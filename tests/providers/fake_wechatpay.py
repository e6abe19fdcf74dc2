"""A local server that speaks WeChat Pay API v3 for a direct merchant (the parts Mercato uses).

Every request must carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
signature="..",timestamp="..",serial_no=".."``: an RSA-SHA256 signature with the merchant's
private key over ``method\\npath?query\\ntimestamp\\nnonce\\nbody\\n``, a timestamp within five
minutes and the merchant certificate's serial number; otherwise 401 ``SIGN_ERROR``. Every
answer is signed with the platform private key: ``Wechatpay-Timestamp``, ``-Nonce``,
``-Serial`` (the platform public key id, or certificate serial), ``-Signature`` over
``timestamp\\nnonce\\nbody\\n`` and ``-Signature-Type``.

- ``POST /v3/pay/transactions/{native,jsapi,h5}`` → ``code_url`` / ``prepay_id`` / ``h5_url``
  (``notify_url`` must be https, ``out_trade_no`` 6 to 32 characters).
- ``GET /v3/pay/transactions/out-trade-no/{no}?mchid=``, ``POST .../{no}/close`` (204).
- ``POST /v3/refund/domestic/refunds`` (idempotent per ``out_refund_no``; answers ``SUCCESS``,
  or ``PROCESSING`` when ``refund_status`` says so) and ``GET /v3/refund/domestic/refunds/{no}``.
- ``pay`` is the customer paying; ``transaction_notification`` / ``refund_notification`` write
  the JSON notification with its resource encrypted (AEAD_AES_256_GCM, the APIv3 key), and
  ``headers`` sign it as the platform does.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import itertools
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from httpx import AsyncClient, Response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from mercato.core import clock
from mercato.core.settings import get_settings
from tests.providers.fake_alipay import KeyPair, private_key, public_key, rsa_pair
from tests.providers.local_server import serving

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
APIV3_KEY = "a12d3924fd499edac8a5efc4b2c1e0f9"  # 32 characters
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PLATFORM_KEY_ID = "PUB_KEY_ID_0119000001092026112700000000000001"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
SHOP_URL = "https://shop.example.com"
NOTIFY_URL = f"{SHOP_URL}/api/v1/payments/notify/wechatpay"
BEIJING = ZoneInfo("Asia/Shanghai")
_AUTH = re.compile(r'(\w+)="([^"]*)"')
_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-*|]{6,32}$")


@functools.cache
def merchant_keys() -> KeyPair:
    """The merchant API certificate's key pair (the shop signs requests with it)."""
    return rsa_pair()


@functools.cache
def platform_keys() -> KeyPair:
    """WeChat Pay's platform key pair (the shop verifies answers and notifications with it)."""
    return rsa_pair()


@functools.cache
def platform_certificate() -> tuple[str, str]:
    """A platform certificate for the platform key: (PEM, serial number in upper-case hex)."""
    key = private_key(platform_keys().private_pem)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x3F3A1B8E2D6C4F1A9B7E5D3C1A2B4C6D8E0F1A2B)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, SHA256())
    )
    return cert.public_bytes(Encoding.PEM).decode(), format(cert.serial_number, "X")


def sign(private_pem: str, message: str) -> str:
    return base64.b64encode(
        private_key(private_pem).sign(message.encode(), padding.PKCS1v15(), SHA256())
    ).decode()


def valid(public_pem: str, message: str, signature: str) -> bool:
    try:
        public_key(public_pem).verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def encrypt(plain: dict[str, Any], associated_data: str, *, key: str = APIV3_KEY) -> dict[str, str]:
    """A notification resource, encrypted the way WeChat Pay documents (AEAD_AES_256_GCM)."""
    nonce = secrets.token_hex(6)  # 12 characters
    ciphertext = AESGCM(key.encode()).encrypt(
        nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(), associated_data.encode()
    )
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


@dataclass
class Order:
    out_trade_no: str
    appid: str
    total: int
    description: str
    notify_url: str
    trade_type: str  # NATIVE, JSAPI, MWEB
    request: dict[str, Any]
    answer: dict[str, str]
    trade_state: str = "NOTPAY"
    transaction_id: str = ""
    success_time: str = ""


@dataclass
class Refund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    amount: int
    notify_url: str
    status: str
    create_time: str
    success_time: str = ""


@dataclass
class FakeWeChatPay:
    base_url: str = ""
    orders: dict[str, Order] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "METHOD /path", in order
    refund_status: str = "SUCCESS"  # what a new refund answers: SUCCESS or PROCESSING
    platform_serial: str = PLATFORM_KEY_ID
    fail_with: int | None = None  # answer every API call with this status (a 5xx, a 429)
    forge_answers: bool = False  # sign answers with a key that is not the platform's
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- the protocol ---------------------------------------------------------------------------

    def headers(
        self, body: str, *, timestamp: int | None = None, serial: str | None = None, key: str | None = None
    ) -> dict[str, str]:
        """The signature headers the platform sends with ``body`` (answers and notifications)."""
        stamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16).upper()
        private = key or (rsa_pair().private_pem if self.forge_answers else platform_keys().private_pem)
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": serial or self.platform_serial,
            "Wechatpay-Signature": sign(private, f"{stamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        }

    def _answer(self, status: int, payload: dict[str, Any] | None = None) -> StarletteResponse:
        body = json.dumps(payload, ensure_ascii=False) if payload is not None else ""
        headers = {**self.headers(body, timestamp=int(time.time())), "Request-ID": secrets.token_hex(16)}
        media = "application/json" if payload is not None else None
        return StarletteResponse(body, status_code=status, headers=headers, media_type=media)

    def _error(self, status: int, code: str, message: str) -> StarletteResponse:
        return self._answer(status, {"code": code, "message": message})

    async def _authorized(self, request: Request) -> tuple[StarletteResponse | None, dict[str, Any]]:
        raw = (await request.body()).decode()
        self.calls.append(f"{request.method} {request.url.path}")
        if self.fail_with is not None:
            return self._error(self.fail_with, "SYSTEM_ERROR", "系统异常，请稍后重试"), {}
        scheme, _, params = request.headers.get("authorization", "").partition(" ")
        auth = dict(_AUTH.findall(params))
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        message = f"{request.method}\n{path}\n{auth.get('timestamp')}\n{auth.get('nonce_str')}\n{raw}\n"
        if (
            scheme != SIGNATURE_TYPE
            or auth.get("mchid") != MCHID
            or auth.get("serial_no") != MERCHANT_SERIAL
            or not auth.get("timestamp", "").isdigit()
            or abs(time.time() - int(auth["timestamp"])) > 300
            or not valid(merchant_keys().public_pem, message, auth.get("signature", ""))
        ):
            return self._error(401, "SIGN_ERROR", "签名错误"), {}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._error(400, "PARAM_ERROR", "请求体不是 JSON"), {}
        return None, body

    # -- the API --------------------------------------------------------------------------------

    async def place(self, request: Request) -> StarletteResponse:
        refused, body = await self._authorized(request)
        if refused:
            return refused
        kind = request.path_params["kind"]
        amount, trade_no = body.get("amount") or {}, str(body.get("out_trade_no", ""))
        if (
            body.get("appid") != APPID
            or body.get("mchid") != MCHID
            or not 1 <= len(str(body.get("description", ""))) <= 127
            or not _TRADE_NO.match(trade_no)
            or not isinstance(amount.get("total"), int)
            or amount["total"] < 1
            or amount.get("currency", "CNY") != "CNY"
            or not str(body.get("notify_url", "")).startswith("https://")
            or (kind == "jsapi" and not (body.get("payer") or {}).get("openid"))
            or (kind == "h5" and not (body.get("scene_info") or {}).get("payer_client_ip"))
        ):
            return self._error(400, "PARAM_ERROR", "参数错误")
        existing = self.orders.get(trade_no)
        if existing is not None:
            if existing.request != body:
                return self._error(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return self._answer(200, existing.answer)
        prepay = f"wx27{next(self._numbers):010d}{secrets.token_hex(8)}"
        answer = {
            "native": {"code_url": f"weixin://wxpay/bizpayurl?pr={prepay[-12:]}"},
            "jsapi": {"prepay_id": prepay},
            "h5": {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay}"},
        }[kind]
        self.orders[trade_no] = Order(
            out_trade_no=trade_no,
            appid=body["appid"],
            total=amount["total"],
            description=body["description"],
            notify_url=body["notify_url"],
            trade_type={"native": "NATIVE", "jsapi": "JSAPI", "h5": "MWEB"}[kind],
            request=body,
            answer=answer,
        )
        return self._answer(200, answer)

    def transaction(self, order: Order) -> dict[str, Any]:
        """The order as the query API and the TRANSACTION notification describe it."""
        paid = order.trade_state in {"SUCCESS", "REFUND"}
        data: dict[str, Any] = {
            "appid": order.appid,
            "mchid": MCHID,
            "out_trade_no": order.out_trade_no,
            "trade_type": order.trade_type,
            "trade_state": order.trade_state,
            "trade_state_desc": {"NOTPAY": "订单未支付", "CLOSED": "订单已关闭"}.get(
                order.trade_state, "支付成功"
            ),
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        }
        if paid:
            data.update(
                transaction_id=order.transaction_id,
                bank_type="CMC",
                success_time=order.success_time,
                amount={
                    "total": order.total,
                    "payer_total": order.total,
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            )
        return data

    async def query(self, request: Request) -> StarletteResponse:
        refused, _body = await self._authorized(request)
        if refused:
            return refused
        order = self.orders.get(request.path_params["no"])
        if request.query_params.get("mchid") != MCHID:
            return self._error(400, "PARAM_ERROR", "商户号不正确")
        if order is None:
            return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
        return self._answer(200, self.transaction(order))

    async def close(self, request: Request) -> StarletteResponse:
        refused, body = await self._authorized(request)
        if refused:
            return refused
        order = self.orders.get(request.path_params["no"])
        if body.get("mchid") != MCHID:
            return self._error(400, "PARAM_ERROR", "商户号不正确")
        if order is None:
            return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
        if order.trade_state in {"SUCCESS", "REFUND"}:
            return self._error(403, "TRADE_ERROR", "订单已支付")
        if order.trade_state == "CLOSED":
            return self._error(400, "ORDER_CLOSED", "订单已关闭")
        order.trade_state = "CLOSED"
        return self._answer(204)

    def refund_view(self, refund: Refund) -> dict[str, Any]:
        order = self.orders[refund.out_trade_no]
        data: dict[str, Any] = {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "招商银行信用卡0403",
            "create_time": refund.create_time,
            "status": refund.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": order.total,
                "refund": refund.amount,
                "payer_total": order.total,
                "payer_refund": refund.amount,
                "settlement_total": order.total,
                "settlement_refund": refund.amount,
                "discount_refund": 0,
                "currency": "CNY",
            },
        }
        if refund.success_time:
            data["success_time"] = refund.success_time
        return data

    async def refund(self, request: Request) -> StarletteResponse:
        refused, body = await self._authorized(request)
        if refused:
            return refused
        order = self.orders.get(str(body.get("out_trade_no", "")))
        amount, refund_no = body.get("amount") or {}, str(body.get("out_refund_no", ""))
        if not refund_no or not isinstance(amount.get("refund"), int) or amount["refund"] < 1:
            return self._error(400, "PARAM_ERROR", "参数错误")
        if order is None:
            return self._error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        existing = self.refunds.get(refund_no)
        if existing is not None:
            if existing.amount != amount["refund"]:
                return self._error(400, "INVALID_REQUEST", "同一退款单号的退款金额不一致")
            return self._answer(200, self.refund_view(existing))
        if order.trade_state not in {"SUCCESS", "REFUND"}:
            return self._error(400, "INVALID_REQUEST", "订单未支付")
        if amount.get("total") != order.total:
            return self._error(400, "PARAM_ERROR", "订单金额与原订单不一致")
        refunded = sum(
            r.amount
            for r in self.refunds.values()
            if r.out_trade_no == order.out_trade_no and r.status != "CLOSED"
        )
        if refunded + amount["refund"] > order.total:
            return self._error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        now = rfc3339(clock.now())
        refund = Refund(
            out_refund_no=refund_no,
            refund_id=f"5030{next(self._numbers):025d}",
            out_trade_no=order.out_trade_no,
            amount=amount["refund"],
            notify_url=str(body.get("notify_url", "")),
            status=self.refund_status,
            create_time=now,
            success_time=now if self.refund_status == "SUCCESS" else "",
        )
        self.refunds[refund_no] = refund
        order.trade_state = "REFUND"
        return self._answer(200, self.refund_view(refund))

    async def query_refund(self, request: Request) -> StarletteResponse:
        refused, _body = await self._authorized(request)
        if refused:
            return refused
        refund = self.refunds.get(request.path_params["no"])
        if refund is None:
            return self._error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return self._answer(200, self.refund_view(refund))

    # -- the customer and the notifications -----------------------------------------------------

    def pay(self, out_trade_no: str) -> Order:
        """The customer pays the order (scans the code, or confirms in WeChat)."""
        order = self.orders[out_trade_no]
        assert order.trade_state == "NOTPAY"
        order.trade_state = "SUCCESS"
        order.transaction_id = f"42000{next(self._numbers):023d}"
        order.success_time = rfc3339(clock.now())
        return order

    def finish_refund(self, out_refund_no: str, status: str = "SUCCESS") -> Refund:
        """The refund leaves PROCESSING (money back: SUCCESS; ABNORMAL; CLOSED)."""
        refund = self.refunds[out_refund_no]
        refund.status = status
        if status == "SUCCESS":
            refund.success_time = rfc3339(clock.now())
        return refund

    def envelope(self, event_type: str, resource: dict[str, Any], *, event_id: str) -> str:
        summary = {"TRANSACTION.SUCCESS": "支付成功", "REFUND.SUCCESS": "退款成功"}.get(
            event_type, "退款异常"
        )
        return json.dumps(
            {
                "id": event_id,
                "create_time": rfc3339(clock.now()),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": summary,
                "resource": resource,
            },
            ensure_ascii=False,
        )

    def transaction_notification(self, out_trade_no: str, /, *, key: str = APIV3_KEY, **changes: Any) -> str:
        """The TRANSACTION.SUCCESS notification of a paid order (its id is the same on a resend)."""
        plain = {**self.transaction(self.orders[out_trade_no]), **changes}
        event_id = "EV-" + hashlib.sha256(f"{out_trade_no}:{plain['trade_state']}".encode()).hexdigest()[:20]
        return self.envelope("TRANSACTION.SUCCESS", encrypt(plain, "transaction", key=key), event_id=event_id)

    def refund_notification(self, out_refund_no: str, /, **changes: Any) -> str:
        """The REFUND.SUCCESS / ABNORMAL / CLOSED notification of a refund, as it stands."""
        refund = self.refunds[out_refund_no]
        order = self.orders[refund.out_trade_no]
        plain: dict[str, Any] = {
            "mchid": MCHID,
            "out_trade_no": order.out_trade_no,
            "transaction_id": order.transaction_id,
            "out_refund_no": refund.out_refund_no,
            "refund_id": refund.refund_id,
            "refund_status": refund.status,
            "user_received_account": "招商银行信用卡0403",
            "amount": {
                "total": order.total,
                "refund": refund.amount,
                "payer_total": order.total,
                "payer_refund": refund.amount,
            },
            **changes,
        }
        if refund.success_time:
            plain.setdefault("success_time", refund.success_time)
        event_id = "EV-" + hashlib.sha256(f"{out_refund_no}:{refund.status}".encode()).hexdigest()[:20]
        return self.envelope(f"REFUND.{refund.status}", encrypt(plain, "refund"), event_id=event_id)

    async def notify(
        self, client: AsyncClient, body: str, headers: dict[str, str] | None = None, *, url: str = NOTIFY_URL
    ) -> Response:
        """Post a notification to the shop, signed now unless ``headers`` are given."""
        sent = headers if headers is not None else self.headers(body)
        return await client.post(
            urlsplit(url).path, content=body.encode(), headers={"content-type": "application/json", **sent}
        )


@asynccontextmanager
async def running_fake_wechatpay() -> AsyncIterator[FakeWeChatPay]:
    fake = FakeWeChatPay()
    app = Starlette(
        routes=[
            Route("/v3/pay/transactions/out-trade-no/{no}", fake.query, methods=["GET"]),
            Route("/v3/pay/transactions/out-trade-no/{no}/close", fake.close, methods=["POST"]),
            Route("/v3/pay/transactions/{kind:str}", fake.place, methods=["POST"]),
            Route("/v3/refund/domestic/refunds", fake.refund, methods=["POST"]),
            Route("/v3/refund/domestic/refunds/{no}", fake.query_refund, methods=["GET"]),
        ]
    )
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake


def configure(monkeypatch: pytest.MonkeyPatch, fake: FakeWeChatPay, **overrides: str) -> None:
    """Enable the ``wechatpay`` provider (beside the sandbox), configured for ``fake``."""
    env = {
        "MERCATO_PAYMENT_PROVIDERS": '["sandbox", "wechatpay"]',
        "MERCATO_BASE_URL": SHOP_URL,
        "MERCATO_WECHATPAY_MCHID": MCHID,
        "MERCATO_WECHATPAY_APPID": APPID,
        "MERCATO_WECHATPAY_APIV3_KEY": APIV3_KEY,
        "MERCATO_WECHATPAY_MERCHANT_SERIAL": MERCHANT_SERIAL,
        "MERCATO_WECHATPAY_PRIVATE_KEY": merchant_keys().private_pem,
        "MERCATO_WECHATPAY_PLATFORM_KEY": platform_keys().public_pem,
        "MERCATO_WECHATPAY_PLATFORM_SERIAL": PLATFORM_KEY_ID,
        "MERCATO_WECHATPAY_BASE_URL": fake.base_url,
        **overrides,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
