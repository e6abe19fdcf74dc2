"""The ``wechatpay`` provider: WeChat Pay API v3 (微信支付) for a direct merchant, with wechatpayv3.

- ``create`` places the order (``/v3/pay/transactions/{native,jsapi,h5}``): Native by default
  (the ``code_url`` is the ``pay_url`` and ``client_data["qr_code"]``, shown as a QR code);
  JSAPI inside WeChat (needs the payer's openid; ``client_data["jsapi"]`` holds the signed
  parameters for ``WeixinJSBridge``/``wx.requestPayment``, and there is no page to open); H5 in
  a mobile browser (needs the customer's IP; the ``h5_url`` is the ``pay_url``). The merchant
  trade number is our payment id, zero-padded to WeChat's six-character minimum; it is also the
  ``provider_payment_id`` (the ``transaction_id`` exists only once the customer paid).
- ``parse_notification`` checks the ``Wechatpay-Timestamp`` (at most ``REPLAY_WINDOW_SECONDS``
  off our clock, as the sandbox does), ``-Nonce``, ``-Serial`` (must be our platform key's) and
  ``-Signature`` (RSA-SHA256 over ``timestamp\\nnonce\\nbody\\n`` with the platform public key or
  certificate), then decrypts the resource with AES-256-GCM under the APIv3 key and reads
  ``TRANSACTION.SUCCESS`` (mchid and appid must be ours) or ``REFUND.SUCCESS`` /
  ``REFUND.ABNORMAL`` / ``REFUND.CLOSED`` (a ``RefundNotification``; abnormal keeps the refund
  pending and flags the payment for a person). The envelope's ``id`` is the event id.
- ``query`` (by out_trade_no), ``refund`` (``/v3/refund/domestic/refunds``, ``out_refund_no`` =
  our refund id, so a retry refunds once; ``PROCESSING`` → pending, finished later by the
  ``REFUND.*`` notification or ``query_refund``), ``query_refund`` and ``close``
  (``/v3/pay/transactions/out-trade-no/{id}/close``; refused for a paid trade, which a query
  confirms → ``CloseResult(already_paid=True)``). Requests carry the
  ``WECHATPAY2-SHA256-RSA2048`` Authorization the SDK signs with the merchant key; answers are
  verified by the SDK against the platform key. The SDK is synchronous (requests), so calls run
  in a thread; it never fetches platform certificates here, because the platform key is
  configured (a certificate is read for its public key and serial number).

The API base URL is a setting (``MERCATO_WECHATPAY_BASE_URL``): the tests point it at a local
server speaking the same protocol (tests/providers/fake_wechatpay.py).
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt, rsa_verify

from mercato.core import clock
from mercato.core.settings import get_settings, normalize_pem
from mercato.payments.errors import (
    InvalidNotification,
    InvalidSignature,
    NotificationForUnknownPayment,
    ProviderUnavailable,
)
from mercato.payments.providers.base import (
    CloseResult,
    Notification,
    PaymentToCreate,
    ProviderCreated,
    RefundNotification,
    RefundResult,
)

log = structlog.get_logger("mercato.payments.wechatpay")

NAME = "wechatpay"
NOTIFY_PATH = "/api/v1/payments/notify/wechatpay"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
REPLAY_WINDOW_SECONDS = 300
CHANNELS = ("native", "jsapi", "h5")
BEIJING = ZoneInfo("Asia/Shanghai")
#: trade_state → the status a notification or query reports (REFUND: paid, then refunded).
_STATUS = {
    "SUCCESS": "paid",
    "REFUND": "paid",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}
_NONCE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_DIGITS = re.compile(r"^[0-9]{1,19}$")
ABNORMAL = (
    "abnormal at WeChat Pay (the account it goes back to cannot take it): "
    "handle it on the WeChat Pay merchant platform"
)


def out_trade_no(payment_id: int) -> str:
    """Our payment id as WeChat's merchant trade number (6 to 32 characters)."""
    return str(payment_id).zfill(6)


def _merchant_id(out_trade_no: str) -> str:
    """Our payment id back from a merchant trade number (``"000042"`` → ``"42"``)."""
    return str(int(out_trade_no)) if _DIGITS.match(out_trade_no) else out_trade_no


def _event_id(value: str) -> str:
    return value if len(value) <= 120 else hashlib.sha256(value.encode()).hexdigest()


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**12:
        raise InvalidNotification()
    return value


def _platform(pem: str, serial: str) -> tuple[rsa.RSAPublicKey, str]:
    """The platform public key and its id: from a certificate, or a public key with its id."""
    data = pem.encode()
    if b"CERTIFICATE" in data:
        cert = x509.load_pem_x509_certificate(data)
        key: object = cert.public_key()
        serial = serial or format(cert.serial_number, "X")
    else:
        key = load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey) or not serial:
        raise ValueError("the platform key must be RSA, with its serial number or id")
    return key, serial


class WeChatPayProvider:
    """The shop's client of WeChat Pay API v3 (see the module docstring)."""

    name = NAME

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        apiv3_key: str,
        merchant_serial: str,
        private_key: str,
        platform_key: str,
        platform_serial: str,
        base_url: str,
        notify_url: str,
        timeout: tuple[float, float] = (5.0, 15.0),
    ) -> None:
        """Raises: ProviderUnavailable (503): a key does not load (``mercato check`` says which)."""
        self.mchid, self.appid, self.notify_url = mchid, appid, notify_url
        self._apiv3_key = apiv3_key
        try:
            self._platform_key, self.platform_serial = _platform(platform_key, platform_serial)
            merchant_key = load_pem_private_key(private_key.encode(), password=None)
            if not isinstance(merchant_key, rsa.RSAPrivateKey) or len(apiv3_key.encode()) != 32:
                raise ValueError("an RSA merchant key and a 32-byte APIv3 key are needed")
            self._client = WeChatPay(
                wechatpay_type=WeChatPayType.NATIVE,
                mchid=mchid,
                # PKCS#8, the form the SDK loads (a PKCS#1 key is converted)
                private_key=merchant_key.private_bytes(
                    Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
                ).decode(),
                cert_serial_no=merchant_serial,
                appid=appid,
                apiv3_key=apiv3_key,
                notify_url=notify_url,
                timeout=timeout,
                public_key=self._platform_key.public_bytes(
                    Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
                ).decode(),
                public_key_id=self.platform_serial,
            )
        except Exception as exc:  # cryptography and the SDK raise ValueError, TypeError, Exception
            log.error("wechatpay.bad_key", error=type(exc).__name__)
            raise ProviderUnavailable() from exc
        self._client._core._gate_way = base_url.rstrip("/")  # the SDK has no setting for it

    @classmethod
    def from_settings(cls) -> WeChatPayProvider:
        """The client for the current settings (kept while they do not change: keys load slowly)."""
        settings = get_settings()
        return _client_for(
            mchid=settings.wechatpay_mchid.strip(),
            appid=settings.wechatpay_appid.strip(),
            apiv3_key=settings.wechatpay_apiv3_key.get_secret_value().strip(),
            merchant_serial=settings.wechatpay_merchant_serial.strip(),
            private_key=normalize_pem(settings.wechatpay_private_key.get_secret_value()),
            platform_key=normalize_pem(settings.wechatpay_platform_key.get_secret_value()),
            platform_serial=settings.wechatpay_platform_serial.strip(),
            base_url=settings.wechatpay_base_url.strip(),
            notify_url=settings.public_base_url + NOTIFY_PATH,
        )

    async def _call(self, method: Callable[..., Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """One signed API call; its answer's signature is checked by the SDK (2xx answers).

        Raises: ProviderUnavailable (503): unreachable, a 5xx or 429, an answer not signed with
        the platform key, or a body that is not JSON.
        """
        try:
            code, text = await asyncio.to_thread(method, **kwargs)
        except Exception as exc:  # requests' errors, and the SDK's plain Exception on a bad signature
            log.warning("wechatpay.call_failed", call=method.__name__, error=repr(exc)[:300])
            raise ProviderUnavailable() from exc
        if code >= 500 or code == 429:
            log.warning("wechatpay.unavailable", call=method.__name__, status=code)
            raise ProviderUnavailable()
        try:
            data = json.loads(text) if isinstance(text, str) and text else {}
        except ValueError as exc:
            raise ProviderUnavailable() from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable()
        return code, data

    # -- paying -------------------------------------------------------------------------------

    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        channel = payment.channel or "native"
        if channel not in CHANNELS:
            raise ValueError(f"unknown WeChat Pay channel {channel!r}")
        if payment.currency != "CNY":
            raise ValueError("WeChat Pay takes payments in CNY only")
        trade_no = out_trade_no(payment.payment_id)
        common: dict[str, Any] = {
            "description": (payment.description or payment.reference)[:127],
            "out_trade_no": trade_no,
            "amount": {"total": payment.amount, "currency": "CNY"},
            "time_expire": payment.expires_at.astimezone(BEIJING).isoformat(timespec="seconds"),
        }
        if channel == "jsapi":
            if not payment.payer_openid:
                raise ValueError("a JSAPI payment needs the payer's openid")
            code, data = await self._call(
                self._client.pay,
                **common,
                payer={"openid": payment.payer_openid},
                pay_type=WeChatPayType.JSAPI,
            )
            prepay_id = self._created(code, data, "prepay_id")
            return ProviderCreated(
                provider_payment_id=trade_no,
                pay_url="",  # paid inside WeChat with client_data["jsapi"], not on a page
                client_data={"channel": channel, "jsapi": self._jsapi_parameters(prepay_id)},
            )
        if channel == "h5":
            if not payment.client_ip:
                raise ValueError("an H5 payment needs the customer's IP address")
            code, data = await self._call(
                self._client.pay,
                **common,
                scene_info={"payer_client_ip": payment.client_ip, "h5_info": {"type": "Wap"}},
                pay_type=WeChatPayType.H5,
            )
            h5_url = self._created(code, data, "h5_url")
            return ProviderCreated(
                provider_payment_id=trade_no, pay_url=h5_url, client_data={"channel": channel}
            )
        code, data = await self._call(self._client.pay, **common, pay_type=WeChatPayType.NATIVE)
        code_url = self._created(code, data, "code_url")
        return ProviderCreated(
            provider_payment_id=trade_no,
            pay_url=code_url,
            client_data={"channel": channel, "qr_code": code_url},
        )

    @staticmethod
    def _created(code: int, data: dict[str, Any], field: str) -> str:
        value = data.get(field)
        if code != 200 or not isinstance(value, str) or not value:
            log.warning("wechatpay.order_refused", status=code, code=data.get("code"))
            raise ProviderUnavailable()
        return value

    def _jsapi_parameters(self, prepay_id: str) -> dict[str, str]:
        """What the WeChat JS bridge needs to pay, signed with the merchant key (RSA)."""
        timestamp, nonce, package = (
            str(int(clock.now().timestamp())),
            secrets.token_hex(16),
            f"prepay_id={prepay_id}",
        )
        signature = self._client.sign([self.appid, timestamp, nonce, package])
        return {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": str(signature),
        }

    # -- notifications --------------------------------------------------------------------------

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> Notification | RefundNotification:
        """Verify, decrypt and read one notification (no network).

        Raises:
            InvalidSignature: missing or malformed headers, another platform key's serial, a
                timestamp outside the replay window, a bad signature.
            InvalidNotification: not an encrypted WeChat Pay notification, a resource that does
                not decrypt, another mchid or appid, an unknown event type.
            NotificationForUnknownPayment: a refund notification for a refund number not ours.
        """
        text = self._verify(headers, body)
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            event_id, event_type = envelope["id"], envelope["event_type"]
            if (
                envelope.get("resource_type") != "encrypt-resource"
                or resource.get("algorithm") != "AEAD_AES_256_GCM"
                or not isinstance(event_id, str)
                or not event_id
            ):
                raise InvalidNotification()
            plain = aes_decrypt(
                nonce=resource["nonce"],
                ciphertext=resource["ciphertext"],
                associated_data=resource.get("associated_data") or "",
                apiv3_key=self._apiv3_key,
            )
            if plain is None:  # the authentication tag did not check out: not our APIv3 key
                raise InvalidNotification()
            content = json.loads(plain)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InvalidNotification() from exc
        if not isinstance(content, dict):
            raise InvalidNotification()
        if event_type == "TRANSACTION.SUCCESS":
            return self._transaction(content, event_id=_event_id(event_id), check_app=True)
        if event_type in {"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"}:
            return self._refund_notification(content, event_id=_event_id(event_id))
        raise InvalidNotification()

    def _verify(self, headers: Mapping[str, str], body: bytes) -> str:
        lowered = {key.lower(): value for key, value in headers.items()}
        stamp = lowered.get("wechatpay-timestamp", "")
        nonce = lowered.get("wechatpay-nonce", "")
        signature = lowered.get("wechatpay-signature", "")
        serial = lowered.get("wechatpay-serial", "")
        kind = lowered.get("wechatpay-signature-type", SIGNATURE_TYPE)
        if (
            not stamp.isdigit()
            or len(stamp) > 12
            or not _NONCE.match(nonce)
            or not signature
            or len(signature) > 1024
            or kind != SIGNATURE_TYPE
        ):
            raise InvalidSignature()
        if serial != self.platform_serial:
            log.warning("wechatpay.unknown_platform_serial", serial=serial[:64])
            raise InvalidSignature()
        if abs(int(clock.now().timestamp()) - int(stamp)) > REPLAY_WINDOW_SECONDS:
            raise InvalidSignature()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidSignature() from exc
        if not rsa_verify(stamp, nonce, text, signature, self._platform_key):
            raise InvalidSignature()
        return text

    def _transaction(self, content: Mapping[str, Any], *, event_id: str, check_app: bool) -> Notification:
        """A trade's status from a decrypted TRANSACTION notification or a query answer."""
        trade_no, status = content.get("out_trade_no"), _STATUS.get(str(content.get("trade_state")))
        amount = content.get("amount")
        if (
            content.get("mchid") != self.mchid
            or (check_app and content.get("appid") != self.appid)
            or not isinstance(trade_no, str)
            or not 1 <= len(trade_no) <= 32
            or status is None
            or not isinstance(amount, dict | None)
        ):
            raise InvalidNotification()
        amount = amount or {}  # a query answer for an unpaid order may leave it out
        currency = amount.get("currency", "CNY")
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise InvalidNotification()
        return Notification(
            provider_txn_id=event_id,
            provider_payment_id=trade_no,
            status=status,
            amount=_int(amount.get("total", 0)),
            currency=currency,
            raw={key: value for key, value in content.items() if key != "payer"},  # no openid kept
            merchant_payment_id=_merchant_id(trade_no),
        )

    def _refund_notification(self, content: Mapping[str, Any], *, event_id: str) -> RefundNotification:
        refund_no, amount = content.get("out_refund_no"), content.get("amount")
        if content.get("mchid") != self.mchid or not isinstance(amount, dict):
            raise InvalidNotification()
        if not isinstance(refund_no, str) or not _DIGITS.match(refund_no):
            raise NotificationForUnknownPayment()  # not a refund number we give
        result = self._refund_result(content)
        trade_no = content.get("out_trade_no")
        return RefundNotification(
            provider_txn_id=event_id,
            refund_id=int(refund_no),
            result=result,
            amount=_int(amount.get("refund")),
            currency=str(amount.get("currency") or "CNY"),
            raw={key: value for key, value in content.items() if key != "user_received_account"},
            merchant_payment_id=_merchant_id(trade_no) if isinstance(trade_no, str) else None,
            review_reason=ABNORMAL if content.get("refund_status") == "ABNORMAL" else "",
        )

    @staticmethod
    def _refund_result(content: Mapping[str, Any]) -> RefundResult:
        """A refund's ``status`` (answers) or ``refund_status`` (notifications) as a result."""
        state = content.get("refund_status", content.get("status"))
        refund_id = content.get("refund_id")
        provider_refund_id = refund_id if isinstance(refund_id, str) and refund_id else None
        if state == "SUCCESS":
            return RefundResult(succeeded=True, provider_refund_id=provider_refund_id)
        if state in {"PROCESSING", "ABNORMAL"}:
            return RefundResult.pending_refund(provider_refund_id)
        if state == "CLOSED":
            return RefundResult(
                succeeded=False, provider_refund_id=provider_refund_id, failure_reason="closed by WeChat Pay"
            )
        raise InvalidNotification()

    # -- calls to the gateway -------------------------------------------------------------------

    async def query(self, provider_payment_id: str) -> Notification:
        code, data = await self._call(self._client.query, out_trade_no=provider_payment_id)
        if code == 200:
            state, txn = data.get("trade_state"), data.get("transaction_id") or provider_payment_id
            try:
                return self._transaction(data, event_id=_event_id(f"query:{txn}:{state}"), check_app=False)
            except InvalidNotification as exc:
                raise ProviderUnavailable() from exc
        if code == 404:  # never placed (the order call failed before reaching WeChat Pay)
            return Notification(
                provider_txn_id=_event_id(f"query:{provider_payment_id}:ORDER_NOT_EXIST"),
                provider_payment_id=provider_payment_id,
                status="pending",
                amount=0,
                currency="CNY",
                raw=data,
                merchant_payment_id=_merchant_id(provider_payment_id),
            )
        log.warning("wechatpay.query_refused", status=code, code=data.get("code"))
        raise ProviderUnavailable()

    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        code, trade = await self._call(self._client.query, out_trade_no=provider_payment_id)
        if code == 404:
            return RefundResult(succeeded=False, failure_reason="the trade does not exist at WeChat Pay")
        total = trade.get("amount", {}).get("total") if isinstance(trade.get("amount"), dict) else None
        if code != 200 or not isinstance(total, int):
            raise ProviderUnavailable()
        code, data = await self._call(
            self._client.refund,
            out_refund_no=str(refund_id),
            amount={"refund": amount, "total": total, "currency": "CNY"},
            out_trade_no=provider_payment_id,
        )
        return self._refund_answer(code, data)

    async def query_refund(self, provider_payment_id: str, refund_id: int) -> RefundResult:
        code, data = await self._call(self._client.query_refund, out_refund_no=str(refund_id))
        if code != 200 or data.get("out_trade_no") not in (None, provider_payment_id):
            # unknown to WeChat Pay, or another trade's: the refund stays pending for a person
            log.error("wechatpay.refund_not_found", refund_id=refund_id, status=code, code=data.get("code"))
            raise ProviderUnavailable()
        return self._refund_answer(code, data)

    def _refund_answer(self, code: int, data: dict[str, Any]) -> RefundResult:
        if code == 200:
            try:
                return self._refund_result(data)
            except InvalidNotification as exc:
                raise ProviderUnavailable() from exc
        if code == 401:  # our request's signature was refused: a configuration to fix, then retry
            log.error("wechatpay.sign_error", code=data.get("code"))
            raise ProviderUnavailable()
        reason = f"{data.get('code', code)}: {data.get('message', '')}".strip(": ")
        return RefundResult(succeeded=False, failure_reason=reason[:200])

    async def close(self, provider_payment_id: str) -> CloseResult:
        code, data = await self._call(self._client.close, out_trade_no=provider_payment_id)
        if code == 204:
            return CloseResult(closed=True)
        # Refused (paid, or closed already): WeChat Pay's order status decides.
        found, trade = await self._call(self._client.query, out_trade_no=provider_payment_id)
        state = trade.get("trade_state") if found == 200 else None
        if state in {"SUCCESS", "REFUND"}:
            return CloseResult(closed=False, already_paid=True)
        if found == 404 or state in {"CLOSED", "REVOKED", "PAYERROR"}:
            return CloseResult(closed=True)
        log.warning("wechatpay.close_refused", status=code, code=data.get("code"), trade_state=state)
        raise ProviderUnavailable()


@functools.lru_cache(maxsize=2)
def _client_for(
    *,
    mchid: str,
    appid: str,
    apiv3_key: str,
    merchant_serial: str,
    private_key: str,
    platform_key: str,
    platform_serial: str,
    base_url: str,
    notify_url: str,
) -> WeChatPayProvider:
    return WeChatPayProvider(
        mchid=mchid,
        appid=appid,
        apiv3_key=apiv3_key,
        merchant_serial=merchant_serial,
        private_key=private_key,
        platform_key=platform_key,
        platform_serial=platform_serial,
        base_url=base_url,
        notify_url=notify_url,
    )
