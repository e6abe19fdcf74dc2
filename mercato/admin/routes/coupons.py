"""The console's coupons (营销 › 优惠券): templates listed by status, created and edited (amount,
percent with a cap, free shipping; threshold, scope, quantity, per-customer limit, validity,
claim window, automatic issuance), published, paused, resumed and ended; the detail page with
the report (issued, used, orders, GMV, discount cost, return on discount, chart) and status
history; and the two long runs — generating redeemable codes (exported as CSV when done) and
issuing to customers from an uploaded list (ids, mobile numbers or emails) or a customer tag —
each followed on a progress page that htmx refreshes every second until the run is done.

Reading needs ``promotions.read``, changes ``promotions.write``; the domain audits every write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import identity, promotions
from mercato.admin.listing import Choice, Column, ListPage, ListQuery
from mercato.admin.routes._shared import (
    download,
    form_page,
    invalid,
    major_units,
    signed_in,
    staff_for,
    to_login,
)
from mercato.admin.routes.promotions_common import ACTIONS as ACTION_WORDS
from mercato.admin.routes.promotions_common import (
    CHANNELS,
    NOTICES,
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
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, parse_id, read_form, read_list, read_upload
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/coupons", include_in_schema=False)

LIST = "/admin/coupons/"
FORM_PAGE = "admin/coupons/form.html"
TemplateId = Annotated[int, Path(ge=1, le=2**63 - 1)]
RunId = Annotated[int, Path(ge=1, le=2**63 - 1)]
KINDS = {
    "amount": N_("Amount off"),
    "percent": N_("Percent off"),
    "free_shipping": N_("Free shipping"),
}
TRIGGERS = {
    "registration": N_("On registration (新人礼包)"),
    "first_order": N_("After the first paid order"),
    "invite_inviter": N_("To who invited a friend"),
    "invite_invitee": N_("To the invited friend"),
    "win_back": N_("Win-back: silent for 30 days"),
    "birthday": N_("Birthday month"),
    "repurchase": N_("After delivery (repurchase)"),
}
ACTIONS_BY_STATUS = {"draft": ("publish", "end"), "active": ("pause", "end"), "paused": ("resume", "end")}
ACTIONS = {
    "publish": promotions.publish_coupon_template,
    "pause": promotions.pause_coupon_template,
    "resume": promotions.resume_coupon_template,
    "end": promotions.end_coupon_template,
}
AMOUNTS = {"amount_off": "amount_off", "max_discount_amount": "max_discount", "min_spend_amount": "min_spend"}
TEXTS = (
    "name",
    "kind",
    "percent_off",
    "total_quantity",
    "per_customer_limit",
    "valid_days",
    "issue_on",
    "campaign_id",
)
TIMES = ("valid_from", "valid_until", "claim_starts_at", "claim_ends_at")
CHECKBOXES = ("claimable", "return_on_refund")
SCOPE_FIELDS = ("category_ids", "brand_ids", "product_ids", "exclude_product_ids")
#: Customer lists read from one upload (the most one run issues to).
MAX_LIST_ROWS = promotions.MAX_ISSUE_RUN


# -- the list ------------------------------------------------------------------------------------


async def _templates(session: AsyncSession, query: ListQuery, limit: int) -> tuple[Sequence[Any], str | None]:
    status = query.filters["status"]
    page = await promotions.list_coupon_templates(
        session,
        status=promotions.CouponTemplateStatus(status) if status else None,
        cursor=query.cursor,
        limit=limit,
    )
    return page.items, page.next_cursor


TEMPLATE_STATUSES = {key: STATUSES[key] for key in ("draft", "active", "paused", "ended")}
PAGE = ListPage(
    key="coupons",
    path=LIST,
    title=N_("Coupons"),
    permission=READ,
    columns=(
        Column("name", N_("Name"), lambda t: t.name, kind="link", link=lambda t: f"{LIST}{t.id}"),
        Column("kind", N_("Kind"), lambda t: t.kind.value, labels=KINDS),
        Column("status", N_("Status"), lambda t: t.status.value, labels=TEMPLATE_STATUSES),
        Column("issued", N_("Issued"), lambda t: t.issued_quantity, kind="number"),
        Column("total", N_("Total"), lambda t: t.total_quantity, kind="number"),
    ),
    fetch=_templates,
    filters=(Choice("status", N_("Status"), N_("Every status"), tuple(TEMPLATE_STATUSES.items())),),
    empty=N_("No coupons yet."),
    template="admin/coupons/list.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {
        "can_write": auth.staff.has(WRITE),
        "row_actions": ACTIONS_BY_STATUS,
        "action_words": ACTION_WORDS,
    }


PAGE.register(router, "/admin/coupons", context=_list_context, notices={**NOTICES, **REFUSALS})


# -- the form ------------------------------------------------------------------------------------


def _values_of(template: promotions.CouponTemplateRead) -> dict[str, Any]:
    currency = get_settings().currency
    scope = template.scope
    return {
        "name": template.name,
        "kind": template.kind.value,
        "amount_off": major_units(template.amount_off or None, currency),
        "percent_off": str(template.percent_off or ""),
        "max_discount": major_units(template.max_discount_amount, currency),
        "min_spend": major_units(template.min_spend_amount or None, currency),
        "total_quantity": str(template.total_quantity),
        "per_customer_limit": str(template.per_customer_limit),
        "valid_from": local_input(template.valid_from),
        "valid_until": local_input(template.valid_until),
        "valid_days": str(template.valid_days or ""),
        "claim_starts_at": local_input(template.claim_starts_at),
        "claim_ends_at": local_input(template.claim_ends_at),
        "claimable": template.claimable,
        "return_on_refund": template.return_on_refund,
        "issue_on": template.issue_on.value if template.issue_on else "",
        "campaign_id": str(template.campaign_id or ""),
        "channels": [c.value for c in template.channels],
        "scope_mode": "all" if scope.all_goods else "pick",
        **{name: ", ".join(str(i) for i in getattr(scope, name)) for name in SCOPE_FIELDS},
    }


def _field_of(loc: tuple[int | str, ...]) -> str:
    head = str(loc[0]) if loc else ""
    if head == "scope" and len(loc) > 1:
        return str(loc[1])
    return AMOUNTS.get(head, head)


def _read(
    request: Request, values: dict[str, str], channels: list[str]
) -> promotions.CouponTemplateWrite | FormProblem:
    """The posted template, or the problem with each message next to its field."""
    amount = AmountFields(request)
    data: dict[str, Any] = {name: values[name].strip() for name in TEXTS if values.get(name, "").strip()}
    for attribute, field in AMOUNTS.items():
        value = amount(values.get(field, ""), field)
        if value is not None:
            data[attribute] = value
    for name in TIMES:
        moment = parse_local(values.get(name, ""))
        if moment is not None:
            data[name] = moment
    for name in CHECKBOXES:
        data[name] = name in values
    picked = values.get("scope_mode") == "pick"
    data["scope"] = {
        "all_goods": not picked,
        **{
            name: split_ids(values.get(name, ""))
            for name in SCOPE_FIELDS
            if picked or name.startswith("exclude")
        },
    }
    data["channels"] = channels
    try:
        parsed = promotions.CouponTemplateWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        problem = refusal(request, exc, _field_of, rule_field="kind")
        return FormProblem(problem.status, problem.message, {**problem.fields, **amount.fields})
    if amount.fields:
        return invalid(request, amount.fields)
    return parsed


def _form(
    request: Request,
    auth: StaffSession,
    template: promotions.CouponTemplateRead | None,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(
        request,
        FORM_PAGE,
        problem,
        staff=auth.staff,
        coupon=template,
        values=shown,
        kinds=KINDS,
        triggers=TRIGGERS,
        channels=CHANNELS,
    )


def _shown(values: dict[str, str], channels: list[str]) -> dict[str, Any]:
    return {**values, **{name: name in values for name in CHECKBOXES}, "channels": channels}


async def _save(request: Request, template: promotions.CouponTemplateRead | None) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    channels = [c for c in await read_list(request, "channels") if c in CHANNELS]
    data = _read(request, values, channels)
    if isinstance(data, FormProblem):
        return _form(request, auth, template, _shown(values, channels), data)
    try:
        async with uow() as session:
            if template is None:
                saved = await promotions.create_coupon_template(session, data=data, actor=auth.actor)
            else:
                saved = await promotions.update_coupon_template(
                    session, template_id=template.id, data=data, actor=auth.actor
                )
    except FORM_ERRORS as exc:
        if isinstance(exc, promotions.CouponTemplateNotFound):
            raise
        problem = refusal(request, exc, _field_of, rule_field="kind")
        return _form(request, auth, template, _shown(values, channels), problem)
    notice = "created" if template is None else "updated"
    return RedirectResponse(f"{LIST}{saved.id}?notice={notice}", status_code=303)


@router.get("/new")
async def new_template(request: Request) -> Response:
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    values = {
        "kind": "amount",
        "per_customer_limit": "1",
        "claimable": True,
        "return_on_refund": True,
        "scope_mode": "all",
        "channels": [],
    }
    return _form(request, auth, None, values)


@router.post("/")
async def create_template(request: Request) -> Response:
    return await _save(request, None)


def _get(template_id: int) -> Callable[[AsyncSession], Awaitable[promotions.CouponTemplateRead]]:
    return lambda session: promotions.get_coupon_template(session, template_id=template_id)


@router.get("/{template_id}/edit")
async def edit_template(request: Request, template_id: TemplateId) -> Response:
    found = await staff_and(request, WRITE, _get(template_id))
    if found is None:
        return to_login(request)
    return _form(request, found[0], found[1], _values_of(found[1]))


@router.post("/{template_id}")
async def update_template(request: Request, template_id: TemplateId) -> Response:
    found = await staff_and(request, WRITE, _get(template_id))
    if found is None:
        return to_login(request)
    return await _save(request, found[1])


# -- the detail page and its runs ------------------------------------------------------------------


async def _detail(
    request: Request,
    template_id: int,
    *,
    status_code: int = 200,
    problem: FormProblem | None = None,
    **extra: Any,
) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        template = await promotions.get_coupon_template(session, template_id=template_id)
        report = await promotions.coupon_template_report(session, template_id=template_id)
        history = await promotions.list_status_changes(
            session, subject="coupon_template", subject_id=template_id
        )
        tags = await identity.list_tags(session) if auth.staff.has(WRITE) else []
    return render(
        request,
        "admin/coupons/detail.html",
        problem.status if problem else status_code,
        staff=auth.staff,
        coupon=template,
        kinds=KINDS,
        triggers=TRIGGERS,
        channels=CHANNELS,
        report=report,
        chart=chart_data(report, locale_of(request)) if report.daily else None,
        chart_names=chart_names(),
        history=history,
        statuses=STATUSES,
        tags=tags,
        can_write=auth.staff.has(WRITE),
        actions=allowed_actions(template.status.value, ACTIONS_BY_STATUS),
        problem=problem,
        values=extra.pop("values", {}),
        **page_notices(request),
        **extra,
    )


@router.get("/{template_id}")
async def template_detail(request: Request, template_id: TemplateId) -> Response:
    return await _detail(request, template_id)


@router.post("/{template_id}/codes")
async def generate_codes(request: Request, template_id: TemplateId) -> Response:
    """Start a batch of codes (a run), then follow it."""
    values = await read_form(request)
    try:
        data = promotions.CodeBatchCreate.model_validate(
            {"count": values.get("count", "").strip()}, context=TEXT_VALUES
        )
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            run = await promotions.start_code_batch(
                session, template_id=template_id, count=data.count, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, promotions.CouponTemplateNotFound):
            raise
        problem = refusal(request, exc, lambda loc: "count", rule_field="count")
        return await _detail(request, template_id, problem=problem, values=values)
    return RedirectResponse(f"{LIST}{template_id}/runs/{run.id}", status_code=303)


async def _customers_of(
    request: Request, session: AsyncSession, values: dict[str, str], locale: str
) -> list[int] | FormProblem:
    """The customers a posted list names (a CSV or XLSX file whose first column holds ids,
    mobile numbers or emails), or everyone carrying the chosen tag; or why not."""
    tag_id = parse_id(values.get("tag_id"))
    upload = await read_upload(request, "file")
    if tag_id is None and upload is None:
        return invalid(request, {"file": gettext("Choose a file or a customer tag.", locale)})
    ids: list[int] = []
    if tag_id is not None:
        cursor: str | None = None
        while len(ids) < MAX_LIST_ROWS:
            page = await identity.list_customers(session, tag_id=tag_id, cursor=cursor, limit=100)
            ids.extend(c.id for c in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        if not ids:
            return invalid(request, {"tag_id": gettext("No customer carries this tag.", locale)})
        return ids[:MAX_LIST_ROWS]
    assert upload is not None
    table = await tabular.read_upload(
        upload.data, filename=upload.filename, content_type=upload.content_type, max_rows=MAX_LIST_ROWS
    )
    first = table.header[0]
    unknown: list[str] = []
    for row in table.rows:
        term = row.get(first)
        if "@" in term or len(term.lstrip("+")) >= 11:
            matched = (await identity.match_customers(session, term=term)).customer_ids
            ids.extend(matched[:1])
            if not matched:
                unknown.append(term)
        elif (customer_id := parse_id(term)) is not None:
            ids.append(customer_id)
        elif term:
            unknown.append(term)
    if unknown:
        shown = ", ".join(unknown[:5])
        return invalid(
            request,
            {
                "file": gettext(
                    "{count} rows name no customer: {rows}", locale, count=len(unknown), rows=shown
                )
            },
        )
    return list(dict.fromkeys(ids))


@router.post("/{template_id}/issue")
async def issue_to_customers(request: Request, template_id: TemplateId) -> Response:
    """Issue one coupon to each customer of an uploaded list or a tag (a run), then follow it."""
    values = await read_form(request)
    locale = locale_of(request)
    try:
        async with uow(write=False) as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await promotions.get_coupon_template(session, template_id=template_id)
            customers = await _customers_of(request, session, values, locale)
        if isinstance(customers, FormProblem):
            return await _detail(request, template_id, problem=customers, values=values)
        async with uow() as session:
            run = await promotions.start_bulk_issue(
                session, template_id=template_id, customer_ids=customers, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, promotions.CouponTemplateNotFound):
            raise
        problem = refusal(request, exc, lambda loc: "file", rule_field="file")
        return await _detail(request, template_id, problem=problem, values=values)
    return RedirectResponse(f"{LIST}{template_id}/runs/{run.id}", status_code=303)


async def _run(request: Request, template_id: int, run_id: int) -> tuple[Any, Any, Any]:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return None, None, None
        template = await promotions.get_coupon_template(session, template_id=template_id)
        run = await promotions.get_issue_run(session, run_id=run_id)
    if run.template_id != template_id:
        raise promotions.IssueRunNotFound()
    return auth, template, run


@router.get("/{template_id}/runs/{run_id}")
async def run_page(request: Request, template_id: TemplateId, run_id: RunId) -> Response:
    """A run's progress; htmx asks again every second for the status part alone until it is done."""
    auth, template, run = await _run(request, template_id, run_id)
    if auth is None:
        return to_login(request)
    percent = 100 if run.total == 0 else min(100, run.done * 100 // run.total)
    partial = request.headers.get("hx-request") == "true"
    page = "admin/coupons/_run_status.html" if partial else "admin/coupons/run.html"
    return render(request, page, staff=auth.staff, coupon=template, run=run, percent=percent)


@router.get("/{template_id}/runs/{run_id}/codes.csv")
async def run_codes(request: Request, template_id: TemplateId, run_id: RunId) -> Response:
    """The codes of a finished batch as CSV."""
    auth, _template_read, run = await _run(request, template_id, run_id)
    if auth is None:
        return to_login(request)
    if run.kind != "codes":
        raise promotions.IssueRunNotFound()
    async with uow(write=False) as session:
        content = await promotions.export_codes(session, run_id=run_id)
    return download(content, "text/csv; charset=utf-8", f"coupon-codes-{run_id}.csv")


@router.post("/{template_id}/{action}")
async def template_action(
    request: Request, template_id: TemplateId, action: Annotated[str, Path(max_length=20)]
) -> Response:
    """Publish, pause, resume or end (confirmed first; an illegal move is refused, changing nothing)."""

    return await status_action(
        request,
        name=action,
        actions=ACTIONS,
        subject_id=template_id,
        id_name="template_id",
        get=_get(template_id),
        url=f"{LIST}{template_id}",
    )
