"""The ``alipay`` provider: Alipay (支付宝) open platform, with python-alipay-sdk.

- ``create`` signs two pay URLs on the openapi gateway: computer-website pay
  (``alipay.trade.page.pay``, the ``pay_url``) and mobile-website pay (``alipay.trade.wap.pay``,
  ``client_data["wap_url"]``). No call is made: the customer's browser opens the URL. The
  merchant trade number (``out_trade_no``) is our payment id, which is also the
  ``provider_payment_id`` (Alipay assigns its ``trade_no`` only once the customer pays);
  ``total_amount`` is yuan as a decimal string, computed from fen exactly; ``time_expire`` is
  the payment's expiry, so the URL cannot pay after it.
- ``parse_notification`` reads the form-encoded asynchronous notification, verifies its RSA2
  signature with Alipay's public key (every field but ``sign`` and ``sign_type``, sorted), and
  refuses another app id, or a ``notify_time`` more than ``MAX_AGE`` old (Alipay resends a
  notification for about 25 hours, each time with the same ``notify_id``, our event id) or
  more than ``MAX_SKEW`` ahead. ``TRADE_SUCCESS`` / ``TRADE_FINISHED`` → paid,
  ``WAIT_BUYER_PAY`` → pending, ``TRADE_CLOSED`` → closed (unpaid and timed out, or fully
  refunded: a closed notification for a paid payment changes nothing).
- ``query`` (``alipay.trade.query``), ``refund`` (``alipay.trade.refund`` with
  ``out_request_no`` = our refund id, so a retry refunds once; ``fund_change=N`` means the
  refund was made before, confirmed with ``alipay.trade.fastpay.refund.query``) and ``close``
  (``alipay.trade.close``; a paid trade answers ``ACQ.TRADE_STATUS_ERROR``, confirmed by a
  query, → ``CloseResult(already_paid=True)``) call the gateway, whose answers the SDK checks
  against Alipay's signature. The SDK is synchronous (urllib), so calls run in a thread.

The gateway URL is a setting (``MERCATO_ALIPAY_GATEWAY_URL``): the tests point it at a local
server speaking the same protocol (tests/providers/fake_alipay.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import structlog
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from mercato.core import clock
from mercato.core.settings import get_settings, normalize_pem
from mercato.payments.errors import InvalidNotification, InvalidSignature, ProviderUnavailable
from mercato.payments.providers.base import (
    CloseResult,
    Notification,
    PaymentToCreate,
    ProviderCreated,
    RefundResult,
)

log = structlog.get_logger("mercato.payments.alipay")

NAME = "alipay"
NOTIFY_PATH = "/api/v1/payments/notify/alipay"
#: Alipay's clock and the ``yyyy-MM-dd HH:mm:ss`` times it reads and writes are Beijing time.
BEIJING = ZoneInfo("Asia/Shanghai")
#: Notifications older than this are refused (Alipay resends for about 25 hours).
MAX_AGE = dt.timedelta(hours=26)
#: Notifications dated this far ahead of our clock are refused.
MAX_SKEW = dt.timedelta(minutes=5)
SUCCESS = "10000"
#: trade_status → the status a notification or query reports.
_STATUS = {
    "WAIT_BUYER_PAY": "pending",
    "TRADE_SUCCESS": "paid",
    "TRADE_FINISHED": "paid",
    "TRADE_CLOSED": "closed",
}
_YUAN = re.compile(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$")
_TIME = "%Y-%m-%d %H:%M:%S"
#: Fields not kept with a notification (the buyer's masked account name).
_DROPPED = frozenset({"sign", "buyer_logon_id"})


def yuan(fen: int) -> str:
    """Fen as the yuan decimal string Alipay takes (``12345`` → ``"123.45"``), exactly."""
    if fen < 0:
        raise ValueError("amount must not be negative")
    return f"{fen // 100}.{fen % 100:02d}"


def to_fen(text: str) -> int:
    """Alipay's yuan string as fen (``"123.45"`` → ``12345``); raises InvalidNotification."""
    if not isinstance(text, str) or not _YUAN.match(text):
        raise InvalidNotification()
    return int(Decimal(text) * 100)


def beijing_time(moment: dt.datetime) -> str:
    return moment.astimezone(BEIJING).strftime(_TIME)


def _event_id(value: str) -> str:
    """An event id that fits our column (Alipay's notify_id may be up to 128 characters)."""
    return value if len(value) <= 120 else hashlib.sha256(value.encode()).hexdigest()


class _Client(AliPay):  # type: ignore[misc]  # the SDK has no type hints
    """python-alipay-sdk's client, talking to the configured gateway instead of its built-in one."""

    def __init__(self, *, gateway_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gateway = gateway_url


class AlipayProvider:
    """The shop's client of Alipay (see the module docstring)."""

    name = NAME

    def __init__(
        self,
        *,
        app_id: str,
        private_key: str,
        alipay_public_key: str,
        gateway_url: str,
        notify_url: str,
        timeout: float = 15.0,
    ) -> None:
        """Raises: ProviderUnavailable (503): a key does not load (``mercato check`` says which)."""
        self.app_id = app_id
        self.gateway_url = gateway_url
        self.notify_url = notify_url
        try:
            self._client = _Client(
                gateway_url=gateway_url,
                appid=app_id,
                app_private_key_string=private_key,
                alipay_public_key_string=alipay_public_key,
                sign_type="RSA2",
                config=AliPayConfig(timeout=timeout),
            )
        except (ValueError, IndexError, TypeError) as exc:
            log.error("alipay.bad_key", error=type(exc).__name__)
            raise ProviderUnavailable() from exc

    @classmethod
    def from_settings(cls) -> AlipayProvider:
        """The client for the current settings (kept while they do not change: keys load slowly)."""
        settings = get_settings()
        return _client_for(
            app_id=settings.alipay_app_id.strip(),
            private_key=normalize_pem(settings.alipay_private_key.get_secret_value()),
            alipay_public_key=normalize_pem(settings.alipay_public_key.get_secret_value()),
            gateway_url=settings.alipay_gateway_url.strip(),
            notify_url=settings.public_base_url + NOTIFY_PATH,
        )

    # -- paying -------------------------------------------------------------------------------

    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        if payment.currency != "CNY":
            raise ValueError("Alipay takes payments in CNY only")
        out_trade_no = str(payment.payment_id)
        biz = {
            "out_trade_no": out_trade_no,
            "total_amount": yuan(payment.amount),
            "subject": (payment.description or payment.reference)[:256],
            "time_expire": beijing_time(payment.expires_at),
        }
        page = self._pay_url("alipay.trade.page.pay", {**biz, "product_code": "FAST_INSTANT_TRADE_PAY"})
        wap = self._pay_url("alipay.trade.wap.pay", {**biz, "product_code": "QUICK_WAP_PAY"})
        return ProviderCreated(provider_payment_id=out_trade_no, pay_url=page, client_data={"wap_url": wap})

    def _pay_url(self, method: str, biz: dict[str, Any]) -> str:
        signed = self._client.client_api(
            method, biz, notify_url=self.notify_url, timestamp=beijing_time(clock.now())
        )
        return f"{self.gateway_url}?{signed}"

    # -- notifications --------------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify and read one asynchronous notification (no network).

        Raises:
            InvalidSignature: no, or a bad, RSA2 signature; a stale or future ``notify_time``.
            InvalidNotification: not a form, a repeated field, another app id, an unknown
                trade status, a malformed amount.
        """
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidNotification() from exc
        params = dict(pairs)
        if len(params) != len(pairs):
            raise InvalidNotification()  # a field given twice: which one was signed?
        signature = params.pop("sign", "")
        if not signature or params.get("sign_type") != "RSA2":
            raise InvalidSignature()
        try:
            valid = bool(self._client.verify(dict(params), signature))
        except (ValueError, TypeError, AliPayException):  # e.g. a signature that is not base64
            valid = False
        if not valid:
            raise InvalidSignature()
        self._check_time(params.get("notify_time", ""))
        if params.get("app_id") != self.app_id or params.get("notify_type") != "trade_status_sync":
            raise InvalidNotification()
        notify_id = params.get("notify_id", "")
        if not notify_id:
            raise InvalidNotification()
        return self._read(params, event_id=_event_id(notify_id))

    def _check_time(self, notify_time: str) -> None:
        try:
            sent = dt.datetime.strptime(notify_time, _TIME).replace(tzinfo=BEIJING)
        except ValueError as exc:
            raise InvalidSignature() from exc
        age = clock.now() - sent
        if age > MAX_AGE or -age > MAX_SKEW:
            raise InvalidSignature()

    @staticmethod
    def _read(fields: Mapping[str, Any], *, event_id: str) -> Notification:
        """A trade's status from a notification's fields or a query answer's."""
        out_trade_no, status = fields.get("out_trade_no"), _STATUS.get(str(fields.get("trade_status")))
        if not isinstance(out_trade_no, str) or not 1 <= len(out_trade_no) <= 64 or status is None:
            raise InvalidNotification()
        return Notification(
            provider_txn_id=event_id,
            provider_payment_id=out_trade_no,
            status=status,
            amount=to_fen(fields.get("total_amount", "")),
            currency="CNY",
            raw={key: value for key, value in fields.items() if key not in _DROPPED},
            merchant_payment_id=out_trade_no,
        )

    # -- calls to the gateway -------------------------------------------------------------------

    async def _call(self, method: str, biz: dict[str, Any]) -> dict[str, Any]:
        """One signed openapi call; the answer's Alipay signature is checked by the SDK.

        Raises: ProviderUnavailable (503): unreachable, an unsigned or forged answer.
        """
        try:
            answer = await asyncio.to_thread(
                self._client.server_api, method, biz, timestamp=beijing_time(clock.now())
            )
        except AliPayValidationError as exc:
            log.error("alipay.answer_not_signed_by_alipay", method=method)
            raise ProviderUnavailable() from exc
        except (AliPayException, OSError, ValueError) as exc:  # URLError is an OSError
            log.warning("alipay.call_failed", method=method, error=repr(exc)[:300])
            raise ProviderUnavailable() from exc
        if not isinstance(answer, dict):
            raise ProviderUnavailable()
        return answer

    async def query(self, provider_payment_id: str) -> Notification:
        answer = await self._call("alipay.trade.query", {"out_trade_no": provider_payment_id})
        if answer.get("code") == SUCCESS:
            status, trade_no = answer.get("trade_status"), answer.get("trade_no") or provider_payment_id
            try:
                return self._read(answer, event_id=_event_id(f"query:{trade_no}:{status}"))
            except InvalidNotification as exc:
                raise ProviderUnavailable() from exc
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":  # the customer has not opened the page
            return Notification(
                provider_txn_id=_event_id(f"query:{provider_payment_id}:TRADE_NOT_EXIST"),
                provider_payment_id=provider_payment_id,
                status="pending",
                amount=0,
                currency="CNY",
                raw=answer,
                merchant_payment_id=provider_payment_id,
            )
        log.warning("alipay.query_refused", sub_code=answer.get("sub_code"))
        raise ProviderUnavailable()

    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        answer = await self._call(
            "alipay.trade.refund",
            {
                "out_trade_no": provider_payment_id,
                "refund_amount": yuan(amount),
                "out_request_no": str(refund_id),
            },
        )
        code, sub_code = answer.get("code"), str(answer.get("sub_code", ""))
        if code == SUCCESS:
            refund_no = f"{answer.get('trade_no') or provider_payment_id}:{refund_id}"
            if answer.get("fund_change") == "Y":
                return RefundResult(succeeded=True, provider_refund_id=refund_no)
            return await self._refund_status(provider_payment_id, refund_id, refund_no)
        if code == "20000" or sub_code in {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"}:
            raise ProviderUnavailable()  # try again later, with the same out_request_no
        reason = f"{sub_code}: {answer.get('sub_msg', '')}".strip(": ")
        return RefundResult(succeeded=False, failure_reason=reason[:200] or "refused by Alipay")

    async def _refund_status(self, provider_payment_id: str, refund_id: int, refund_no: str) -> RefundResult:
        """A refund Alipay says it made before (``fund_change=N``): look it up.

        Not confirmed yet → pending without a refund id, so the resume job asks ``refund`` again
        (idempotent by ``out_request_no``).
        """
        answer = await self._call(
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": provider_payment_id, "out_request_no": str(refund_id)},
        )
        if answer.get("code") == SUCCESS and answer.get("refund_status") == "REFUND_SUCCESS":
            return RefundResult(succeeded=True, provider_refund_id=refund_no)
        return RefundResult.pending_refund(None)

    async def close(self, provider_payment_id: str) -> CloseResult:
        answer = await self._call("alipay.trade.close", {"out_trade_no": provider_payment_id})
        sub_code = answer.get("sub_code")
        if answer.get("code") == SUCCESS or sub_code == "ACQ.TRADE_NOT_EXIST":
            # Not existing: the customer never opened the page. The signed URL itself cannot pay
            # after its time_expire; money arriving earlier for a closed payment is flagged.
            return CloseResult(closed=True)
        if sub_code == "ACQ.TRADE_STATUS_ERROR":  # paid, or closed already
            status = (await self.query(provider_payment_id)).status
            if status == "paid":
                return CloseResult(closed=False, already_paid=True)
            if status == "closed":
                return CloseResult(closed=True)
        log.warning("alipay.close_refused", sub_code=sub_code)
        raise ProviderUnavailable()


@functools.lru_cache(maxsize=2)
def _client_for(
    *, app_id: str, private_key: str, alipay_public_key: str, gateway_url: str, notify_url: str
) -> AlipayProvider:
    return AlipayProvider(
        app_id=app_id,
        private_key=private_key,
        alipay_public_key=alipay_public_key,
        gateway_url=gateway_url,
        notify_url=notify_url,
    )
