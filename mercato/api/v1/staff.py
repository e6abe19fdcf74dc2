"""Staff sign-in and the staff member's own account (management routes live beside it)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from mercato import identity
from mercato.api.deps import CurrentStaff, DbSession, Meta
from mercato.api.v1 import PREFIX

router = APIRouter(prefix=f"{PREFIX}/staff", tags=["staff"])


@router.post("/auth/login")
async def login(data: identity.StaffLogin, session: DbSession, meta: Meta) -> identity.StaffSignedIn:
    """Sign in with a staff email and password; returns a staff bearer token."""
    staff = await identity.authenticate_staff(session, data=data, meta=meta)
    token = await identity.issue_token(
        session, subject_kind="staff", subject_id=staff.id, kind="bearer", meta=meta
    )
    return identity.StaffSignedIn(staff=staff, token=token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(auth: CurrentStaff, session: DbSession) -> Response:
    await identity.revoke_token(session, token_id=auth.token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def get_me(auth: CurrentStaff) -> identity.StaffRead:
    return auth.staff
