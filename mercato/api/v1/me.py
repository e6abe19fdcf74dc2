"""The signed-in customer's own account: profile, sessions, addresses, consents, export, deletion.

Every route acts only on the caller's objects; another customer's address id is a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from mercato import identity
from mercato.api.deps import CurrentCustomer, DbSession
from mercato.api.v1 import PREFIX
from mercato.core.schemas import IdInt
from mercato.web.openapi import alias, raises

router = APIRouter(prefix=f"{PREFIX}/me", tags=["account"])


@router.get("")
async def get_me(auth: CurrentCustomer) -> identity.CustomerRead:
    return auth.customer


@router.patch("")
async def update_me(
    data: identity.UpdateProfile, auth: CurrentCustomer, session: DbSession
) -> identity.CustomerRead:
    return await identity.update_profile(session, customer_id=auth.customer.id, data=data)


@router.get("/sessions")
async def list_sessions(auth: CurrentCustomer, session: DbSession) -> list[identity.TokenRead]:
    """Live sessions and tokens, newest first (for "sign out other devices")."""
    return await identity.list_live_tokens(session, subject_kind="customer", subject_id=auth.customer.id)


@router.get("/addresses")
async def list_addresses(auth: CurrentCustomer, session: DbSession) -> list[identity.AddressRead]:
    return await identity.list_addresses(session, customer_id=auth.customer.id)


@router.post("/addresses", status_code=status.HTTP_201_CREATED)
@raises(identity.PhoneInvalid, identity.RegionInvalid, identity.AddressLimitReached)
async def add_address(
    data: identity.AddressWrite, auth: CurrentCustomer, session: DbSession
) -> identity.AddressRead:
    return await identity.add_address(session, customer_id=auth.customer.id, data=data)


@router.get("/addresses/{address_id}")
@raises(identity.AddressNotFound)
async def get_address(address_id: IdInt, auth: CurrentCustomer, session: DbSession) -> identity.AddressRead:
    return await identity.get_address(session, customer_id=auth.customer.id, address_id=address_id)


@router.put("/addresses/{address_id}")
@raises(identity.AddressNotFound, identity.PhoneInvalid, identity.RegionInvalid)
async def update_address(
    address_id: IdInt, data: identity.AddressWrite, auth: CurrentCustomer, session: DbSession
) -> identity.AddressRead:
    return await identity.update_address(
        session, customer_id=auth.customer.id, address_id=address_id, data=data
    )


@router.delete("/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(identity.AddressNotFound)
async def delete_address(address_id: IdInt, auth: CurrentCustomer, session: DbSession) -> Response:
    await identity.delete_address(session, customer_id=auth.customer.id, address_id=address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/consents")
async def list_consents(auth: CurrentCustomer, session: DbSession) -> list[identity.ConsentRead]:
    return await identity.list_consents(session, customer_id=auth.customer.id)


@router.get("/export")
async def export_data(auth: CurrentCustomer, session: DbSession) -> identity.CustomerExport:
    """Download everything held about you as JSON (data portability)."""
    return await identity.export_customer_data(session, customer_id=auth.customer.id)


@router.post("/delete", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(
    identity.PasswordAttemptsExceeded,
    alias(identity.InvalidCredentials, "identity.password_incorrect"),
    alias(identity.InvalidCredentials, "identity.confirmation_required"),
    identity.CodeExpired,
    identity.CodeInvalid,
    identity.CodeAttemptsExceeded,
)
async def delete_account(data: identity.DeleteAccount, auth: CurrentCustomer, session: DbSession) -> Response:
    """Erase your personal data, confirmed with your password or a delete_account SMS code."""
    await identity.delete_customer(session, customer_id=auth.customer.id, data=data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
