"""The console's promotions (营销 › 促销): the list (filtered by phase and kind, with the status
actions on each row), a form per kind — 满减 tiers, 满折 tiers, 第N件, 限时折扣 items by SKU code,
满赠, 包邮 — with the scope, conditions, window, exclusive group, priority and whether coupons
combine; and the detail page with its report (orders, GMV, discount cost, return on discount, a
daily chart) and status history.

Amounts are typed in yuan and converted exactly; SKUs are typed by code and looked up through
the catalogue. Every refusal comes back as the form with its message next to the field, nothing
saved; the domain audits every write. Reading needs ``promotions.read``, changes
``promotions.write``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, promotions
from mercato.admin.listing import Choice, Column, ListPage, ListQuery
from mercato.admin.routes._shared import form_page, major_units, signed_in, staff_for, to_login
from mercato.admin.routes.promotions_common import ACTIONS as ACTION_WORDS
from mercato.admin.routes.promotions_common import (
    CHANNELS,
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
    status_action,
)
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.schemas import TEXT_VALUES
from mercato.core.settings import get_settings
from mercato.web.forms import FORM_ERRORS, FormProblem, locale_of, read_form, read_list
from mercato.web.session import StaffSession
from mercato.web.templates import render

router = APIRouter(prefix="/admin/promotions", include_in_schema=False)

LIST = "/admin/promotions/"
FORM_PAGE = "admin/promotions/form.html"
PromotionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
K = promotions.PromotionKind
KINDS = {
    K.full_reduction: N_("Spend and save (满减)"),
    K.full_discount: N_("Spend and get a percentage off (满折)"),
    K.nth_discount: N_("N-th item discount (第N件)"),
    K.timed_discount: N_("Timed price (限时折扣)"),
    K.gift: N_("Gift over a threshold (满赠)"),
    K.free_shipping: N_("Free shipping (包邮)"),
}
#: Rows shown for tiers and timed items (blank ones are ignored).
TIER_ROWS = 5
ITEM_ROWS = 10
MAX_ITEM_ROWS = 500
#: The actions each status allows (its transition table, as buttons).
ACTIONS_BY_STATUS = {"draft": ("publish", "end"), "active": ("pause", "end"), "paused": ("resume", "end")}
ACTIONS = {
    "publish": promotions.publish_promotion,
    "pause": promotions.pause_promotion,
    "resume": promotions.resume_promotion,
    "end": promotions.end_promotion,
}
_TIER_NAMES = {
    "threshold_amount": "threshold",
    "amount_off": "off",
    "threshold_pieces": "pieces",
    "percent_off": "percent",
}
_ITEM_NAMES = {"sku_id": "sku", "price_amount": "price", "percent_off": "percent"}
_RULE_NAMES = {
    K.full_reduction: {"cap_amount": "cap", "repeat": "repeat"},
    K.nth_discount: {"nth": "nth", "percent_off": "nth_percent"},
    K.gift: {
        "threshold_amount": "gift_threshold",
        "gift_sku_id": "gift_sku",
        "gift_quantity": "gift_quantity",
    },
    K.free_shipping: {
        "threshold_amount": "ship_threshold",
        "threshold_pieces": "ship_pieces",
        "provinces": "provinces",
    },
}
_SCOPE_NAMES = {"sku_ids": "sku_codes", "exclude_sku_ids": "exclude_sku_codes"}


# -- the list ------------------------------------------------------------------------------------


async def _promotions(
    session: AsyncSession, query: ListQuery, limit: int
) -> tuple[Sequence[Any], str | None]:
    page = await promotions.list_promotions(
        session,
        phase=promotions.Phase(query.filters["phase"]) if query.filters["phase"] else None,
        kind=K(query.filters["kind"]) if query.filters["kind"] else None,
        cursor=query.cursor,
        limit=limit,
    )
    return page.items, page.next_cursor


PAGE = ListPage(
    key="promotions",
    path=LIST,
    title=N_("Promotions"),
    permission=READ,
    columns=(
        Column("name", N_("Name"), lambda p: p.name, kind="link", link=lambda p: f"{LIST}{p.id}"),
        Column("kind", N_("Kind"), lambda p: p.kind.value, labels={k.value: v for k, v in KINDS.items()}),
        Column("phase", N_("Phase"), lambda p: p.phase.value, labels=PHASES),
        Column("window", N_("Window"), lambda p: p.starts_at),
        Column("campaign", N_("Campaign"), lambda p: p.campaign_id),
    ),
    fetch=_promotions,
    filters=(
        Choice("phase", N_("Phase"), N_("Every phase"), tuple(PHASES.items())),
        Choice("kind", N_("Kind"), N_("Every kind"), tuple((k.value, v) for k, v in KINDS.items())),
    ),
    empty=N_("No promotions yet."),
    template="admin/promotions/list.html",
)


async def _list_context(session: AsyncSession, auth: StaffSession) -> dict[str, Any]:
    return {
        "can_write": auth.staff.has(WRITE),
        "kinds": KINDS,
        "row_actions": ACTIONS_BY_STATUS,
        "action_words": ACTION_WORDS,
    }


PAGE.register(router, "/admin/promotions", context=_list_context, notices={**NOTICES, **REFUSALS})


# -- the form ------------------------------------------------------------------------------------


def _blank_rows(count: int, names: Sequence[str]) -> list[dict[str, str]]:
    return [dict.fromkeys(names, "") for _ in range(count)]


TIER_FIELDS = ("threshold", "off", "pieces", "percent")
ITEM_FIELDS = ("sku", "price", "percent")


def _ids_text(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _values_of(promotion: promotions.PromotionRead, sku_codes: dict[int, str]) -> dict[str, Any]:
    """A promotion as the text of its form (amounts in yuan, SKUs by code)."""
    currency = get_settings().currency
    rule = promotion.rule
    values: dict[str, Any] = {
        "name": promotion.name,
        "kind": promotion.kind.value,
        "starts_at": local_input(promotion.starts_at),
        "ends_at": local_input(promotion.ends_at),
        "exclusive_group": promotion.exclusive_group,
        "priority": str(promotion.priority),
        "allow_coupons": promotion.allow_coupons,
        "campaign_id": str(promotion.campaign_id or ""),
        "scope_mode": "all" if promotion.scope.all_goods else "pick",
        "category_ids": _ids_text(promotion.scope.category_ids),
        "brand_ids": _ids_text(promotion.scope.brand_ids),
        "product_ids": _ids_text(promotion.scope.product_ids),
        "sku_codes": ", ".join(sku_codes.get(i, str(i)) for i in promotion.scope.sku_ids),
        "exclude_product_ids": _ids_text(promotion.scope.exclude_product_ids),
        "exclude_sku_codes": ", ".join(sku_codes.get(i, str(i)) for i in promotion.scope.exclude_sku_ids),
        "new_customers_only": promotion.conditions.new_customers_only,
        "new_customer_days": str(promotion.conditions.new_customer_days),
        "first_order_only": promotion.conditions.first_order_only,
        "channels": [c.value for c in promotion.conditions.channels],
        "tiers": _blank_rows(TIER_ROWS, TIER_FIELDS),
        "items": _blank_rows(ITEM_ROWS, ITEM_FIELDS),
    }
    if isinstance(rule, promotions.FullReductionRule):
        values["tiers"] = [
            {
                "threshold": major_units(t.threshold_amount, currency),
                "off": major_units(t.amount_off, currency),
            }
            for t in rule.tiers
        ] + _blank_rows(TIER_ROWS - len(rule.tiers), TIER_FIELDS)
        values.update(repeat=rule.repeat, cap=major_units(rule.cap_amount, currency))
    elif isinstance(rule, promotions.FullDiscountRule):
        values["tiers"] = [
            {
                "threshold": major_units(t.threshold_amount, currency) if t.threshold_amount else "",
                "pieces": str(t.threshold_pieces or ""),
                "percent": str(t.percent_off),
            }
            for t in rule.tiers
        ] + _blank_rows(TIER_ROWS - len(rule.tiers), TIER_FIELDS)
    elif isinstance(rule, promotions.NthDiscountRule):
        values.update(nth=str(rule.nth), nth_percent=str(rule.percent_off))
    elif isinstance(rule, promotions.TimedDiscountRule):
        values["items"] = [
            {
                "sku": sku_codes.get(item.sku_id, str(item.sku_id)),
                "price": major_units(item.price_amount, currency),
                "percent": str(item.percent_off or ""),
            }
            for item in rule.items
        ] + _blank_rows(max(2, ITEM_ROWS - len(rule.items)), ITEM_FIELDS)
    elif isinstance(rule, promotions.GiftRule):
        values.update(
            gift_threshold=major_units(rule.threshold_amount, currency),
            gift_sku=sku_codes.get(rule.gift_sku_id, str(rule.gift_sku_id)),
            gift_quantity=str(rule.gift_quantity),
        )
    elif isinstance(rule, promotions.FreeShippingRule):
        values.update(
            ship_threshold=major_units(rule.threshold_amount, currency) if rule.threshold_amount else "",
            ship_pieces=str(rule.threshold_pieces or ""),
            provinces="、".join(rule.provinces),
        )
    return values


def _sku_ids_of(promotion: promotions.PromotionRead) -> set[int]:
    ids = set(promotion.scope.sku_ids) | set(promotion.scope.exclude_sku_ids)
    if isinstance(promotion.rule, promotions.TimedDiscountRule):
        ids |= {item.sku_id for item in promotion.rule.items}
    if isinstance(promotion.rule, promotions.GiftRule):
        ids.add(promotion.rule.gift_sku_id)
    return ids


def _posted(values: dict[str, str], channels: list[str]) -> dict[str, Any]:
    """What was posted, as the form shows it again (rows as posted)."""
    shown: dict[str, Any] = dict(values)
    for name in ("allow_coupons", "new_customers_only", "first_order_only", "repeat"):
        shown[name] = name in values
    shown["channels"] = channels
    shown["tiers"] = [
        {name: values.get(f"tier-{i}-{name}", "") for name in TIER_FIELDS}
        for i in range(TIER_ROWS)
        if f"tier-{i}-threshold" in values or f"tier-{i}-percent" in values
    ] or _blank_rows(TIER_ROWS, TIER_FIELDS)
    shown["items"] = [
        {name: values.get(f"item-{i}-{name}", "") for name in ITEM_FIELDS}
        for i in range(MAX_ITEM_ROWS)
        if f"item-{i}-sku" in values
    ] or _blank_rows(ITEM_ROWS, ITEM_FIELDS)
    return shown


class _Posted:
    """Reads one posted promotion into the model's shape, keeping which row is which."""

    def __init__(self, request: Request, values: dict[str, str], channels: list[str], kind: K) -> None:
        self.values = values
        self.channels = channels
        self.kind = kind
        self.amount = AmountFields(request)
        self.locale = locale_of(request)
        self.rows: list[int] = []
        self.codes: set[str] = set()

    def text(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def wanted_codes(self) -> set[str]:
        """Every SKU code the form names (looked up before the form is read)."""
        codes = set(split_ids(self.text("sku_codes"))) | set(split_ids(self.text("exclude_sku_codes")))
        if self.kind is K.timed_discount:
            codes |= {self.text(f"item-{i}-sku") for i in range(MAX_ITEM_ROWS)} - {""}
        if self.kind is K.gift and self.text("gift_sku"):
            codes.add(self.text("gift_sku"))
        return codes

    def sku(self, code: str, field: str, ids: dict[str, int]) -> int | str:
        if code in ids:
            return ids[code]
        self.amount.fields.setdefault(field, gettext("No SKU has the code {code}.", self.locale, code=code))
        return code

    def rule(self, ids: dict[str, int]) -> dict[str, Any]:
        t = self.text
        rule: dict[str, Any] = {"kind": self.kind.value}
        if self.kind in (K.full_reduction, K.full_discount):
            tiers = []
            for i in range(TIER_ROWS):
                typed = {name: t(f"tier-{i}-{name}") for name in TIER_FIELDS}
                if not any(typed.values()):
                    continue
                self.rows.append(i)
                tier: dict[str, Any] = {
                    "threshold_amount": self.amount(typed["threshold"], f"tier-{i}-threshold")
                }
                if self.kind is K.full_reduction:
                    tier["amount_off"] = self.amount(typed["off"], f"tier-{i}-off")
                else:
                    tier.update(threshold_pieces=typed["pieces"] or 0, percent_off=typed["percent"] or None)
                    tier["threshold_amount"] = tier["threshold_amount"] or 0
                tiers.append(tier)
            rule["tiers"] = tiers
            if self.kind is K.full_reduction:
                rule.update(repeat="repeat" in self.values, cap_amount=self.amount(t("cap"), "cap"))
        elif self.kind is K.nth_discount:
            rule.update(nth=t("nth") or 2, percent_off=t("nth_percent") or 50)
        elif self.kind is K.timed_discount:
            items = []
            for i in range(MAX_ITEM_ROWS):
                code = t(f"item-{i}-sku")
                if not code:
                    continue
                self.rows.append(i)
                items.append(
                    {
                        "sku_id": self.sku(code, f"item-{i}-sku", ids),
                        "price_amount": self.amount(t(f"item-{i}-price"), f"item-{i}-price"),
                        "percent_off": t(f"item-{i}-percent") or None,
                    }
                )
            rule["items"] = items
        elif self.kind is K.gift:
            rule.update(
                threshold_amount=self.amount(t("gift_threshold"), "gift_threshold"),
                gift_sku_id=self.sku(t("gift_sku"), "gift_sku", ids) if t("gift_sku") else None,
                gift_quantity=t("gift_quantity") or 1,
            )
        else:
            rule.update(
                threshold_amount=self.amount(t("ship_threshold"), "ship_threshold") or 0,
                threshold_pieces=t("ship_pieces") or 0,
                provinces=split_ids(t("provinces")),
            )
        return rule

    def data(self, ids: dict[str, int]) -> dict[str, Any]:
        t = self.text
        picked = t("scope_mode") == "pick"
        data: dict[str, Any] = {
            "name": t("name") or None,
            "rule": self.rule(ids),
            "scope": {
                "all_goods": not picked,
                "category_ids": split_ids(t("category_ids")) if picked else [],
                "brand_ids": split_ids(t("brand_ids")) if picked else [],
                "product_ids": split_ids(t("product_ids")) if picked else [],
                "sku_ids": [self.sku(c, "sku_codes", ids) for c in split_ids(t("sku_codes"))]
                if picked
                else [],
                "exclude_product_ids": split_ids(t("exclude_product_ids")),
                "exclude_sku_ids": [
                    self.sku(c, "exclude_sku_codes", ids) for c in split_ids(t("exclude_sku_codes"))
                ],
            },
            "conditions": {
                "new_customers_only": "new_customers_only" in self.values,
                "new_customer_days": t("new_customer_days") or 30,
                "first_order_only": "first_order_only" in self.values,
                "channels": self.channels,
            },
            "starts_at": parse_local(t("starts_at")),
            "ends_at": parse_local(t("ends_at")),
            "exclusive_group": t("exclusive_group"),
            "priority": t("priority") or 0,
            "allow_coupons": "allow_coupons" in self.values,
            "campaign_id": t("campaign_id") or None,
        }
        return {key: value for key, value in data.items() if value is not None}

    def field_of(self, loc: tuple[int | str, ...]) -> str:
        """The form field a model location is about."""
        head = str(loc[0]) if loc else ""
        if head == "rule":
            rest = loc[2:] if len(loc) > 1 and loc[1] == self.kind.value else loc[1:]
            if rest and rest[0] in ("tiers", "items"):
                if len(rest) >= 3 and isinstance(rest[1], int) and rest[1] < len(self.rows):
                    names = _TIER_NAMES if rest[0] == "tiers" else _ITEM_NAMES
                    prefix = "tier" if rest[0] == "tiers" else "item"
                    return f"{prefix}-{self.rows[rest[1]]}-{names.get(str(rest[2]), str(rest[2]))}"
                return str(rest[0])
            if rest:
                return _RULE_NAMES.get(self.kind, {}).get(str(rest[0]), "rule")
            return "rule"
        if head in ("scope", "conditions") and len(loc) > 1:
            return _SCOPE_NAMES.get(str(loc[1]), str(loc[1]))
        return head


async def _read_posted(
    request: Request, values: dict[str, str], kind: K
) -> promotions.PromotionWrite | tuple[FormProblem, list[str]]:
    """The posted promotion, or the problem (each message next to its field) and the channels."""
    channels = [c for c in await read_list(request, "channels") if c in CHANNELS]
    posted = _Posted(request, values, channels, kind)
    async with uow(write=False) as session:
        ids = await catalog.get_sku_ids_by_code(session, codes=posted.wanted_codes())
    data = posted.data(ids)
    try:
        parsed = promotions.PromotionWrite.model_validate(data, context=TEXT_VALUES)
    except ValidationError as exc:
        problem = refusal(request, exc, posted.field_of, rule_field="rule")
        return FormProblem(
            problem.status, problem.message, {**problem.fields, **posted.amount.fields}
        ), channels
    if posted.amount.fields:
        return FormProblem(
            422, gettext("Some fields are not valid.", posted.locale), posted.amount.fields
        ), channels
    return parsed


def _form(
    request: Request,
    auth: StaffSession,
    promotion: promotions.PromotionRead | None,
    kind: K,
    shown: dict[str, Any],
    problem: FormProblem | None = None,
) -> Response:
    return form_page(
        request,
        FORM_PAGE,
        problem,
        staff=auth.staff,
        promotion=promotion,
        kind=kind.value,
        kind_label=KINDS[kind],
        values=shown,
        channels=CHANNELS,
    )


def _new_values(kind: K) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "scope_mode": "all",
        "allow_coupons": True,
        "priority": "0",
        "new_customer_days": "30",
        "nth": "2",
        "nth_percent": "50",
        "gift_quantity": "1",
        "channels": [],
        "tiers": _blank_rows(TIER_ROWS, TIER_FIELDS),
        "items": _blank_rows(ITEM_ROWS, ITEM_FIELDS),
    }


@router.get("/new")
async def new_promotion(request: Request, kind: Annotated[str, Query(max_length=30)] = "") -> Response:
    """The form of a new promotion of ``kind``, or the choice of kinds first."""
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    if kind not in K.__members__:
        return render(request, "admin/promotions/kinds.html", staff=auth.staff, kinds=KINDS)
    return _form(request, auth, None, K(kind), _new_values(K(kind)))


@router.post("/")
async def create_promotion(request: Request) -> Response:
    values = await read_form(request)
    auth = await signed_in(request, WRITE)
    if auth is None:
        return to_login(request)
    kind = K(values["kind"]) if values.get("kind") in K.__members__ else K.full_reduction
    data = await _read_posted(request, values, kind)
    if isinstance(data, tuple):
        return _form(request, auth, None, kind, _posted(values, data[1]), data[0])
    try:
        async with uow() as session:
            created = await promotions.create_promotion(session, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        channels = [c.value for c in data.conditions.channels]
        problem = refusal(request, exc, _Posted(request, values, channels, kind).field_of, rule_field="rule")
        return _form(request, auth, None, kind, _posted(values, channels), problem)
    return RedirectResponse(f"{LIST}{created.id}?notice=created", status_code=303)


@router.get("/{promotion_id}")
async def promotion_detail(request: Request, promotion_id: PromotionId) -> Response:
    """The promotion's terms, its report with the daily chart, and its status history."""
    async with uow(write=False) as session:
        auth = await staff_for(request, session, READ)
        if auth is None:
            return to_login(request)
        promotion = await promotions.get_promotion(session, promotion_id=promotion_id)
        report = await promotions.promotion_report(session, promotion_id=promotion_id)
        history = await promotions.list_status_changes(session, subject="promotion", subject_id=promotion_id)
        skus = await catalog.get_sku_labels(session, sku_ids=_sku_ids_of(promotion))
    return render(
        request,
        "admin/promotions/detail.html",
        staff=auth.staff,
        promotion=promotion,
        kind_label=KINDS[promotion.kind],
        skus=skus,
        report=report,
        chart=chart_data(report, locale_of(request)) if report.daily else None,
        chart_names=chart_names(),
        history=history,
        statuses=STATUSES,
        phases=PHASES,
        channels=CHANNELS,
        can_write=auth.staff.has(WRITE),
        actions=allowed_actions(promotion.status.value, ACTIONS_BY_STATUS),
        **page_notices(request),
    )


@router.get("/{promotion_id}/edit")
async def edit_promotion(request: Request, promotion_id: PromotionId) -> Response:
    async with uow(write=False) as session:
        auth = await staff_for(request, session, WRITE)
        if auth is None:
            return to_login(request)
        promotion = await promotions.get_promotion(session, promotion_id=promotion_id)
        labels = await catalog.get_sku_labels(session, sku_ids=_sku_ids_of(promotion))
    codes = {sku_id: label.code for sku_id, label in labels.items()}
    return _form(request, auth, promotion, promotion.kind, _values_of(promotion, codes))


@router.post("/{promotion_id}")
async def update_promotion(request: Request, promotion_id: PromotionId) -> Response:
    values = await read_form(request)
    async with uow(write=False) as session:
        auth = await staff_for(request, session, WRITE)
        if auth is None:
            return to_login(request)
        promotion = await promotions.get_promotion(session, promotion_id=promotion_id)
    data = await _read_posted(request, values, promotion.kind)
    if isinstance(data, tuple):
        return _form(request, auth, promotion, promotion.kind, _posted(values, data[1]), data[0])
    try:
        async with uow() as session:
            await promotions.update_promotion(session, promotion_id=promotion_id, data=data, actor=auth.actor)
    except FORM_ERRORS as exc:
        if isinstance(exc, promotions.PromotionNotFound):
            raise
        channels = [c.value for c in data.conditions.channels]
        problem = refusal(
            request, exc, _Posted(request, values, channels, promotion.kind).field_of, rule_field="rule"
        )
        return _form(request, auth, promotion, promotion.kind, _posted(values, channels), problem)
    return RedirectResponse(f"{LIST}{promotion_id}?notice=updated", status_code=303)


@router.post("/{promotion_id}/{action}")
async def promotion_action(
    request: Request, promotion_id: PromotionId, action: Annotated[str, Path(max_length=20)]
) -> Response:
    """Publish, pause, resume or end (confirmed first; an illegal move is refused, changing nothing)."""

    return await status_action(
        request,
        name=action,
        actions=ACTIONS,
        subject_id=promotion_id,
        id_name="promotion_id",
        get=lambda session: promotions.get_promotion(session, promotion_id=promotion_id),
        url=f"{LIST}{promotion_id}",
    )
