"""The console's staff pages: staff members (create, rename, give and take roles, deactivate,
and for a superuser unlock their sign-in) and roles with their permissions (staff.manage).

The identity services hold every rule: the password policy, that nobody grants a permission they
lack, that nobody changes a member holding permissions they lack, that only a superuser touches
superusers or unlocks a sign-in, and that nobody locks themselves out. Their refusals are shown
on the form; every change is audited by them.

Both lists are declared list pages (``mercato/admin/listing.py``): members filtered by text and
status and exported (their emails masked in the file); roles sorted by name, permission count or
age.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.admin.listing import Choice, Column, ListPage, ListQuery, Search, Sort
from mercato.admin.routes._shared import form_page, problem_of, signed_in, staff_for, to_login
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.core.schemas import TEXT_VALUES
from mercato.core.security import mask_email
from mercato.web.forms import FORM_ERRORS, FormProblem, parse_id, read_form, read_list
from mercato.web.session import StaffSession

router = APIRouter(prefix="/admin/staff", include_in_schema=False)

MANAGE = "staff.manage"
LIST = "/admin/staff/"
ROLES = "/admin/staff/roles"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: What a finished change says on the page it redirects to (``?notice=``).
NOTICES = {
    "created": N_("Staff member created."),
    "saved": N_("Changes saved."),
    "deactivated": N_("Staff member deactivated and signed out everywhere."),
    "activated": N_("Staff member activated."),
    "unlocked": N_("Failed sign-ins forgotten: the staff member can sign in again now."),
    "role_created": N_("Role created."),
    "role_saved": N_("Role saved."),
    "role_deleted": N_("Role deleted."),
}
STATUSES = {"active": N_("Active"), "inactive": N_("Inactive")}


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice") or "")


def _build(model: type[BaseModel], values: dict[str, str], names: tuple[str, ...], **lists: Any) -> Any:
    """``model`` from the named text fields (blank counts as not given) and ready-made lists.

    Raises:
        pydantic.ValidationError.
    """
    data: dict[str, object] = {name: values[name] for name in names if values.get(name, "").strip()}
    return model.model_validate({**data, **lists}, context=TEXT_VALUES)


def _ids(texts: list[str]) -> list[int]:
    return sorted({number for number in map(parse_id, texts) if number is not None})


# --- Staff members ------------------------------------------------------------------------------


async def _members(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """One page of staff members, newest first (the service's order and cursor)."""
    page = await identity.list_staff(
        session,
        query=query.filters["q"] or None,
        is_active={"1": True, "0": False}.get(query.filters["active"]),
        cursor=query.cursor,
        limit=limit,
    )
    return page.items, page.next_cursor


def _access(member: identity.StaffRead) -> str:
    """What the member may do, as exported: "superuser" (all of it) or their roles' names."""
    return "superuser" if member.is_superuser else ", ".join(member.roles)


MEMBER_LIST = ListPage(
    key="staff-list",
    path=LIST,
    title=N_("Staff members"),
    permission=MANAGE,
    columns=(
        # The file leaves the console: its emails are masked (the page links the full one).
        Column("email", N_("Email"), lambda m: mask_email(m.email) or ""),
        Column("name", N_("Name"), lambda m: m.name),
        Column("roles", N_("Roles"), _access, labels={"superuser": N_("Superuser")}),
        Column("status", N_("Status"), lambda m: "active" if m.is_active else "inactive", labels=STATUSES),
        Column("last_login_at", N_("Last sign-in"), lambda m: m.last_login_at, kind="datetime"),
    ),
    fetch=_members,
    filters=(
        Search("q", N_("Email or name")),
        Choice("active", N_("Status"), N_("All statuses"), (("1", N_("Active")), ("0", N_("Inactive")))),
    ),
    export="staff",
    empty=N_("No staff members match."),
    template="admin/staff/list.html",
)
MEMBER_LIST.register(router, "/admin/staff", notices=NOTICES)


async def _new_member_page(
    request: Request,
    auth: StaffSession,
    *,
    values: dict[str, str],
    ticked: list[int],
    problem: FormProblem | None = None,
) -> Response:
    async with uow(write=False) as session:
        roles = await identity.list_roles(session)
    return form_page(
        request,
        "admin/staff/new.html",
        problem,
        staff=auth.staff,
        roles=roles,
        ticked=ticked,
        values=values,
    )


@router.get("/new")
async def new_member_form(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    return await _new_member_page(request, auth, values={}, ticked=[])


@router.post("/new")
async def create_member(request: Request) -> Response:
    """Create a staff account with an initial password that meets the password policy."""
    values = await read_form(request)
    role_ids = _ids(await read_list(request, "role_ids"))
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    superuser = auth.staff.is_superuser and "is_superuser" in values
    try:
        data = _build(
            identity.StaffCreate,
            values,
            ("email", "password", "name"),
            role_ids=role_ids,
            is_superuser=superuser,
        )
        async with uow() as session:
            member = await identity.create_staff_from(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _new_member_page(
            request, auth, values=values, ticked=role_ids, problem=problem_of(request, exc)
        )
    return RedirectResponse(f"{LIST}{member.id}?notice=created", status_code=303)


# --- Roles (before /{staff_id}, which would otherwise take their paths) ------------------------


async def _roles(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """Every role (a shop has tens); sorted by the list page."""
    return await identity.list_roles(session), None


ROLE_LIST = ListPage(
    key="role-list",
    path=ROLES,
    title=N_("Roles"),
    permission=MANAGE,
    columns=(
        Column("name", N_("Name"), lambda r: r.name, kind="link", link=lambda r: f"{ROLES}/{r.id}"),
        Column("description", N_("Description"), lambda r: r.description),
        Column("permissions", N_("Permissions"), lambda r: ", ".join(r.permissions)),
    ),
    fetch=_roles,
    sorts=(
        Sort("name", N_("Name"), lambda r: (r.name, r.id)),
        Sort("permissions", N_("Most permissions"), lambda r: (len(r.permissions), -r.id), descending=True),
        Sort("newest", N_("Newest first"), lambda r: (r.created_at, r.id), descending=True),
    ),
    empty=N_("No roles yet."),
    template="admin/staff/roles.html",
)
ROLE_LIST.register(router, "/admin/staff", notices=NOTICES)


async def _role_page(
    request: Request,
    auth: StaffSession,
    *,
    role: identity.RoleRead | None,
    values: dict[str, str],
    ticked: list[str],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(
        request,
        "admin/staff/role_form.html",
        problem,
        staff=auth.staff,
        role=role,
        permissions=identity.list_permissions(),
        ticked=set(ticked),
        values=values,
    )


@router.get("/roles/new")
async def new_role_form(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    return await _role_page(request, auth, role=None, values={}, ticked=[])


@router.post("/roles/new")
async def create_role(request: Request) -> Response:
    """Create a role; a manager who is not a superuser can only include permissions they hold."""
    values = await read_form(request)
    ticked = await read_list(request, "permissions")
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    try:
        data = _build(identity.RoleWrite, values, ("name", "description"), permissions=ticked)
        async with uow() as session:
            await identity.create_role_from(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _role_page(
            request, auth, role=None, values=values, ticked=ticked, problem=problem_of(request, exc)
        )
    return RedirectResponse(f"{ROLES}?notice=role_created", status_code=303)


@router.get("/roles/{role_id}")
async def edit_role_form(request: Request, role_id: Id) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        role = await identity.get_role(session, role_id=role_id)
    values = {"name": role.name, "description": role.description}
    return await _role_page(request, auth, role=role, values=values, ticked=role.permissions)


@router.post("/roles/{role_id}")
async def update_role(request: Request, role_id: Id) -> Response:
    """Rename a role or change its permissions; staff holding it are affected at once."""
    values = await read_form(request)
    ticked = await read_list(request, "permissions")
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        role = await identity.get_role(session, role_id=role_id)
    try:
        data = _build(
            identity.RoleUpdate,
            values,
            (),
            name=values.get("name", ""),
            permissions=ticked,
            description=values.get("description", ""),
        )
        async with uow() as session:
            await identity.update_role(session, role_id=role_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _role_page(
            request, auth, role=role, values=values, ticked=ticked, problem=problem_of(request, exc)
        )
    return RedirectResponse(f"{ROLES}?notice=role_saved", status_code=303)


@router.post("/roles/{role_id}/delete")
async def delete_role(request: Request, role_id: Id) -> Response:
    """Delete a role; the staff who held it lose its permissions."""
    await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    async with uow() as session:
        await identity.delete_role(session, role_id=role_id, actor=auth.actor)
    return RedirectResponse(f"{ROLES}?notice=role_deleted", status_code=303)


# --- One staff member ---------------------------------------------------------------------------


async def _member_page(
    request: Request,
    auth: StaffSession,
    staff_id: int,
    *,
    values: dict[str, str] | None = None,
    ticked: list[int] | None = None,
    problem: FormProblem | None = None,
) -> Response:
    async with uow(write=False) as session:
        member = await identity.get_staff_member(session, staff_id=staff_id)
        roles = await identity.list_roles(session)
    held = {role.id for role in roles if role.name in member.roles}
    return form_page(
        request,
        "admin/staff/detail.html",
        problem,
        staff=auth.staff,
        member=member,
        roles=roles,
        ticked=set(ticked) if ticked is not None else held,
        values=values if values is not None else {"name": member.name},
        notice=None if problem else _notice(request),
        is_self=member.id == auth.staff.id,
    )


@router.get("/{staff_id}")
async def member_detail(request: Request, staff_id: Id) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    return await _member_page(request, auth, staff_id)


@router.post("/{staff_id}")
async def update_member(request: Request, staff_id: Id) -> Response:
    """Rename and replace the roles (and, for a superuser, the superuser status)."""
    values = await read_form(request)
    role_ids = _ids(await read_list(request, "role_ids"))
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    extra: dict[str, Any] = {"role_ids": role_ids, "name": values.get("name", "")}
    if auth.staff.is_superuser:
        extra["is_superuser"] = "is_superuser" in values
    try:
        data = _build(identity.StaffUpdate, values, (), **extra)
        async with uow() as session:
            await identity.update_staff(session, staff_id=staff_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _member_page(
            request, auth, staff_id, values=values, ticked=role_ids, problem=problem_of(request, exc)
        )
    return RedirectResponse(f"{LIST}{staff_id}?notice=saved", status_code=303)


@router.post("/{staff_id}/status")
async def set_member_status(request: Request, staff_id: Id) -> Response:
    """Deactivate (signs them out everywhere) or activate again; nobody deactivates themselves."""
    values = await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    active = values.get("active") == "1"
    try:
        async with uow() as session:
            await identity.update_staff(
                session, staff_id=staff_id, data=identity.StaffUpdate(is_active=active), actor=auth.actor
            )
    except FORM_ERRORS as exc:
        return await _member_page(request, auth, staff_id, problem=problem_of(request, exc))
    notice = "activated" if active else "deactivated"
    return RedirectResponse(f"{LIST}{staff_id}?notice={notice}", status_code=303)


@router.post("/{staff_id}/unlock")
async def unlock_member(request: Request, staff_id: Id) -> Response:
    """Forget the member's failed sign-ins from every address (superusers only; audited)."""
    await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    try:
        async with uow() as session:
            await identity.unlock_staff(session, staff_id=staff_id, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _member_page(request, auth, staff_id, problem=problem_of(request, exc))
    return RedirectResponse(f"{LIST}{staff_id}?notice=unlocked", status_code=303)
