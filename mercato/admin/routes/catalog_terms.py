"""The banned-term dictionary the listing checks use: list every term, filtered by text, language
and status, sorted by term or newest, exported (``catalog.read``); add a term, deactivate one or
many, or load the default dictionary (``catalog.review``, as in the API).

A term is never deleted, only deactivated (past findings stay explainable); adding a deactivated
term again reactivates it. The catalog's compliance services do the work and audit it. The list is
a declared list page (``mercato/admin/listing.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog
from mercato.admin.listing import Bulk, Choice, Column, ListPage, ListQuery, Search, Sort
from mercato.admin.routes._shared import problem_of, signed_in, staff_for, to_login
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.web.forms import FORM_ERRORS, read_form, validate
from mercato.web.session import StaffSession

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

TERMS = "/admin/catalog/banned-terms"
READ = "catalog.read"
#: Changing the dictionary is a reviewer's job (the API's ``/banned-terms`` writes need it too).
REVIEW = "catalog.review"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOTICES = {
    "added": N_("The term was added."),
    "deactivated": N_("The term was deactivated."),
    "defaults": N_("The default terms were loaded."),
    "deactivated_many": N_("The ticked terms were deactivated."),
}
LANGUAGES = {
    "zh": N_("Chinese (matched anywhere in the text)"),
    "en": N_("English (matched as whole words, any case)"),
}
STATUSES = {"active": N_("Active"), "inactive": N_("Inactive")}


async def _fetch(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """Every term (the dictionary is small), filtered; sorted by the list page."""
    text, language, status = (query.filters[name] for name in ("q", "language", "status"))
    rows = [
        term
        for term in await catalog.list_banned_terms(session)
        if (not text or text.lower() in term.term.lower())
        and (not language or term.language.value == language)
        and (not status or term.is_active == (status == "active"))
    ]
    return rows, None


async def _deactivate(session: AsyncSession, auth: StaffSession, ids: list[int]) -> None:
    for term_id in ids:
        await catalog.deactivate_banned_term(session, term_id=term_id, actor=auth.actor)


LIST = ListPage(
    key="term-list",
    path=TERMS,
    title=N_("Banned terms"),
    permission=READ,
    columns=(
        Column("term", N_("Term"), lambda t: t.term),
        Column("language", N_("Language"), lambda t: t.language.value, labels=LANGUAGES),
        Column("status", N_("Status"), lambda t: "active" if t.is_active else "inactive", labels=STATUSES),
        Column("created_at", N_("Added"), lambda t: t.created_at, kind="date"),
    ),
    fetch=_fetch,
    filters=(
        Search("q", N_("Term"), maxlength=60),
        Choice("language", N_("Language"), N_("All languages"), tuple(LANGUAGES.items())),
        Choice("status", N_("Status"), N_("All statuses"), tuple(STATUSES.items())),
    ),
    sorts=(
        Sort("term", N_("Term"), lambda t: (t.language.value, t.term)),
        Sort("newest", N_("Newest first"), lambda t: (t.created_at, t.id), descending=True),
    ),
    bulk=(
        Bulk(
            "deactivate",
            N_("Deactivate"),
            REVIEW,
            N_("Deactivate the ticked terms? They stay listed, inactive, and are no longer checked."),
            "deactivated_many",
            _deactivate,
        ),
    ),
    export="banned-terms",
    empty=N_("No banned terms yet."),
    template="admin/catalog/banned_terms.html",
)


async def _form_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"languages": LANGUAGES, "can_review": auth.staff.has(REVIEW)}


LIST.register(router, "/admin/catalog", context=_form_context, notices=NOTICES, values={})


@router.post("/banned-terms")
async def add_banned_term(request: Request) -> Response:
    """Add a term (or reactivate a deactivated one)."""
    values = await read_form(request)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, REVIEW)
            if auth is None:
                return to_login(request)
            data = validate(catalog.BannedTermCreate, values, "term", "language")
            await catalog.add_banned_term(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        problem = problem_of(request, exc)
        if isinstance(exc, catalog.BannedTermExists) and not problem.fields:
            problem = dataclasses.replace(problem, fields={"term": problem.message})
        if await signed_in(request, REVIEW) is None:
            return to_login(request)
        return await LIST.respond(
            request,
            context=_form_context,
            notices=NOTICES,
            status_code=problem.status,
            problem=problem,
            values=values,
        )
    return RedirectResponse(f"{TERMS}?notice=added", status_code=303)


@router.post("/banned-terms/defaults")
async def load_defaults(request: Request) -> Response:
    """Add the default dictionary's missing terms (a deactivated default stays deactivated)."""
    await read_form(request)
    async with uow() as session:
        auth = await staff_for(request, session, REVIEW)
        if auth is None:
            return to_login(request)
        await catalog.load_default_banned_terms(session, actor=auth.actor)
    return RedirectResponse(f"{TERMS}?notice=defaults", status_code=303)


@router.post("/banned-terms/{term_id}/deactivate")
async def deactivate_banned_term(request: Request, term_id: Id) -> Response:
    """Stop checking a term; it stays in the list, inactive (404 when there is no such term)."""
    await read_form(request)
    async with uow() as session:
        auth = await staff_for(request, session, REVIEW)
        if auth is None:
            return to_login(request)
        await catalog.deactivate_banned_term(session, term_id=term_id, actor=auth.actor)
    return RedirectResponse(f"{TERMS}?notice=deactivated", status_code=303)
