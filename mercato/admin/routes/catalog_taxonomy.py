"""The console's category and brand pages.

Categories: the whole tree (``catalog.read``); create, rename, move under another parent, move up
or down among siblings, and delete when empty (``catalog.write``). Brands: a declared list page
(``mercato/admin/listing.py``: search, pages, CSV/XLSX export), create, edit, logo upload, delete
when no product uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog
from mercato.admin.listing import Column, ListPage, ListQuery, Search
from mercato.admin.routes._shared import (
    invalid,
    notice_of,
    problem_of,
    signed_in,
    staff_for,
    to_login,
)
from mercato.admin.routes.catalog_common import close_form, flatten
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.storage import get_storage
from mercato.web.forms import (
    FORM_ERRORS,
    FormProblem,
    form_problem,
    locale_of,
    read_form,
    read_upload,
    validate,
)
from mercato.web.session import StaffSession
from mercato.web.templates import render
from mercato.web.uploads import decode_upload

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

CATEGORIES = "/admin/catalog/categories"
CATEGORIES_PAGE = "admin/catalog/categories.html"
BRANDS = "/admin/catalog/brands"
BRANDS_PAGE = "admin/catalog/brands.html"
BRAND_PAGE = "admin/catalog/brand_edit.html"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
CATEGORY_NOTICES = frozenset({"created", "renamed", "moved", "reordered", "deleted"})
BRAND_NOTICES = frozenset({"created", "saved", "logo"})
#: What the brand list says after a brand is deleted (``?notice=``).
BRAND_LIST_NOTICES = {"deleted": N_("The brand was deleted.")}


# --- Categories -----------------------------------------------------------------------------


def _find(nodes: list[catalog.CategoryNode], category_id: int) -> catalog.CategoryNode | None:
    for node in nodes:
        if node.id == category_id:
            return node
        found = _find(node.children, category_id)
        if found is not None:
            return found
    return None


def _siblings(tree: list[catalog.CategoryNode], node: catalog.CategoryNode) -> list[int]:
    if node.parent_id is None:
        return [item.id for item in tree]
    parent = _find(tree, node.parent_id)
    return [item.id for item in parent.children] if parent is not None else [node.id]


async def _categories_page(
    request: Request, auth: StaffSession, status_code: int = 200, **context: Any
) -> Response:
    async with uow(write=False) as session:
        tree = await catalog.get_category_tree(session)
    context.setdefault("values", {})
    return render(
        request,
        CATEGORIES_PAGE,
        status_code,
        staff=auth.staff,
        tree=tree,
        parent_options=[(option.id, option.label) for option in flatten(tree)],
        can_write=auth.staff.has("catalog.write"),
        notice=notice_of(request, CATEGORY_NOTICES),
        **context,
    )


@router.get("/categories")
async def categories(request: Request) -> Response:
    auth = await signed_in(request, "catalog.read")
    if auth is None:
        return to_login(request)
    return await _categories_page(request, auth)


async def _category_refused(request: Request, exc: Exception, form: str, values: dict[str, str]) -> Response:
    problem = problem_of(request, exc)
    auth = await signed_in(request, "catalog.write")
    if auth is None:
        return to_login(request)
    return await _categories_page(
        request, auth, problem.status, problem=problem, problem_form=form, values=values
    )


def _done(notice: str) -> RedirectResponse:
    return RedirectResponse(f"{CATEGORIES}?notice={notice}", status_code=303)


@router.post("/categories")
async def create_category(request: Request) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            data = validate(catalog.CategoryCreate, values, "name", "name_en", "slug", "parent_id")
            await catalog.create_category(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _category_refused(request, exc, "create", values)
    return _done("created")


@router.post("/categories/{category_id}/rename")
async def rename_category(request: Request, category_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            data = catalog.CategoryUpdate.model_validate(
                {"name": values.get("name", ""), "name_en": values.get("name_en", "")}
            )
            await catalog.update_category(session, category_id=category_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _category_refused(request, exc, f"rename-{category_id}", values)
    return _done("renamed")


@router.post("/categories/{category_id}/move")
async def move_category(request: Request, category_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            data = catalog.CategoryMove.model_validate(
                {"parent_id": values.get("parent_id", "").strip() or None}, context=TEXT_VALUES
            )
            await catalog.move_category(session, category_id=category_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _category_refused(request, exc, f"move-{category_id}", values)
    return _done("moved")


@router.post("/categories/{category_id}/reorder")
async def reorder_category(request: Request, category_id: Id) -> Response:
    """Move a category one place up or down among its siblings."""
    values = await read_form(request)
    step = -1 if values.get("direction") == "up" else 1
    async with uow() as session:
        auth = await staff_for(request, session, "catalog.write")
        if auth is None:
            return to_login(request)
        tree = await catalog.get_category_tree(session)
        node = _find(tree, category_id)
        if node is None:
            raise catalog.CategoryNotFound()
        order = _siblings(tree, node)
        index = order.index(category_id)
        target = index + step
        if 0 <= target < len(order):
            order[index], order[target] = order[target], order[index]
            data = catalog.CategoryReorder(parent_id=node.parent_id, category_ids=order)
            await catalog.reorder_categories(session, data=data, actor=auth.actor)
    return _done("reordered")


@router.post("/categories/{category_id}/delete")
async def delete_category(request: Request, category_id: Id) -> Response:
    await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            await catalog.delete_category(session, category_id=category_id, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.CategoryNotFound):
            raise
        return await _category_refused(request, exc, f"delete-{category_id}", {})
    return _done("deleted")


# --- Brands ---------------------------------------------------------------------------------


async def _brands(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """One page of brands by name (the service's order and cursor)."""
    page = await catalog.list_brands(
        session, query=query.filters["q"].replace("\x00", "") or None, cursor=query.cursor, limit=limit
    )
    return page.items, page.next_cursor


def _logo_url(brand: catalog.BrandRead) -> str:
    return get_storage().url(brand.logo_key) if brand.logo_key else ""


BRAND_LIST = ListPage(
    key="brand-list",
    path=BRANDS,
    title=N_("Brands"),
    permission="catalog.read",
    columns=(
        Column("logo", N_("Logo"), _logo_url),
        Column("name", N_("Name"), lambda b: b.name, kind="link", link=lambda b: f"{BRANDS}/{b.id}"),
        Column("name_en", N_("English name"), lambda b: b.name_en, lang="en"),
        Column("slug", N_("Slug"), lambda b: b.slug, kind="code"),
    ),
    fetch=_brands,
    filters=(Search("q", N_("Search")),),
    export="brands",
    empty=N_("No brands match."),
    template=BRANDS_PAGE,
)


async def _brand_form(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has("catalog.write")}


BRAND_LIST.register(router, "/admin/catalog", context=_brand_form, notices=BRAND_LIST_NOTICES, values={})


@router.post("/brands")
async def create_brand(request: Request) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            data = validate(catalog.BrandCreate, values, "name", "name_en", "slug")
            brand = await catalog.create_brand(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        problem = problem_of(request, exc)
        auth = await signed_in(request, "catalog.write")
        if auth is None:
            return to_login(request)
        return await BRAND_LIST.respond(
            request,
            context=_brand_form,
            notices=BRAND_LIST_NOTICES,
            status_code=problem.status,
            problem=problem,
            values=values,
        )
    return RedirectResponse(f"{BRANDS}/{brand.id}?notice=created", status_code=303)


async def _brand_page(
    request: Request, auth: StaffSession, brand_id: int, status_code: int = 200, **context: Any
) -> Response:
    async with uow(write=False) as session:
        brand = await catalog.get_brand(session, brand_id=brand_id)
    context.setdefault("values", {})
    return render(
        request,
        BRAND_PAGE,
        status_code,
        staff=auth.staff,
        brand=brand,
        logo_url=get_storage().url(brand.logo_key) if brand.logo_key else None,
        can_write=auth.staff.has("catalog.write"),
        notice=notice_of(request, BRAND_NOTICES),
        **context,
    )


@router.get("/brands/{brand_id}")
async def brand(request: Request, brand_id: Id) -> Response:
    auth = await signed_in(request, "catalog.read")
    if auth is None:
        return to_login(request)
    return await _brand_page(request, auth, brand_id)


async def _brand_refused(
    request: Request, brand_id: int, problem: FormProblem, form: str, values: dict[str, str]
) -> Response:
    auth = await signed_in(request, "catalog.write")
    if auth is None:
        return to_login(request)
    return await _brand_page(
        request, auth, brand_id, problem.status, problem=problem, problem_form=form, values=values
    )


@router.post("/brands/{brand_id}")
async def update_brand(request: Request, brand_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            fields = {"name": values.get("name", ""), "name_en": values.get("name_en", "")}
            if values.get("slug", "").strip():
                fields["slug"] = values["slug"].strip()
            data = catalog.BrandUpdate.model_validate(fields)
            await catalog.update_brand(session, brand_id=brand_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.BrandNotFound):
            raise
        return await _brand_refused(request, brand_id, problem_of(request, exc), "edit", values)
    return RedirectResponse(f"{BRANDS}/{brand_id}?notice=saved", status_code=303)


@router.post("/brands/{brand_id}/logo")
async def set_logo(request: Request, brand_id: Id) -> Response:
    try:
        return await _set_logo(request, brand_id)
    finally:
        await close_form(request)


async def _set_logo(request: Request, brand_id: int) -> Response:
    await read_form(request)
    locale = locale_of(request)
    upload = await read_upload(request, "file")
    problem: FormProblem | None = None
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            if upload is None:
                problem = invalid(request, {"file": gettext("Choose an image file.", locale)})
            else:
                checked = await catalog.check_brand_logo(
                    session, brand_id=brand_id, data=upload.data, actor=auth.actor
                )
                image = await decode_upload(session, checked)
                await catalog.set_brand_logo(
                    session,
                    brand_id=brand_id,
                    image=image,
                    filename=upload.filename,
                    declared_type=upload.content_type,
                    actor=auth.actor,
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.BrandNotFound):
            raise
        problem = form_problem(exc, locale)
        if isinstance(exc, DomainError) and not problem.fields:
            problem = FormProblem(problem.status, problem.message, {"file": problem.message})
    if problem is not None:
        return await _brand_refused(request, brand_id, problem, "logo", {})
    return RedirectResponse(f"{BRANDS}/{brand_id}?notice=logo", status_code=303)


@router.post("/brands/{brand_id}/delete")
async def delete_brand(request: Request, brand_id: Id) -> Response:
    await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, "catalog.write")
            if auth is None:
                return to_login(request)
            await catalog.delete_brand(session, brand_id=brand_id, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, catalog.BrandNotFound):
            raise
        return await _brand_refused(request, brand_id, problem_of(request, exc), "delete", {})
    return RedirectResponse(f"{BRANDS}?notice=deleted", status_code=303)
