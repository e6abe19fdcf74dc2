"""Payments factories: payments made through the service, notifications signed the way the
sandbox gateway signs them, the sandbox pay page driven like a browser, and row counts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import payments
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.core.jobs import broker
from mercato.payments.models import (
    Notification,
    Payment,
    PaymentStatusChange,
    Refund,
    SandboxTransaction,
)
from mercato.payments.providers import sandbox
from tests.web.pages import csrf_of

NOTIFY = "/api/v1/payments/notify/sandbox"


async def make_payment(
    *,
    reference: str = "order:42",
    customer_id: int | None = None,
    amount: int = 9900,
    currency: str = "CNY",
    expires_in: dt.timedelta = dt.timedelta(minutes=30),
) -> payments.PaymentRead:
    """A pending sandbox payment, read back once its trade is open at the gateway."""
    async with uow() as session:
        created = await payments.create_payment(
            session,
            reference=reference,
            customer_id=customer_id,
            amount=amount,
            currency=currency,
            provider="sandbox",
            expires_in=expires_in,
        )
    return await read_payment(created.id)


async def read_payment(payment_id: int) -> payments.PaymentRead:
    async with uow(write=False) as session:
        return await payments.get_payment(session, payment_id=payment_id)


def body_for(
    payment: payments.PaymentRead,
    status: str = "paid",
    *,
    amount: int | None = None,
    currency: str | None = None,
    event_id: str | None = None,
) -> bytes:
    """A notification body for ``payment`` as the gateway would write it."""
    assert payment.provider_payment_id is not None
    payload: dict[str, Any] = {
        "id": event_id or f"{payment.provider_payment_id}:{status}",
        "trade_id": payment.provider_payment_id,
        "out_trade_no": str(payment.id),
        "status": status,
        "amount": payment.amount if amount is None else amount,
        "currency": currency or payment.currency,
        "created_at": payment.created_at.isoformat(),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signed(body: bytes, **kwargs: Any) -> dict[str, str]:
    """Headers signing ``body`` with the sandbox secret (the production code path)."""
    return sandbox.signed_headers(body, **kwargs)


async def notify(client: AsyncClient, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return await client.post(NOTIFY, content=body, headers=signed(body) if headers is None else headers)


async def pay_on_gateway(client: AsyncClient, payment: payments.PaymentRead, **form: str) -> Response:
    """Open the pay page, press a button (``outcome=pay`` by default), and wait for the job that
    sends the notifications through ``client`` to the notify endpoint."""
    assert payment.pay_url is not None
    path = urlsplit(payment.pay_url).path
    page = await client.get(path)
    assert page.status_code == 200, page.text
    payments.use_sandbox_http_client(client)
    try:
        response = await client.post(path, data={"outcome": "pay", **form, "csrf_token": csrf_of(page)})
        await broker.wait_all()
    finally:
        payments.use_sandbox_http_client(None)
    return response


async def counts() -> dict[str, int]:
    """Rows in every payments table and the outbox."""
    async with uow(write=False) as session:
        return {
            model.__tablename__: (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Payment, Notification, Refund, PaymentStatusChange, SandboxTransaction, OutboxEvent)
        }


async def outbox() -> list[tuple[str, dict[str, Any]]]:
    async with uow(write=False) as session:
        rows = await session.execute(select(OutboxEvent.name, OutboxEvent.payload).order_by(OutboxEvent.id))
        return [(name, payload) for name, payload in rows]


async def notification_outcomes(payment_id: int) -> list[tuple[str, str, str]]:
    """``(provider_txn_id, status, outcome)`` of each notification recorded for the payment."""
    async with uow(write=False) as session:
        rows = await session.execute(
            select(Notification.provider_txn_id, Notification.status, Notification.outcome)
            .where(Notification.payment_id == payment_id)
            .order_by(Notification.id)
        )
        return [(txn, status, outcome) for txn, status, outcome in rows]


async def history(payment_id: int) -> list[tuple[str, str, str]]:
    """``(from, to, actor)`` of each status change of the payment."""
    async with uow(write=False) as session:
        return [
            (c.from_status, c.to_status, c.actor)
            for c in await payments.list_status_changes(session, payment_id=payment_id)
        ]
