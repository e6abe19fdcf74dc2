"""Verification codes: 6 digits, 5 attempts, rate-limited per destination and per IP.

A code goes to a mobile number by SMS (valid 5 minutes) or to an email address (valid 15
minutes: email is slower to arrive and to open). Only an HMAC of (destination, purpose, code)
is stored. The text message is sent after the transaction commits (no network call inside it);
if the provider fails the caller gets ``identity.sms_delivery_failed`` and may ask again. An
email code leaves as an ``EmailCodeIssued`` event in the outbox, written in the same
transaction, which notify turns into an email sent by its job.

Email codes answer the same whether or not an account uses the address (see
``send_email_code``), so asking for one never tells the caller who has an account.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import shop
from mercato.core import clock
from mercato.core.cache import Limit, get_rate_limiter
from mercato.core.db import after_commit
from mercato.core.events import record_event
from mercato.core.i18n import N_, current_locale, gettext
from mercato.core.security import constant_time_equals, new_numeric_code, sign
from mercato.core.settings import get_settings
from mercato.identity.errors import (
    CodeAttemptsExceeded,
    CodeExpired,
    CodeInvalid,
    CodePurposeUnsupported,
    CodeRateLimited,
)
from mercato.identity.events import EmailCodeIssued, ExistingAccountSignUpAttempted
from mercato.identity.models import Customer, OneTimeCode
from mercato.identity.providers.registry import get_sms_sender
from mercato.identity.schemas import CodePurpose, CustomerStatus, RequestMeta
from mercato.identity.service.normalize import normalize_email, normalize_phone

CODE_TTL = dt.timedelta(minutes=5)
EMAIL_CODE_TTL = dt.timedelta(minutes=15)
#: What an email code can be asked for: proving an address to register with it, and a reset.
EMAIL_PURPOSES = frozenset({CodePurpose.register, CodePurpose.reset_password})
MAX_ATTEMPTS = 5
PER_NUMBER_MINUTE = Limit("identity.code.number_minute", "1/minute")
PER_NUMBER_HOUR = Limit("identity.code.number_hour", "5/hour")
PER_IP_HOUR = Limit("identity.code.ip_hour", "20/hour")

_TEXTS = {
    CodePurpose.register: N_("Your {shop} sign-up code is {code}. It expires in 5 minutes."),
    CodePurpose.login: N_("Your {shop} sign-in code is {code}. It expires in 5 minutes. Never share it."),
    CodePurpose.reset_password: N_("Your {shop} password reset code is {code}. It expires in 5 minutes."),
    CodePurpose.delete_account: N_("Your {shop} account deletion code is {code}. It expires in 5 minutes."),
}


def _digest(destination: str, purpose: str, code: str) -> str:
    return sign(get_settings().effective_secret_key(), f"otp:{destination}:{purpose}:{code}")


async def _limit(destination: str, meta: RequestMeta) -> None:
    """Count one code for ``destination`` and the caller's IP (one budget for SMS and email).

    Raises:
        CodeRateLimited.
    """
    limiter = get_rate_limiter()
    await limiter.check(PER_NUMBER_MINUTE, destination, error=CodeRateLimited)
    await limiter.check(PER_NUMBER_HOUR, destination, error=CodeRateLimited)
    if meta.ip:
        await limiter.check(PER_IP_HOUR, meta.ip, error=CodeRateLimited)
    await limiter.hit(PER_NUMBER_MINUTE, destination, error=CodeRateLimited)
    await limiter.hit(PER_NUMBER_HOUR, destination, error=CodeRateLimited)
    if meta.ip:
        await limiter.hit(PER_IP_HOUR, meta.ip, error=CodeRateLimited)


async def _store(session: AsyncSession, destination: str, purpose: CodePurpose, ttl: dt.timedelta) -> str:
    """Make a code, store its HMAC (it replaces any earlier one: only the latest is checked)."""
    code = new_numeric_code(6)
    now = clock.now()
    session.add(
        OneTimeCode(
            destination=destination,
            purpose=purpose.value,
            code_hash=_digest(destination, purpose.value, code),
            attempts=0,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return code


async def send_code(session: AsyncSession, *, phone: str, purpose: CodePurpose, meta: RequestMeta) -> None:
    """Create a code for ``phone`` and text it once the transaction has committed.

    Raises:
        PhoneInvalid: not a valid mobile number.
        CodeRateLimited: more than one code a minute or five an hour for the number, or twenty
            an hour from the IP address.
    """
    destination = normalize_phone(phone)
    await _limit(destination, meta)
    code = await _store(session, destination, purpose, CODE_TTL)
    current = await shop.get_settings(session)
    text = gettext(_TEXTS[purpose], code=code, shop=current.display_name(current_locale()))

    async def deliver() -> None:
        # sign_name: the shop's SMS signature from its settings (empty: the provider's configured
        # MERCATO_SMS_ALIYUN_SIGN_NAME; a signature must be registered with the provider first)
        await get_sms_sender().send(phone=destination, text=text, code=code, sign_name=current.sms_signature)

    after_commit(session, deliver)


async def send_email_code(
    session: AsyncSession, *, email: str, purpose: CodePurpose, meta: RequestMeta
) -> None:
    """Make a code for ``email`` and have it emailed (through the outbox, after the commit).

    The caller gets the same answer whether or not an active account uses the address, and the
    same rows are written, so the answer tells nothing:

    - ``register``, no account: the code is emailed (``EmailCodeIssued``).
    - ``register``, an account: a code nobody is told is stored (so a guess meets the same
      ``identity.code_invalid`` as for a new address) and the owner is emailed "you already
      have an account — sign in or reset your password" (``ExistingAccountSignUpAttempted``).
    - ``reset_password``, an account: the code is emailed.
    - ``reset_password``, no account: a code nobody is told is stored; nothing is emailed.

    Raises:
        EmailInvalid: not a valid email address.
        CodePurposeUnsupported: a purpose other than ``register`` or ``reset_password``.
        CodeRateLimited: more than one code a minute or five an hour for the address, or twenty
            an hour from the IP address (SMS and email codes together).
    """
    destination = normalize_email(email)
    purpose = CodePurpose(purpose)
    if purpose not in EMAIL_PURPOSES:
        raise CodePurposeUnsupported()
    await _limit(destination, meta)
    customer_id = (
        await session.execute(
            select(Customer.id).where(
                Customer.email == destination, Customer.status == CustomerStatus.active.value
            )
        )
    ).scalar_one_or_none()
    code = await _store(session, destination, purpose, EMAIL_CODE_TTL)
    locale = current_locale()
    if purpose is CodePurpose.register and customer_id is not None:
        await record_event(
            session, ExistingAccountSignUpAttempted(customer_id=customer_id, email=destination, locale=locale)
        )
    elif purpose is CodePurpose.register or customer_id is not None:
        await record_event(
            session,
            EmailCodeIssued(
                email=destination,
                purpose=purpose.value,
                code=code,
                expires_minutes=int(EMAIL_CODE_TTL.total_seconds()) // 60,
                locale=locale,
                customer_id=customer_id,
            ),
        )


async def verify_code(session: AsyncSession, *, destination: str, purpose: CodePurpose, code: str) -> None:
    """Check and consume the latest code sent to ``destination`` for ``purpose``.

    A wrong code counts as an attempt even though the request fails (the error commits it).

    Raises:
        CodeExpired: no live code (never sent, expired, or already used).
        CodeAttemptsExceeded: five wrong codes; a new one must be requested.
        CodeInvalid: the code does not match.
    """
    row = (
        await session.execute(
            select(OneTimeCode)
            .where(OneTimeCode.destination == destination, OneTimeCode.purpose == purpose.value)
            .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    now = clock.now()
    if row is None or row.consumed_at is not None or row.expires_at <= now:
        raise CodeExpired()
    counted = await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == row.id, OneTimeCode.attempts < MAX_ATTEMPTS)
        .values(attempts=OneTimeCode.attempts + 1)
    )
    if getattr(counted, "rowcount", 0) != 1:
        raise CodeAttemptsExceeded()
    if not constant_time_equals(row.code_hash, _digest(destination, purpose.value, code)):
        raise CodeInvalid()
    consumed = await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == row.id, OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    if getattr(consumed, "rowcount", 0) != 1:
        raise CodeExpired()  # a concurrent request used it first
