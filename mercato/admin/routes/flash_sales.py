"""The console's flash sales (营销 › 秒杀): sessions (场次) listed by status with their phase for
shoppers (即将开始, 抢购中, 已结束); the form of a draft (name, window in shop time, note, human
check); and the detail page — the items with both prices, quota and per-customer limit, adding
(SKU by code or id, price in yuan) and removing them while a draft, publish (each item's quota
carved out of stock, all or none) and cancel (confirmed first), the live counts per item once
published, and the status history.

Every refusal comes back as the page with its message (next to its field on a form), nothing
saved; the domain audits every write. Reading needs ``promotions.read``, changes
``promotions.write``. No business rules here: ``mercato.social`` decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, social
from mercato.admin import navigation
from mercato.admin.listing import Choice, Column, ListPage, ListQuery, confirm_page
from mercato.admin.routes._shared import (
    form_page,
    invalid,
    problem_of,
    signed_in,
    staff_for,
    to_login,
)
from mercato.admin.routes.promotions_common import (
    READ,
    WRITE,
    Action,
    AmountFields,
    local_input,
    parse_local,
    refusal,
    staff_and,
)
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import PermissionDenied
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, parse_id, read_form
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/flash-sessions", include_in_schema=False)

LIST = "/admin/flash-sessions/"
FORM_PAGE = "admin/flash/form.html"
SessionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
S = social.FlashSessionStatus

navigation.add_item("marketing", navigation.NavItem(N_("Flash sales"), LIST, READ))

STATUSES = {
    S.draft.value: N_("Draft"),
    S.published.value: N_("Published (quotas held)"),
    S.ended.value: N_("Ended"),
    S.cancelled.value: N_("Cancelled"),
}
#: Where a published session stands for shoppers (the storefront's words in brackets).
PHASES = {
    social.FlashPhase.upcoming.value: N_("Starting soon (即将开始)"),
    social.FlashPhase.live.value: N_("Selling now (抢购中)"),
    social.FlashPhase.over.value: N_("Over (已结束)"),
}
#: The status actions of a session and which statuses allow them (its transition table).
ACTIONS = {
    "publish": Action(
        N_("Publish"),
        N_("Publish the session? Each item's quota is set aside from stock now, and shoppers see it."),
        "published",
    ),
    "cancel": Action(
        N_("Cancel the session"),
        N_("Cancel the session? What is not sold goes back to stock; orders placed stay. No undo."),
        "cancelled",
    ),
}
ACTIONS_BY_STATUS = {S.draft.value: ("publish", "cancel"), S.published.value: ("cancel",)}
NOTICES = {
    "created": N_("Saved as a draft: add its items, then publish it."),
    "updated": N_("Your changes were saved."),
    "item_added": N_("The item was added."),
    "item_removed": N_("The item was removed."),
    "published": N_("Published: each item's quota is set aside from stock."),
    "cancelled": N_("Cancelled: what was not sold went back to stock."),
}
#: The form field a refusal of the domain is about.
_REFUSED_FIELDS: dict[type[Exception], str] = {
    social.EndsBeforeStart: "ends_at",
    social.FlashSkuTaken: "sku",
    social.FlashPriceNotBelow: "price",
}
_ITEM_FIELDS = {"sku_id": "sku", "price_amount": "price"}


def _field_of(loc: tuple[int | str, ...]) -> str:
    """The form field a model location is about (an item's ids and amounts by their form names)."""
    head = str(loc[0]) if loc else ""
    return _ITEM_FIELDS.get(head, head)


def _refused(request: Request, exc: Exception) -> FormProblem:
    """A refused form (validation or the domain's refusal) with its message next to its field."""
    problem = refusal(request, exc, _field_of, rule_field="name")
    field = next((name for kind, name in _REFUSED_FIELDS.items() if isinstance(exc, kind)), None)
    if field is None:
        return problem
    return FormProblem(problem.status, problem.message, {field: problem.message, **problem.fields})


def _phase(flash: social.FlashSessionRead) -> str:
    """The shoppers' phase of a published session ("" otherwise: its status says it all)."""
    return flash.phase(clock.now()).value if flash.status is S.published else ""


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


# -- the list ------------------------------------------------------------------------------------


async def _sessions(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    status = query.filters["status"]
    return await social.list_flash_sessions(session, status=S(status) if status else None), None


PAGE = ListPage(
    key="flash-sessions",
    path=LIST,
    title=N_("Flash sales"),
    permission=READ,
    columns=(
        Column("name", N_("Session"), lambda s: s.name, kind="link", link=lambda s: f"{LIST}{s.id}"),
        Column("window", N_("Window"), lambda s: s.starts_at),
        Column("status", N_("Status"), lambda s: s.status.value, labels=STATUSES),
        Column("items", N_("Items"), lambda s: len(s.items), kind="number"),
        Column("phase", N_("Phase"), _phase, labels=PHASES),
    ),
    fetch=_sessions,
    filters=(Choice("status", N_("Status"), N_("Every status"), tuple(STATUSES.items())),),
    empty=N_("No flash-sale sessions yet."),
    template="admin/flash/list.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has(WRITE), "statuses": STATUSES}


PAGE.register(router, "/admin/flash-sessions", context=_list_context, notices=NOTICES)


# -- the form ------------------------------------------------------------------------------------


def _values_of(flash: social.FlashSessionRead) -> dict[str, Any]:
    return {
        "name": flash.name,
        "starts_at": local_input(flash.starts_at),
        "ends_at": local_input(flash.ends_at),
        "note": flash.note,
        "human_check": flash.human_check,
    }


def _read(request: Request, values: dict[str, str]) -> social.FlashSessionWrite | FormProblem:
    """The posted session (times typed in shop time), or the problem by field."""
    data: dict[str, Any] = {
        "note": values.get("note", "").strip(),
        "human_check": "human_check" in values,
    }
    if name := values.get("name", "").strip():
        data["name"] = name
    for field in ("starts_at", "ends_at"):
        if (moment := parse_local(values.get(field, ""))) is not None:
            data[field] = moment
    try:
        return social.FlashSessionWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        return _refused(request, exc)


def _form(
    request: Request,
    auth: StaffSession,
    flash: social.FlashSessionRead | None,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(request, FORM_PAGE, problem, staff=auth.staff, flash=flash, values=shown)


def _shown(values: dict[str, str]) -> dict[str, Any]:
    return {**values, "human_check": "human_check" in values}


async def _save(request: Request, flash: social.FlashSessionRead | None) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    data = _read(request, values)
    if isinstance(data, FormProblem):
        return _form(request, auth, flash, _shown(values), data)
    try:
        async with uow() as session:
            if flash is None:
                saved = await social.create_flash_session(session, data=data, actor=auth.actor)
            else:
                saved = await social.update_flash_session(
                    session, flash_session_id=flash.id, data=data, actor=auth.actor
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, social.FlashSessionNotFound):
            raise
        return _form(request, auth, flash, _shown(values), _refused(request, exc))
    notice = "created" if flash is None else "updated"
    return RedirectResponse(f"{LIST}{saved.id}?notice={notice}", status_code=303)


@router.get("/new")
async def new_session(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return _form(request, auth, None, {"human_check": False})


@router.post("/")
async def create_session(request: Request) -> Response:
    return await _save(request, None)


@router.get("/{flash_session_id}/edit")
async def edit_session(request: Request, flash_session_id: SessionId) -> Response:
    found = await staff_and(
        request, WRITE, lambda session: social.get_flash_session(session, flash_session_id=flash_session_id)
    )
    if found is None:
        return to_login(request)
    return _form(request, found[0], found[1], _values_of(found[1]))


@router.post("/{flash_session_id}")
async def update_session(request: Request, flash_session_id: SessionId) -> Response:
    found = await staff_and(
        request, WRITE, lambda session: social.get_flash_session(session, flash_session_id=flash_session_id)
    )
    if found is None:
        return to_login(request)
    return await _save(request, found[1])


# -- the detail page -------------------------------------------------------------------------------


async def _detail(
    request: Request,
    flash_session_id: int,
    *,
    problem: FormProblem | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The session, its items, the live counts once published, and its history; ``problem``:
    a refused action or item shown on it (with its status)."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        flash = await social.get_flash_session(session, flash_session_id=flash_session_id)
        skus = await catalog.get_sellable_skus(session, sku_ids=[item.sku_id for item in flash.items])
        figures = (
            await social.flash_figures(session, flash_session_id=flash_session_id)
            if flash.status is not S.draft
            else []
        )
        history = await social.list_status_changes(
            session, subject="flash_session", subject_id=flash_session_id
        )
    return render(
        request,
        "admin/flash/detail.html",
        problem.status if problem else 200,
        staff=auth.staff,
        flash=flash,
        phase=_phase(flash),
        phases=PHASES,
        statuses=STATUSES,
        skus=skus,
        figures={f.item_id: f for f in figures},
        history=history,
        can_write=auth.staff.has(WRITE),
        actions=[(name, ACTIONS[name]) for name in ACTIONS_BY_STATUS.get(flash.status.value, ())],
        problem=problem,
        values=values or {"per_customer": "1"},
        notice=_notice(request),
    )


@router.get("/{flash_session_id}")
async def session_detail(request: Request, flash_session_id: SessionId) -> Response:
    return await _detail(request, flash_session_id)


async def _read_item(request: Request, values: dict[str, str]) -> social.FlashItemWrite | FormProblem:
    """The posted item: its SKU by code (or id), its price in yuan; or the problem by field."""
    amount = AmountFields(request)
    data: dict[str, Any] = {
        name: values[name].strip() for name in ("quota", "per_customer") if values.get(name, "").strip()
    }
    if code := values.get("sku", "").strip():
        async with uow(write=False) as session:
            ids = await catalog.get_sku_ids_by_code(session, codes={code})
        sku_id = ids.get(code) or parse_id(code)
        if sku_id is None:
            amount.fields["sku"] = gettext("No SKU has the code {code}.", locale_of(request), code=code)
        else:
            data["sku_id"] = sku_id
    if (price := amount(values.get("price", ""), "price")) is not None:
        data["price_amount"] = price
    try:
        parsed = social.FlashItemWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        problem = _refused(request, exc)
        return FormProblem(problem.status, problem.message, {**problem.fields, **amount.fields})
    if amount.fields:
        return invalid(request, amount.fields)
    return parsed


def _passed_on(exc: Exception) -> bool:
    """Refusals that are not the form's: the 404 and 403 pages show them."""
    return isinstance(exc, social.FlashSessionNotFound | social.FlashItemNotFound | PermissionDenied)


@router.post("/{flash_session_id}/items")
async def add_item(request: Request, flash_session_id: SessionId) -> Response:
    """Add a SKU to a draft; a refusal comes back as the page with the message by its field."""
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    data = await _read_item(request, values)
    if isinstance(data, FormProblem):
        return await _detail(request, flash_session_id, problem=data, values=values)
    try:
        async with uow() as session:
            await social.add_flash_item(
                session, flash_session_id=flash_session_id, data=data, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        if _passed_on(exc):
            raise
        if isinstance(exc, catalog.SkuNotFound):
            message = gettext("No SKU on sale has this code or id.", locale_of(request))
            problem = invalid(request, {"sku": message})
        else:
            problem = _refused(request, exc)
        return await _detail(request, flash_session_id, problem=problem, values=values)
    return RedirectResponse(f"{LIST}{flash_session_id}?notice=item_added", status_code=303)


@router.post("/{flash_session_id}/items/{item_id}/remove")
async def remove_item(request: Request, flash_session_id: SessionId, item_id: ItemId) -> Response:
    """Take an item out of a draft (confirmed first)."""
    values = await read_form(request)
    url = f"{LIST}{flash_session_id}"
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await social.get_flash_session(session, flash_session_id=flash_session_id)
            if values.get("confirmed") != "1":
                return confirm_page(
                    request,
                    auth,
                    title=N_("Remove the item"),
                    question=N_("Remove this item from the session?"),
                    action_url=f"{url}/items/{item_id}/remove",
                    fields=[],
                    cancel_url=url,
                )
            await social.remove_flash_item(
                session, flash_session_id=flash_session_id, item_id=item_id, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        if _passed_on(exc):
            raise
        return await _detail(request, flash_session_id, problem=problem_of(request, exc))
    return RedirectResponse(f"{url}?notice=item_removed", status_code=303)


@router.post("/{flash_session_id}/{action}")
async def session_action(
    request: Request, flash_session_id: SessionId, action: Annotated[str, Path(max_length=20)]
) -> Response:
    """Publish or cancel (confirmed first); a refusal (stock too low for a quota, no items, an
    illegal move) comes back as the page with its message, changing nothing."""
    values = await read_form(request)
    url = f"{LIST}{flash_session_id}"
    chosen = ACTIONS.get(action)
    reason = values.get("reason", "").strip()
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await social.get_flash_session(session, flash_session_id=flash_session_id)
            if chosen is None:
                return RedirectResponse(url, status_code=303)
            if values.get("confirmed") != "1":
                return confirm_page(
                    request,
                    auth,
                    title=chosen.label,
                    question=chosen.question,
                    action_url=f"{url}/{action}",
                    fields=[("reason", reason)] if action == "cancel" else [],
                    cancel_url=url,
                )
            if action == "publish":
                await social.publish_flash_session(
                    session, flash_session_id=flash_session_id, actor=auth.actor
                )
            else:
                data = social.CancelFlashSession.model_validate({"reason": reason}, context=TEXT_VALUES)
                await social.cancel_flash_session(
                    session, flash_session_id=flash_session_id, actor=auth.actor, reason=data.reason
                )
    except FORM_ERRORS as exc:
        if _passed_on(exc):
            raise
        # rolled back: the refusal changed nothing
        return await _detail(request, flash_session_id, problem=problem_of(request, exc))
    return RedirectResponse(f"{url}?notice={chosen.notice}", status_code=303)
