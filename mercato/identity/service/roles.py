"""Roles: named sets of permissions from the catalogue, given to staff members.

Guard against privilege escalation: a staff manager who is not a superuser can only create,
change or delete roles whose permissions they hold themselves; the system actor (CLI, demo
data) may do anything. Every write is recorded in the audit log with its before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.identity.errors import CannotGrant, RoleNameTaken, RoleNotFound, UnknownPermission
from mercato.identity.models import Role, Staff, StaffRole
from mercato.identity.permissions import PERMISSIONS
from mercato.identity.schemas import Actor, PermissionRead, RoleRead, RoleUpdate, RoleWrite
from mercato.identity.service.audit import record_audit


def list_permissions() -> list[PermissionRead]:
    """The permission catalogue, in a stable order (for the role editor)."""
    return [PermissionRead(code=code, description=text) for code, text in PERMISSIONS.items()]


def _role_view(role: RoleRead) -> dict[str, Any]:
    return role.model_dump(mode="json", include={"name", "description", "permissions"})


def _checked_permissions(permissions: Iterable[str]) -> list[str]:
    """Deduplicate and sort; raise UnknownPermission (422) naming the first unknown code."""
    wanted = list(permissions)
    for index, code in enumerate(wanted):
        if code not in PERMISSIONS:
            raise UnknownPermission(
                permission=code,
                fields=[
                    FieldError(
                        loc=("body", "permissions", index),
                        code="identity.unknown_permission",
                        message=N_("Unknown permission."),
                    )
                ],
            )
    return sorted(set(wanted))


async def actor_permissions(session: AsyncSession, actor: Actor) -> set[str] | None:
    """What the actor may grant: ``None`` means everything (system actor or superuser)."""
    if actor.staff_id is None:
        return None
    staff = await session.get(Staff, actor.staff_id)
    if staff is None or not staff.is_active:
        return set()
    if staff.is_superuser:
        return None
    rows = (
        await session.execute(
            select(Role.permissions)
            .join(StaffRole, StaffRole.role_id == Role.id)
            .where(StaffRole.staff_id == actor.staff_id)
        )
    ).scalars()
    return {perm for perms in rows for perm in (perms or [])}


async def check_can_grant(session: AsyncSession, actor: Actor, permissions: Iterable[str]) -> None:
    """Raises: CannotGrant (403) if the actor lacks any of ``permissions``."""
    held = await actor_permissions(session, actor)
    if held is None:
        return
    for permission in sorted(set(permissions)):
        if permission not in held:
            raise CannotGrant(permission=permission)


async def _get_row(session: AsyncSession, role_id: int) -> Role:
    row = await session.get(Role, role_id)
    if row is None:
        raise RoleNotFound()
    return row


async def get_role(session: AsyncSession, *, role_id: int) -> RoleRead:
    """Raises: RoleNotFound."""
    return RoleRead.model_validate(await _get_row(session, role_id))


async def list_roles(session: AsyncSession) -> list[RoleRead]:
    """Every role, by name (a shop has tens of roles, not thousands: no pagination)."""
    rows = (await session.execute(select(Role).order_by(Role.name))).scalars()
    return [RoleRead.model_validate(row) for row in rows]


async def create_role(
    session: AsyncSession,
    *,
    name: str,
    description: str = "",
    permissions: Iterable[str] = (),
    actor: Actor,
) -> RoleRead:
    """Create a role.

    Raises:
        UnknownPermission (422), CannotGrant (403), RoleNameTaken (409).
    """
    perms = _checked_permissions(permissions)
    await check_can_grant(session, actor, perms)
    values = {
        "name": name.strip(),
        "description": description.strip(),
        "permissions": perms,
        "created_at": clock.now(),
    }
    if not await insert_ignore(session, Role.__table__, values):
        raise RoleNameTaken()
    row = (await session.execute(select(Role).where(Role.name == values["name"]))).scalar_one()
    role = RoleRead.model_validate(row)
    await record_audit(
        session,
        actor=actor,
        action="role.create",
        object_type="role",
        object_id=str(role.id),
        after=_role_view(role),
    )
    return role


async def create_role_from(session: AsyncSession, *, data: RoleWrite, actor: Actor) -> RoleRead:
    """``create_role`` for an API body."""
    return await create_role(
        session, name=data.name, description=data.description, permissions=data.permissions, actor=actor
    )


async def update_role(session: AsyncSession, *, role_id: int, data: RoleUpdate, actor: Actor) -> RoleRead:
    """Change a role's name, description or permissions; staff holding it gain or lose them at once.

    Raises:
        RoleNotFound, UnknownPermission, CannotGrant (for the old and the new permissions),
        RoleNameTaken.
    """
    row = await _get_row(session, role_id)
    before = RoleRead.model_validate(row)
    perms = _checked_permissions(data.permissions) if data.permissions is not None else before.permissions
    await check_can_grant(session, actor, {*before.permissions, *perms})
    if data.name is not None and data.name != row.name:
        taken = (
            await session.execute(select(Role.id).where(Role.name == data.name, Role.id != role_id))
        ).first()
        if taken is not None:
            raise RoleNameTaken()
        row.name = data.name
    if data.description is not None:
        row.description = data.description
    row.permissions = perms
    await session.flush()
    after = RoleRead.model_validate(row)
    if after != before:
        await record_audit(
            session,
            actor=actor,
            action="role.update",
            object_type="role",
            object_id=str(role_id),
            before=_role_view(before),
            after=_role_view(after),
        )
    return after


async def delete_role(session: AsyncSession, *, role_id: int, actor: Actor) -> None:
    """Delete a role; the staff who held it lose its permissions.

    Raises:
        RoleNotFound, CannotGrant.
    """
    before = RoleRead.model_validate(await _get_row(session, role_id))
    await check_can_grant(session, actor, before.permissions)
    await session.execute(delete(StaffRole).where(StaffRole.role_id == role_id))
    await session.execute(delete(Role).where(Role.id == role_id))
    session.expire_all()
    await record_audit(
        session,
        actor=actor,
        action="role.delete",
        object_type="role",
        object_id=str(role_id),
        before=_role_view(before),
    )
