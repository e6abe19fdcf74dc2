"""Dependencies shared by the API routers: the unit of work, the caller, the request metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core.db import uow
from mercato.core.errors import Unauthenticated
from mercato.web.csrf import HEADER, SAFE_METHODS, verify_csrf
from mercato.web.openapi import raises

CUSTOMER_COOKIE = "mercato_session"
STAFF_COOKIE = "mercato_staff_session"


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request, committed before the response is sent."""
    async with uow(write=request.method not in SAFE_METHODS) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


def request_meta(request: Request) -> identity.RequestMeta:
    return identity.RequestMeta(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent", "")[:300],
        request_id=getattr(request.state, "request_id", None),
    )


Meta = Annotated[identity.RequestMeta, Depends(request_meta)]


def _credentials(request: Request, cookie: str) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    token = request.cookies.get(cookie)
    return (token, True) if token else (None, False)


@dataclass(frozen=True)
class CustomerAuth:
    customer: identity.CustomerRead
    token_id: int


@dataclass(frozen=True)
class StaffAuth:
    staff: identity.StaffRead
    token_id: int
    actor: identity.Actor


async def _resolve(
    request: Request, session: AsyncSession, *, cookie: str, kind: str
) -> identity.ResolvedToken:
    token, via_cookie = _credentials(request, cookie)
    if token is None:
        raise Unauthenticated()
    resolved = await identity.resolve_token(session, token=token, subject_kind=kind)
    if resolved is None:
        raise identity.SessionInvalid()
    if via_cookie and request.method not in SAFE_METHODS:
        verify_csrf(request, request.headers.get(HEADER))
    if request.method not in SAFE_METHODS and resolved.stale:
        await identity.touch_token(session, token_id=resolved.token_id)
    return resolved


#: What a signed-in caller's dependency can raise (documented on every route that uses it).
AUTH_ERRORS = raises(Unauthenticated, identity.SessionInvalid, writes=[identity.CsrfFailed])


@AUTH_ERRORS
async def current_customer(request: Request, session: DbSession) -> CustomerAuth:
    """The signed-in customer, by bearer token or session cookie (plus CSRF header on writes).

    Raises:
        Unauthenticated (401 core.unauthenticated): no credentials.
        SessionInvalid (401): unknown, expired or revoked token, or a deleted account.
        CsrfFailed (403): a cookie-authenticated write without a valid X-CSRF-Token.
    """
    resolved = await _resolve(request, session, cookie=CUSTOMER_COOKIE, kind="customer")
    customer = await identity.get_customer(session, customer_id=resolved.subject_id)
    return CustomerAuth(customer=customer, token_id=resolved.token_id)


CurrentCustomer = Annotated[CustomerAuth, Depends(current_customer)]


@AUTH_ERRORS
async def optional_customer(request: Request, session: DbSession) -> CustomerAuth | None:
    """The signed-in customer, or None for a guest (bad credentials are still a 401)."""
    token, _via_cookie = _credentials(request, CUSTOMER_COOKIE)
    if token is None:
        return None
    return await current_customer(request, session)


MaybeCustomer = Annotated[CustomerAuth | None, Depends(optional_customer)]


@AUTH_ERRORS
async def current_staff(request: Request, session: DbSession) -> StaffAuth:
    """The signed-in staff member (same rules as customers, separate tokens and cookie)."""
    resolved = await _resolve(request, session, cookie=STAFF_COOKIE, kind="staff")
    staff = await identity.get_staff(session, staff_id=resolved.subject_id)
    actor = identity.Actor(
        staff_id=staff.id,
        label=staff.email,
        ip=request.client.host if request.client else None,
        request_id=getattr(request.state, "request_id", None),
    )
    return StaffAuth(staff=staff, token_id=resolved.token_id, actor=actor)


CurrentStaff = Annotated[StaffAuth, Depends(current_staff)]


def require(permission: str) -> Callable[..., Coroutine[Any, Any, StaffAuth]]:
    """A dependency that yields the staff member if they hold ``permission`` (403 otherwise)."""
    if permission not in identity.PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    @raises(identity.MissingPermission)
    async def dependency(auth: CurrentStaff) -> StaffAuth:
        identity.require_permission(auth.staff, permission)
        return auth

    return dependency
