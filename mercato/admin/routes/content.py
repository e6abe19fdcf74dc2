"""The console's content pages: home-page banners (list, create with an image, edit, switch on
and off, delete).

Viewing needs ``catalog.read``; every change needs ``content.write``. Every POST checks the CSRF
token first, runs in one writing unit of work, and answers with a 303 redirect (post-redirect-get)
or the form again with its errors next to the fields. The list is a declared list page
(``mercato/admin/listing.py``: filtered by status, sorted by position or newest); a delete is
confirmed first (the dialog, or the confirm page without script).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from mercato import content
from mercato.admin.listing import Choice, Column, ListPage, ListQuery, Sort, confirm_page
from mercato.admin.routes._shared import form_page, problem_of, signed_in, staff_for, to_login
from mercato.core.db import uow
from mercato.core.i18n import N_
from mercato.core.schemas import IdInt
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, read_form, read_upload, validate
from mercato.web.session import StaffSession
from mercato.web.templates import render
from mercato.web.uploads import decode_upload

router = APIRouter(prefix="/admin/content", include_in_schema=False)

BANNERS = "/admin/content/banners"
FORM_PAGE = "admin/content/banner_form.html"
READ, WRITE = "catalog.read", "content.write"
FIELDS = ("title", "title_en", "subtitle", "subtitle_en", "link", "position", "active_from", "active_until")
#: Notices a redirect may ask the list to show (by key, never free text from the URL).
NOTICES = {
    "created": N_("The banner was created."),
    "updated": N_("The banner was saved."),
    "enabled": N_("The banner is switched on."),
    "disabled": N_("The banner is switched off."),
    "deleted": N_("The banner was deleted."),
}
STATUSES = {
    "live": N_("Live"),
    "scheduled": N_("Scheduled"),
    "ended": N_("Ended"),
    "disabled": N_("Switched off"),
}
DELETE = N_("Delete")
DELETE_QUESTION = N_("Delete this banner? It leaves the home page and its image is removed.")


def _done(notice: str) -> RedirectResponse:
    return RedirectResponse(f"{BANNERS}?notice={notice}", status_code=303)


def _check_id(banner_id: int) -> None:
    if not 0 < banner_id < 2**63:
        raise HTTPException(status_code=404)


def _local(value: dt.datetime | None) -> str:
    """A ``datetime-local`` input value in the shop's time zone."""
    return value.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M") if value else ""


def _values_of(banner: content.BannerRead) -> dict[str, Any]:
    return {
        "title": banner.title,
        "title_en": banner.title_en,
        "subtitle": banner.subtitle,
        "subtitle_en": banner.subtitle_en,
        "link": banner.link,
        "position": str(banner.position),
        "active_from": _local(banner.active_from),
        "active_until": _local(banner.active_until),
        "is_enabled": banner.is_enabled,
    }


def _form_again(
    request: Request,
    auth: StaffSession,
    banner: content.BannerRead | None,
    values: dict[str, str],
    problem: FormProblem,
) -> Response:
    """The banner form again with what was posted and why it was refused."""
    values_shown = {**values, "is_enabled": "is_enabled" in values}
    return form_page(request, FORM_PAGE, problem, staff=auth.staff, banner=banner, values=values_shown)


async def _banners(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    """Every banner (a short list), filtered by status; sorted by the list page."""
    status = query.filters["status"]
    rows = await content.list_banners(session)
    return [row for row in rows if not status or row.status.value == status], None


LIST = ListPage(
    key="banners",
    path=BANNERS,
    title=N_("Home-page banners"),
    permission=READ,
    columns=(
        Column("image", N_("Image"), lambda b: b.image_url),
        Column("title", N_("Title"), lambda b: b.title),
        Column("link", N_("Link"), lambda b: b.link, kind="code"),
        Column("position", N_("Position"), lambda b: b.position, kind="number"),
        Column("shown", N_("Shown"), lambda b: b.active_from),
        Column("status", N_("Status"), lambda b: b.status.value, labels=STATUSES),
    ),
    fetch=_banners,
    filters=(Choice("status", N_("Status"), N_("All statuses"), tuple(STATUSES.items())),),
    sorts=(
        Sort("position", N_("Position"), lambda b: (b.position, b.id)),
        Sort("newest", N_("Newest first"), lambda b: (b.created_at, b.id), descending=True),
    ),
    empty=N_("No banners yet: the home page shows none."),
    template="admin/content/banners.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has(WRITE), "delete_question": DELETE_QUESTION}


LIST.register(router, "/admin/content", context=_list_context, notices=NOTICES)


@router.get("/banners/new")
async def new_banner(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return render(
        request, FORM_PAGE, staff=auth.staff, banner=None, values={"is_enabled": True, "position": "0"}
    )


@router.post("/banners")
async def create_banner(request: Request) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    upload = await read_upload(request, "image")
    try:
        data = validate(content.BannerWrite, values, *FIELDS, checkboxes=("is_enabled",))
        filename, declared = (upload.filename, upload.content_type) if upload else ("", None)
        async with uow() as session:
            checked = await content.check_banner_image(
                session, data=upload.data if upload else b"", actor=auth.actor
            )
            image = await decode_upload(session, checked)
            await content.create_banner(
                session, data=data, image=image, filename=filename, declared_type=declared, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        return _form_again(request, auth, None, values, problem_of(request, exc))
    return _done("created")


@router.get("/banners/{banner_id:int}/edit")
async def edit_banner(request: Request, banner_id: IdInt) -> Response:
    _check_id(banner_id)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    async with uow(write=False) as session:
        banner = await content.get_banner(session, banner_id=banner_id)
    return render(request, FORM_PAGE, staff=auth.staff, banner=banner, values=_values_of(banner))


@router.post("/banners/{banner_id:int}")
async def update_banner(request: Request, banner_id: IdInt) -> Response:
    _check_id(banner_id)
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    upload = await read_upload(request, "image")
    try:
        data = validate(content.BannerWrite, values, *FIELDS, checkboxes=("is_enabled",))
        filename, declared = (upload.filename, upload.content_type) if upload and upload.data else ("", None)
        async with uow() as session:
            image = None
            if upload is not None and upload.data:
                checked = await content.check_banner_image(
                    session, data=upload.data, actor=auth.actor, banner_id=banner_id
                )
                image = await decode_upload(session, checked)
            await content.update_banner(
                session,
                banner_id=banner_id,
                data=data,
                image=image,
                filename=filename,
                declared_type=declared,
                actor=auth.actor,
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, content.BannerNotFound):
            raise
        async with uow(write=False) as session:
            banner = await content.get_banner(session, banner_id=banner_id)
        return _form_again(request, auth, banner, values, problem_of(request, exc))
    return _done("updated")


async def _switch(request: Request, banner_id: int, *, enabled: bool) -> Response:
    _check_id(banner_id)
    await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    async with uow() as session:
        await content.set_banner_enabled(session, banner_id=banner_id, enabled=enabled, actor=auth.actor)
    return _done("enabled" if enabled else "disabled")


@router.post("/banners/{banner_id:int}/enable")
async def enable_banner(request: Request, banner_id: IdInt) -> Response:
    return await _switch(request, banner_id, enabled=True)


@router.post("/banners/{banner_id:int}/disable")
async def disable_banner(request: Request, banner_id: IdInt) -> Response:
    return await _switch(request, banner_id, enabled=False)


@router.post("/banners/{banner_id:int}/delete")
async def delete_banner(request: Request, banner_id: IdInt) -> Response:
    """Delete a banner once ``confirmed=1`` is posted (the dialog's button, or the confirm page's,
    which a post without it gets: nothing is deleted). 404 when there is no such banner."""
    _check_id(banner_id)
    values = await read_form(request)
    async with uow() as session:
        auth = await staff_for(request, session, WRITE)
        if auth is None:
            return to_login(request)
        if values.get("confirmed") != "1":
            await content.get_banner(session, banner_id=banner_id)
            return confirm_page(
                request,
                auth,
                title=DELETE,
                question=DELETE_QUESTION,
                action_url=f"{BANNERS}/{banner_id}/delete",
                fields=[],
                cancel_url=BANNERS,
            )
        await content.delete_banner(session, banner_id=banner_id, actor=auth.actor)
    return _done("deleted")
