"""The console's group buying (营销 › 拼团): offers listed by status, each with its SKU, group
price against the SKU's own, group size, hours to fill and window; the form of a draft (its SKU by
code or id, the group price and the optional leader's price 团长价 in yuan, size, hours, 老带新,
groups per customer, 模拟成团, the window in shop time); and the detail page — the terms,
publish and end (each confirmed first), the live counts (groups forming, complete, failed,
abandoned; seated members; refunds and their amount) and the status history.

Every refusal comes back as the page with its message (next to its field on a form), nothing
saved; the domain audits every write. Reading needs ``promotions.read``, changes
``promotions.write``. No business rules here: ``mercato.social`` decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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

router = APIRouter(prefix="/admin/group-offers", include_in_schema=False)

LIST = "/admin/group-offers/"
FORM_PAGE = "admin/groups/form.html"
OfferId = Annotated[int, Path(ge=1, le=2**63 - 1)]
S = social.GroupOfferStatus

# After "Flash sales": the menu lists a group's items in the order their modules are imported.
navigation.add_item("marketing", navigation.NavItem(N_("Group buying"), LIST, READ))

STATUSES = {
    S.draft.value: N_("Draft"),
    S.active.value: N_("Active"),
    S.ended.value: N_("Ended"),
}
#: The status actions of an offer and which statuses allow them (its transition table).
ACTIONS = {
    "publish": Action(
        N_("Publish"),
        N_("Publish the offer? Shoppers can open groups on it within its window."),
        "published",
    ),
    "end": Action(
        N_("End the offer"),
        N_("End the offer? No new groups open; groups forming run to their own end. No undo."),
        "ended",
    ),
}
ACTIONS_BY_STATUS = {S.draft.value: ("publish", "end"), S.active.value: ("end",)}
NOTICES = {
    "created": N_("Saved as a draft: publish it when it is ready."),
    "updated": N_("Your changes were saved."),
    "published": N_("Published: shoppers can open groups on it."),
    "ended": N_("Ended: no new groups open."),
}
#: The form field a refusal of the domain is about.
_REFUSED_FIELDS: dict[type[Exception], str] = {
    social.EndsBeforeStart: "ends_at",
    social.GroupPriceNotBelow: "price",
}
_FIELDS = {"sku_id": "sku", "price_amount": "price", "leader_price_amount": "leader_price"}
_NUMBERS = ("size", "hours", "per_customer")
_FLAGS = ("new_joiners_only", "simulated")
#: A new offer's numbers: the domain's defaults.
_DEFAULTS = {name: str(social.GroupOfferWrite.model_fields[name].default) for name in _NUMBERS}


def _field_of(loc: tuple[int | str, ...]) -> str:
    """The form field a model location is about; the model's own rule (the leader's price at
    most the group price) goes next to the leader's price."""
    head = str(loc[0]) if loc else ""
    return _FIELDS.get(head, head) or "leader_price"


def _refused(request: Request, exc: Exception) -> FormProblem:
    """A refused form (validation or the domain's refusal) with its message next to its field."""
    if isinstance(exc, catalog.SkuNotFound):
        return invalid(request, {"sku": gettext("No SKU on sale has this code or id.", locale_of(request))})
    problem = refusal(request, exc, _field_of, rule_field="leader_price")
    field = next((name for kind, name in _REFUSED_FIELDS.items() if isinstance(exc, kind)), None)
    if field is None:
        return problem
    return FormProblem(problem.status, problem.message, {field: problem.message, **problem.fields})


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


# -- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferRow:
    """A row of the list: the offer and its SKU as catalog sells it now (None: gone)."""

    offer: social.GroupOfferRead
    sku: catalog.SellableSku | None

    @property
    def id(self) -> int:
        return self.offer.id


async def _offers(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    status = query.filters["status"]
    offers = await social.list_group_offers(session, status=S(status) if status else None)
    skus = await catalog.get_sellable_skus(session, sku_ids=sorted({o.sku_id for o in offers}))
    return [OfferRow(offer, skus.get(offer.sku_id)) for offer in offers], None


PAGE = ListPage(
    key="group-offers",
    path=LIST,
    title=N_("Group buying"),
    permission=READ,
    columns=(
        Column("name", N_("Offer"), lambda r: r.offer.name, kind="link", link=lambda r: f"{LIST}{r.id}"),
        Column("sku", N_("SKU"), lambda r: r.sku.code if r.sku else str(r.offer.sku_id)),
        Column("price", N_("Group price / list price"), lambda r: r.offer.price_amount),
        Column("size", N_("Group size"), lambda r: r.offer.size, kind="number"),
        Column("hours", N_("Hours to fill"), lambda r: r.offer.hours, kind="number"),
        Column("window", N_("Window"), lambda r: r.offer.starts_at),
        Column("status", N_("Status"), lambda r: r.offer.status.value, labels=STATUSES),
    ),
    fetch=_offers,
    filters=(Choice("status", N_("Status"), N_("Every status"), tuple(STATUSES.items())),),
    empty=N_("No group-buying offers yet."),
    template="admin/groups/list.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has(WRITE), "statuses": STATUSES}


PAGE.register(router, "/admin/group-offers", context=_list_context, notices=NOTICES)


# -- the form ------------------------------------------------------------------------------------


async def _values_of(session: AsyncSession, offer: social.GroupOfferRead) -> dict[str, Any]:
    """The draft's terms as its form shows them (amounts in yuan, times in shop time)."""
    currency = get_settings().currency
    label = (await catalog.get_sku_labels(session, sku_ids=[offer.sku_id])).get(offer.sku_id)
    return {
        "name": offer.name,
        "sku": label.code if label else str(offer.sku_id),
        "price": major_units(offer.price_amount, currency),
        "leader_price": major_units(offer.leader_price_amount, currency),
        **{name: str(getattr(offer, name)) for name in _NUMBERS},
        **{name: getattr(offer, name) for name in _FLAGS},
        "starts_at": local_input(offer.starts_at),
        "ends_at": local_input(offer.ends_at),
    }


async def _read(request: Request, values: dict[str, str]) -> social.GroupOfferWrite | FormProblem:
    """The posted offer (amounts in yuan, times in shop time, the SKU by code or id), or the
    problem by field."""
    amount = AmountFields(request)
    data: dict[str, Any] = {name: values[name].strip() for name in _NUMBERS if values.get(name, "").strip()}
    data.update({name: name in values for name in _FLAGS})
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
    for field, key in (("price", "price_amount"), ("leader_price", "leader_price_amount")):
        if (parsed_amount := amount(values.get(field, ""), field)) is not None:
            data[key] = parsed_amount
    for field in ("starts_at", "ends_at"):
        if (moment := parse_local(values.get(field, ""))) is not None:
            data[field] = moment
    try:
        parsed = social.GroupOfferWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        problem = _refused(request, exc)
        return FormProblem(problem.status, problem.message, {**problem.fields, **amount.fields})
    if amount.fields:
        return invalid(request, amount.fields)
    return parsed


def _form(
    request: Request,
    auth: StaffSession,
    offer: social.GroupOfferRead | None,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(request, FORM_PAGE, problem, staff=auth.staff, offer=offer, values=shown)


def _shown(values: dict[str, str]) -> dict[str, Any]:
    return {**values, **{name: name in values for name in _FLAGS}}


async def _save(request: Request, offer: social.GroupOfferRead | None) -> Response:
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
                saved = await social.create_group_offer(session, data=data, actor=auth.actor)
            else:
                saved = await social.update_group_offer(
                    session, offer_id=offer.id, data=data, actor=auth.actor
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, social.GroupOfferNotFound):
            raise
        return _form(request, auth, offer, _shown(values), _refused(request, exc))
    notice = "created" if offer is None else "updated"
    return RedirectResponse(f"{LIST}{saved.id}?notice={notice}", status_code=303)


@router.get("/new")
async def new_offer(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    return _form(request, auth, None, {**_DEFAULTS, **dict.fromkeys(_FLAGS, False)})


@router.post("/")
async def create_offer(request: Request) -> Response:
    return await _save(request, None)


@router.get("/{offer_id}/edit")
async def edit_offer(request: Request, offer_id: OfferId) -> Response:
    async def load(session: AsyncSession) -> tuple[social.GroupOfferRead, dict[str, Any]]:
        offer = await social.get_group_offer(session, offer_id=offer_id)
        return offer, await _values_of(session, offer)

    found = await staff_and(request, WRITE, load)
    if found is None:
        return to_login(request)
    auth, (offer, values) = found
    return _form(request, auth, offer, values)


@router.post("/{offer_id}")
async def update_offer(request: Request, offer_id: OfferId) -> Response:
    found = await staff_and(
        request, WRITE, lambda session: social.get_group_offer(session, offer_id=offer_id)
    )
    if found is None:
        return to_login(request)
    return await _save(request, found[1])


# -- the detail page -------------------------------------------------------------------------------


async def _detail(request: Request, offer_id: int, *, problem: FormProblem | None = None) -> Response:
    """The offer, its live counts once published and its history; ``problem``: a refused action
    shown on it (with its status)."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        offer = await social.get_group_offer(session, offer_id=offer_id)
        skus = await catalog.get_sellable_skus(session, sku_ids=[offer.sku_id])
        figures = (
            await social.group_offer_figures(session, offer_id=offer_id)
            if offer.status is not S.draft
            else None
        )
        history = await social.list_status_changes(session, subject="group_offer", subject_id=offer_id)
    return render(
        request,
        "admin/groups/detail.html",
        problem.status if problem else 200,
        staff=auth.staff,
        offer=offer,
        sku=skus.get(offer.sku_id),
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
    """Publish or end (confirmed first); a refusal (the end has passed, an illegal move) comes
    back as the page with its message, changing nothing."""
    values = await read_form(request)
    url = f"{LIST}{offer_id}"
    chosen = ACTIONS.get(action)
    reason = values.get("reason", "").strip()
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await social.get_group_offer(session, offer_id=offer_id)
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
                await social.publish_group_offer(session, offer_id=offer_id, actor=auth.actor)
            else:
                # The social domain's "end an offer, optional reason" input (it has no group-offer
                # twin): the reason's limits stay the domain's.
                data = social.EndBargainOffer.model_validate({"reason": reason}, context=TEXT_VALUES)
                await social.end_group_offer(session, offer_id=offer_id, actor=auth.actor, reason=data.reason)
    except FORM_ERRORS as exc:
        if isinstance(exc, social.GroupOfferNotFound | PermissionDenied):
            raise
        # rolled back: the refusal changed nothing
        return await _detail(request, offer_id, problem=problem_of(request, exc))
    return RedirectResponse(f"{url}?notice={chosen.notice}", status_code=303)
