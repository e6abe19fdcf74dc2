"""The console's campaigns (营销 › 活动: 618, 双11, 店庆): the list, a month calendar (each campaign
a bar across its days, the pre-heat drawn apart; previous and next month), the form (schedule
with pre-heat, budget, and the landing page's blocks: banners by image URL and product lists by
product ids or SKU codes), publish and end, and the detail page with the report (spent against
the budget) and status history.

Reading needs ``promotions.read``, changes ``promotions.write``; the domain audits every write.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, promotions
from mercato.admin.listing import Choice, Column, ListPage, ListQuery
from mercato.admin.routes._shared import form_page, invalid, major_units, signed_in, staff_for, to_login
from mercato.admin.routes.promotions_common import (
    NOTICES,
    PHASES,
    READ,
    REFUSALS,
    STATUSES,
    WRITE,
    AmountFields,
    allowed_actions,
    chart_data,
    chart_names,
    local_input,
    page_notices,
    parse_local,
    refusal,
    split_ids,
    staff_and,
    status_action,
)
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, parse_id, read_form
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/campaigns", include_in_schema=False)

LIST = "/admin/campaigns/"
FORM_PAGE = "admin/campaigns/form.html"
CampaignId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ACTIONS_BY_STATUS = {"draft": ("publish", "end"), "published": ("end",)}
ACTIONS = {"publish": promotions.publish_campaign, "end": promotions.end_campaign}
#: Landing-page rows the form offers (blank ones are ignored).
BANNER_ROWS = 3
PRODUCT_ROWS = 3
BANNER_FIELDS = ("image_url", "link", "alt")
PRODUCT_FIELDS = ("title", "products")


async def _campaigns(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    phase = query.filters["phase"]
    page = await promotions.list_campaigns(
        session, phase=promotions.Phase(phase) if phase else None, cursor=query.cursor, limit=limit
    )
    return page.items, page.next_cursor


PAGE = ListPage(
    key="campaigns",
    path=LIST,
    title=N_("Campaigns"),
    permission=READ,
    columns=(
        Column("name", N_("Name"), lambda c: c.name, kind="link", link=lambda c: f"{LIST}{c.id}"),
        Column("slug", N_("Address"), lambda c: c.slug, kind="code"),
        Column("phase", N_("Phase"), lambda c: c.phase.value, labels=PHASES),
        Column("window", N_("Window"), lambda c: c.starts_at),
        Column("budget", N_("Budget"), lambda c: c.budget_amount),
    ),
    fetch=_campaigns,
    filters=(Choice("phase", N_("Phase"), N_("Every phase"), tuple(PHASES.items())),),
    empty=N_("No campaigns yet."),
    template="admin/campaigns/list.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {"can_write": auth.staff.has(WRITE)}


PAGE.register(router, "/admin/campaigns", context=_list_context, notices={**NOTICES, **REFUSALS})


# -- the calendar ----------------------------------------------------------------------------------


def _local_day(value: dt.datetime, *, end: bool = False) -> dt.date:
    """The shop-time day of a moment (an end at midnight belongs to the day before)."""
    local = value.astimezone(get_settings().tz)
    return (local - dt.timedelta(microseconds=1)).date() if end else local.date()


def _bars(campaigns: Sequence[promotions.CampaignRead], days: list[dt.date]) -> list[dict[str, Any]]:
    """Each campaign's state on each day of the month: "", "preheat" or "running"."""
    bars = []
    for campaign in campaigns:
        start, last = _local_day(campaign.starts_at), _local_day(campaign.ends_at, end=True)
        preheat = _local_day(campaign.preheat_starts_at) if campaign.preheat_starts_at else start
        states = [
            "running" if start <= day <= last else "preheat" if preheat <= day < start else "" for day in days
        ]
        bars.append({"campaign": campaign, "states": states})
    return bars


@router.get("/calendar")
async def campaign_calendar(request: Request, month: Annotated[str, Query(max_length=7)] = "") -> Response:
    """The campaigns of a month (``YYYY-MM``; this month by default), each a bar across its days."""
    today = clock.now().astimezone(get_settings().tz).date()
    try:
        first = (
            dt.date(int(month[:4]), int(month[5:7]), 1)
            if len(month) == 7 and month[4] == "-"
            else today.replace(day=1)
        )
    except ValueError:
        first = today.replace(day=1)
    days = [first.replace(day=d) for d in range(1, calendar.monthrange(first.year, first.month)[1] + 1)]
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        campaigns = await promotions.campaign_calendar(session, start=days[0], end=days[-1])
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = days[-1] + dt.timedelta(days=1)
    return render(
        request,
        "admin/campaigns/calendar.html",
        staff=auth.staff,
        month_label=format_date(first, format="LLLL y", locale=locale_of(request)),
        days=days,
        today=today,
        bars=_bars(campaigns, days),
        previous=previous.strftime("%Y-%m"),
        following=following.strftime("%Y-%m"),
    )


# -- the form ------------------------------------------------------------------------------------


def _blank(count: int, names: Sequence[str]) -> list[dict[str, str]]:
    return [dict.fromkeys(names, "") for _ in range(count)]


def _values_of(campaign: promotions.CampaignRead) -> dict[str, Any]:
    banners = [
        {"image_url": b.image_url, "link": b.link, "alt": b.alt}
        for b in campaign.blocks
        if isinstance(b, promotions.BannerBlock)
    ]
    lists = [
        {"title": b.title, "products": ", ".join(str(i) for i in b.product_ids)}
        for b in campaign.blocks
        if isinstance(b, promotions.ProductsBlock)
    ]
    return {
        "name": campaign.name,
        "slug": campaign.slug,
        "description": campaign.description,
        "preheat_starts_at": local_input(campaign.preheat_starts_at),
        "starts_at": local_input(campaign.starts_at),
        "ends_at": local_input(campaign.ends_at),
        "budget": major_units(campaign.budget_amount, get_settings().currency),
        "banners": banners + _blank(max(1, BANNER_ROWS - len(banners)), BANNER_FIELDS),
        "lists": lists + _blank(max(1, PRODUCT_ROWS - len(lists)), PRODUCT_FIELDS),
    }


def _rows(
    values: dict[str, str], prefix: str, names: Sequence[str], limit: int
) -> list[tuple[int, dict[str, str]]]:
    """The posted rows (index, fields), blank ones left out."""
    rows = []
    for i in range(limit):
        typed = {name: values.get(f"{prefix}-{i}-{name}", "").strip() for name in names}
        if any(typed.values()):
            rows.append((i, typed))
    return rows


def _posted(values: dict[str, str]) -> dict[str, Any]:
    return {
        **values,
        "banners": [row for _i, row in _rows(values, "banner", BANNER_FIELDS, 30)]
        or _blank(BANNER_ROWS, BANNER_FIELDS),
        "lists": [row for _i, row in _rows(values, "list", PRODUCT_FIELDS, 30)]
        or _blank(PRODUCT_ROWS, PRODUCT_FIELDS),
    }


def _places(values: dict[str, str]) -> list[str]:
    """The form row of each landing block, in the order the blocks are posted."""
    return [f"banner-{i}" for i, _row in _rows(values, "banner", BANNER_FIELDS, 30)] + [
        f"list-{i}" for i, _row in _rows(values, "list", PRODUCT_FIELDS, 30)
    ]


def _field_mapper(places: list[str]) -> Callable[[tuple[int | str, ...]], str]:
    """The form field a campaign's model location is about (a block's: its row's field)."""

    def field_of(loc: tuple[int | str, ...]) -> str:
        if loc and loc[0] == "blocks" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(places):
            name = str(loc[3]) if len(loc) > 3 else "products"
            return f"{places[loc[1]]}-{'products' if name == 'product_ids' or name.isdigit() else name}"
        return {"budget_amount": "budget"}.get(str(loc[0]), str(loc[0])) if loc else ""

    return field_of


async def _read(request: Request, values: dict[str, str]) -> promotions.CampaignWrite | FormProblem:
    """The posted campaign (product lists' SKU codes turned into their products), or the problem
    with each message next to its field."""
    amount = AmountFields(request)
    locale = locale_of(request)
    banners = _rows(values, "banner", BANNER_FIELDS, 30)
    lists = _rows(values, "list", PRODUCT_FIELDS, 30)
    codes = {token for _i, row in lists for token in split_ids(row["products"]) if parse_id(token) is None}
    async with uow(write=False) as session:
        sku_ids = await catalog.get_sku_ids_by_code(session, codes=codes)
        labels = await catalog.get_sku_labels(session, sku_ids=set(sku_ids.values()))
    blocks: list[dict[str, Any]] = [{"kind": "banner", **row} for _i, row in banners]
    places = _places(values)
    for i, row in lists:
        product_ids: list[int | str] = []
        for token in split_ids(row["products"]):
            if (product_id := parse_id(token)) is not None:
                product_ids.append(product_id)
            elif token in sku_ids and sku_ids[token] in labels:
                product_ids.append(labels[sku_ids[token]].product_id)
            else:
                amount.fields.setdefault(
                    f"list-{i}-products", gettext("No SKU has the code {code}.", locale, code=token)
                )
        blocks.append(
            {"kind": "products", "title": row["title"], "product_ids": list(dict.fromkeys(product_ids))}
        )
        places.append(f"list-{i}")
    data: dict[str, Any] = {
        name: values[name].strip() for name in ("name", "slug", "description") if values.get(name, "").strip()
    }
    for name in ("preheat_starts_at", "starts_at", "ends_at"):
        if (value := parse_local(values.get(name, ""))) is not None:
            data[name] = value
    budget = amount(values.get("budget", ""), "budget")
    if budget is not None:
        data["budget_amount"] = budget
    data["blocks"] = blocks

    field_of = _field_mapper(places)

    try:
        parsed = promotions.CampaignWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        problem = refusal(request, exc, field_of, rule_field="blocks")
        return FormProblem(problem.status, problem.message, {**problem.fields, **amount.fields})
    if amount.fields:
        return invalid(request, amount.fields)
    return parsed


def _form(
    request: Request,
    auth: StaffSession,
    campaign: promotions.CampaignRead | None,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(request, FORM_PAGE, problem, staff=auth.staff, campaign=campaign, values=shown)


async def _save(request: Request, campaign: promotions.CampaignRead | None) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    data = await _read(request, values)
    if isinstance(data, FormProblem):
        return _form(request, auth, campaign, _posted(values), data)
    try:
        async with uow() as session:
            if campaign is None:
                saved = await promotions.create_campaign(session, data=data, actor=auth.actor)
            else:
                saved = await promotions.update_campaign(
                    session, campaign_id=campaign.id, data=data, actor=auth.actor
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, promotions.CampaignNotFound):
            raise
        problem = refusal(request, exc, _field_mapper(_places(values)), rule_field="blocks")
        return _form(request, auth, campaign, _posted(values), problem)
    notice = "created" if campaign is None else "updated"
    return RedirectResponse(f"{LIST}{saved.id}?notice={notice}", status_code=303)


@router.get("/new")
async def new_campaign(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    values = {"banners": _blank(BANNER_ROWS, BANNER_FIELDS), "lists": _blank(PRODUCT_ROWS, PRODUCT_FIELDS)}
    return _form(request, auth, None, values)


@router.post("/")
async def create_campaign(request: Request) -> Response:
    return await _save(request, None)


def _get(campaign_id: int) -> Callable[[AsyncSession], Awaitable[promotions.CampaignRead]]:
    return lambda session: promotions.get_campaign(session, campaign_id=campaign_id)


@router.get("/{campaign_id}/edit")
async def edit_campaign(request: Request, campaign_id: CampaignId) -> Response:
    found = await staff_and(request, WRITE, _get(campaign_id))
    if found is None:
        return to_login(request)
    return _form(request, found[0], found[1], _values_of(found[1]))


@router.post("/{campaign_id}")
async def update_campaign(request: Request, campaign_id: CampaignId) -> Response:
    found = await staff_and(request, WRITE, _get(campaign_id))
    if found is None:
        return to_login(request)
    return await _save(request, found[1])


@router.get("/{campaign_id}")
async def campaign_detail(request: Request, campaign_id: CampaignId) -> Response:
    """The campaign's schedule and landing page, its report (spent against the budget) and history."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        campaign = await promotions.get_campaign(session, campaign_id=campaign_id)
        report = await promotions.campaign_report(session, campaign_id=campaign_id)
        history = await promotions.list_status_changes(session, subject="campaign", subject_id=campaign_id)
    return render(
        request,
        "admin/campaigns/detail.html",
        staff=auth.staff,
        campaign=campaign,
        report=report,
        chart=chart_data(report, locale_of(request)) if report.daily else None,
        chart_names=chart_names(),
        history=history,
        statuses=STATUSES,
        phases=PHASES,
        can_write=auth.staff.has(WRITE),
        actions=allowed_actions(campaign.status.value, ACTIONS_BY_STATUS),
        **page_notices(request),
    )


@router.post("/{campaign_id}/{action}")
async def campaign_action(
    request: Request, campaign_id: CampaignId, action: Annotated[str, Path(max_length=20)]
) -> Response:
    """Publish or end (confirmed first; an illegal move is refused, changing nothing)."""

    return await status_action(
        request,
        name=action,
        actions=ACTIONS,
        subject_id=campaign_id,
        id_name="campaign_id",
        get=_get(campaign_id),
        url=f"{LIST}{campaign_id}",
    )
