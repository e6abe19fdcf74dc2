"""Staff accounts and their sign-in; roles and permissions; the audit log of staff writes.

Staff are separate from customers: their own table, tokens (``mss_``/``mst_``) and lockout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.cache import Limit, get_rate_limiter
from mercato.core.security import hash_password, verify_password
from mercato.identity.errors import (
    AccountLocked,
    InvalidCredentials,
    IpBlocked,
    MissingPermission,
    SessionInvalid,
    StaffEmailTaken,
)
from mercato.identity.models import AuditEntry, Role, Staff, StaffRole
from mercato.identity.schemas import Actor, RequestMeta, StaffLogin, StaffRead
from mercato.identity.service.customers import check_password_strength
from mercato.identity.service.normalize import normalize_email

STAFF_FAILS = (
    Limit("identity.staff_login.account_15m", "5/15minutes"),
    Limit("identity.staff_login.account_day", "20/day"),
)
STAFF_FAILS_PER_IP = Limit("identity.staff_login.ip_15m", "30/15minutes")


async def staff_to_read(session: AsyncSession, row: Staff) -> StaffRead:
    roles = (
        await session.execute(
            select(Role.name, Role.permissions)
            .join(StaffRole, StaffRole.role_id == Role.id)
            .where(StaffRole.staff_id == row.id)
            .order_by(Role.name)
        )
    ).all()
    permissions = sorted({perm for _name, perms in roles for perm in (perms or [])})
    return StaffRead(
        id=row.id,
        email=row.email,
        name=row.name,
        is_superuser=row.is_superuser,
        is_active=row.is_active,
        roles=[name for name, _perms in roles],
        permissions=permissions,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


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

    Raises:
        EmailInvalid, AccountLocked, IpBlocked, InvalidCredentials.
    """
    email = normalize_email(data.email)
    limiter = get_rate_limiter()
    for limit in STAFF_FAILS:
        await limiter.check(limit, email, error=AccountLocked)
    if meta.ip:
        await limiter.check(STAFF_FAILS_PER_IP, meta.ip, error=IpBlocked)
    row = (await session.execute(select(Staff).where(Staff.email == email))).scalar_one_or_none()
    if (
        not verify_password(row.password_hash if row else None, data.password)
        or row is None
        or not row.is_active
    ):
        for limit in STAFF_FAILS:
            await limiter.count(limit, email)
        if meta.ip:
            await limiter.count(STAFF_FAILS_PER_IP, meta.ip)
        raise InvalidCredentials()
    row.last_login_at = clock.now()
    await session.flush()
    return await staff_to_read(session, row)


async def create_staff(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str = "",
    is_superuser: bool = False,
    actor: Actor | None = None,
) -> StaffRead:
    """Create a staff account (the CLI's createadmin, or a staff.manage holder via the API).

    Raises:
        EmailInvalid, WeakPassword, StaffEmailTaken.
    """
    normalized = normalize_email(email)
    check_password_strength(password, personal=(normalized,))
    if (await session.execute(select(Staff.id).where(Staff.email == normalized))).first() is not None:
        raise StaffEmailTaken()
    row = Staff(
        email=normalized,
        name=name,
        password_hash=hash_password(password),
        is_superuser=is_superuser,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    read = await staff_to_read(session, row)
    await record_audit(
        session,
        actor=actor or Actor(staff_id=None, label="system"),
        action="staff.create",
        object_type="staff",
        object_id=str(row.id),
        after=audit_view(read),
    )
    return read


def audit_view(staff: StaffRead) -> dict[str, Any]:
    """What the audit log keeps of a staff member (never a password hash)."""
    return staff.model_dump(mode="json", include={"email", "name", "is_superuser", "is_active", "roles"})


async def record_audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log, in the same transaction as the write it describes."""
    session.add(
        AuditEntry(
            actor_id=actor.staff_id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
            ip=actor.ip,
            request_id=actor.request_id,
            created_at=clock.now(),
        )
    )
    await session.flush()
