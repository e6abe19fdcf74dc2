"""Customer authentication: verification codes, registration, sign-in, sign-out, passwords."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from mercato import identity
from mercato.api.deps import CurrentCustomer, DbSession, Meta
from mercato.api.v1 import PREFIX
from mercato.core.errors import InvalidInput as CoreInvalidInput
from mercato.core.schemas import ReadModel
from mercato.web.csrf import csrf_token
from mercato.web.openapi import alias, raises

router = APIRouter(prefix=f"{PREFIX}/auth", tags=["auth"])


class CsrfToken(ReadModel):
    csrf_token: str


@router.post("/codes", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
@raises(identity.PhoneInvalid, identity.CodeRateLimited, identity.SmsDeliveryFailed)
async def send_code(data: identity.SendCode, session: DbSession, meta: Meta) -> Response:
    """Text a 6-digit code (valid 5 minutes, 5 attempts); at most 1 a minute and 5 an hour per number."""
    await identity.send_code(session, phone=data.phone, purpose=data.purpose, meta=meta)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/email-codes", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
@raises(identity.EmailInvalid, identity.CodePurposeUnsupported, identity.CodeRateLimited)
async def send_email_code(data: identity.SendEmailCode, session: DbSession, meta: Meta) -> Response:
    """Email a 6-digit code (valid 15 minutes, 5 attempts) to register with the address or reset
    its account's password; at most 1 a minute and 5 an hour per address.

    The answer is the same whether or not an account uses the address: for registration its
    owner is emailed "you already have an account" instead of a code, for a reset an unknown
    address is emailed nothing.
    """
    await identity.send_email_code(session, email=data.email, purpose=data.purpose, meta=meta)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/register", status_code=status.HTTP_201_CREATED)
@raises(
    identity.RegistrationRateLimited,
    alias(CoreInvalidInput, "identity.identifier_required"),
    identity.OneIdentifierOnly,
    alias(CoreInvalidInput, "identity.code_required"),
    identity.PhoneInvalid,
    identity.EmailInvalid,
    identity.ConsentRequired,
    identity.WeakPassword,
    identity.CodeExpired,
    identity.CodeInvalid,
    identity.CodeAttemptsExceeded,
    identity.AccountExists,
)
async def register(data: identity.RegisterCustomer, session: DbSession, meta: Meta) -> identity.SignedIn:
    """Create an account with a mobile number + SMS code, or an email + emailed code + password
    (ask for the code at /codes or /email-codes first); returns a bearer token. Limited per IP
    address and per mobile number or email (429 identity.registration_rate_limited)."""
    customer = await identity.register_customer(session, data=data, meta=meta)
    token = await identity.issue_token(
        session, subject_kind="customer", subject_id=customer.id, kind="bearer", meta=meta
    )
    return identity.SignedIn(customer=customer, token=token)


@router.post("/login/password")
@raises(
    identity.PhoneInvalid,
    identity.EmailInvalid,
    identity.AccountLocked,
    identity.IpBlocked,
    identity.InvalidCredentials,
)
async def login_with_password(
    data: identity.PasswordLogin, session: DbSession, meta: Meta
) -> identity.SignedIn:
    """Sign in with a mobile number or email and a password; returns a bearer token."""
    customer = await identity.authenticate_with_password(session, data=data, meta=meta)
    token = await identity.issue_token(
        session, subject_kind="customer", subject_id=customer.id, kind="bearer", meta=meta
    )
    return identity.SignedIn(customer=customer, token=token)


@router.post("/login/code")
@raises(
    identity.PhoneInvalid,
    identity.CodeExpired,
    identity.CodeInvalid,
    identity.CodeAttemptsExceeded,
    identity.InvalidCredentials,
)
async def login_with_code(data: identity.CodeLogin, session: DbSession, meta: Meta) -> identity.SignedIn:
    """Sign in with a mobile number and the SMS code sent to it; returns a bearer token."""
    customer = await identity.authenticate_with_code(session, data=data)
    token = await identity.issue_token(
        session, subject_kind="customer", subject_id=customer.id, kind="bearer", meta=meta
    )
    return identity.SignedIn(customer=customer, token=token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(auth: CurrentCustomer, session: DbSession) -> Response:
    """Revoke the token (or session) used for this request."""
    await identity.revoke_token(session, token_id=auth.token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout_everywhere(auth: CurrentCustomer, session: DbSession) -> Response:
    """Revoke every session and token of the account, this one included."""
    await identity.revoke_all_tokens(session, subject_kind="customer", subject_id=auth.customer.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password")
@raises(
    identity.PasswordAttemptsExceeded,
    alias(identity.InvalidCredentials, "identity.password_incorrect"),
    identity.WeakPassword,
)
async def change_password(
    data: identity.ChangePassword, auth: CurrentCustomer, session: DbSession
) -> identity.CustomerRead:
    """Change the password; every other session and token is revoked."""
    return await identity.change_password(
        session, customer_id=auth.customer.id, data=data, keep_token_id=auth.token_id
    )


@router.post("/password-reset", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(
    alias(CoreInvalidInput, "identity.identifier_required"),
    alias(CoreInvalidInput, "identity.code_required"),
    identity.OneIdentifierOnly,
    identity.PhoneInvalid,
    identity.EmailInvalid,
    identity.WeakPassword,
    identity.CodeExpired,
    identity.CodeInvalid,
    identity.CodeAttemptsExceeded,
    identity.InvalidCredentials,
)
async def reset_password(data: identity.ResetPassword, session: DbSession) -> Response:
    """Set a new password with a reset code texted to the account's mobile or emailed to its
    address (give ``phone`` or ``email``); revokes all sessions."""
    await identity.reset_password(session, data=data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/csrf")
async def get_csrf_token(request: Request, response: Response) -> CsrfToken:
    """The token to send as X-CSRF-Token with cookie-authenticated writes (sets its cookie)."""
    return CsrfToken(csrf_token=csrf_token(request, response))
