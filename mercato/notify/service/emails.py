"""The email outbox: rows written in the caller's transaction, sent by a job after the commit.

Sending one email is three steps, and the SMTP conversation is in none of the transactions:

1. claim: one conditional UPDATE moves the row to ``sending`` (from ``pending`` when due, or
   from a ``sending`` whose lease ran out) and counts the attempt; a worker that loses the race
   sends nothing, so two workers never send the same email;
2. send, with no transaction open;
3. record: ``sent``; or back to ``pending`` with exponential backoff after a transient failure;
   or ``failed`` when the server refused for good or the attempts are used up. The record is
   fenced by the attempt number, so a worker whose lease ran out cannot overwrite a newer claim.

A worker that dies between 2 and 3 leaves the row ``sending``; once its lease (twice the SMTP
timeout plus a minute) runs out the email is sent again with the same Message-ID. That window
is the only way an email goes out twice (ADR 0018).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, shop
from mercato.core import clock
from mercato.core.db import after_commit, insert_ignore, uow
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.core.security import mask_email, mask_free_text
from mercato.core.settings import get_settings
from mercato.notify.errors import DeliveryNotFound, NotRetryable
from mercato.notify.models import Delivery, DeliveryStatusChange
from mercato.notify.providers.base import EmailDeliveryFailed, EmailTransport, OutgoingEmail
from mercato.notify.providers.registry import get_email_transport
from mercato.notify.schemas import (
    AccountEmailKind,
    Channel,
    DeliveryRead,
    DeliveryStatus,
    DeliveryStatusChangeRead,
)
from mercato.notify.states import DELIVERY
from mercato.notify.templating import Rendered, message_locale, render

log = structlog.get_logger("mercato.notify")

S = DeliveryStatus
JOB = "job:notify.send_emails"
MAX_BACKOFF = dt.timedelta(hours=6)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=2 * get_settings().email_smtp_timeout_seconds + 60)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: the base doubled each time."""
    base = get_settings().email_retry_seconds
    return min(dt.timedelta(seconds=base * 2 ** min(attempts - 1, 20)), MAX_BACKOFF)


async def _history(
    session: AsyncSession, delivery_id: int, from_status: S | None, to_status: S, actor: str, reason: str
) -> None:
    session.add(
        DeliveryStatusChange(
            delivery_id=delivery_id,
            from_status=str(from_status) if from_status is not None else None,
            to_status=str(to_status),
            actor=actor[:200],
            reason=reason[:500],
            created_at=clock.now(),
        )
    )
    await session.flush()


def kick_after_commit(session: AsyncSession) -> None:
    """Ask for the send job once the caller's transaction has committed (the schedule covers a
    lost kick, so a broker failure is only logged)."""
    if session.info.get("notify_kick"):
        return
    session.info["notify_kick"] = True

    async def kick() -> None:
        from mercato.notify import tasks  # noqa: PLC0415 - tasks imports this module

        try:
            await tasks.send_emails.kiq()
        except Exception as exc:  # the request or handler already committed; the schedule retries
            log.warning("notify.kick_failed", error=repr(exc))

    after_commit(session, kick)


def _new_message_id() -> str:
    """A fresh ``Message-ID`` header under the sender's domain."""
    domain = get_settings().email_from.rpartition("@")[2] or "mercato.localhost"
    return f"<notify.{uuid.uuid4().hex}@{domain}>"


async def queue_email(
    session: AsyncSession, *, message_id: int, customer_id: int, recipient: str, rendered: Rendered
) -> bool:
    """Write the outgoing email of a message (once per message); return whether it is new."""
    now = clock.now()
    inserted = await insert_ignore(
        session,
        Delivery.__table__,
        {
            "message_id": message_id,
            "customer_id": customer_id,
            "channel": str(Channel.email),
            "recipient": recipient,
            "subject": rendered.subject[:300],
            "text_body": rendered.text,
            "html_body": rendered.html,
            "email_message_id": _new_message_id(),
            "status": str(S.pending),
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_until": None,
            "sent_at": None,
            "last_error": "",
            "created_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        return False
    delivery_id = (
        await session.execute(
            select(Delivery.id).where(Delivery.message_id == message_id, Delivery.channel == Channel.email)
        )
    ).scalar_one()
    await _history(session, delivery_id, None, S.pending, "system", "queued")
    kick_after_commit(session)
    return True


async def queue_account_email(
    session: AsyncSession,
    *,
    kind: AccountEmailKind,
    recipient: str,
    params: Mapping[str, Any],
    locale: str,
    customer_id: int | None,
    name: str = "",
    path: str = "/account",
) -> int:
    """Write an account email (a verification code, "you already have an account") to the outbox,
    in ``locale`` (the language the request asked in); return the delivery's id.

    It has no in-app message (``message_id`` is empty) and is sent by the same job, claim and
    retry rules as every other email. The handlers that call it run once per event, so it is
    written once. ``path`` is the shop page the email links to.

    Raises:
        ValueError: ``params`` are not the ones the kind takes.
    """
    settings = get_settings()
    language = message_locale(locale)
    current = await shop.get_settings(session)
    rendered = render(
        kind,
        language,
        params,
        name=name,
        url=f"{settings.public_base_url}{path}",
        shop_name=current.display_name(language),
    )
    now = clock.now()
    row = Delivery(
        message_id=None,
        customer_id=customer_id,
        channel=str(Channel.email),
        recipient=recipient,
        subject=rendered.subject[:300],
        text_body=rendered.text,
        html_body=rendered.html,
        email_message_id=_new_message_id(),
        status=str(S.pending),
        attempts=0,
        next_attempt_at=now,
        claimed_until=None,
        sent_at=None,
        last_error="",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await _history(session, row.id, None, S.pending, "system", f"queued ({kind})")
    kick_after_commit(session)
    return row.id


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    attempt: int
    email: OutgoingEmail


async def _claim(delivery_id: int) -> _Claim | None:
    """Take the email for this worker (one conditional UPDATE), or None if it is not ours to send."""
    settings = get_settings()
    async with uow() as session:
        row = (await session.execute(select(Delivery).where(Delivery.id == delivery_id))).scalar_one_or_none()
        if row is None:
            return None
        now = clock.now()
        current = S(row.status)
        if current is S.pending and row.next_attempt_at <= now:
            due = and_(Delivery.status == str(S.pending), Delivery.next_attempt_at <= now)
        elif current is S.sending and row.claimed_until is not None and row.claimed_until < now:
            due = and_(Delivery.status == str(S.sending), Delivery.claimed_until < now)
        else:
            return None
        DELIVERY.check(current, S.sending)
        claimed = await session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status.in_(DELIVERY.sources(S.sending)),
                Delivery.attempts == row.attempts,
                due,
            )
            .values(
                status=str(S.sending),
                attempts=Delivery.attempts + 1,
                claimed_until=now + _lease(),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        attempt = row.attempts + 1
        sender = await shop.get_settings(session)
        reason = (
            f"attempt {attempt}" if current is S.pending else f"attempt {attempt} (the last claim expired)"
        )
        await _history(session, delivery_id, current, S.sending, JOB, reason)
        return _Claim(
            delivery_id=delivery_id,
            attempt=attempt,
            email=OutgoingEmail(
                sender=settings.email_from,
                sender_name=sender.display_name(sender.default_locale),
                recipient=row.recipient,
                subject=row.subject,
                text=row.text_body,
                html=row.html_body,
                message_id=row.email_message_id,
                date=now,
            ),
        )


async def _record(claim: _Claim, target: S, reason: str, **values: object) -> bool:
    """Move a claimed email on from ``sending``, unless a newer claim took it over."""
    DELIVERY.check(S.sending, target)
    now = clock.now()
    async with uow() as session:
        moved = await session.execute(
            update(Delivery)
            .where(
                Delivery.id == claim.delivery_id,
                Delivery.status.in_(DELIVERY.sources(target)),
                Delivery.status == str(S.sending),
                Delivery.attempts == claim.attempt,
            )
            .values(status=str(target), claimed_until=None, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            log.warning("notify.email_claim_lost", delivery_id=claim.delivery_id, attempt=claim.attempt)
            return False
        await _history(session, claim.delivery_id, S.sending, target, JOB, reason)
    return True


async def send_email(delivery_id: int, *, transport: EmailTransport | None = None) -> DeliveryStatus | None:
    """Send one due email (claim, send, record); return its new status, or None when it was not
    due or another worker has it. Owns its transactions: call it with none open.

    An unexpected error from the transport counts as a transient failure, so it too is given up
    after the limit instead of being retried forever.
    """
    claim = await _claim(delivery_id)
    if claim is None:
        return None
    sender = transport or get_email_transport()
    try:
        await sender.send(claim.email)
    except EmailDeliveryFailed as exc:
        return await _failed(claim, exc)
    except Exception as exc:
        log.exception("notify.email_transport_error", delivery_id=delivery_id)
        return await _failed(claim, EmailDeliveryFailed(mask_free_text(f"{type(exc).__name__}: {exc}")[:480]))
    await _record(claim, S.sent, f"accepted ({sender.name})", sent_at=clock.now(), last_error="")
    return S.sent


async def _failed(claim: _Claim, exc: EmailDeliveryFailed) -> DeliveryStatus:
    """Record a failed attempt: retried after a backoff, or given up (permanent, or the limit)."""
    limit = get_settings().email_max_attempts
    if exc.permanent or claim.attempt >= limit:
        why = "refused for good" if exc.permanent else f"gave up after {claim.attempt} attempts"
        await _record(claim, S.failed, f"{why}: {exc.reason}", last_error=exc.reason)
        log.warning(
            "notify.email_failed",
            delivery_id=claim.delivery_id,
            attempts=claim.attempt,
            to=mask_email(claim.email.recipient),
        )
        return S.failed
    await _record(
        claim,
        S.pending,
        f"retry after attempt {claim.attempt}: {exc.reason}",
        last_error=exc.reason,
        next_attempt_at=clock.now() + backoff(claim.attempt),
    )
    return S.pending


async def send_due_emails(limit: int = 50) -> int:
    """Send up to ``limit`` due emails (the ``notify-send-emails`` job); return how many were sent."""
    now = clock.now()
    async with uow(write=False) as session:
        ids = list(
            (
                await session.execute(
                    select(Delivery.id)
                    .where(
                        or_(
                            and_(Delivery.status == str(S.pending), Delivery.next_attempt_at <= now),
                            and_(Delivery.status == str(S.sending), Delivery.claimed_until < now),
                        )
                    )
                    .order_by(Delivery.id)
                    .limit(limit)
                )
            ).scalars()
        )
    transport = get_email_transport()
    sent = 0
    for delivery_id in ids:
        if await send_email(delivery_id, transport=transport) is S.sent:
            sent += 1
    return sent


def _view(row: Delivery) -> DeliveryRead:
    return DeliveryRead(
        id=row.id,
        message_id=row.message_id,
        customer_id=row.customer_id,
        channel=Channel(row.channel),
        recipient=mask_email(row.recipient) or "",
        subject=row.subject,
        status=S(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        created_at=row.created_at,
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    status: DeliveryStatus | None = None,
    customer_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[DeliveryRead]:
    """Outgoing emails newest first, for staff (recipients masked).

    Raises:
        InvalidCursor (400).
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = select(Delivery).order_by(Delivery.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Delivery.id < after)
    if status is not None:
        stmt = stmt.where(Delivery.status == str(status))
    if customer_id is not None:
        stmt = stmt.where(Delivery.customer_id == customer_id)
    rows = list((await session.execute(stmt)).scalars())
    items = [_view(row) for row in rows[:size]]
    return Page[DeliveryRead](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


async def get_delivery(session: AsyncSession, *, delivery_id: int) -> DeliveryRead:
    """One outgoing email (recipient masked).

    Raises:
        DeliveryNotFound (404).
    """
    row = (
        await session.execute(
            select(Delivery).where(Delivery.id == delivery_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise DeliveryNotFound()
    return _view(row)


async def list_delivery_history(session: AsyncSession, *, delivery_id: int) -> list[DeliveryStatusChangeRead]:
    """Every status change of an outgoing email, oldest first.

    Raises:
        DeliveryNotFound (404).
    """
    await get_delivery(session, delivery_id=delivery_id)
    rows = (
        await session.execute(
            select(DeliveryStatusChange)
            .where(DeliveryStatusChange.delivery_id == delivery_id)
            .order_by(DeliveryStatusChange.id)
        )
    ).scalars()
    return [
        DeliveryStatusChangeRead(
            from_status=S(row.from_status) if row.from_status is not None else None,
            to_status=S(row.to_status),
            actor=row.actor,
            reason=row.reason,
            created_at=row.created_at,
        )
        for row in rows
    ]


async def retry_delivery(
    session: AsyncSession, *, delivery_id: int, reason: str, actor: identity.Actor
) -> DeliveryRead:
    """Send a given-up email again (after the SMTP settings were fixed, say): back to pending with
    a fresh set of attempts; audited.

    Raises:
        DeliveryNotFound (404).
        NotRetryable (409 notify.not_retryable): the email is not ``failed``.
    """
    before = await get_delivery(session, delivery_id=delivery_id)
    now = clock.now()
    moved = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(DELIVERY.sources(S.pending)))
        .where(Delivery.status == str(S.failed))
        .values(status=str(S.pending), attempts=0, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise NotRetryable()
    await _history(session, delivery_id, S.failed, S.pending, actor.label, reason)
    after = await get_delivery(session, delivery_id=delivery_id)
    await identity.record_audit(
        session,
        actor=actor,
        action="notify.email_retry",
        object_type="notify_delivery",
        object_id=str(delivery_id),
        before=before.model_dump(mode="json", include={"status", "attempts", "last_error"}),
        after=after.model_dump(mode="json", include={"status", "attempts"}) | {"reason": reason},
    )
    kick_after_commit(session)
    return after
