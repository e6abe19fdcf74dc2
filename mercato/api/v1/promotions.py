"""Promotions for staff: promotions (满减, 满折, 第N件, 限时折扣, 满赠, 包邮), coupon templates with
their code batches and bulk issuance runs, and campaigns with their calendar; each with its
actions (publish, pause, resume, end), report and status history.

Reading needs ``promotions.read``, every change ``promotions.write``; the domain audits each
write. A create with an ``Idempotency-Key`` acts once: a retry with the same key and body gets
the first answer, another body with the key is 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import promotions
from mercato.api.deps import DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core import idempotency
from mercato.core.errors import IllegalTransition
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import alias, raises

router = APIRouter(prefix=f"{PREFIX}/admin", tags=["promotions"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 50)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Reader = Annotated[StaffAuth, Depends(require("promotions.read"))]
Writer = Annotated[StaffAuth, Depends(require("promotions.write"))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A retry with the same key and body returns the first answer instead of acting again",
    ),
]
#: What a create with an Idempotency-Key may answer besides its own refusals.
KEY_ERRORS = (IdempotencyKeyInvalid, IdempotencyKeyReused, IdempotencyInProgress)
DEFAULT_LIMIT = 50
#: A status move the transition table refuses (ending an ended promotion, publishing it twice).
ILLEGAL = alias(IllegalTransition, "promotions.illegal_transition")

M = TypeVar("M", bound=BaseModel)


async def _once(
    session: AsyncSession,
    *,
    what: str,
    auth: StaffAuth,
    key: str | None,
    payload: Any,
    model: type[M],
    act: Callable[[], Awaitable[M]],
) -> M:
    """``act()`` once per Idempotency-Key of this staff member (``core.idempotency.run_once``)."""
    scope = f"promotions.{what}:{auth.staff.id}"
    return await idempotency.run_once(
        session, scope=scope, key=key, payload=payload, model=model, act=act, status_code=201
    )


# -- promotions -------------------------------------------------------------------------------


@router.get("/promotions")
@raises(InvalidCursor)
async def list_promotions(
    auth: Reader,
    session: DbSession,
    phase: promotions.Phase | None = None,
    kind: promotions.PromotionKind | None = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[promotions.PromotionRead]:
    """Promotions, filtered by where they stand now (``phase``), kind or campaign."""
    return await promotions.list_promotions(
        session, phase=phase, kind=kind, campaign_id=campaign_id, cursor=cursor, limit=limit or DEFAULT_LIMIT
    )


@router.post("/promotions", status_code=status.HTTP_201_CREATED)
@raises(promotions.InvalidRule, promotions.EndsBeforeStart, promotions.CampaignNotFound, *KEY_ERRORS)
async def create_promotion(
    data: promotions.PromotionWrite, auth: Writer, session: DbSession, idempotency_key: IdempotencyKey = None
) -> promotions.PromotionRead:
    """A draft promotion; it prices nothing until published."""
    return await _once(
        session,
        what="promotion",
        auth=auth,
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        model=promotions.PromotionRead,
        act=lambda: promotions.create_promotion(session, data=data, actor=auth.actor),
    )


@router.get("/promotions/{promotion_id}")
@raises(promotions.PromotionNotFound)
async def get_promotion(promotion_id: Id, auth: Reader, session: DbSession) -> promotions.PromotionRead:
    return await promotions.get_promotion(session, promotion_id=promotion_id)


@router.put("/promotions/{promotion_id}")
@raises(
    promotions.PromotionNotFound,
    promotions.PromotionNotEditable,
    promotions.InvalidRule,
    promotions.EndsBeforeStart,
    promotions.CampaignNotFound,
)
async def update_promotion(
    promotion_id: Id, data: promotions.PromotionWrite, auth: Writer, session: DbSession
) -> promotions.PromotionRead:
    """Change a promotion's terms (an ended one cannot change)."""
    return await promotions.update_promotion(session, promotion_id=promotion_id, data=data, actor=auth.actor)


PROMOTION_ACTIONS = {
    "publish": promotions.publish_promotion,
    "pause": promotions.pause_promotion,
    "resume": promotions.resume_promotion,
    "end": promotions.end_promotion,
}


def _promotion_action(name: str) -> None:
    action = PROMOTION_ACTIONS[name]

    @router.post(f"/promotions/{{promotion_id}}/{name}", name=f"{name}_promotion")
    @raises(promotions.PromotionNotFound, promotions.PromotionNotEditable, ILLEGAL)
    async def act(promotion_id: Id, auth: Writer, session: DbSession) -> promotions.PromotionRead:
        return await action(session, promotion_id=promotion_id, actor=auth.actor)

    act.__doc__ = f"{name.capitalize()} the promotion (its status table decides whether it may)."


for _name in PROMOTION_ACTIONS:
    _promotion_action(_name)


@router.get("/promotions/{promotion_id}/report")
@raises(promotions.PromotionNotFound)
async def promotion_report(promotion_id: Id, auth: Reader, session: DbSession) -> promotions.PromotionReport:
    """Orders, GMV, discount cost, return on discount and the daily figures."""
    return await promotions.promotion_report(session, promotion_id=promotion_id)


@router.get("/promotions/{promotion_id}/history")
@raises(promotions.PromotionNotFound)
async def promotion_history(
    promotion_id: Id, auth: Reader, session: DbSession
) -> list[promotions.StatusChangeRead]:
    """Every status move, oldest first."""
    await promotions.get_promotion(session, promotion_id=promotion_id)
    return await promotions.list_status_changes(session, subject="promotion", subject_id=promotion_id)


# -- coupon templates ---------------------------------------------------------------------------


@router.get("/coupon-templates")
@raises(InvalidCursor)
async def list_coupon_templates(
    auth: Reader,
    session: DbSession,
    template_status: Annotated[promotions.CouponTemplateStatus | None, Query(alias="status")] = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[promotions.CouponTemplateRead]:
    return await promotions.list_coupon_templates(
        session, status=template_status, campaign_id=campaign_id, cursor=cursor, limit=limit or DEFAULT_LIMIT
    )


@router.post("/coupon-templates", status_code=status.HTTP_201_CREATED)
@raises(promotions.InvalidRule, promotions.EndsBeforeStart, promotions.CampaignNotFound, *KEY_ERRORS)
async def create_coupon_template(
    data: promotions.CouponTemplateWrite,
    auth: Writer,
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> promotions.CouponTemplateRead:
    """A draft coupon template; nobody can claim or be issued one until it is published."""
    return await _once(
        session,
        what="coupon_template",
        auth=auth,
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        model=promotions.CouponTemplateRead,
        act=lambda: promotions.create_coupon_template(session, data=data, actor=auth.actor),
    )


@router.get("/coupon-templates/{template_id}")
@raises(promotions.CouponTemplateNotFound)
async def get_coupon_template(
    template_id: Id, auth: Reader, session: DbSession
) -> promotions.CouponTemplateRead:
    return await promotions.get_coupon_template(session, template_id=template_id)


@router.put("/coupon-templates/{template_id}")
@raises(
    promotions.CouponTemplateNotFound,
    promotions.CouponTemplateNotEditable,
    promotions.InvalidRule,
    promotions.EndsBeforeStart,
    promotions.CampaignNotFound,
)
async def update_coupon_template(
    template_id: Id, data: promotions.CouponTemplateWrite, auth: Writer, session: DbSession
) -> promotions.CouponTemplateRead:
    return await promotions.update_coupon_template(
        session, template_id=template_id, data=data, actor=auth.actor
    )


TEMPLATE_ACTIONS = {
    "publish": promotions.publish_coupon_template,
    "pause": promotions.pause_coupon_template,
    "resume": promotions.resume_coupon_template,
    "end": promotions.end_coupon_template,
}


def _template_action(name: str) -> None:
    action = TEMPLATE_ACTIONS[name]

    @router.post(f"/coupon-templates/{{template_id}}/{name}", name=f"{name}_coupon_template")
    @raises(promotions.CouponTemplateNotFound, ILLEGAL)
    async def act(template_id: Id, auth: Writer, session: DbSession) -> promotions.CouponTemplateRead:
        return await action(session, template_id=template_id, actor=auth.actor)

    act.__doc__ = f"{name.capitalize()} the coupon template (its status table decides whether it may)."


for _name in TEMPLATE_ACTIONS:
    _template_action(_name)


@router.get("/coupon-templates/{template_id}/report")
@raises(promotions.CouponTemplateNotFound)
async def coupon_template_report(
    template_id: Id, auth: Reader, session: DbSession
) -> promotions.PromotionReport:
    """Issued, used, orders, GMV, discount cost, return on discount and the daily figures."""
    return await promotions.coupon_template_report(session, template_id=template_id)


@router.get("/coupon-templates/{template_id}/history")
@raises(promotions.CouponTemplateNotFound)
async def coupon_template_history(
    template_id: Id, auth: Reader, session: DbSession
) -> list[promotions.StatusChangeRead]:
    await promotions.get_coupon_template(session, template_id=template_id)
    return await promotions.list_status_changes(session, subject="coupon_template", subject_id=template_id)


@router.post("/coupon-templates/{template_id}/code-batches", status_code=status.HTTP_201_CREATED)
@raises(promotions.CouponTemplateNotFound, promotions.CouponNotClaimable, promotions.InvalidRule, *KEY_ERRORS)
async def start_code_batch(
    template_id: Id,
    data: promotions.CodeBatchCreate,
    auth: Writer,
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> promotions.IssueRunRead:
    """Queue generating ``count`` unguessable codes; follow the run, then download the CSV."""
    return await _once(
        session,
        what=f"code_batch:{template_id}",
        auth=auth,
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        model=promotions.IssueRunRead,
        act=lambda: promotions.start_code_batch(
            session, template_id=template_id, count=data.count, actor=auth.actor
        ),
    )


async def _run_of(
    session: AsyncSession, *, template_id: int, run_id: int, kind: str
) -> promotions.IssueRunRead:
    """The run, if it is a run of this kind of this template (else 404)."""
    run = await promotions.get_issue_run(session, run_id=run_id)
    if run.template_id != template_id or run.kind != kind:
        raise promotions.IssueRunNotFound()
    return run


@router.get("/coupon-templates/{template_id}/code-batches/{run_id}")
@raises(promotions.IssueRunNotFound)
async def get_code_batch(
    template_id: Id, run_id: Id, auth: Reader, session: DbSession
) -> promotions.IssueRunRead:
    """A batch's progress (``done`` of ``total``) and outcome."""
    return await _run_of(session, template_id=template_id, run_id=run_id, kind="codes")


@router.get(
    "/coupon-templates/{template_id}/code-batches/{run_id}/codes.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The codes (code, redeemed, redeemed at)"}},
)
@raises(promotions.IssueRunNotFound)
async def export_codes(template_id: Id, run_id: Id, auth: Reader, session: DbSession) -> Response:
    """The batch's codes as CSV (UTF-8 with a BOM for Excel), never cached."""
    await _run_of(session, template_id=template_id, run_id=run_id, kind="codes")
    content = await promotions.export_codes(session, run_id=run_id)
    return Response(
        content=content,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="coupon-codes-{run_id}.csv"',
            "cache-control": "no-store",
        },
    )


@router.post("/coupon-templates/{template_id}/issue-runs", status_code=status.HTTP_201_CREATED)
@raises(promotions.CouponTemplateNotFound, promotions.CouponNotClaimable, promotions.InvalidRule, *KEY_ERRORS)
async def start_bulk_issue(
    template_id: Id,
    data: promotions.IssueRunCreate,
    auth: Writer,
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> promotions.IssueRunRead:
    """Queue issuing one coupon to each customer (unknown ones and those at their limit are
    skipped and counted); follow the run."""
    return await _once(
        session,
        what=f"issue_run:{template_id}",
        auth=auth,
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        model=promotions.IssueRunRead,
        act=lambda: promotions.start_bulk_issue(
            session, template_id=template_id, customer_ids=data.customer_ids, actor=auth.actor
        ),
    )


@router.get("/coupon-templates/{template_id}/issue-runs/{run_id}")
@raises(promotions.IssueRunNotFound)
async def get_issue_run(
    template_id: Id, run_id: Id, auth: Reader, session: DbSession
) -> promotions.IssueRunRead:
    return await _run_of(session, template_id=template_id, run_id=run_id, kind="customers")


# -- campaigns ----------------------------------------------------------------------------------


@router.get("/campaigns")
@raises(InvalidCursor)
async def list_campaigns(
    auth: Reader,
    session: DbSession,
    phase: promotions.Phase | None = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[promotions.CampaignRead]:
    return await promotions.list_campaigns(session, phase=phase, cursor=cursor, limit=limit or DEFAULT_LIMIT)


@router.post("/campaigns", status_code=status.HTTP_201_CREATED)
@raises(
    promotions.EndsBeforeStart,
    promotions.PreheatNotBeforeStart,
    promotions.CampaignProductNotFound,
    promotions.CampaignSlugTaken,
    *KEY_ERRORS,
)
async def create_campaign(
    data: promotions.CampaignWrite, auth: Writer, session: DbSession, idempotency_key: IdempotencyKey = None
) -> promotions.CampaignRead:
    """A draft campaign; its landing page shows once it is published."""
    return await _once(
        session,
        what="campaign",
        auth=auth,
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        model=promotions.CampaignRead,
        act=lambda: promotions.create_campaign(session, data=data, actor=auth.actor),
    )


@router.get("/campaigns/calendar")
@raises(promotions.EndsBeforeStart)
async def campaign_calendar(
    auth: Reader, session: DbSession, start: dt.date, end: dt.date
) -> list[promotions.CampaignRead]:
    """Campaigns overlapping the days ``start`` to ``end`` (shop time), earliest first."""
    if end < start:
        raise promotions.EndsBeforeStart()
    return await promotions.campaign_calendar(session, start=start, end=end)


@router.get("/campaigns/{campaign_id}")
@raises(promotions.CampaignNotFound)
async def get_campaign(campaign_id: Id, auth: Reader, session: DbSession) -> promotions.CampaignRead:
    return await promotions.get_campaign(session, campaign_id=campaign_id)


@router.put("/campaigns/{campaign_id}")
@raises(
    promotions.CampaignNotFound,
    promotions.CampaignNotEditable,
    promotions.EndsBeforeStart,
    promotions.PreheatNotBeforeStart,
    promotions.CampaignProductNotFound,
    promotions.CampaignSlugTaken,
)
async def update_campaign(
    campaign_id: Id, data: promotions.CampaignWrite, auth: Writer, session: DbSession
) -> promotions.CampaignRead:
    return await promotions.update_campaign(session, campaign_id=campaign_id, data=data, actor=auth.actor)


@router.post("/campaigns/{campaign_id}/publish")
@raises(promotions.CampaignNotFound, ILLEGAL)
async def publish_campaign(campaign_id: Id, auth: Writer, session: DbSession) -> promotions.CampaignRead:
    return await promotions.publish_campaign(session, campaign_id=campaign_id, actor=auth.actor)


@router.post("/campaigns/{campaign_id}/end")
@raises(promotions.CampaignNotFound, ILLEGAL)
async def end_campaign(campaign_id: Id, auth: Writer, session: DbSession) -> promotions.CampaignRead:
    return await promotions.end_campaign(session, campaign_id=campaign_id, actor=auth.actor)


@router.get("/campaigns/{campaign_id}/report")
@raises(promotions.CampaignNotFound)
async def campaign_report(campaign_id: Id, auth: Reader, session: DbSession) -> promotions.PromotionReport:
    """What the campaign's promotions and coupons brought and cost (spent against the budget)."""
    return await promotions.campaign_report(session, campaign_id=campaign_id)


@router.get("/campaigns/{campaign_id}/history")
@raises(promotions.CampaignNotFound)
async def campaign_history(
    campaign_id: Id, auth: Reader, session: DbSession
) -> list[promotions.StatusChangeRead]:
    await promotions.get_campaign(session, campaign_id=campaign_id)
    return await promotions.list_status_changes(session, subject="campaign", subject_id=campaign_id)
