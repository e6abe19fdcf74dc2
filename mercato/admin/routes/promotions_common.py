"""What the console's marketing pages share (promotions, coupons, campaigns): the menu entries,
the words for phases and statuses, the shop-time window fields, a report's chart data, the
status actions (publish, pause, resume, end: confirmed first, then done through the domain,
which audits them) and the form's refusals put next to their fields.

Reading needs ``promotions.read``, every change ``promotions.write``. No business rules here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from babel.dates import format_date
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mercato import promotions
from mercato.admin import navigation
from mercato.admin.listing import confirm_page
from mercato.admin.routes._shared import AmountInvalid, invalid, parse_amount, problem_of, staff_for, to_login
from mercato.core.db import uow
from mercato.core.errors import IllegalTransition
from mercato.core.i18n import N_, gettext
from mercato.core.money import Money, exponent
from mercato.core.settings import get_settings
from mercato.web.forms import FormProblem, locale_of, read_form
from mercato.web.problems import field_message
from mercato.web.session import StaffSession

READ, WRITE = "promotions.read", "promotions.write"

navigation.add_item("marketing", navigation.NavItem(N_("Promotions"), "/admin/promotions/", READ))
navigation.add_item("marketing", navigation.NavItem(N_("Coupons"), "/admin/coupons/", READ))
navigation.add_item("marketing", navigation.NavItem(N_("Campaigns"), "/admin/campaigns/", READ))

PHASES = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "preheat": N_("Pre-heat"),
    "running": N_("Running"),
    "paused": N_("Paused"),
    "ended": N_("Ended"),
}
#: Statuses of templates, campaigns and the history (a superset of each status enum).
STATUSES = {
    "draft": N_("Draft"),
    "active": N_("Active"),
    "paused": N_("Paused"),
    "ended": N_("Ended"),
    "published": N_("Published"),
}
CHANNELS = {"web": N_("Computer"), "h5": N_("Phone browser"), "wechat": N_("WeChat"), "app": N_("App")}
_ID_SPLIT = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class Action:
    """A status action of a detail page: its label and question (msgids) and the notice after."""

    label: str
    question: str
    notice: str


ACTIONS = {
    "publish": Action(N_("Publish"), N_("Publish it? It takes effect in its window."), "published"),
    "pause": Action(N_("Pause"), N_("Pause it? Shoppers stop getting it until it is resumed."), "paused"),
    "resume": Action(N_("Resume"), N_("Resume it?"), "resumed"),
    "end": Action(N_("End"), N_("End it now? This cannot be undone."), "ended"),
}
NOTICES = {
    "created": N_("Saved as a draft: publish it when it is ready."),
    "updated": N_("Your changes were saved."),
    "published": N_("Published."),
    "paused": N_("Paused."),
    "resumed": N_("Resumed."),
    "ended": N_("Ended."),
}


def local_input(value: dt.datetime | None) -> str:
    """A ``datetime-local`` input value in the shop's time zone."""
    return value.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_local(text: str) -> dt.datetime | str | None:
    """An aware datetime of a ``datetime-local`` value typed in shop time (None: blank; the text
    itself when it is not a time, for the model to refuse)."""
    value = text.strip()
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=get_settings().tz)
    except ValueError:
        return value


def split_ids(text: str) -> list[str]:
    """The ids or codes typed in one field, split on spaces, commas and semicolons."""
    return [part for part in _ID_SPLIT.split(text.strip()) if part]


class AmountFields:
    """Amounts typed in yuan, converted exactly; a refused one's message kept by field."""

    def __init__(self, request: Request) -> None:
        self.locale = locale_of(request)
        self.currency = get_settings().currency
        self.fields: dict[str, str] = {}

    def __call__(self, text: str, field: str) -> int | None:
        if not text.strip():
            return None
        try:
            return parse_amount(text, self.currency)
        except AmountInvalid as exc:
            self.fields[field] = gettext(exc.message, self.locale, **exc.params)
            return None


def refusal(
    request: Request, exc: Exception, field_of: Callable[[tuple[int | str, ...]], str], *, rule_field: str
) -> FormProblem:
    """A refused form (a validation error or the service's refusal) with each message next to
    its field: ``field_of`` maps the model's location to the field; the window's refusal goes
    next to its end, a rule's refusal without a location next to ``rule_field``."""
    locale = locale_of(request)
    if isinstance(exc, ValidationError):
        fields: dict[str, str] = {}
        for error in exc.errors():
            fields.setdefault(field_of(tuple(error["loc"])), field_message(error, locale))
        return invalid(request, fields)
    problem = problem_of(request, exc)
    fields = {
        field_of(tuple(item.loc[1:] if item.loc[:1] == ("body",) else item.loc)): gettext(
            item.message, locale
        )
        for item in getattr(exc, "fields", [])
    }
    if isinstance(exc, promotions.EndsBeforeStart):
        fields.setdefault("ends_at", problem.message)
    elif isinstance(exc, promotions.InvalidRule) and not fields:
        fields[rule_field] = problem.message
    elif isinstance(exc, promotions.PreheatNotBeforeStart):
        fields.setdefault("preheat_starts_at", problem.message)
    elif isinstance(exc, promotions.CampaignSlugTaken):
        fields["slug"] = problem.message
    elif isinstance(exc, promotions.CampaignNotFound):
        fields["campaign_id"] = problem.message
    return FormProblem(problem.status, problem.message, fields, problem.retry_after)


def chart_data(report: promotions.PromotionReport, locale: str) -> dict[str, Any]:
    """What the dashboard's chart script draws (``dashboard.js``): per day the orders and the
    discount cost (as its "gmv" series), with the formatted amount for the tooltip."""
    currency = get_settings().currency
    return {
        "labels": [format_date(d.day, format="MMM d", locale=locale) for d in report.daily],
        "orders": [d.orders for d in report.daily],
        "gmv": [d.discount_amount for d in report.daily],
        "gmv_text": [Money(d.discount_amount, currency).format(locale) for d in report.daily],
        "scale": 10 ** exponent(currency),
    }


def chart_names() -> dict[str, str]:
    """The chart's series names (msgids, translated by the template)."""
    return {"orders": N_("Orders"), "gmv": N_("Discount cost")}


Act = Callable[..., Awaitable[Any]]
T = TypeVar("T")


async def staff_and(
    request: Request, permission: str, load: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[StaffSession, T] | None:
    """The signed-in staff member holding ``permission`` and what ``load`` reads, in one reading
    unit of work (None: not signed in).

    Raises:
        MissingPermission (403 page); what ``load`` raises (a NotFound: the 404 page).
    """
    async with uow(write=False) as session:
        auth = await staff_for(request, session, permission)
        if auth is None:
            return None
        return auth, await load(session)


async def status_action(
    request: Request,
    *,
    name: str,
    actions: Mapping[str, Act],
    subject_id: int,
    id_name: str,
    get: Callable[[AsyncSession], Awaitable[Any]],
    url: str,
) -> Response:
    """A status action posted from a detail page: the confirm page first (no ``confirmed``, which
    changes nothing), then the domain's action (audited by it); back to the page with a notice,
    or with the refusal (an illegal move) as its notice.

    Raises:
        MissingPermission (403 page); the subject's NotFound (404 page).
    """
    values = await read_form(request)
    act = actions.get(name)
    try:
        async with uow() as session:
            auth = await staff_for(request, session, WRITE)
            if auth is None:
                return to_login(request)
            await get(session)
            if act is None:
                return RedirectResponse(url, status_code=303)
            if values.get("confirmed") != "1":
                return confirm_page(
                    request,
                    auth,
                    title=ACTIONS[name].label,
                    question=ACTIONS[name].question,
                    action_url=f"{url}/{name}",
                    fields=[],
                    cancel_url=url,
                )
            await act(session, **{id_name: subject_id}, actor=auth.actor)
    except (IllegalTransition, promotions.InvalidRule, promotions.PromotionNotEditable) as exc:
        # rolled back: the refusal changed nothing
        return RedirectResponse(f"{url}?refused={exc.code}", status_code=303)
    return RedirectResponse(f"{url}?notice={ACTIONS[name].notice}", status_code=303)


REFUSALS = {
    "promotions.illegal_transition": N_("That cannot be done in its present status."),
    "promotions.invalid_rule": N_("Its terms do not work yet: edit them first."),
    "promotions.promotion_not_editable": N_("An ended promotion cannot be changed."),
}


def page_notices(request: Request) -> dict[str, Any]:
    """The notice or refusal a redirect asked the page to show (known keys only)."""
    notice = request.query_params.get("notice", "")
    refused = request.query_params.get("refused", "")
    return {"notice": NOTICES.get(notice), "refused": REFUSALS.get(refused)}


def allowed_actions(status: str, table: Mapping[str, Iterable[str]]) -> list[tuple[str, Action]]:
    """The actions the status allows (``table``: status → action names), in menu order."""
    names = set(table.get(status, ()))
    return [(name, action) for name, action in ACTIONS.items() if name in names]
