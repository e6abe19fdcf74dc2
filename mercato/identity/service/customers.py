"""Customer accounts: registration, sign-in by password or SMS code, passwords, profile.

Registration proves the address first, by mobile and by email alike: a code is sent to it
(``send_code``, ``send_email_code``) and ``register_customer`` needs that code. An account
therefore never exists before its owner has shown they read the address, so nobody can squat
someone else's email and there is no unverified account to sign in to. Asking for an email code
answers the same whether or not the address has an account (its owner is emailed instead).

Sign-in failures are counted per (account, IP address), per account and per IP address in the
rate limiter (``lockout``; shared through Redis in production). An unknown account and a wrong
password get the same answer and take the same time (the password is checked against a dummy
hash). Current-password checks (password change, account deletion) are limited per account.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import shop
from mercato.core import clock
from mercato.core.cache import Limit, get_rate_limiter
from mercato.core.errors import FieldError
from mercato.core.events import record_event
from mercato.core.i18n import N_
from mercato.core.security import hash_password, mask_text, needs_rehash, verify_password
from mercato.core.settings import get_settings
from mercato.identity.errors import (
    AccountExists,
    ConsentRequired,
    IdentifierRequired,
    InvalidCredentials,
    OneIdentifierOnly,
    PasswordAttemptsExceeded,
    RegistrationRateLimited,
    SessionInvalid,
    WeakPassword,
)
from mercato.identity.events import CustomerRegistered
from mercato.identity.models import Consent, Customer
from mercato.identity.schemas import (
    ChangePassword,
    CodeLogin,
    CodePurpose,
    CustomerRead,
    CustomerStatus,
    PasswordLogin,
    RegisterCustomer,
    RequestMeta,
    ResetPassword,
    UpdateProfile,
)
from mercato.identity.service.codes import verify_code
from mercato.identity.service.lockout import CUSTOMER_SIGN_IN, count_sign_in_failure, guard_sign_in
from mercato.identity.service.normalize import normalize_email, normalize_identifier, normalize_phone
from mercato.identity.service.tokens import revoke_all_tokens

#: Sign-up attempts per mobile number or email address, whatever the caller's address (the IP
#: limit is ``MERCATO_REGISTRATIONS_PER_IP_HOUR``).
REGISTER_PER_IDENTIFIER = Limit("identity.register.identifier_hour", "10/hour")
#: Wrong current passwords (password change, account deletion) per account: 5 in 15 minutes
#: refuse every further check, the right password included, until the window has passed.
PASSWORD_CHECKS = Limit("identity.password_check.account_15m", "5/15minutes")
COMMON_PASSWORDS = frozenset(
    {
        "12345678",
        "123456789",
        "1234567890",
        "password",
        "password1",
        "qwerty123",
        "11111111",
        "abc12345",
        "a1234567",
        "iloveyou1",
        "88888888",
        "66666666",
        "woaini1314",
        "qwertyui",
        "1qaz2wsx",
        "passw0rd",
    }
)


def to_read(row: Customer) -> CustomerRead:
    return CustomerRead(
        id=row.id,
        phone=row.phone,
        email=row.email,
        name=row.name,
        status=CustomerStatus(row.status),
        has_password=row.password_hash is not None,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def check_password_strength(
    password: str, *, field: str = "password", personal: tuple[str | None, ...] = ()
) -> None:
    """Refuse short, letter-only or digit-only, common or personal passwords.

    Raises:
        WeakPassword: with a field error on ``field``.
    """
    lowered = password.lower()
    weak = (
        not 8 <= len(password) <= 128
        or not any(ch.isalpha() for ch in password)
        or not any(ch.isdigit() for ch in password)
        or lowered in COMMON_PASSWORDS
        or len(set(password)) < 4
        or any(p and (p.lstrip("+") in lowered or lowered in p.lower()) for p in personal)
    )
    if weak:
        raise WeakPassword(fields=[FieldError(("body", field), WeakPassword.code, WeakPassword.message)])


async def _load(session: AsyncSession, customer_id: int) -> Customer:
    row = await session.get(Customer, customer_id)
    if row is None or row.status != CustomerStatus.active:
        raise SessionInvalid()
    return row


async def get_customer(session: AsyncSession, *, customer_id: int) -> CustomerRead:
    """Return an active customer.

    Raises:
        SessionInvalid: no such active customer (deleted accounts cannot act).
    """
    return to_read(await _load(session, customer_id))


async def masked_names(session: AsyncSession, *, customer_ids: list[int]) -> dict[int, str]:
    """Each customer's name as other shoppers may see it (张三丰 → 张**; a group's members, a
    bargain's helpers), in one query; "***" for a customer without a name or no longer there."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted)))
    found = {customer_id: mask_text(name) or "***" for customer_id, name in rows}
    return {customer_id: found.get(customer_id, "***") for customer_id in wanted}


def _code_required(message: str) -> IdentifierRequired:
    return IdentifierRequired(
        message,
        code="identity.code_required",
        fields=[FieldError(("body", "code"), "identity.code_required", N_("This field is required."))],
    )


async def register_customer(
    session: AsyncSession, *, data: RegisterCustomer, meta: RequestMeta
) -> CustomerRead:
    """Create an account for a mobile number or an email address proven by the code sent to it.

    Either way the address is proven before the account exists: first a ``register`` code is
    asked for (``send_code`` by SMS; ``send_email_code`` by email, with a password here too),
    then this call brings it. An email address that already has an account never receives a
    code (its owner is emailed instead), so calling here for it fails exactly like any wrong
    code; only someone holding a live code for the address, its owner, can meet
    ``AccountExists``. One registration names one address: a mobile account adds no email here.

    Every call counts against the caller's IP address (``MERCATO_REGISTRATIONS_PER_IP_HOUR``)
    and against the address registered (10 an hour), failed ones included. Consent to the
    current privacy policy is required and recorded with time and IP.

    Raises:
        RegistrationRateLimited (429), IdentifierRequired, OneIdentifierOnly, PhoneInvalid,
        EmailInvalid, ConsentRequired, WeakPassword, CodeExpired, CodeInvalid,
        CodeAttemptsExceeded, AccountExists.
    """
    limiter = get_rate_limiter()
    if meta.ip:
        per_ip = Limit("identity.register.ip_hour", f"{get_settings().registrations_per_ip_hour}/hour")
        await limiter.hit(per_ip, meta.ip, error=RegistrationRateLimited)
    if not data.phone and not data.email:
        raise IdentifierRequired()
    if data.phone and data.email:
        raise OneIdentifierOnly(
            fields=[FieldError(("body", "email"), OneIdentifierOnly.code, OneIdentifierOnly.message)]
        )
    phone = normalize_phone(data.phone) if data.phone else None
    email = normalize_email(data.email) if data.email else None
    await limiter.hit(REGISTER_PER_IDENTIFIER, phone or email or "", error=RegistrationRateLimited)
    if not data.accept_privacy_policy:
        raise ConsentRequired(
            fields=[
                FieldError(("body", "accept_privacy_policy"), ConsentRequired.code, ConsentRequired.message)
            ]
        )
    if phone is None and data.password is None:
        raise WeakPassword(fields=[FieldError(("body", "password"), WeakPassword.code, WeakPassword.message)])
    if data.password is not None:
        check_password_strength(data.password, personal=(phone, email))
    if data.code is None:
        raise _code_required(
            N_("Enter the verification code sent to your mobile.")
            if phone
            else N_("Enter the verification code sent to your email."),
        )
    destination = phone or email
    assert destination is not None  # one of them was given (checked above)
    await verify_code(session, destination=destination, purpose=CodePurpose.register, code=data.code)
    customer = await create_customer(
        session, phone=phone, email=email, password=data.password, name=data.name, meta=meta, checked=True
    )
    # Registering signs the customer in (the storefront and the API issue a session right after):
    # that is their first sign-in, shown to staff as the last one until the next.
    now = clock.now()
    await session.execute(update(Customer).where(Customer.id == customer.id).values(last_login_at=now))
    return customer.model_copy(update={"last_login_at": now})


async def create_customer(
    session: AsyncSession,
    *,
    phone: str | None,
    email: str | None,
    password: str | None,
    name: str = "",
    meta: RequestMeta,
    checked: bool = False,
) -> CustomerRead:
    """Create an account for a trusted caller (registration after its checks, demo data, imports).

    Consent to the current privacy policy (the shop's newest published version) is recorded;
    ``CustomerRegistered`` goes to the outbox.

    Raises:
        IdentifierRequired, PhoneInvalid, EmailInvalid, WeakPassword, AccountExists.
    """
    if not checked:
        phone = normalize_phone(phone) if phone else None
        email = normalize_email(email) if email else None
        if password is not None:
            check_password_strength(password, personal=(phone, email))
    if not phone and not email:
        raise IdentifierRequired()
    for column, value in ((Customer.phone, phone), (Customer.email, email)):
        if value is not None and (await session.execute(select(Customer.id).where(column == value))).first():
            raise AccountExists()
    now = clock.now()
    row = Customer(
        phone=phone,
        email=email,
        name=name,
        password_hash=hash_password(password) if password else None,
        status=CustomerStatus.active.value,
        created_at=now,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent twin registered the same number or email
        raise AccountExists() from exc
    session.add(
        Consent(
            customer_id=row.id,
            policy="privacy_policy",
            policy_version=await shop.privacy_policy_version(session),
            granted=True,
            ip=meta.ip,
            created_at=now,
        )
    )
    await record_event(session, CustomerRegistered(customer_id=row.id, channel="phone" if phone else "email"))
    return to_read(row)


async def authenticate_with_password(
    session: AsyncSession, *, data: PasswordLogin, meta: RequestMeta
) -> CustomerRead:
    """Check an identifier (mobile or email) and password.

    Raises:
        PhoneInvalid, EmailInvalid: the identifier is malformed.
        AccountLocked: too many failures for this identifier from this address, or from
            everywhere (429, Retry-After); another address may still sign in.
        IpBlocked: too many failures from this address (429, Retry-After).
        InvalidCredentials: unknown account or wrong password (the same answer for both).
    """
    identifier = normalize_identifier(data.identifier)
    await guard_sign_in(CUSTOMER_SIGN_IN, identifier, meta.ip)
    column = Customer.email if "@" in identifier else Customer.phone
    row = (
        await session.execute(
            select(Customer).where(column == identifier, Customer.status == CustomerStatus.active.value)
        )
    ).scalar_one_or_none()
    if not verify_password(row.password_hash if row else None, data.password) or row is None:
        await count_sign_in_failure(CUSTOMER_SIGN_IN, identifier, meta.ip)
        raise InvalidCredentials()
    if row.password_hash and needs_rehash(row.password_hash):
        row.password_hash = hash_password(data.password)
    row.last_login_at = clock.now()
    await session.flush()
    return to_read(row)


async def authenticate_with_code(session: AsyncSession, *, data: CodeLogin) -> CustomerRead:
    """Sign in with a mobile number and the SMS code sent to it.

    Raises:
        PhoneInvalid, CodeExpired, CodeInvalid, CodeAttemptsExceeded,
        InvalidCredentials: no active account has this number (register first).
    """
    phone = normalize_phone(data.phone)
    await verify_code(session, destination=phone, purpose=CodePurpose.login, code=data.code)
    row = (
        await session.execute(
            select(Customer).where(Customer.phone == phone, Customer.status == CustomerStatus.active.value)
        )
    ).scalar_one_or_none()
    if row is None:
        raise InvalidCredentials()
    row.last_login_at = clock.now()
    await session.flush()
    return to_read(row)


async def confirm_password(row: Customer, password: str, *, wrong: InvalidCredentials) -> None:
    """Check a signed-in customer's password again before a sensitive change.

    Wrong passwords are counted per account (``PASSWORD_CHECKS``); past the limit every check is
    refused, the right password included, until the window has passed, so a stolen session
    cannot be used to guess the password.

    Raises:
        PasswordAttemptsExceeded (429, Retry-After): too many wrong passwords lately.
        InvalidCredentials: ``wrong``, when the password does not match (or there is none).
    """
    limiter = get_rate_limiter()
    key = str(row.id)
    await limiter.check(PASSWORD_CHECKS, key, error=PasswordAttemptsExceeded)
    if row.password_hash is None or not verify_password(row.password_hash, password):
        await limiter.count(PASSWORD_CHECKS, key)
        raise wrong


async def change_password(
    session: AsyncSession, *, customer_id: int, data: ChangePassword, keep_token_id: int | None
) -> CustomerRead:
    """Change the password and end every other session.

    Raises:
        PasswordAttemptsExceeded: five wrong current passwords in 15 minutes (see
            ``confirm_password``); nothing is changed.
        InvalidCredentials: the current password is wrong (code identity.password_incorrect).
        WeakPassword: the new password is too weak.
    """
    row = await _load(session, customer_id)
    await confirm_password(
        row,
        data.current_password,
        wrong=InvalidCredentials(
            N_("The current password is incorrect."),
            code="identity.password_incorrect",
            fields=[
                FieldError(
                    ("body", "current_password"),
                    "identity.password_incorrect",
                    N_("The current password is incorrect."),
                )
            ],
        ),
    )
    check_password_strength(data.new_password, field="new_password", personal=(row.phone, row.email))
    row.password_hash = hash_password(data.new_password)
    await session.flush()
    await revoke_all_tokens(
        session, subject_kind="customer", subject_id=row.id, except_token_id=keep_token_id
    )
    return to_read(row)


async def reset_password(session: AsyncSession, *, data: ResetPassword) -> None:
    """Set a new password with a reset code sent by SMS or email; end every session of the account.

    An email address without an account was given a code nobody received (``send_email_code``),
    so a guess fails the same way for both and the answer tells nothing.

    Raises:
        IdentifierRequired, OneIdentifierOnly, PhoneInvalid, EmailInvalid, WeakPassword,
        CodeExpired, CodeInvalid, CodeAttemptsExceeded,
        InvalidCredentials: no active account has this number or address.
    """
    if not data.phone and not data.email:
        raise IdentifierRequired()
    if data.phone and data.email:
        raise OneIdentifierOnly(
            fields=[FieldError(("body", "email"), OneIdentifierOnly.code, OneIdentifierOnly.message)]
        )
    if data.phone:
        destination, column = normalize_phone(data.phone), Customer.phone
    else:
        destination, column = normalize_email(data.email or ""), Customer.email
    check_password_strength(data.new_password, field="new_password", personal=(destination,))
    await verify_code(session, destination=destination, purpose=CodePurpose.reset_password, code=data.code)
    row = (
        await session.execute(
            select(Customer).where(column == destination, Customer.status == CustomerStatus.active.value)
        )
    ).scalar_one_or_none()
    if row is None:
        raise InvalidCredentials()
    row.password_hash = hash_password(data.new_password)
    await session.flush()
    await revoke_all_tokens(session, subject_kind="customer", subject_id=row.id)


async def update_profile(session: AsyncSession, *, customer_id: int, data: UpdateProfile) -> CustomerRead:
    row = await _load(session, customer_id)
    row.name = data.name
    await session.flush()
    return to_read(row)
