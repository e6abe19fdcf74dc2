"""The console's shipping templates (运费模板): the list, a new template and editing one
(settings.manage, as the API).

A template is a name, an express surcharge, whether it is the shop's default (the one checkout
prices with) and its rules: each rule names provinces (or ``*`` for everywhere else), charges by
pieces or by weight, a first fee for the first units and an additional fee per further step, and
may ship free over a goods total. Fees are typed in yuan and converted exactly (``parse_amount``).
The form shows the template's rules plus blank rows to add more; a row left blank is ignored.
Every refusal comes back as the form with the message next to its field, nothing saved;
``pricing`` audits the writes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from mercato import pricing
from mercato.admin.routes._shared import (
    AmountInvalid,
    form_page,
    invalid,
    major_units,
    notice_of,
    parse_amount,
    problem_of,
    signed_in,
    staff_for,
    to_login,
)
from mercato.core.db import uow
from mercato.core.i18n import gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, read_form
from mercato.web.problems import field_message
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/shipping", include_in_schema=False)

MANAGE = "settings.manage"
LIST = "/admin/shipping/"
FORM_PAGE = "admin/shipping/form.html"
#: Blank rule rows offered below a template's rules (more can be added after saving).
BLANK_ROWS = 2
#: Rows read from a post: the most rules a template holds, plus the blank rows.
MAX_ROWS = 50 + BLANK_ROWS
RULE_FIELDS = (
    "regions",
    "basis",
    "first_units",
    "first_fee",
    "additional_units",
    "additional_fee",
    "free_over",
)
#: Typed amount fields and the rule attribute each one fills.
AMOUNTS = {
    "first_fee": "first_fee_amount",
    "additional_fee": "additional_fee_amount",
    "free_over": "free_over_amount",
}
NOTICES = frozenset({"created", "updated"})
TemplateId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_REGION_SPLIT = re.compile(r"[\s,，、;；]+")


def _rule_values(rule: pricing.ShippingRule, currency: str) -> dict[str, str]:
    return {
        "regions": "、".join(rule.regions),
        "basis": str(rule.basis),
        "first_units": str(rule.first_units),
        "first_fee": major_units(rule.first_fee_amount, currency),
        "additional_units": str(rule.additional_units),
        "additional_fee": major_units(rule.additional_fee_amount, currency),
        "free_over": major_units(rule.free_over_amount, currency),
    }


def _blank_rule() -> dict[str, str]:
    return dict.fromkeys(RULE_FIELDS, "") | {"basis": str(pricing.ShippingBasis.pieces)}


def _template_values(template: pricing.ShippingTemplateRead) -> dict[str, Any]:
    """A template as the text of its form: rules and blank rows, fees in yuan."""
    return {
        "name": template.name,
        "express_surcharge": major_units(template.express_surcharge_amount, template.currency),
        "is_default": template.is_default,
        "rules": [_rule_values(rule, template.currency) for rule in template.rules]
        + [_blank_rule() for _ in range(BLANK_ROWS)],
    }


def _posted_values(values: dict[str, str]) -> dict[str, Any]:
    """What was posted, as the form shows it again (the rows as posted, blank ones kept)."""
    rows = [
        {name: values.get(f"rule-{i}-{name}", "") for name in RULE_FIELDS}
        for i in range(MAX_ROWS)
        if f"rule-{i}-regions" in values
    ]
    return {
        "name": values.get("name", ""),
        "express_surcharge": values.get("express_surcharge", ""),
        "is_default": "is_default" in values,
        "rules": rows,
    }


def _amount(text: str, field: str, currency: str, fields: dict[str, str], locale: str) -> int | None:
    """Minor units of a typed amount (None: blank or refused, the message put in ``fields``)."""
    if not text.strip():
        return None
    try:
        return parse_amount(text, currency)
    except AmountInvalid as exc:
        fields[field] = gettext(exc.message, locale, **exc.params)
        return None


def _template_input(request: Request, values: dict[str, str]) -> pricing.ShippingTemplateWrite | FormProblem:
    """The posted template, or the problem with each message next to its field (``rule-<row>-<field>``)."""
    locale = locale_of(request)
    currency = get_settings().currency
    fields: dict[str, str] = {}
    rows: list[int] = []
    rules: list[dict[str, Any]] = []
    for i in range(MAX_ROWS):
        typed = {name: values.get(f"rule-{i}-{name}", "").strip() for name in RULE_FIELDS}
        if not any(typed[name] for name in RULE_FIELDS if name != "basis"):
            continue
        rule: dict[str, Any] = {"regions": [part for part in _REGION_SPLIT.split(typed["regions"]) if part]}
        if typed["basis"]:
            rule["basis"] = typed["basis"]
        for name in ("first_units", "additional_units"):
            if typed[name]:
                rule[name] = typed[name]
        for name, attribute in AMOUNTS.items():
            amount = _amount(typed[name], f"rule-{i}-{name}", currency, fields, locale)
            if amount is not None:
                rule[attribute] = amount
        rows.append(i)
        rules.append(rule)
    data: dict[str, Any] = {"rules": rules, "is_default": "is_default" in values}
    if values.get("name", "").strip():
        data["name"] = values["name"].strip()
    surcharge = _amount(values.get("express_surcharge", ""), "express_surcharge", currency, fields, locale)
    if surcharge is not None:
        data["express_surcharge_amount"] = surcharge
    try:
        parsed = pricing.ShippingTemplateWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        for error in exc.errors():
            fields.setdefault(_field_of(error["loc"], rows), field_message(error, locale))
        return invalid(request, fields)
    return invalid(request, fields) if fields else parsed


def _field_of(loc: tuple[int | str, ...], rows: list[int]) -> str:
    """The form field a validation error is about."""
    if loc and loc[0] == "rules" and len(loc) >= 3 and isinstance(loc[1], int):
        name = str(loc[2])
        typed = {attribute: field for field, attribute in AMOUNTS.items()}.get(name, name)
        return f"rule-{rows[loc[1]]}-{typed}"
    if loc and loc[0] == "rules":
        return "rules"
    if loc and loc[0] == "express_surcharge_amount":
        return "express_surcharge"
    return str(loc[0]) if loc else ""


def _form(
    request: Request,
    auth: StaffSession,
    template: pricing.ShippingTemplateRead | None,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    """The template form (new when ``template`` is None) showing ``shown``, with ``problem``."""
    return form_page(
        request,
        FORM_PAGE,
        problem,
        staff=auth.staff,
        shipping_template=template,
        values=shown,
        bases=list(pricing.ShippingBasis),
    )


def _form_again(
    request: Request,
    auth: StaffSession,
    template: pricing.ShippingTemplateRead | None,
    values: dict[str, str],
    problem: FormProblem,
) -> Response:
    """The form again with what was posted and why it was refused."""
    return _form(request, auth, template, _posted_values(values), problem)


def _refused(request: Request, exc: Exception) -> FormProblem:
    """A refusal of the service, its message next to the field it is about."""
    problem = problem_of(request, exc)
    if isinstance(exc, pricing.ShippingTemplateNameTaken):
        return FormProblem(problem.status, problem.message, {"name": problem.message})
    if isinstance(exc, pricing.ShippingRulesInvalid):
        return FormProblem(problem.status, problem.message, {"rules": problem.message})
    return problem


@router.get("/")
async def template_list(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        templates = await pricing.list_shipping_templates(session)
    return render(
        request,
        "admin/shipping/list.html",
        staff=auth.staff,
        templates=templates,
        notice=notice_of(request, NOTICES),
    )


@router.get("/new")
async def new_template(request: Request) -> Response:
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    first = _blank_rule() | {"regions": "*"}
    values = {"name": "", "express_surcharge": "", "is_default": False, "rules": [first, _blank_rule()]}
    return _form(request, auth, None, values)


@router.post("/")
async def create_template(request: Request) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, MANAGE)
    if auth is None:
        return to_login(request)
    data = _template_input(request, values)
    if isinstance(data, FormProblem):
        return _form_again(request, auth, None, values, data)
    try:
        async with uow() as session:
            await pricing.create_shipping_template(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        return _form_again(request, auth, None, values, _refused(request, exc))
    return RedirectResponse(f"{LIST}?notice=created", status_code=303)


@router.get("/{template_id}/edit")
async def edit_template(request: Request, template_id: TemplateId) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        template = await pricing.get_shipping_template(session, template_id=template_id)
    return _form(request, auth, template, _template_values(template))


@router.post("/{template_id}")
async def update_template(request: Request, template_id: TemplateId) -> Response:
    values = await read_form(request)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, MANAGE)
        if auth is None:
            return to_login(request)
        template = await pricing.get_shipping_template(session, template_id=template_id)
    data = _template_input(request, values)
    if isinstance(data, FormProblem):
        return _form_again(request, auth, template, values, data)
    try:
        async with uow() as session:
            await pricing.update_shipping_template(
                session, template_id=template_id, data=data, actor=auth.actor
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, pricing.ShippingTemplateNotFound):
            raise
        return _form_again(request, auth, template, values, _refused(request, exc))
    return RedirectResponse(f"{LIST}?notice=updated", status_code=303)
