"""The console's product type pages: the list of types (a declared list page, sorted and exported)
and a new type (``catalog.read`` / ``catalog.write``), and one type's attributes with their
allowed values: rename the type, add an attribute (a spec makes SKUs, a parameter is shown on the
product page), add a value, and remove a value no product or active SKU uses.

The catalog's product-type services do the work, check the rules and audit every change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog
from mercato.admin.listing import Column, ListPage, ListQuery, Sort
from mercato.admin.routes._shared import notice_of, problem_of, signed_in, staff_for, to_login
from mercato.core.db import uow
from mercato.core.errors import DomainError, NotFound
from mercato.core.i18n import N_
from mercato.web.forms import FORM_ERRORS, FormProblem, read_form, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

TYPES = "/admin/catalog/types"
TYPES_PAGE = "admin/catalog/product_types.html"
TYPE_PAGE = "admin/catalog/product_type.html"
READ = "catalog.read"
WRITE = "catalog.write"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOTICES = frozenset({"created", "renamed", "attribute", "value_added", "value_removed"})
KINDS = {
    "spec": N_("Spec (each value makes SKUs, e.g. colour, size)"),
    "param": N_("Parameter (shown on the product page, e.g. material)"),
}
#: Conflicts without a field of their own, shown next to this form field.
ERROR_FIELDS: dict[type[DomainError], str] = {
    catalog.NameTaken: "name",
    catalog.AttributeCodeTaken: "code",
    catalog.AttributeValueTaken: "value",
}


def _problem(request: Request, exc: Exception) -> FormProblem:
    """The refusal with a field-less conflict shown next to its field; a missing thing is a 404."""
    if isinstance(exc, NotFound) and not exc.fields:
        raise exc
    problem = problem_of(request, exc)
    if isinstance(exc, DomainError) and not problem.fields:
        for kind, name in ERROR_FIELDS.items():
            if isinstance(exc, kind):
                return dataclasses.replace(problem, fields={name: problem.message})
    return problem


def _type_url(product_type_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{TYPES}/{product_type_id}?notice={notice}", status_code=303)


# --- The list and a new type ------------------------------------------------------------------


async def _types(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """Every type (a shop has tens); sorted by the list page."""
    return await catalog.list_product_types(session), None


TYPE_LIST = ListPage(
    key="type-list",
    path=TYPES,
    title=N_("Product types"),
    permission=READ,
    columns=(
        Column("name", N_("Name"), lambda t: t.name, kind="link", link=lambda t: f"{TYPES}/{t.id}"),
        Column("name_en", N_("English name"), lambda t: t.name_en, lang="en"),
        Column("attributes", N_("Attributes"), lambda t: "、".join(a.name for a in t.attributes)),
    ),
    fetch=_types,
    sorts=(
        Sort("name", N_("Name"), lambda t: (t.name, t.id)),
        Sort("attributes", N_("Most attributes"), lambda t: (len(t.attributes), -t.id), descending=True),
        Sort("newest", N_("Newest first"), lambda t: (t.created_at, t.id), descending=True),
    ),
    export="product-types",
    empty=N_("No product types yet."),
    template=TYPES_PAGE,
)


async def _form_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has(WRITE)}


TYPE_LIST.register(router, "/admin/catalog", context=_form_context, values={})


@router.post("/types")
async def create_product_type(request: Request) -> Response:
    """Create a type by its names; attributes are added on its page."""
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            data = validate(catalog.ProductTypeCreate, values, "name", "name_en")
            created = await catalog.create_product_type(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        problem = _problem(request, exc)
        auth = await signed_in(request, WRITE)
        if auth is None:
            return to_login(request)
        return await TYPE_LIST.respond(
            request, context=_form_context, status_code=problem.status, problem=problem, values=values
        )
    return _type_url(created.id, "created")


# --- One type: its attributes and values ------------------------------------------------------


async def _type_page(
    request: Request, auth: StaffSession, product_type_id: int, status_code: int = 200, **context: Any
) -> Response:
    async with uow(write=False) as session:
        product_type = await catalog.get_product_type(session, product_type_id=product_type_id)
    context.setdefault("values", {})
    context.setdefault("problem_form", "")
    return render(
        request,
        TYPE_PAGE,
        status_code,
        staff=auth.staff,
        product_type=product_type,
        kinds=KINDS,
        can_write=auth.staff.has(WRITE),
        notice=notice_of(request, NOTICES),
        **context,
    )


async def _refused(
    request: Request, product_type_id: int, exc: Exception, form: str, values: dict[str, str]
) -> Response:
    problem = _problem(request, exc)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return await _type_page(
        request, auth, product_type_id, problem.status, problem=problem, problem_form=form, values=values
    )


@router.get("/types/{product_type_id}")
async def product_type(request: Request, product_type_id: Id) -> Response:
    auth = await signed_in(request, READ)
    if auth is None:
        return to_login(request)
    return await _type_page(request, auth, product_type_id)


@router.post("/types/{product_type_id}")
async def rename_product_type(request: Request, product_type_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            data = catalog.ProductTypeUpdate.model_validate(
                {"name": values.get("name", "").strip(), "name_en": values.get("name_en", "").strip()}
            )
            await catalog.update_product_type(
                session, product_type_id=product_type_id, data=data, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        return await _refused(request, product_type_id, exc, "rename", values)
    return _type_url(product_type_id, "renamed")


@router.post("/types/{product_type_id}/attributes")
async def add_attribute(request: Request, product_type_id: Id) -> Response:
    """Add an attribute; its first values may be typed one per line."""
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            data = validate(catalog.AttributeCreate, values, "code", "name", "name_en", "kind", "position")
            lines = [line.strip() for line in values.get("values", "").splitlines() if line.strip()]
            if lines:
                data = catalog.AttributeCreate.model_validate(
                    {**data.model_dump(), "values": [{"value": line} for line in lines]}
                )
            await catalog.add_attribute(session, product_type_id=product_type_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return await _refused(request, product_type_id, exc, "attribute", values)
    return _type_url(product_type_id, "attribute")


@router.post("/types/{product_type_id}/attributes/{attribute_id}/values")
async def add_attribute_value(request: Request, product_type_id: Id, attribute_id: Id) -> Response:
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            data = validate(catalog.AttributeValueWrite, values, "value", "value_en", "position")
            await catalog.add_attribute_value(
                session,
                product_type_id=product_type_id,
                attribute_id=attribute_id,
                data=data,
                actor=auth.actor,
            )
    except FORM_ERRORS as exc:
        return await _refused(request, product_type_id, exc, f"value-{attribute_id}", values)
    return _type_url(product_type_id, "value_added")


@router.post("/types/{product_type_id}/attributes/{attribute_id}/values/{value_id}/delete")
async def remove_attribute_value(
    request: Request, product_type_id: Id, attribute_id: Id, value_id: Id
) -> Response:
    """Remove a value that no product's parameters and no active SKU use."""
    await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await catalog.remove_attribute_value(
                session,
                product_type_id=product_type_id,
                attribute_id=attribute_id,
                value_id=value_id,
                actor=auth.actor,
            )
    except FORM_ERRORS as exc:
        return await _refused(request, product_type_id, exc, f"remove-{value_id}", {})
    return _type_url(product_type_id, "value_removed")
