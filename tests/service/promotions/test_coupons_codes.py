"""Redeemable codes: generated unguessable and unique by the job, exported, redeemed once into a
coupon; wrong codes refused changing nothing, and guessing rate-limited."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from mercato import promotions
from mercato.core.db import uow
from mercato.core.i18n import set_locale
from mercato.core.jobs import broker
from mercato.promotions.models import CouponCode
from tests.factories.identity import SYSTEM
from tests.factories.promotions import coupon_counts, published_template


async def batch(template_id: int, count: int) -> promotions.IssueRunRead:
    async with uow() as session:
        queued = await promotions.start_code_batch(
            session, template_id=template_id, count=count, actor=SYSTEM
        )
    assert (queued.kind, queued.status, queued.total, queued.done) == ("codes", "queued", count, 0)
    await broker.wait_all()
    async with uow(write=False) as session:
        return await promotions.get_issue_run(session, run_id=queued.id)


async def codes_of(run_id: int) -> list[str]:
    async with uow(write=False) as session:
        return list(
            (await session.execute(select(CouponCode.code).where(CouponCode.batch_id == run_id))).scalars()
        )


async def redeem(code: str, customer_id: int) -> promotions.CouponRead:
    async with uow() as session:
        return await promotions.redeem_code(session, code=code, customer_id=customer_id)


async def test_a_batch_makes_that_many_unique_unambiguous_codes_and_exports_them() -> None:
    set_locale("en")
    template = await published_template(claimable=False, total_quantity=2000)

    run = await batch(template.id, 1200)

    assert (run.status, run.done, run.issued, run.skipped, run.error) == ("done", 1200, 1200, 0, "")
    assert run.finished_at is not None
    codes = await codes_of(run.id)
    assert len(codes) == len(set(codes)) == 1200
    assert all(re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{12}", code) for code in codes)
    async with uow(write=False) as session:
        exported = await promotions.export_codes(session, run_id=run.id)
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0] == ["Code", "Redeemed", "Redeemed at"]
    assert sorted(row[0].replace("-", "") for row in rows[1:]) == sorted(codes)
    assert all(re.fullmatch(r"\w{4}-\w{4}-\w{4}", row[0]) and row[1:] == ["No", ""] for row in rows[1:])
    assert await coupon_counts(template.id) == (0, 0, 0)  # a code is a coupon only once redeemed


async def test_a_code_redeems_once_however_it_is_typed() -> None:
    template = await published_template(claimable=False, amount_off=2000)
    run = await batch(template.id, 3)
    code = (await codes_of(run.id))[0]
    typed = f" {code[:4].lower()}-{code[4:8]} {code[8:]} "

    coupon = await redeem(typed, 21)

    assert (coupon.customer_id, coupon.template_id, coupon.source, coupon.amount_off) == (
        21,
        template.id,
        promotions.CouponSource.code,
        2000,
    )
    async with uow(write=False) as session:
        row = (await session.execute(select(CouponCode).where(CouponCode.code == code))).scalar_one()
        exported = await promotions.export_codes(session, run_id=run.id)
    assert (row.redeemed_by, row.coupon_id) == (21, coupon.id)
    assert exported.decode("utf-8-sig").count(",是,") == 1
    assert await coupon_counts(template.id) == (1, 1, 1)

    with pytest.raises(promotions.CodeInvalid):
        await redeem(code, 22)
    assert await coupon_counts(template.id) == (1, 1, 1)


async def test_a_code_past_the_customer_limit_stays_unredeemed() -> None:
    template = await published_template(claimable=False, per_customer_limit=1)
    run = await batch(template.id, 2)
    first, second = await codes_of(run.id)
    await redeem(first, 5)

    with pytest.raises(promotions.CouponLimitReached):
        await redeem(second, 5)

    assert await coupon_counts(template.id) == (1, 1, 1)
    async with uow(write=False) as session:
        held = await session.scalar(select(CouponCode.redeemed_by).where(CouponCode.code == second))
    assert held is None
    assert (await redeem(second, 6)).customer_id == 6


@pytest.mark.parametrize("wrong", ["ABCD-EFGH-JKLM", "", "'; DROP TABLE x; --", "A" * 200])
async def test_a_wrong_code_is_invalid_and_changes_nothing(wrong: str) -> None:
    template = await published_template(claimable=False)
    await batch(template.id, 1)
    with pytest.raises(promotions.CodeInvalid):
        await redeem(wrong, 5)
    assert await coupon_counts(template.id) == (0, 0, 0)
    async with uow(write=False) as session:
        assert await session.scalar(select(func.count()).where(CouponCode.redeemed_by.is_not(None))) == 0


async def test_guessing_is_refused_for_a_while_after_ten_wrong_codes_even_with_a_right_one() -> None:
    template = await published_template(claimable=False)
    run = await batch(template.id, 1)
    (code,) = await codes_of(run.id)
    for n in range(10):
        with pytest.raises(promotions.CodeInvalid):
            await redeem(f"WRONG{n:07d}", 8)

    with pytest.raises(promotions.CodeGuessing) as limited:
        await redeem(code, 8)

    assert limited.value.retry_after is not None
    assert 1 <= limited.value.retry_after <= 600
    assert limited.value.params["seconds"] == limited.value.retry_after
    assert await coupon_counts(template.id) == (0, 0, 0)
    assert (await redeem(code, 9)).customer_id == 9  # another customer is not limited


async def test_batches_of_an_ended_template_or_of_no_codes_are_refused() -> None:
    template = await published_template()
    with pytest.raises(promotions.InvalidRule):
        async with uow() as session:
            await promotions.start_code_batch(session, template_id=template.id, count=0, actor=SYSTEM)
    async with uow() as session:
        await promotions.end_coupon_template(session, template_id=template.id, actor=SYSTEM)
    with pytest.raises(promotions.CouponNotClaimable):
        async with uow() as session:
            await promotions.start_code_batch(session, template_id=template.id, count=5, actor=SYSTEM)
    with pytest.raises(promotions.IssueRunNotFound):
        async with uow(write=False) as session:
            await promotions.export_codes(session, run_id=999_999)
