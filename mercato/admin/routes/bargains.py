"""The console's bargaining (营销 › 砍价): offers listed by status; the form of a draft (its SKU by
code or id, the starting price in yuan (the SKU's own when blank), the floor, the helps needed as
a range, each bargain's time limit, the units the offer may sell, the bargains per customer, new
helpers only, the window in shop time); and the detail page — the offer, publish and end (each
confirmed first), the live counts (bargains started, at the floor, ordered, bought, expired,
helps, units sold) and the status history.

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
    major_units,
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
from mercato.core.db import uow
from mercato.core.errors import PermissionDenied
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, parse_id, read_form
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/bargain-offers", include_in_schema=False)

LIST = "/admin/bargain-offers/"
FORM_PAGE = "admin/bargains/form.html"
OfferId = Annotated[int, Path(ge=1, le=2**63 - 1)]
S = social.BargainOfferStatus

navigation.add_item("marketing", navigation.NavItem(N_("Bargaining"), LIST, READ))

STATUSES = {
    S.draft.value: N_("Draft"),
    S.active.value: N_("Active"),
    S.ended.value: N_("Ended"),
}
#: The status actions of an offer and which statuses allow them (its transition table).
ACTIONS = {
    "publish": Action(
        N_("Publish"),
        N_("Publish the offer? Shoppers can start bargains on it within its window."),
        "published",
    ),
    "end": Action(
        N_("End the offer"),
        N_("End the offer? No new bargains start; running ones keep their time limit. No undo."),
        "ended",
    ),
}
ACTIONS_BY_STATUS = {S.draft.value: ("publish", "end"), S.active.value: ("end",)}
NOTICES = {
    "created": N_("Saved as a draft: publish it when it is ready."),
    "updated": N_("Your changes were saved."),
    "published": N_("Published: shoppers can start bargains on it."),
    "ended": N_("Ended: no new bargains start."),
}
#: The form field a refusal of the domain is about.
_REFUSED_FIELDS: dict[type[Exception], str] = {
    social.EndsBeforeStart: "ends_at",
    social.BargainFloorNotBelow: "floor",
    social.BargainPriceAboveList: "price",
    social.BargainCutsTooSmall: "helps_max",
    catalog.SkuNotFound: "sku",
}
_FIELDS = {"sku_id": "sku", "price_amount": "price", "floor_amount": "floor"}
_NUMBERS = ("helps_min", "helps_max", "hours", "stock", "per_customer")


def _field_of(loc: tuple[int | str, ...]) -> str:
    head = str(loc[0]) if loc else ""
    return _FIELDS.get(head, head) or "helps_max"  # the model's own rule: the helps' range


def _refused(request: Request, exc: Exception) -> FormProblem:
    """A refused form (validation or the domain's refusal) with its message next to its field."""
    if isinstance(exc, catalog.SkuNotFound):
        message = gettext("No SKU on sale has this code or id.", locale_of(request))
        return FormProblem(422, gettext("Some fields are not valid.", locale_of(request)), {"sku": message})
    problem = refusal(request, exc, _field_of, rule_field="helps_max")
    field = next((name for kind, name in _REFUSED_FIELDS.items() if isinstance(exc, kind)), None)
    if field is None:
        return problem
    return FormProblem(problem.status, problem.message, {field: problem.message, **problem.fields})


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


# -- the list ------------------------------------------------------------------------------------


async def _offers(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    status = query.filters["status"]
    return await social.list_all_bargain_offers(session, status=S(status) if status else None), None


PAGE = ListPage(
    key="bargain-offers",
    path=LIST,
    title=N_("Bargaining"),
    permission=READ,
    columns=(
        Column("name", N_("Offer"), lambda o: o.name, kind="link", link=lambda o: f"{LIST}{o.id}"),
        Column("window", N_("Window"), lambda o: o.starts_at),
        Column("status", N_("Status"), lambda o: o.status.value, labels=STATUSES),
        Column("stock", N_("Stock"), lambda o: o.stock, kind="number"),
        Column("sold", N_("Sold"), lambda o: o.sold, kind="number"),
    ),
    fetch=_offers,
    filters=(Choice("status", N_("Status"), N_("Every status"), tuple(STATUSES.items())),),
    empty=N_("No bargaining offers yet."),
    template="admin/bargains/list.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has(WRITE), "statuses": STATUSES}


PAGE.register(router, "/admin/bargain-offers", context=_list_context, notices=NOTICES)


# -- the form ------------------------------------------------------------------------------------


async def _values_of(offer: social.BargainOfferRead) -> dict[str, Any]:
    currency = get_settings().currency
    async with uow(write=False) as session:
        labels = await catalog.get_sku_labels(session, sku_ids=[offer.sku_id])
    label = labels.get(offer.sku_id)
    return {
        "name": offer.name,
        "sku": label.code if label else str(offer.sku_id),
        "price": major_units(offer.price_amount, currency),
        "floor": major_units(offer.floor_amount, currency),
        **{name: str(getattr(offer, name)) for name in _NUMBERS},
        "new_helpers_only": offer.new_helpers_only,
        "starts_at": local_input(offer.starts_at),
        "ends_at": local_input(offer.ends_at),
    }


async def _read(request: Request, values: dict[str, str]) -> social.BargainOfferWrite | FormProblem:
    """The posted offer (amounts in yuan, times in shop time, the SKU by code or id), or the
    problem by field."""
    amount = AmountFields(request)
    data: dict[str, Any] = {name: values[name].strip() for name in _NUMBERS if values.get(name, "").strip()}
    data["new_helpers_only"] = "new_helpers_only" in values
    if name := values.get("name", "").strip():
        data["name"] = name
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
    if (floor := amount(values.get("floor", ""), "floor")) is not None:
        data["floor_amount"] = floor
    for field in ("starts_at", "ends_at"):
        if (moment := parse_local(values.get(field, ""))) is not None:
            data[field] = moment
    try:
        parsed = social.BargainOfferWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        problem = _refused(request, exc)
        return FormProblem(problem.status, problem.message, {**problem.fields, **amount.fields})
    if amount.fields:
        locale = locale_of(request)
        return FormProblem(422, gettext("Some fields are not valid.", locale), amount.fields)
    return parsed


def _form(
    request: Request,
    auth: StaffSession,
    offer: social.BargainOfferRead | None,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(request, FORM_PAGE, problem, staff=auth.staff, offer=offer, values=shown)


def _shown(values: dict[str, str]) -> dict[str, Any]:
    return {**values, "new_helpers_only": "new_helpers_only" in values}


async def _save(request: Request, offer: social.BargainOfferRead | None) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    data = await _read(request, values)
    if isinstance(data, FormProblem):
        return _form(request, auth, offer, _shown(values), data)
    try:
        async with uow() as session:
            if offer is None:
                saved = await social.create_bargain_offer(session, data=data, actor=auth.actor)
            else:
                saved = await social.update_bargain_offer(
                    session, offer_id=offer.id, data=data, actor=auth.actor
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, social.BargainOfferNotFound):
            raise
        return _form(request, auth, offer, _shown(values), _refused(request, exc))
    notice = "created" if offer is None else "updated"
    return RedirectResponse(f"{LIST}{saved.id}?notice={notice}", status_code=303)


@router.get("/new")
async def new_offer(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    defaults = {"hours": "24", "per_customer": "1", "helps_min": "5", "helps_max": "10"}
    return _form(request, auth, None, {**defaults, "new_helpers_only": False})


@router.post("/")
async def create_offer(request: Request) -> Response:
    return await _save(request, None)


@router.get("/{offer_id}/edit")
async def edit_offer(request: Request, offer_id: OfferId) -> Response:
    found = await staff_and(
        request, WRITE, lambda session: social.get_bargain_offer(session, offer_id=offer_id)
    )
    if found is None:
        return to_login(request)
    return _form(request, found[0], found[1], await _values_of(found[1]))


@router.post("/{offer_id}")
async def update_offer(request: Request, offer_id: OfferId) -> Response:
    found = await staff_and(
        request, WRITE, lambda session: social.get_bargain_offer(session, offer_id=offer_id)
    )
    if found is None:
        return to_login(request)
    return await _save(request, found[1])


# -- the detail page -------------------------------------------------------------------------------


async def _detail(request: Request, offer_id: int, *, problem: FormProblem | None = None) -> Response:
    """The offer, its live counts and its history; ``problem``: a refused action shown on it."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        offer = await social.get_bargain_offer(session, offer_id=offer_id)
        skus = await catalog.get_sellable_skus(session, sku_ids=[offer.sku_id])
        labels = await catalog.get_sku_labels(session, sku_ids=[offer.sku_id])
        figures = await social.bargain_offer_figures(session, offer_id=offer_id)
        history = await social.list_status_changes(session, subject="bargain_offer", subject_id=offer_id)
    return render(
        request,
        "admin/bargains/detail.html",
        problem.status if problem else 200,
        staff=auth.staff,
        offer=offer,
        sku=skus.get(offer.sku_id),
        label=labels.get(offer.sku_id),
        statuses=STATUSES,
        figures=figures,
        history=history,
        can_write=auth.staff.has(WRITE),
        actions=[(name, ACTIONS[name]) for name in ACTIONS_BY_STATUS.get(offer.status.value, ())],
        problem=problem,
        notice=_notice(request),
    )


@router.get("/{offer_id}")
async def offer_detail(request: Request, offer_id: OfferId) -> Response:
    return await _detail(request, offer_id)


@router.post("/{offer_id}/{action}")
async def offer_action(
    request: Request, offer_id: OfferId, action: Annotated[str, Path(max_length=20)]
) -> Response:
    """Publish or end (confirmed first); a refusal (the end has passed, the SKU is off sale, an
    illegal move) comes back as the page with its message, changing nothing."""
    values = await read_form(request)
    url = f"{LIST}{offer_id}"
    chosen = ACTIONS.get(action)
    reason = values.get("reason", "").strip()
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await social.get_bargain_offer(session, offer_id=offer_id)
            if chosen is None:
                return RedirectResponse(url, status_code=303)
            if values.get("confirmed") != "1":
                return confirm_page(
                    request,
                    auth,
                    title=chosen.label,
                    question=chosen.question,
                    action_url=f"{url}/{action}",
                    fields=[("reason", reason)] if action == "end" else [],
                    cancel_url=url,
                )
            if action == "publish":
                await social.publish_bargain_offer(session, offer_id=offer_id, actor=auth.actor)
            else:
                data = social.EndBargainOffer.model_validate({"reason": reason}, context=TEXT_VALUES)
                await social.end_bargain_offer(
                    session, offer_id=offer_id, actor=auth.actor, reason=data.reason
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, social.BargainOfferNotFound | PermissionDenied):
            raise
        # rolled back: the refusal changed nothing
        return await _detail(request, offer_id, problem=problem_of(request, exc))
    return RedirectResponse(f"{url}?notice={chosen.notice}", status_code=303)
