"""Promotions kept by staff: validation, status moves with their record and audit, refusals that
change nothing, phases, listing; and the live set turning over at a start or end time."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import IllegalTransition
from mercato.identity.models import AuditEntry
from mercato.promotions.models import Promotion, StatusChange
from tests.factories.catalog import audit_actions, count
from tests.factories.identity import SYSTEM
from tests.factories.promotions import CONTEXT, line, make_promotion, reduction, write

P = promotions.PromotionStatus


async def snapshot() -> tuple[int, int, int]:
    return await count(Promotion), await count(StatusChange), await count(AuditEntry)


async def test_lifecycle_records_each_move_and_audits_every_write() -> None:
    made = await make_promotion(reduction((10000, 1000)), publish=False)
    assert (made.status, made.phase) == (P.draft, promotions.Phase.draft)
    async with uow() as session:
        published = await promotions.publish_promotion(session, promotion_id=made.id, actor=SYSTEM)
        paused = await promotions.pause_promotion(
            session, promotion_id=made.id, actor=SYSTEM, reason="库存不足"
        )
        resumed = await promotions.resume_promotion(session, promotion_id=made.id, actor=SYSTEM)
        ended = await promotions.end_promotion(session, promotion_id=made.id, actor=SYSTEM)
    assert [(p.status, p.phase) for p in (published, paused, resumed, ended)] == [
        (P.active, promotions.Phase.running),
        (P.paused, promotions.Phase.paused),
        (P.active, promotions.Phase.running),
        (P.ended, promotions.Phase.ended),
    ]
    assert await audit_actions() == [
        "promotion.create",
        "promotion.publish",
        "promotion.pause",
        "promotion.resume",
        "promotion.end",
    ]
    async with uow(write=False) as session:
        moves = (await session.execute(StatusChange.__table__.select().order_by(StatusChange.id))).all()
    assert [(m.from_status, m.to_status, m.reason) for m in moves] == [
        ("draft", "active", ""),
        ("active", "paused", "库存不足"),
        ("paused", "active", ""),
        ("active", "ended", ""),
    ]


async def test_refused_moves_and_edits_change_nothing() -> None:
    draft = await make_promotion(reduction((10000, 1000)), publish=False)
    ended = await make_promotion(reduction((10000, 1000)))
    async with uow() as session:
        await promotions.end_promotion(session, promotion_id=ended.id, actor=SYSTEM)
    before = await snapshot()
    refusals = [
        (promotions.resume_promotion, draft.id, IllegalTransition),  # not paused
        (promotions.pause_promotion, draft.id, IllegalTransition),
        (promotions.publish_promotion, ended.id, IllegalTransition),
        (promotions.end_promotion, ended.id, IllegalTransition),
        (promotions.publish_promotion, 999_999, promotions.PromotionNotFound),
    ]
    for action, promotion_id, error in refusals:
        with pytest.raises(error):
            async with uow() as session:
                await action(session, promotion_id=promotion_id, actor=SYSTEM)
    with pytest.raises(promotions.PromotionNotEditable):
        async with uow() as session:
            await promotions.update_promotion(
                session, promotion_id=ended.id, data=write(reduction((10000, 2000))), actor=SYSTEM
            )
    assert await snapshot() == before
    async with uow(write=False) as session:
        assert (await promotions.get_promotion(session, promotion_id=ended.id)).rule == reduction(
            (10000, 1000)
        )


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (reduction((10000, 1000), (5000, 2000)), "tiers must go up by threshold"),
        (reduction((10000, 2000), (20000, 1000)), "a higher tier must take more off"),
        (reduction((10000, 10000)), "each tier's amount off must be less than its threshold"),
        (reduction((10000, 1000), (20000, 3000), repeat=True), "a repeating reduction has exactly one tier"),
        (reduction((10000, 1000), cap=5000), "only a repeating reduction has a cap"),
        (
            promotions.FullDiscountRule(tiers=(promotions.DiscountTier(percent_off=10),)),
            "each tier needs a threshold amount or number of pieces",
        ),
        (
            promotions.TimedDiscountRule(
                items=(promotions.TimedItem(sku_id=1, price_amount=1, percent_off=5),)
            ),
            "SKU 1 needs either a price or a percent off, not both",
        ),
        (
            promotions.TimedDiscountRule(items=(promotions.TimedItem(sku_id=424242, price_amount=1),)),
            "SKU 424242 does not exist",
        ),
        (promotions.GiftRule(threshold_amount=100, gift_sku_id=424242), "the gift SKU 424242 is not on sale"),
    ],
)
async def test_terms_that_do_not_work_are_refused_with_the_problem(rule: object, problem: str) -> None:
    with pytest.raises(promotions.InvalidRule) as refused:
        async with uow() as session:
            await promotions.create_promotion(session, data=write(rule), actor=SYSTEM)
    assert refused.value.params == {"problem": problem}
    assert await snapshot() == (0, 0, 0)


async def test_an_end_before_the_start_is_refused() -> None:
    now = clock.now()
    with pytest.raises(promotions.EndsBeforeStart):
        async with uow() as session:
            await promotions.create_promotion(
                session, data=write(reduction((100, 10)), starts_at=now, ends_at=now), actor=SYSTEM
            )
    assert await snapshot() == (0, 0, 0)


async def test_phase_follows_the_clock_and_lists_filter_by_it() -> None:
    now = clock.now()
    later = await make_promotion(reduction((100, 10)), starts_at=now + dt.timedelta(hours=1))
    running = await make_promotion(reduction((100, 10)))
    draft = await make_promotion(reduction((100, 10)), publish=False)
    async with uow(write=False) as session:
        scheduled = await promotions.list_promotions(session, phase=promotions.Phase.scheduled)
        everything = await promotions.list_promotions(session, limit=2)
        rest = await promotions.list_promotions(session, limit=2, cursor=everything.next_cursor)
    assert [p.id for p in scheduled.items] == [later.id]
    assert [p.id for p in everything.items + rest.items] == [draft.id, running.id, later.id]
    assert rest.next_cursor is None
    clock.advance(dt.timedelta(days=2))
    async with uow(write=False) as session:
        ended = await promotions.list_promotions(session, phase=promotions.Phase.ended)
        assert (
            await promotions.get_promotion(session, promotion_id=running.id)
        ).phase is promotions.Phase.ended
    assert [p.id for p in ended.items] == [running.id, later.id]


async def test_the_live_set_turns_over_at_a_start_time_and_on_every_write() -> None:
    now = clock.now()
    soon = await make_promotion(reduction((1000, 100)), starts_at=now + dt.timedelta(seconds=5))
    lines = [line("a", price=5000)]

    async def total() -> int:
        async with uow(write=False) as session:
            quote = await promotions.quote(session, lines=lines, context=CONTEXT, shipping=None)
        return quote.result.total_amount

    assert await total() == 5000  # cached now, until the start
    clock.advance(dt.timedelta(seconds=5))
    assert await total() == 4900  # no stale price after the start time
    async with uow() as session:
        await promotions.pause_promotion(session, promotion_id=soon.id, actor=SYSTEM)
    assert await total() == 5000  # a write retires the snapshot at once
    async with uow() as session:
        await promotions.resume_promotion(session, promotion_id=soon.id, actor=SYSTEM)
    assert await total() == 4900
    clock.advance(dt.timedelta(days=1))
    assert await total() == 5000  # nor after the end
