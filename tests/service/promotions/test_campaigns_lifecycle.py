"""Campaigns: created, edited, published and ended by staff (each move recorded and audited),
refusals that change nothing, the phase as the clock moves, the live lookup, lists by phase and
the calendar, and ending a campaign ending its promotions and coupon templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from mercato import identity, promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import IllegalTransition
from mercato.identity.models import AuditEntry
from mercato.promotions.models import Campaign, StatusChange
from tests.factories.catalog import make_product

ACTOR = identity.Actor(staff_id=None, label="ops@example.com")
DAY = dt.timedelta(days=1)


def write(**fields: Any) -> promotions.CampaignWrite:
    now = clock.now()
    values: dict[str, Any] = {
        "name": "双12 年终盛典",
        "slug": "double-12",
        "starts_at": now + DAY,
        "ends_at": now + 3 * DAY,
    }
    return promotions.CampaignWrite.model_validate(values | fields)


async def create(**fields: Any) -> promotions.CampaignRead:
    async with uow() as session:
        return await promotions.create_campaign(session, data=write(**fields), actor=ACTOR)


async def publish(campaign_id: int) -> promotions.CampaignRead:
    async with uow() as session:
        return await promotions.publish_campaign(session, campaign_id=campaign_id, actor=ACTOR, reason="go")


async def end(campaign_id: int) -> promotions.CampaignRead:
    async with uow() as session:
        return await promotions.end_campaign(session, campaign_id=campaign_id, actor=ACTOR, reason="stop")


async def get(campaign_id: int) -> promotions.CampaignRead:
    async with uow(write=False) as session:
        return await promotions.get_campaign(session, campaign_id=campaign_id)


async def changes() -> list[tuple[str, int, str, str, str]]:
    async with uow(write=False) as session:
        rows = await session.execute(
            select(
                StatusChange.subject,
                StatusChange.subject_id,
                StatusChange.from_status,
                StatusChange.to_status,
                StatusChange.reason,
            ).order_by(StatusChange.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def audit() -> list[tuple[str, str]]:
    async with uow(write=False) as session:
        rows = await session.execute(select(AuditEntry.action, AuditEntry.object_id).order_by(AuditEntry.id))
        return [(row.action, row.object_id) for row in rows]


async def snapshot() -> tuple[int, int, int]:
    """Campaigns, status changes, audit entries: what a refusal must leave alone."""
    async with uow(write=False) as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Campaign)) or 0),
            int(await session.scalar(select(func.count()).select_from(StatusChange)) or 0),
            int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


async def test_create_publish_end_are_recorded_and_audited() -> None:
    product = await make_product()
    campaign = await create(
        description="全场满 199 减 20",
        preheat_starts_at=clock.now() + dt.timedelta(hours=2),
        budget_amount=500_000,
        blocks=[
            {"kind": "banner", "image_url": "/static/demo/sale.jpg", "alt": "双12"},
            {"kind": "products", "title": "爆款", "product_ids": [product.id]},
        ],
    )
    assert campaign.status == promotions.CampaignStatus.draft
    assert campaign.phase == promotions.Phase.draft
    assert campaign.spent_amount == 0
    assert campaign.budget_amount == 500_000
    assert campaign.blocks == (
        promotions.BannerBlock(image_url="/static/demo/sale.jpg", alt="双12"),
        promotions.ProductsBlock(title="爆款", product_ids=(product.id,)),
    )

    published = await publish(campaign.id)
    assert published.status == promotions.CampaignStatus.published
    assert published.phase == promotions.Phase.scheduled
    ended = await end(campaign.id)
    assert ended.status == promotions.CampaignStatus.ended
    assert ended.phase == promotions.Phase.ended

    assert await changes() == [
        ("campaign", campaign.id, "", "draft", ""),
        ("campaign", campaign.id, "draft", "published", "go"),
        ("campaign", campaign.id, "published", "ended", "stop"),
    ]
    assert [a for a in await audit() if a[0].startswith("campaign.")] == [
        ("campaign.create", str(campaign.id)),
        ("campaign.publish", str(campaign.id)),
        ("campaign.end", str(campaign.id)),
    ]


async def test_update_replaces_the_terms_and_is_audited() -> None:
    campaign = await create()
    async with uow() as session:
        updated = await promotions.update_campaign(
            session,
            campaign_id=campaign.id,
            data=write(name="店庆", slug="anniversary", budget_amount=100),
            actor=ACTOR,
        )
    assert (updated.name, updated.slug, updated.budget_amount) == ("店庆", "anniversary", 100)
    assert await get(campaign.id) == updated
    assert (await audit())[-1] == ("campaign.update", str(campaign.id))


@pytest.mark.parametrize(
    ("_case", "fields", "error", "field"),
    [
        ("ends_before_start", {"ends_at_days": 1}, promotions.EndsBeforeStart, "ends_at"),
        ("preheat_after_start", {"preheat_days": 2}, promotions.PreheatNotBeforeStart, "preheat_starts_at"),
        (
            "unknown_product",
            {"blocks": [{"kind": "products", "product_ids": [999_999]}]},
            promotions.CampaignProductNotFound,
            0,
        ),
    ],
)
async def test_create_refuses_terms_that_make_no_sense(
    _case: str, fields: dict[str, Any], error: type[Exception], field: object
) -> None:
    now = clock.now()
    if "ends_at_days" in fields:
        fields = {"ends_at": now + fields.pop("ends_at_days") * DAY}
    if "preheat_days" in fields:
        fields = {"preheat_starts_at": now + fields.pop("preheat_days") * DAY}
    before = await snapshot()

    with pytest.raises(error) as caught:
        await create(**fields)

    assert caught.value.fields[0].loc[-1] in {field, "product_ids"}  # type: ignore[attr-defined]
    assert await snapshot() == before


async def test_slug_is_unique_and_a_refused_create_or_update_changes_nothing() -> None:
    first = await create()
    other = await create(slug="anniversary")
    before = await snapshot()

    with pytest.raises(promotions.CampaignSlugTaken):
        await create()
    with pytest.raises(promotions.CampaignSlugTaken):
        async with uow() as session:
            await promotions.update_campaign(session, campaign_id=other.id, data=write(name="x"), actor=ACTOR)

    assert await snapshot() == before
    assert (await get(first.id)).slug == "double-12"
    assert (await get(other.id)).name == "双12 年终盛典"


async def test_an_ended_campaign_cannot_be_published_edited_or_ended_again() -> None:
    campaign = await create()
    await end(campaign.id)
    before = await snapshot()

    with pytest.raises(IllegalTransition) as caught:
        await publish(campaign.id)
    assert caught.value.code == "promotions.illegal_transition"
    with pytest.raises(IllegalTransition):
        await end(campaign.id)
    with pytest.raises(promotions.CampaignNotEditable):
        async with uow() as session:
            await promotions.update_campaign(
                session, campaign_id=campaign.id, data=write(name="x"), actor=ACTOR
            )

    assert await snapshot() == before
    assert (await get(campaign.id)).name == "双12 年终盛典"


async def test_unknown_campaign_is_not_found() -> None:
    with pytest.raises(promotions.CampaignNotFound):
        await get(404)
    with pytest.raises(promotions.CampaignNotFound):
        await publish(404)
    assert await snapshot() == (0, 0, 0)


async def test_phase_follows_the_clock_and_the_live_lookup_shows_preheat_and_running_only() -> None:
    now = clock.now()
    campaign = await create(
        preheat_starts_at=now + dt.timedelta(hours=1),
        starts_at=now + dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=3),
    )
    await publish(campaign.id)
    seen = []
    live = []
    for _hour in range(4):
        seen.append((await get(campaign.id)).phase)
        async with uow(write=False) as session:
            try:
                live.append((await promotions.get_live_campaign(session, slug="double-12")).phase)
            except promotions.CampaignNotFound:
                live.append(None)
        clock.advance(dt.timedelta(hours=1))

    P = promotions.Phase
    assert seen == [P.scheduled, P.preheat, P.running, P.ended]
    assert live == [None, P.preheat, P.running, None]


async def test_a_draft_is_never_live() -> None:
    await create(starts_at=clock.now() - DAY)
    async with uow(write=False) as session:
        with pytest.raises(promotions.CampaignNotFound):
            await promotions.get_live_campaign(session, slug="double-12")


async def test_list_filters_by_phase_now_and_pages_newest_first() -> None:
    now = clock.now()
    draft = await create(slug="draft")
    scheduled = await create(slug="scheduled")
    preheat = await create(slug="preheat", preheat_starts_at=now - dt.timedelta(hours=1))
    running = await create(slug="running", starts_at=now - DAY)
    past = await create(slug="past", starts_at=now - 3 * DAY, ends_at=now - DAY)
    stopped = await create(slug="stopped")
    for campaign in (scheduled, preheat, running, past, stopped):
        await publish(campaign.id)
    await end(stopped.id)

    async def slugs(phase: promotions.Phase | None) -> list[str]:
        async with uow(write=False) as session:
            page = await promotions.list_campaigns(session, phase=phase)
        assert all(phase is None or c.phase == phase for c in page.items)
        return [c.slug for c in page.items]

    P = promotions.Phase
    assert await slugs(P.draft) == ["draft"]
    assert await slugs(P.scheduled) == ["scheduled"]
    assert await slugs(P.preheat) == ["preheat"]
    assert await slugs(P.running) == ["running"]
    assert await slugs(P.ended) == ["stopped", "past"]
    assert await slugs(P.paused) == []
    assert await slugs(None) == ["stopped", "past", "running", "preheat", "scheduled", "draft"]

    async with uow(write=False) as session:
        first = await promotions.list_campaigns(session, limit=4)
        second = await promotions.list_campaigns(session, limit=4, cursor=first.next_cursor)
    assert [c.id for c in first.items] == [stopped.id, past.id, running.id, preheat.id]
    assert [c.id for c in second.items] == [scheduled.id, draft.id]
    assert second.next_cursor is None


async def test_calendar_lists_campaigns_overlapping_the_days_from_preheat_to_end() -> None:
    tz = dt.timezone(dt.timedelta(hours=8))  # the shop's default zone, Asia/Shanghai
    at = dt.datetime(2026, 12, 10, 0, 0, tzinfo=tz)
    before = await create(slug="before", starts_at=at - 5 * DAY, ends_at=at - DAY)  # ends Dec 9
    edge = await create(slug="edge", starts_at=at - 5 * DAY, ends_at=at + dt.timedelta(minutes=1))
    preheat = await create(
        slug="preheat", preheat_starts_at=at + 2 * DAY, starts_at=at + 5 * DAY, ends_at=at + 6 * DAY
    )
    await create(slug="after", starts_at=at + 3 * DAY, ends_at=at + 4 * DAY)  # Dec 13

    async with uow(write=False) as session:
        days = await promotions.campaign_calendar(
            session, start=dt.date(2026, 12, 10), end=dt.date(2026, 12, 12)
        )

    assert [c.slug for c in days] == ["edge", "preheat"]
    assert before.id not in [c.id for c in days]
    assert [c.id for c in days] == [edge.id, preheat.id]


async def test_ending_a_campaign_ends_its_promotions_and_coupon_templates() -> None:
    campaign = await create(starts_at=clock.now() - DAY)
    await publish(campaign.id)
    window = {"starts_at": clock.now() - DAY, "ends_at": clock.now() + DAY}
    async with uow() as session:
        live = await promotions.create_promotion(
            session,
            data=promotions.PromotionWrite.model_validate(
                {
                    "name": "满 199 减 20",
                    "rule": {
                        "kind": "full_reduction",
                        "tiers": [{"threshold_amount": 19900, "amount_off": 2000}],
                    },
                    "campaign_id": campaign.id,
                    **window,
                }
            ),
            actor=ACTOR,
        )
        draft = await promotions.create_promotion(
            session,
            data=promotions.PromotionWrite.model_validate(
                {
                    "name": "满 99 包邮",
                    "rule": {"kind": "free_shipping", "threshold_amount": 9900},
                    "campaign_id": campaign.id,
                    **window,
                }
            ),
            actor=ACTOR,
        )
        other = await promotions.create_promotion(
            session,
            data=promotions.PromotionWrite.model_validate(
                {"name": "别的活动", "rule": {"kind": "free_shipping"}, **window}
            ),
            actor=ACTOR,
        )
        template = await promotions.create_coupon_template(
            session,
            data=promotions.CouponTemplateWrite(
                name="满 200 减 30",
                kind=promotions.CouponKind.amount,
                amount_off=3000,
                min_spend_amount=20000,
                total_quantity=100,
                valid_days=7,
                campaign_id=campaign.id,
            ),
            actor=ACTOR,
        )
    async with uow() as session:
        await promotions.publish_promotion(session, promotion_id=live.id, actor=ACTOR)
        await promotions.publish_promotion(session, promotion_id=other.id, actor=ACTOR)
        await promotions.publish_coupon_template(session, template_id=template.id, actor=ACTOR)
    before = len(await changes())

    await end(campaign.id)

    async with uow(write=False) as session:
        statuses = [
            (await promotions.get_promotion(session, promotion_id=i)).status
            for i in (live.id, draft.id, other.id)
        ]
        template_status = (await promotions.get_coupon_template(session, template_id=template.id)).status
    assert statuses == ["ended", "ended", "active"]
    assert template_status == "ended"
    assert sorted((await changes())[before:]) == sorted(
        [
            ("campaign", campaign.id, "published", "ended", "stop"),
            ("promotion", live.id, "active", "ended", "campaign ended"),
            ("promotion", draft.id, "draft", "ended", "campaign ended"),
            ("coupon_template", template.id, "active", "ended", "campaign ended"),
        ]
    )
    assert (await audit())[-1] == ("campaign.end_members", str(campaign.id))
