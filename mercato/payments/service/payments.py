"""Payments: create (idempotent per payable and provider while pending), read, close, reconcile.

The provider is never called inside a transaction. ``create_payment`` commits the payment, then
opens the trade at the provider and records its pay URL in a second short transaction;
``close_expired_payments`` and ``query_payment`` own their transactions because they call the
provider between a read and a write (like ``core.events.deliver_pending``).

``close_open_payments`` is the other way round: a payable given up (an order cancelled) must stop
taking money in the very transaction that gives it up, so its pending payments are closed here
first and their trades at the provider right after the commit (``close_trade``). A notification
that races the cancel then finds the payment closed, and its money is refunded automatically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, shop
from mercato.core import clock
from mercato.core.db import after_commit, insert_ignore, uow
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.payments.errors import (
    PaymentNotFound,
    PaymentRace,
    PendingPaymentDiffers,
    ProviderUnavailable,
    ReferenceAlreadyPaid,
    UnknownProvider,
)
from mercato.payments.models import Notification, Payment, PaymentStatusChange, Refund
from mercato.payments.providers.base import PaymentToCreate
from mercato.payments.providers.registry import get_provider
from mercato.payments.schemas import (
    NotificationRead,
    PaymentRead,
    PaymentStatus,
    PaymentStatusChangeRead,
    RefundRead,
)
from mercato.payments.service import actions
from mercato.payments.service.notifications import apply_notification

log = structlog.get_logger("mercato.payments")

SETTLED = (str(PaymentStatus.paid), str(PaymentStatus.partially_refunded), str(PaymentStatus.refunded))
MAX_EXPIRY = dt.timedelta(days=7)


def _payer(channel: str, payer_openid: str) -> dict[str, str]:
    """What a payment keeps of how it is paid: the channel, and a digest of the payer's openid
    (enough to tell whether a pending JSAPI payment is this payer's; the openid itself is not
    kept, so erasing the customer's WeChat link leaves none behind)."""
    kept = {"channel": channel} if channel else {}
    if payer_openid:
        kept["payer"] = hashlib.sha256(payer_openid.encode()).hexdigest()
    return kept


async def _pending(session: AsyncSession, reference: str, provider: str) -> Payment | None:
    return (
        await session.execute(
            select(Payment).where(
                Payment.reference == reference,
                Payment.provider == provider,
                Payment.status == str(PaymentStatus.pending),
            )
        )
    ).scalar_one_or_none()


async def create_payment(
    session: AsyncSession,
    *,
    reference: str,
    customer_id: int | None,
    amount: int,
    currency: str,
    provider: str,
    expires_in: dt.timedelta,
    channel: str = "",
    payer_openid: str = "",
) -> PaymentRead:
    """Start collecting ``amount`` for ``reference`` (e.g. ``"order:42"``) through ``provider``.

    A second call while the first payment is pending returns that payment (one pending payment
    per reference and provider, enforced by a partial unique index). The trade is opened at the
    provider after the commit; ``pay_url`` is set then (read the payment again to get it).
    ``channel`` is how the customer pays where the provider has several ways (WeChat Pay:
    ``native`` QR code, the default; ``jsapi`` inside WeChat, with the payer's ``payer_openid``
    under the WeChat Pay appid); ``client_data`` keeps the channel and a digest of the payer.

    Raises:
        UnknownProvider (422): the provider is not enabled, or the shop switched it off.
        ReferenceAlreadyPaid (409): a payment for the reference is already paid.
        PendingPaymentDiffers (409): the pending payment has another amount or currency, or is
            paid another way (another channel or payer): close it first (``close_with_provider``).
        PaymentRace (409): a concurrent request is creating the payment.
    """
    get_provider(provider)
    if not await shop.is_payment_method_on(session, provider=provider):
        raise UnknownProvider(provider=provider)  # switched off in the shop's settings
    if amount < 1 or not dt.timedelta(0) < expires_in <= MAX_EXPIRY:
        raise ValueError("amount must be positive and expires_in within 7 days")
    if channel == "jsapi" and not payer_openid:
        raise ValueError("a JSAPI payment needs the payer's openid")
    kept = _payer(channel, payer_openid)
    settled = (
        await session.execute(
            select(Payment.id).where(Payment.reference == reference, Payment.status.in_(SETTLED)).limit(1)
        )
    ).scalar_one_or_none()
    if settled is not None:
        raise ReferenceAlreadyPaid()
    now = clock.now()
    inserted = await insert_ignore(
        session,
        Payment.__table__,
        {
            "reference": reference,
            "customer_id": customer_id,
            "provider": provider,
            "amount": amount,
            "currency": currency,
            "status": str(PaymentStatus.pending),
            "client_data": kept,
            "refunded_amount": 0,
            "needs_review": False,
            "review_reason": "",
            "expires_at": now + expires_in,
            "created_at": now,
            "updated_at": now,
        },
    )
    row = await _pending(session, reference, provider)
    if row is None:
        raise PaymentRace()
    if not inserted and (
        (row.amount, row.currency) != (amount, currency)
        or row.client_data.get("payer") != kept.get("payer")  # JSAPI, or another payer's
    ):
        raise PendingPaymentDiffers()
    if row.provider_payment_id is None:
        payment_id = row.id

        async def open_trade() -> None:
            await open_at_provider(payment_id, payer_openid=payer_openid)

        after_commit(session, open_trade)
    return PaymentRead.model_validate(row)


async def open_at_provider(payment_id: int, *, payer_openid: str = "") -> None:
    """Open the trade at the provider and record its id and pay URL (after the commit).

    The channel comes from the payment's ``client_data``; the payer's openid (JSAPI) from the
    caller, since the payment keeps only its digest. A provider failure is logged and leaves the
    payment without a pay URL; calling ``create_payment`` again retries.
    """
    async with uow(write=False) as session:
        row = await session.get(Payment, payment_id)
        if row is None or row.status != PaymentStatus.pending or row.provider_payment_id is not None:
            return
        request = PaymentToCreate(
            payment_id=row.id,
            reference=row.reference,
            amount=row.amount,
            currency=row.currency,
            expires_at=row.expires_at,
            channel=str(row.client_data.get("channel", "")),
            payer_openid=payer_openid,
        )
        provider_name, kept = row.provider, dict(row.client_data)
    try:
        created = await get_provider(provider_name).create(request)
    except Exception as exc:  # the payment stays without a pay URL; a retry opens it
        log.warning("payments.create_failed", payment_id=payment_id, error=repr(exc))
        return
    try:
        async with uow() as session:
            await session.execute(
                update(Payment)
                .where(Payment.id == payment_id, Payment.provider_payment_id.is_(None))
                .values(
                    provider_payment_id=created.provider_payment_id,
                    pay_url=created.pay_url,
                    client_data={**created.client_data, **kept},
                    updated_at=clock.now(),
                )
            )
            status = (
                await session.execute(select(Payment.status).where(Payment.id == payment_id))
            ).scalar_one()
            if status == PaymentStatus.closed:  # closed while the trade was being opened: close it too

                async def close_now() -> None:
                    await close_trade(payment_id)

                after_commit(session, close_now)
    except IntegrityError:
        log.error("payments.trade_id_taken", payment_id=payment_id, trade_id=created.provider_payment_id)


async def _row(session: AsyncSession, payment_id: int) -> Payment:
    row = await session.get(Payment, payment_id)
    if row is None:
        raise PaymentNotFound()
    return row


async def get_payment(
    session: AsyncSession, *, payment_id: int, customer_id: int | None = None
) -> PaymentRead:
    """The payment; with ``customer_id``, only if it is that customer's.

    Raises:
        PaymentNotFound (404): no such payment, or another customer's.
    """
    row = await _row(session, payment_id)
    if customer_id is not None and row.customer_id != customer_id:
        raise PaymentNotFound()
    return PaymentRead.model_validate(row)


async def list_payments(
    session: AsyncSession,
    *,
    reference: str | None = None,
    status: PaymentStatus | None = None,
    needs_review: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[PaymentRead]:
    """Payments, newest first, filtered by reference, status or the review flag.

    Raises:
        InvalidCursor (400).
    """
    size = clamp_limit(limit)
    stmt = select(Payment).order_by(Payment.id.desc()).limit(size + 1)
    after = id_cursor(cursor)
    if after is not None:
        stmt = stmt.where(Payment.id < after)
    if reference:
        stmt = stmt.where(Payment.reference == reference)
    if status is not None:
        stmt = stmt.where(Payment.status == str(status))
    if needs_review is not None:
        stmt = stmt.where(Payment.needs_review.is_(needs_review))
    rows = list((await session.execute(stmt)).scalars())
    items = [PaymentRead.model_validate(row) for row in rows[:size]]
    return Page[PaymentRead](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


async def list_status_changes(session: AsyncSession, *, payment_id: int) -> list[PaymentStatusChangeRead]:
    rows = await session.execute(
        select(PaymentStatusChange)
        .where(PaymentStatusChange.payment_id == payment_id)
        .order_by(PaymentStatusChange.id)
    )
    return [PaymentStatusChangeRead.model_validate(row) for row in rows.scalars()]


async def list_notifications(session: AsyncSession, *, payment_id: int) -> list[NotificationRead]:
    rows = await session.execute(
        select(Notification).where(Notification.payment_id == payment_id).order_by(Notification.id)
    )
    return [NotificationRead.model_validate(row) for row in rows.scalars()]


async def list_refunds(session: AsyncSession, *, payment_id: int) -> list[RefundRead]:
    rows = await session.execute(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id))
    return [RefundRead.model_validate(row) for row in rows.scalars()]


async def close_payment(
    session: AsyncSession, *, payment_id: int, actor: identity.Actor | None, reason: str
) -> PaymentRead:
    """Ask for a pending payment to be closed (an order cancelled before it was paid).

    The provider is asked after the commit; the payment becomes ``closed`` once the provider
    has closed the trade, or ``paid`` if the provider says the customer paid meanwhile. A
    payment that is not pending is left as it is.

    Raises:
        PaymentNotFound (404).
    """
    row = await _row(session, payment_id)
    label = actor.label if actor is not None else "system"
    if row.status == PaymentStatus.pending:

        async def close_later() -> None:
            await close_with_provider(payment_id, actor=label, reason=reason)

        after_commit(session, close_later)
    return PaymentRead.model_validate(row)


async def close_open_payments(
    session: AsyncSession, *, reference: str, actor: identity.Actor | None, reason: str
) -> list[int]:
    """Stop taking money for ``reference`` because its payable was given up (an order cancelled).

    Every pending payment of the reference is closed now, in the caller's transaction, and its
    trade at the provider right after the commit (``close_trade``). Money that still arrives for
    one of them is captured and refunded at once (see ``notifications``). Returns the ids closed.

    Raises:
        ReferenceAlreadyPaid (409): money for the reference has arrived already (a payment is paid,
            perhaps a moment ago by a concurrent notification): the payable must not be given up,
            and the caller's transaction rolls back.
    """
    label = actor.label if actor is not None else "system"
    pending = (
        await session.execute(
            select(Payment)
            .where(Payment.reference == reference, Payment.status == str(PaymentStatus.pending))
            .order_by(Payment.id)
        )
    ).scalars()
    closed = [
        row.id
        for row in list(pending)
        if await actions.close_payment(session, row, actor=label, reason=reason)
    ]
    # After the closes: a notification that paid one first made its close a no-op, and is seen here.
    settled = (
        await session.execute(
            select(Payment.id).where(Payment.reference == reference, Payment.status.in_(SETTLED)).limit(1)
        )
    ).scalar_one_or_none()
    if settled is not None:
        raise ReferenceAlreadyPaid()
    for payment_id in closed:
        after_commit(session, functools.partial(close_trade, payment_id))
    return closed


async def close_trade(payment_id: int) -> None:
    """Close at the provider the trade of a payment already closed here (after the commit that
    closed it), so the customer can no longer pay it.

    If the provider says the trade was paid meanwhile, the trade is queried and the late money is
    captured and refunded (``notifications``). If the provider cannot be reached the trade stays
    open at the gateway until its own expiry (the payment's ``expires_at``, given to the gateway
    when it was opened); money paid there meanwhile is refunded when its notification arrives.
    """
    async with uow(write=False) as session:
        row = await session.get(Payment, payment_id)
        if row is None or row.status != PaymentStatus.closed or row.provider_payment_id is None:
            return
        provider_name, trade_id = row.provider, row.provider_payment_id
    try:
        result = await get_provider(provider_name).close(trade_id)
    except Exception as exc:
        log.warning("payments.close_failed", payment_id=payment_id, error=repr(exc))
        return
    if result.already_paid:
        with contextlib.suppress(ProviderUnavailable):
            await query_payment(payment_id=payment_id)


async def close_with_provider(payment_id: int, *, actor: str, reason: str) -> bool:
    """Close the trade at the provider, then the payment; True if the payment was closed.

    Owns its transactions: the provider is called between them. If the provider cannot be
    reached the payment stays pending (the ``payments-close-expired`` job tries again); if it
    says the trade is paid, the payment is reconciled with ``query_payment`` instead.
    """
    async with uow(write=False) as session:
        row = await session.get(Payment, payment_id)
        if row is None or row.status != PaymentStatus.pending:
            return False
        provider_name, trade_id = row.provider, row.provider_payment_id
    if trade_id is not None:
        try:
            result = await get_provider(provider_name).close(trade_id)
        except Exception as exc:
            log.warning("payments.close_failed", payment_id=payment_id, error=repr(exc))
            return False
        if result.already_paid:
            with contextlib.suppress(ProviderUnavailable):
                await query_payment(payment_id=payment_id)
            return False
    async with uow() as session:
        row = await _row(session, payment_id)
        if row.status != PaymentStatus.pending:
            return False
        return await actions.close_payment(session, row, actor=actor, reason=reason)


async def close_expired_payments(*, limit: int = 100) -> int:
    """Close pending payments past their expiry (job ``payments-close-expired``); return how many.

    Payments flagged for review are left for a person.
    """
    async with uow(write=False) as session:
        ids = list(
            (
                await session.execute(
                    select(Payment.id)
                    .where(
                        Payment.status == str(PaymentStatus.pending),
                        Payment.expires_at <= clock.now(),
                        Payment.needs_review.is_(False),
                    )
                    .order_by(Payment.id)
                    .limit(limit)
                )
            ).scalars()
        )
    closed = 0
    for payment_id in ids:
        if await close_with_provider(payment_id, actor="system", reason="not paid in time"):
            closed += 1
    return closed


async def query_payment(*, payment_id: int) -> PaymentRead:
    """Reconcile one payment with the provider (a lost notification, a close refused as paid).

    The provider's answer goes through the same rules as a notification (``source="query"``).
    Owns its transactions: the provider is called between them.

    Raises:
        PaymentNotFound (404).
        ProviderUnavailable (503): the provider could not be asked.
    """
    async with uow(write=False) as session:
        row = await _row(session, payment_id)
        provider_name, trade_id = row.provider, row.provider_payment_id
    if trade_id is not None:
        try:
            answer = await get_provider(provider_name).query(trade_id)
        except Exception as exc:
            log.warning("payments.query_failed", payment_id=payment_id, error=repr(exc))
            raise ProviderUnavailable() from exc
        async with uow() as session:
            await apply_notification(session, provider=provider_name, notification=answer, source="query")
    async with uow(write=False) as session:
        return PaymentRead.model_validate(await _row(session, payment_id))
