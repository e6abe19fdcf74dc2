"""Staff accounts and their sign-in; roles and permissions; the audit log of staff writes.

Staff are separate from customers: their own table, tokens (``mss_``/``mst_``) and lockout
counters (the rules of ``lockout``: per account and IP address, so guessing from one address
never locks a member out of another; a superuser or the CLI can start a member's counters
afresh with ``unlock_staff``).

Staff management acts only downwards: a manager who is not a superuser changes only members
whose permissions they hold all of, and gives or takes only roles whose permissions they hold;
only a superuser changes a superuser.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.core.security import hash_password, verify_password
from mercato.identity.errors import (
    CannotManageStaff,
    InvalidCredentials,
    MissingPermission,
    RoleNotFound,
    SelfLockout,
    SessionInvalid,
    StaffEmailTaken,
    StaffNotFound,
    SuperuserRequired,
)
from mercato.identity.models import Role, Staff, StaffRole
from mercato.identity.schemas import Actor, RequestMeta, StaffCreate, StaffLogin, StaffRead, StaffUpdate
from mercato.identity.service.audit import record_audit
from mercato.identity.service.customers import check_password_strength
from mercato.identity.service.lockout import STAFF_SIGN_IN, count_sign_in_failure, guard_sign_in
from mercato.identity.service.normalize import normalize_email
from mercato.identity.service.roles import actor_permissions, check_can_grant
from mercato.identity.service.tokens import revoke_all_tokens

RoleGrants = list[tuple[str, list[str]]]  # (role name, its permissions) per role held


async def _roles_of(session: AsyncSession, staff_ids: Sequence[int]) -> dict[int, RoleGrants]:
    """Role names and permissions of each staff member, in one query."""
    found: dict[int, RoleGrants] = {staff_id: [] for staff_id in staff_ids}
    if not staff_ids:
        return found
    rows = await session.execute(
        select(StaffRole.staff_id, Role.name, Role.permissions)
        .join(Role, StaffRole.role_id == Role.id)
        .where(StaffRole.staff_id.in_(staff_ids))
        .order_by(Role.name)
    )
    for staff_id, name, perms in rows:
        found[staff_id].append((name, list(perms or [])))
    return found


def _to_read(row: Staff, roles: RoleGrants) -> StaffRead:
    return StaffRead(
        id=row.id,
        email=row.email,
        name=row.name,
        is_superuser=row.is_superuser,
        is_active=row.is_active,
        roles=[name for name, _perms in roles],
        permissions=sorted({perm for _name, perms in roles for perm in perms}),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


async def staff_to_read(session: AsyncSession, row: Staff) -> StaffRead:
    return _to_read(row, (await _roles_of(session, [row.id]))[row.id])


async def get_staff(session: AsyncSession, *, staff_id: int) -> StaffRead:
    """Return an active staff member.

    Raises:
        SessionInvalid: no such active staff member.
    """
    row = await session.get(Staff, staff_id)
    if row is None or not row.is_active:
        raise SessionInvalid()
    return await staff_to_read(session, row)


def require_permission(staff: StaffRead, permission: str) -> None:
    """Raises: MissingPermission (403) unless the staff member is a superuser or holds it."""
    if not staff.has(permission):
        raise MissingPermission(permission=permission)


async def authenticate_staff(session: AsyncSession, *, data: StaffLogin, meta: RequestMeta) -> StaffRead:
    """Check a staff email and password, with the same lockout rules as customers.

    Failures are counted per (account, IP address): five wrong passwords from one address lock
    the account from that address only; the right password from another address still works.
    The counters are keyed by the account's
    ``lockout_epoch`` too, which ``unlock_staff`` raises.

    Raises:
        EmailInvalid, AccountLocked, IpBlocked, InvalidCredentials.
    """
    email = normalize_email(data.email)
    row = (await session.execute(select(Staff).where(Staff.email == email))).scalar_one_or_none()
    account = _lockout_key(email, row.lockout_epoch if row else 0)
    await guard_sign_in(STAFF_SIGN_IN, account, meta.ip)
    if (
        not verify_password(row.password_hash if row else None, data.password)
        or row is None
        or not row.is_active
    ):
        await count_sign_in_failure(STAFF_SIGN_IN, account, meta.ip)
        raise InvalidCredentials()
    row.last_login_at = clock.now()
    await session.flush()
    return await staff_to_read(session, row)


def _lockout_key(email: str, epoch: int) -> str:
    """The account part of a staff member's sign-in counters (an unknown email: epoch 0)."""
    return f"{email}#{epoch}"


async def unlock_staff(
    session: AsyncSession, *, email: str | None = None, staff_id: int | None = None, actor: Actor
) -> StaffRead:
    """Start a staff member's sign-in failure counters afresh (every IP address): their epoch
    is raised in one UPDATE, so the old counters are no longer consulted by any process.

    Only a superuser (or the system: ``mercato unlock-staff``) may do it; audited.

    Raises:
        EmailInvalid, StaffNotFound, SuperuserRequired.
    """
    await _require_superuser(session, actor)
    if staff_id is not None:
        where = Staff.id == staff_id
    else:
        where = Staff.email == normalize_email(email or "")
    row = (await session.execute(select(Staff).where(where))).scalar_one_or_none()
    if row is None:
        raise StaffNotFound()
    before = row.lockout_epoch
    await session.execute(
        update(Staff)
        .where(Staff.id == row.id)
        .values(lockout_epoch=Staff.lockout_epoch + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(row)
    await record_audit(
        session,
        actor=actor,
        action="staff.unlock",
        object_type="staff",
        object_id=str(row.id),
        before={"email": row.email, "lockout_epoch": before},
        after={"email": row.email, "lockout_epoch": row.lockout_epoch},
    )
    return await staff_to_read(session, row)


async def create_staff(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str = "",
    is_superuser: bool = False,
    role_ids: Iterable[int] = (),
    actor: Actor | None = None,
) -> StaffRead:
    """Create a staff account (the CLI's createadmin, or a staff.manage holder via the API).

    Only a superuser (or the system) can create a superuser; a manager can only give roles whose
    permissions they hold.

    Raises:
        EmailInvalid, WeakPassword, SuperuserRequired, RoleNotFound, CannotGrant, StaffEmailTaken.
    """
    actor = actor or SYSTEM
    normalized = normalize_email(email)
    check_password_strength(password, personal=(normalized,))
    if is_superuser:
        await _require_superuser(session, actor)
    roles = await _check_roles(session, actor, role_ids)
    values = {
        "email": normalized,
        "name": name,
        "password_hash": hash_password(password),
        "is_superuser": is_superuser,
        "is_active": True,
        "created_at": clock.now(),
    }
    if not await insert_ignore(session, Staff.__table__, values):
        raise StaffEmailTaken()
    row = (await session.execute(select(Staff).where(Staff.email == normalized))).scalar_one()
    for role_id in roles:
        session.add(StaffRole(staff_id=row.id, role_id=role_id))
    await session.flush()
    read = await staff_to_read(session, row)
    await record_audit(
        session,
        actor=actor,
        action="staff.create",
        object_type="staff",
        object_id=str(row.id),
        after=audit_view(read),
    )
    return read


async def create_staff_from(session: AsyncSession, *, data: StaffCreate, actor: Actor) -> StaffRead:
    """``create_staff`` for an API body."""
    return await create_staff(
        session,
        email=data.email,
        password=data.password,
        name=data.name,
        is_superuser=data.is_superuser,
        role_ids=data.role_ids,
        actor=actor,
    )


SYSTEM = Actor(staff_id=None, label="system")


async def _require_superuser(session: AsyncSession, actor: Actor) -> None:
    if actor.staff_id is None:
        return
    row = await session.get(Staff, actor.staff_id)
    if row is None or not row.is_active or not row.is_superuser:
        raise SuperuserRequired()


async def _check_can_manage(session: AsyncSession, actor: Actor, member: StaffRead) -> None:
    """Raises: CannotManageStaff (403) unless the actor holds every permission ``member`` holds."""
    held = await actor_permissions(session, actor)
    if held is not None and not set(member.permissions) <= held:
        raise CannotManageStaff()


async def _check_roles(session: AsyncSession, actor: Actor, role_ids: Iterable[int]) -> list[int]:
    """Check the roles exist and the actor may give them; return their ids, deduplicated."""
    wanted = sorted(set(role_ids))
    if not wanted:
        return []
    rows = (await session.execute(select(Role.id, Role.permissions).where(Role.id.in_(wanted)))).all()
    if len(rows) != len(wanted):
        raise RoleNotFound()
    await check_can_grant(session, actor, {perm for _id, perms in rows for perm in (perms or [])})
    return wanted


async def get_staff_member(session: AsyncSession, *, staff_id: int) -> StaffRead:
    """Return a staff member, active or not (for the staff manager).

    Raises:
        StaffNotFound.
    """
    row = await session.get(Staff, staff_id)
    if row is None:
        raise StaffNotFound()
    return await staff_to_read(session, row)


async def list_staff(
    session: AsyncSession,
    *,
    query: str | None = None,
    is_active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[StaffRead]:
    """Staff members, newest first; ``query`` matches the email or name (case-insensitive).

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after_id = id_cursor(cursor)
    stmt = select(Staff).order_by(Staff.id.desc()).limit(size + 1)
    if after_id is not None:
        stmt = stmt.where(Staff.id < after_id)
    if is_active is not None:
        stmt = stmt.where(Staff.is_active.is_(is_active))
    if query:
        needle = query.lower()
        stmt = stmt.where(
            or_(
                func.lower(Staff.email).contains(needle, autoescape=True),
                func.lower(Staff.name).contains(needle, autoescape=True),
            )
        )
    rows = list((await session.execute(stmt)).scalars())
    page = rows[:size]
    roles = await _roles_of(session, [row.id for row in page])
    items = [_to_read(row, roles[row.id]) for row in page]
    return Page[StaffRead](items=items, next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None)


async def update_staff(session: AsyncSession, *, staff_id: int, data: StaffUpdate, actor: Actor) -> StaffRead:
    """Rename, (de)activate, make or unmake superuser, or replace the roles of a staff member.

    Deactivating signs the member out everywhere. Nobody can deactivate themselves or drop their
    own superuser status (the shop would risk having no administrator left); only a superuser
    can change a superuser or grant superuser status. A manager who is not a superuser can only
    change a member whose permissions they hold all of (else a holder of ``staff.manage`` could
    deactivate or rename someone with more power than their own), and give or take only roles
    whose permissions they hold.

    Raises:
        StaffNotFound, SelfLockout, SuperuserRequired, CannotManageStaff, RoleNotFound,
        CannotGrant.
    """
    row = await session.get(Staff, staff_id)
    if row is None:
        raise StaffNotFound()
    before = await staff_to_read(session, row)
    is_self = actor.staff_id == staff_id
    if is_self and (data.is_active is False or (data.is_superuser is False and row.is_superuser)):
        raise SelfLockout()
    if row.is_superuser or data.is_superuser:
        await _require_superuser(session, actor)
    await _check_can_manage(session, actor, before)
    if data.role_ids is not None:
        wanted = await _check_roles(session, actor, data.role_ids)
        # Taking a role away is also a grant decision: a manager cannot strip what they lack.
        current = (
            await session.execute(select(StaffRole.role_id).where(StaffRole.staff_id == staff_id))
        ).scalars()
        await _check_roles(session, actor, set(current) - set(wanted))
        await session.execute(delete(StaffRole).where(StaffRole.staff_id == staff_id))
        for role_id in wanted:
            session.add(StaffRole(staff_id=staff_id, role_id=role_id))
    if data.name is not None:
        row.name = data.name
    if data.is_superuser is not None:
        row.is_superuser = data.is_superuser
    if data.is_active is not None:
        row.is_active = data.is_active
        if not data.is_active:
            await revoke_all_tokens(session, subject_kind="staff", subject_id=staff_id)
    await session.flush()
    after = await staff_to_read(session, row)
    if audit_view(after) != audit_view(before):
        await record_audit(
            session,
            actor=actor,
            action="staff.update",
            object_type="staff",
            object_id=str(staff_id),
            before=audit_view(before),
            after=audit_view(after),
        )
    return after


def audit_view(staff: StaffRead) -> dict[str, Any]:
    """What the audit log keeps of a staff member (never a password hash)."""
    return staff.model_dump(mode="json", include={"email", "name", "is_superuser", "is_active", "roles"})
