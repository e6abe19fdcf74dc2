"""The ``sandbox`` provider: a gateway that takes no real money, served by Mercato itself.

It behaves like a real gateway so the whole flow can be tried offline and tested:

- ``create`` opens a trade in the gateway's own table (``payments_sandbox_txn``, so a trade
  survives a restart) and returns the URL of its pay page, ``/sandbox-gateway/pay/<trade id>``.
- Paying (or failing) on that page records the outcome on the trade, then a job
  (``payments.send_sandbox_notifications``) POSTs signed notifications to
  ``/api/v1/payments/notify/sandbox``, optionally late, twice, or followed by an older
  "pending" one (out of order).
- ``query``, ``refund`` and ``close`` answer from the gateway's table, as a real gateway's API
  would.

Notification signature (the shape WeChat Pay v3 uses, with HMAC-SHA256 instead of RSA)::

    Sandbox-Timestamp: <unix seconds>
    Sandbox-Nonce:     <16-64 letters and digits>
    Sandbox-Signature: hex(HMAC-SHA256(secret, timestamp + "\\n" + nonce + "\\n" + body + "\\n"))

``secret`` is ``MERCATO_SANDBOX_SECRET`` or, if unset, derived from the secret key. A timestamp
more than five minutes away from our clock is refused (the replay window); within it, the
notification's unique event id stops a replay from being applied twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

import httpx
import structlog
from sqlalchemy import select, update

from mercato.core import clock
from mercato.core.db import insert_ignore, uow
from mercato.core.security import sign
from mercato.core.settings import get_settings
from mercato.payments.errors import InvalidNotification, InvalidSignature
from mercato.payments.models import SandboxRefund, SandboxTransaction
from mercato.payments.providers.base import (
    CloseResult,
    Notification,
    PaymentToCreate,
    ProviderCreated,
    RefundResult,
)

log = structlog.get_logger("mercato.payments.sandbox")

NAME = "sandbox"
NOTIFY_PATH = "/api/v1/payments/notify/sandbox"
PAY_PATH = "/sandbox-gateway/pay/{trade_id}"
HEADER_TIMESTAMP = "sandbox-timestamp"
HEADER_NONCE = "sandbox-nonce"
HEADER_SIGNATURE = "sandbox-signature"
REPLAY_WINDOW_SECONDS = 300
_NONCE = re.compile(r"^[A-Za-z0-9]{16,64}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
#: Gateway trade status → the status a notification or query reports.
_REPORTED = {"awaiting": "pending", "paid": "paid", "failed": "failed", "closed": "closed"}
#: Seconds to wait before each retry of a notification that could not be delivered.
RETRY_DELAYS = (1.0, 4.0)


def notify_secret() -> str:
    """The key notifications are signed with (shared by the gateway and the shop)."""
    settings = get_settings()
    configured = settings.sandbox_secret.get_secret_value()
    return configured or sign(settings.effective_secret_key(), "payments:sandbox:notify")


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    """The headers the gateway sends with ``body``: timestamp, a fresh nonce, the signature."""
    stamp = str(timestamp if timestamp is not None else int(clock.now().timestamp()))
    nonce = secrets.token_hex(16)
    return {
        "content-type": "application/json",
        "Sandbox-Timestamp": stamp,
        "Sandbox-Nonce": nonce,
        "Sandbox-Signature": signature(secret or notify_secret(), stamp, nonce, body),
    }


def verify_signature(headers: Mapping[str, str], body: bytes, *, secret: str) -> None:
    """Raises: InvalidSignature (missing or malformed headers, a stale timestamp, a bad HMAC)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    stamp = lowered.get(HEADER_TIMESTAMP, "")
    nonce = lowered.get(HEADER_NONCE, "")
    given = lowered.get(HEADER_SIGNATURE, "").lower()
    if not stamp.isdigit() or len(stamp) > 12 or not _NONCE.match(nonce) or not _HEX.match(given):
        raise InvalidSignature()
    if abs(int(clock.now().timestamp()) - int(stamp)) > REPLAY_WINDOW_SECONDS:
        raise InvalidSignature()
    if not hmac.compare_digest(signature(secret, stamp, nonce, body), given):
        raise InvalidSignature()


def notification_body(txn: SandboxTransaction, status: str) -> bytes:
    """The JSON the gateway posts for ``txn`` in ``status`` (event id ``<trade id>:<status>``)."""
    paid = status == "paid"
    event_at = txn.updated_at if status != "pending" else txn.created_at
    payload = {
        "id": f"{txn.trade_id}:{status}",
        "trade_id": txn.trade_id,
        "out_trade_no": str(txn.payment_id),
        "status": status,
        "amount": txn.paid_amount if paid and txn.paid_amount is not None else txn.amount,
        "currency": txn.currency,
        "created_at": event_at.isoformat(),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _read(payload: Any) -> Notification:
    if not isinstance(payload, dict):
        raise InvalidNotification()
    event_id, trade_id, status = payload.get("id"), payload.get("trade_id"), payload.get("status")
    amount, currency = payload.get("amount"), payload.get("currency")
    out_trade_no = payload.get("out_trade_no")
    if (
        not isinstance(event_id, str)
        or not 1 <= len(event_id) <= 120
        or not isinstance(trade_id, str)
        or not 1 <= len(trade_id) <= 100
        or status not in _REPORTED.values()
        or not isinstance(amount, int)
        or isinstance(amount, bool)
        or not 0 <= amount <= 10**12
        or not isinstance(currency, str)
        or not re.fullmatch(r"[A-Z]{3}", currency)
        or not isinstance(out_trade_no, str)
        or not re.fullmatch(r"[0-9]{1,19}", out_trade_no)
    ):
        raise InvalidNotification()
    return Notification(
        provider_txn_id=event_id,
        provider_payment_id=trade_id,
        status=str(status),
        amount=amount,
        currency=currency,
        raw=payload,
        merchant_payment_id=out_trade_no,
    )


# -- sending notifications (the gateway's side) ----------------------------------------------

_http_client: httpx.AsyncClient | None = None


def use_http_client(client: httpx.AsyncClient | None) -> None:
    """Send notifications through ``client`` (tests: the app's ASGI client); None: real HTTP."""
    global _http_client
    _http_client = client


async def _post(body: bytes, headers: dict[str, str]) -> int:
    if _http_client is not None:
        return (await _http_client.post(NOTIFY_PATH, content=body, headers=headers)).status_code
    async with httpx.AsyncClient(base_url=get_settings().public_base_url, timeout=10.0) as client:
        return (await client.post(NOTIFY_PATH, content=body, headers=headers)).status_code


async def _deliver(body: bytes) -> int:
    """POST one notification, signed afresh for each attempt; retry transport errors and 5xx."""
    status = 0
    for attempt, wait in enumerate((0.0, *RETRY_DELAYS)):
        if wait:
            await asyncio.sleep(wait)
        try:
            status = await _post(body, signed_headers(body))
        except httpx.HTTPError as exc:
            log.warning("sandbox.notify_failed", attempt=attempt + 1, error=repr(exc))
            continue
        if status < 500:
            return status
        log.warning("sandbox.notify_failed", attempt=attempt + 1, status=status)
    return status


async def send_notifications(
    trade_id: str, *, duplicate: bool = False, out_of_order: bool = False
) -> list[int]:
    """Notify the shop of the trade's outcome; return the HTTP status of each notification."""
    async with uow(write=False) as session:
        txn = (
            await session.execute(select(SandboxTransaction).where(SandboxTransaction.trade_id == trade_id))
        ).scalar_one_or_none()
    if txn is None or txn.status not in {"paid", "failed"}:
        return []
    bodies = [notification_body(txn, txn.status)]
    if duplicate:
        bodies.append(bodies[0])
    if out_of_order:
        bodies.append(notification_body(txn, "pending"))
    return [await _deliver(body) for body in bodies]


# -- the provider (the shop's client of the gateway) -----------------------------------------


class SandboxProvider:
    """The shop's client of the sandbox gateway (see the module docstring)."""

    name = NAME

    def __init__(self, *, secret: str | None = None) -> None:
        self._secret = secret

    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        now = clock.now()
        async with uow() as session:
            await insert_ignore(
                session,
                SandboxTransaction.__table__,
                {
                    "trade_id": f"sbx_{secrets.token_hex(12)}",
                    "payment_id": payment.payment_id,
                    "reference": payment.reference,
                    "amount": payment.amount,
                    "currency": payment.currency,
                    "status": "awaiting",
                    "refunded_amount": 0,
                    "expires_at": payment.expires_at,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            trade_id = (
                await session.execute(
                    select(SandboxTransaction.trade_id).where(
                        SandboxTransaction.payment_id == payment.payment_id
                    )
                )
            ).scalar_one()
        pay_url = get_settings().public_base_url + PAY_PATH.format(trade_id=trade_id)
        return ProviderCreated(
            provider_payment_id=trade_id, pay_url=pay_url, client_data={"qr_code": pay_url}
        )

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        verify_signature(headers, body, secret=self._secret or notify_secret())
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise InvalidNotification() from exc
        return _read(payload)

    async def query(self, provider_payment_id: str) -> Notification:
        async with uow(write=False) as session:
            txn = (
                await session.execute(
                    select(SandboxTransaction).where(SandboxTransaction.trade_id == provider_payment_id)
                )
            ).scalar_one_or_none()
        if txn is None:
            raise InvalidNotification()
        status = _REPORTED[txn.status]
        return _read(json.loads(notification_body(txn, status)))

    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        refund_no = f"{provider_payment_id}-r{refund_id}"
        try:
            async with uow() as session:
                if not await insert_ignore(
                    session,
                    SandboxRefund.__table__,
                    {
                        "refund_no": refund_no,
                        "trade_id": provider_payment_id,
                        "amount": amount,
                        "created_at": clock.now(),
                    },
                ):
                    return RefundResult(succeeded=True, provider_refund_id=refund_no)  # a retry
                result = await session.execute(
                    update(SandboxTransaction)
                    .where(
                        SandboxTransaction.trade_id == provider_payment_id,
                        SandboxTransaction.status == "paid",
                        SandboxTransaction.refunded_amount + amount <= SandboxTransaction.paid_amount,
                    )
                    .values(
                        refunded_amount=SandboxTransaction.refunded_amount + amount, updated_at=clock.now()
                    )
                )
                if getattr(result, "rowcount", 0) != 1:
                    raise _Refused()
        except _Refused:
            return RefundResult(succeeded=False, failure_reason="refund exceeds the paid amount")
        return RefundResult(succeeded=True, provider_refund_id=refund_no)

    async def close(self, provider_payment_id: str) -> CloseResult:
        async with uow() as session:
            result = await session.execute(
                update(SandboxTransaction)
                .where(
                    SandboxTransaction.trade_id == provider_payment_id,
                    SandboxTransaction.status == "awaiting",
                )
                .values(status="closed", updated_at=clock.now())
            )
            if getattr(result, "rowcount", 0) == 1:
                return CloseResult(closed=True)
            status = (
                await session.execute(
                    select(SandboxTransaction.status).where(
                        SandboxTransaction.trade_id == provider_payment_id
                    )
                )
            ).scalar_one_or_none()
        if status == "paid":
            return CloseResult(closed=False, already_paid=True)
        return CloseResult(closed=True)  # failed, closed, or never opened: nothing can pay it


class _Refused(Exception):
    """Rolls back the gateway's refund record when the refund is refused."""
