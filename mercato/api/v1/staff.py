"""Staff sign-in, the staff member's own account, staff and role management, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import AwareDatetime

from mercato import identity
from mercato.api.deps import CurrentStaff, DbSession, Meta, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/staff", tags=["staff"])


@router.post("/auth/login")
@raises(identity.EmailInvalid, identity.AccountLocked, identity.IpBlocked, identity.InvalidCredentials)
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


# --- Staff management (staff.manage): permissions, roles, members -------------------------

Manager = Annotated[StaffAuth, Depends(require("staff.manage"))]
Auditor = Annotated[StaffAuth, Depends(require("audit.read"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 20)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


@router.get("/permissions")
async def list_permissions(auth: Manager) -> list[identity.PermissionRead]:
    """The permission catalogue a role can be made of."""
    return identity.list_permissions()


@router.get("/roles")
async def list_roles(auth: Manager, session: DbSession) -> list[identity.RoleRead]:
    return await identity.list_roles(session)


@router.post("/roles", status_code=status.HTTP_201_CREATED)
@raises(identity.UnknownPermission, identity.CannotGrant, identity.RoleNameTaken)
async def create_role(data: identity.RoleWrite, auth: Manager, session: DbSession) -> identity.RoleRead:
    """Create a role; a non-superuser can only include permissions they hold."""
    return await identity.create_role_from(session, data=data, actor=auth.actor)


@router.get("/roles/{role_id}")
@raises(identity.RoleNotFound)
async def get_role(role_id: Id, auth: Manager, session: DbSession) -> identity.RoleRead:
    return await identity.get_role(session, role_id=role_id)


@router.patch("/roles/{role_id}")
@raises(identity.RoleNotFound, identity.UnknownPermission, identity.CannotGrant, identity.RoleNameTaken)
async def update_role(
    role_id: Id, data: identity.RoleUpdate, auth: Manager, session: DbSession
) -> identity.RoleRead:
    """Rename a role or change its permissions; staff holding it are affected at once."""
    return await identity.update_role(session, role_id=role_id, data=data, actor=auth.actor)


@router.delete("/roles/{role_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
@raises(identity.RoleNotFound, identity.CannotGrant)
async def delete_role(role_id: Id, auth: Manager, session: DbSession) -> Response:
    await identity.delete_role(session, role_id=role_id, actor=auth.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/members")
@raises(InvalidCursor)
async def list_members(
    auth: Manager,
    session: DbSession,
    query: Annotated[str | None, Query(max_length=100, description="Part of an email or name")] = None,
    is_active: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[identity.StaffRead]:
    return await identity.list_staff(session, query=query, is_active=is_active, cursor=cursor, limit=limit)


@router.post("/members", status_code=status.HTTP_201_CREATED)
@raises(
    identity.StaffEmailTaken,
    identity.SuperuserRequired,
    identity.CannotManageStaff,
    identity.RoleNotFound,
    identity.CannotGrant,
    identity.WeakPassword,
    identity.EmailInvalid,
)
async def create_member(data: identity.StaffCreate, auth: Manager, session: DbSession) -> identity.StaffRead:
    """Create a staff account; only a superuser can create a superuser."""
    return await identity.create_staff_from(session, data=data, actor=auth.actor)


@router.get("/members/{staff_id}")
@raises(identity.StaffNotFound)
async def get_member(staff_id: Id, auth: Manager, session: DbSession) -> identity.StaffRead:
    return await identity.get_staff_member(session, staff_id=staff_id)


@router.patch("/members/{staff_id}")
@raises(
    identity.StaffNotFound,
    identity.SelfLockout,
    identity.SuperuserRequired,
    identity.CannotManageStaff,
    identity.RoleNotFound,
    identity.CannotGrant,
)
async def update_member(
    staff_id: Id, data: identity.StaffUpdate, auth: Manager, session: DbSession
) -> identity.StaffRead:
    """Rename, (de)activate (signs them out everywhere), change superuser status or replace roles."""
    return await identity.update_staff(session, staff_id=staff_id, data=data, actor=auth.actor)


@router.post("/members/{staff_id}/unlock")
@raises(identity.EmailInvalid, identity.StaffNotFound, identity.SuperuserRequired)
async def unlock_member(staff_id: Id, auth: Manager, session: DbSession) -> identity.StaffRead:
    """Start the member's sign-in failure counters afresh, from every address (superusers only;
    audited as ``staff.unlock``)."""
    return await identity.unlock_staff(session, staff_id=staff_id, actor=auth.actor)


# --- Audit log (audit.read) ----------------------------------------------------------------


@router.get("/audit")
@raises(InvalidCursor)
async def list_audit_entries(
    auth: Auditor,
    session: DbSession,
    actor_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    action: Annotated[
        str | None, Query(max_length=80, description="Exact, or a prefix ending in '.'")
    ] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=60)] = None,
    since: Annotated[AwareDatetime | None, Query(description="Inclusive, ISO 8601 with offset")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Exclusive, ISO 8601 with offset")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[identity.AuditEntryRead]:
    """Staff writes, newest first, filtered by actor, action, object and time."""
    return await identity.list_audit_entries(
        session,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
