"""Coupon templates kept by staff: terms validated with a clear problem, status moves recorded
and audited, the total never below what was issued, value terms fixed once coupons exist."""

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
from mercato.promotions.models import CouponTemplate, StatusChange
from tests.factories.identity import SYSTEM
from tests.factories.promotions import coupon_counts, published_template, template_write

K = promotions.CouponKind
DAY = dt.timedelta(days=1)


async def counts() -> tuple[int, int, int]:
    async with uow(write=False) as session:
        return (
            int(await session.scalar(select(func.count()).select_from(CouponTemplate)) or 0),
            int(await session.scalar(select(func.count()).select_from(StatusChange)) or 0),
            int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


@pytest.mark.parametrize(
    ("_case", "fields", "error", "field"),
    [
        ("amount without amount", {"amount_off": 0}, promotions.InvalidRule, "amount_off"),
        (
            "amount not below spend",
            {"amount_off": 5000, "min_spend_amount": 5000},
            promotions.InvalidRule,
            "amount_off",
        ),
        ("amount with percent", {"percent_off": 10}, promotions.InvalidRule, "percent_off"),
        (
            "percent without percent",
            {"kind": K.percent, "amount_off": 0},
            promotions.InvalidRule,
            "percent_off",
        ),
        ("percent with amount", {"kind": K.percent, "percent_off": 10}, promotions.InvalidRule, "amount_off"),
        ("shipping with amount", {"kind": K.free_shipping}, promotions.InvalidRule, "kind"),
        ("dates and days", {"valid_from": "now", "valid_until": "+1"}, promotions.InvalidRule, "valid_days"),
        ("neither", {"valid_days": None}, promotions.InvalidRule, "valid_days"),
        ("only an end", {"valid_days": None, "valid_until": "+1"}, promotions.InvalidRule, "valid_until"),
        (
            "ends first",
            {"valid_days": None, "valid_from": "now", "valid_until": "-1"},
            promotions.EndsBeforeStart,
            "valid_until",
        ),
        (
            "claims end first",
            {"claim_starts_at": "now", "claim_ends_at": "-1"},
            promotions.EndsBeforeStart,
            "claim_ends_at",
        ),
    ],
)
async def test_terms_that_do_not_work_are_refused_and_nothing_is_written(
    _case: str, fields: dict[str, Any], error: type[Exception], field: str
) -> None:
    now = clock.now()
    offsets = {"now": now, "+1": now + DAY, "-1": now - DAY}
    data = template_write(**{k: offsets.get(v, v) if isinstance(v, str) else v for k, v in fields.items()})

    with pytest.raises(error) as refused:
        async with uow() as session:
            await promotions.create_coupon_template(session, data=data, actor=SYSTEM)

    assert [f.loc for f in refused.value.fields] == [("body", field)]  # type: ignore[attr-defined]
    assert await counts() == (0, 0, 0)


async def test_a_percentage_over_100_is_refused_by_the_schema() -> None:
    with pytest.raises(ValueError, match="percent_off"):
        template_write(kind=K.percent, amount_off=0, percent_off=120)


async def test_create_publish_pause_resume_end_each_recorded_and_audited() -> None:
    staff = identity.Actor(staff_id=None, label="运营")
    async with uow() as session:
        made = await promotions.create_coupon_template(
            session, data=template_write(kind=K.percent, amount_off=0, percent_off=20), actor=staff
        )
    assert (made.status, made.percent_off, made.issued_quantity) == (
        promotions.CouponTemplateStatus.draft,
        20,
        0,
    )
    steps = [
        (promotions.publish_coupon_template, "active"),
        (promotions.pause_coupon_template, "paused"),
        (promotions.resume_coupon_template, "active"),
        (promotions.end_coupon_template, "ended"),
    ]
    for move, status in steps:
        async with uow() as session:
            moved = await move(session, template_id=made.id, actor=staff, reason="计划")
        assert moved.status == status
    async with uow(write=False) as session:
        changes = (
            await session.execute(
                select(
                    StatusChange.subject,
                    StatusChange.from_status,
                    StatusChange.to_status,
                    StatusChange.actor_label,
                )
                .where(StatusChange.subject_id == made.id)
                .order_by(StatusChange.id)
            )
        ).all()
        actions = list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert [tuple(c) for c in changes] == [
        ("coupon_template", "draft", "active", "运营"),
        ("coupon_template", "active", "paused", "运营"),
        ("coupon_template", "paused", "active", "运营"),
        ("coupon_template", "active", "ended", "运营"),
    ]
    assert actions == [
        "promotions.coupon_template.create",
        "promotions.coupon_template.active",
        "promotions.coupon_template.paused",
        "promotions.coupon_template.active",
        "promotions.coupon_template.ended",
    ]


async def test_an_illegal_move_is_refused_and_changes_nothing() -> None:
    template = await published_template()
    async with uow() as session:
        await promotions.end_coupon_template(session, template_id=template.id, actor=SYSTEM)
    before = await counts()
    with pytest.raises(IllegalTransition):
        async with uow() as session:
            await promotions.resume_coupon_template(session, template_id=template.id, actor=SYSTEM)
    with pytest.raises(promotions.CouponTemplateNotFound):
        async with uow() as session:
            await promotions.publish_coupon_template(session, template_id=999_999, actor=SYSTEM)
    assert await counts() == before


async def test_the_total_cannot_go_below_what_was_issued() -> None:
    template = await published_template(total_quantity=10, per_customer_limit=5)
    for _ in range(3):
        async with uow() as session:
            await promotions.claim_coupon(session, template_id=template.id, customer_id=1)
    before = await counts()

    with pytest.raises(promotions.InvalidRule) as refused:
        async with uow() as session:
            await promotions.update_coupon_template(
                session,
                template_id=template.id,
                data=template_write(name=template.name, total_quantity=2, per_customer_limit=5),
                actor=SYSTEM,
            )
    assert [f.loc for f in refused.value.fields] == [("body", "total_quantity")]
    assert await counts() == before
    assert await coupon_counts(template.id) == (3, 3, 3)

    async with uow() as session:
        updated = await promotions.update_coupon_template(
            session,
            template_id=template.id,
            data=template_write(name="改名", total_quantity=3, per_customer_limit=5),
            actor=SYSTEM,
        )
    assert (updated.name, updated.total_quantity, updated.issued_quantity) == ("改名", 3, 3)


async def test_value_terms_are_fixed_once_coupons_exist() -> None:
    template = await published_template(amount_off=1000)
    async with uow() as session:
        await promotions.update_coupon_template(
            session, template_id=template.id, data=template_write(amount_off=1500), actor=SYSTEM
        )
        await promotions.claim_coupon(session, template_id=template.id, customer_id=1)
    before = await counts()

    with pytest.raises(promotions.CouponTemplateNotEditable) as refused:
        async with uow() as session:
            await promotions.update_coupon_template(
                session, template_id=template.id, data=template_write(amount_off=2000), actor=SYSTEM
            )

    assert [f.loc for f in refused.value.fields] == [("body", "amount_off")]
    assert await counts() == before
    async with uow(write=False) as session:
        assert (await promotions.get_coupon_template(session, template_id=template.id)).amount_off == 1500


async def test_list_pages_newest_first_with_filters() -> None:
    ids = [(await published_template()).id for _ in range(3)]
    async with uow() as session:
        draft = await promotions.create_coupon_template(session, data=template_write(), actor=SYSTEM)
    async with uow(write=False) as session:
        first = await promotions.list_coupon_templates(session, limit=2)
        second = await promotions.list_coupon_templates(session, limit=2, cursor=first.next_cursor)
        active = await promotions.list_coupon_templates(
            session, status=promotions.CouponTemplateStatus.active
        )
    assert [t.id for t in first.items] == [draft.id, ids[2]]
    assert ([t.id for t in second.items], second.next_cursor) == ([ids[1], ids[0]], None)
    assert [t.id for t in active.items] == ids[::-1]
