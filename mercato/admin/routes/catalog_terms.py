"""The banned-term dictionary the listing checks use: list every term (``catalog.read``); add a
term, deactivate one, or load the default dictionary (``catalog.review``, as in the API).

A term is never deleted, only deactivated (past findings stay explainable); adding a deactivated
term again reactivates it. The catalog's compliance services do the work and audit it.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import catalog
from mercato.admin.routes._shared import notice_of, problem_of, signed_in, staff_for, to_login
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.web.forms import FORM_ERRORS, read_form, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)

TERMS = "/admin/catalog/banned-terms"
TERMS_PAGE = "admin/catalog/banned_terms.html"
READ = "catalog.read"
#: Changing the dictionary is a reviewer's job (the API's ``/banned-terms`` writes need it too).
REVIEW = "catalog.review"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOTICES = frozenset({"added", "deactivated", "defaults"})
LANGUAGES = {
    "zh": N_("Chinese (matched anywhere in the text)"),
    "en": N_("English (matched as whole words, any case)"),
}


async def _page(request: Request, auth: StaffSession, status_code: int = 200, **context: Any) -> Response:
    async with uow(write=False) as session:
        terms = await catalog.list_banned_terms(session)
    context.setdefault("values", {})
    return render(
        request,
        TERMS_PAGE,
        status_code,
        staff=auth.staff,
        terms=terms,
        languages=LANGUAGES,
        can_review=auth.staff.has(REVIEW),
        notice=notice_of(request, NOTICES),
        **context,
    )


@router.get("/banned-terms")
async def banned_terms(request: Request) -> Response:
    auth = await signed_in(request, READ)
    if auth is None:
        return to_login(request)
    return await _page(request, auth)


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
        auth = await signed_in(request, REVIEW)
        if auth is None:
            return to_login(request)
        return await _page(request, auth, problem.status, problem=problem, values=values)
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
