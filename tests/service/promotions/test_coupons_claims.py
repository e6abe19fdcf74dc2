"""Claiming coupons: exactly the quantity under concurrency, exactly the per-customer limit, and
every refusal changing nothing; the claim centre's list and the wallet."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from mercato import promotions
from mercato.core import clock
from mercato.core.db import get_database, uow
from mercato.promotions.models import CouponStatusChange
from tests.factories.catalog import make_product
from tests.factories.promotions import coupon_counts, make_coupon_template, published_template

HOUR = dt.timedelta(hours=1)


async def claim(
    template_id: int, customer_id: int, channel: promotions.Channel = promotions.Channel.web
) -> str:
    try:
        async with uow() as session:
            await promotions.claim_coupon(
                session, template_id=template_id, customer_id=customer_id, channel=channel
            )
    except (promotions.CouponsSoldOut, promotions.CouponLimitReached, promotions.CouponNotClaimable) as exc:
        return exc.code
    return "claimed"


async def test_customers_racing_for_the_last_coupons_get_exactly_that_many() -> None:
    # 1,000 customers for the last 100 on PostgreSQL; the same 10:1 ratio, smaller, on SQLite
    customers, left = (300, 30) if get_database().is_sqlite else (1000, 100)
    template = await make_coupon_template(amount_off=500, total_quantity=1000, issued_quantity=1000 - left)

    outcomes = await asyncio.gather(*(claim(template, 50_000 + n) for n in range(customers)))

    assert outcomes.count("claimed") == left
    assert outcomes.count("promotions.coupons_sold_out") == customers - left
    assert await coupon_counts(template) == (1000, left, left)
    async with uow(write=False) as session:
        issued_rows = await session.scalar(
            select(func.count()).select_from(CouponStatusChange).where(CouponStatusChange.reason == "issued")
        )
    assert issued_rows == left


async def test_one_customer_firing_20_parallel_claims_against_a_limit_of_1_gets_1() -> None:
    template = await make_coupon_template(amount_off=500, per_customer_limit=1)

    outcomes = await asyncio.gather(*(claim(template, 7) for _ in range(20)))

    assert outcomes.count("claimed") == 1
    assert outcomes.count("promotions.coupon_limit_reached") == 19
    assert await coupon_counts(template) == (1, 1, 1)
    async with uow(write=False) as session:
        wallet = await promotions.list_wallet(session, customer_id=7)
    assert [c.template_id for c in wallet] == [template]


async def test_parallel_claims_within_a_limit_of_3_give_3_distinct_keys() -> None:
    template = await make_coupon_template(amount_off=500, per_customer_limit=3)

    outcomes = await asyncio.gather(*(claim(template, 7) for _ in range(10)))

    assert outcomes.count("claimed") == 3
    assert await coupon_counts(template) == (3, 3, 3)


async def test_a_claim_issues_a_coupon_valid_for_its_days_from_now() -> None:
    template = await published_template(valid_days=3, amount_off=800)
    async with uow() as session:
        got = await promotions.claim_coupon(session, template_id=template.id, customer_id=9)
    assert (got.template_id, got.customer_id, got.status, got.source) == (
        template.id,
        9,
        promotions.CouponStatus.unused,
        promotions.CouponSource.claim,
    )
    assert (got.amount_off, got.name) == (800, template.name)
    assert got.valid_until - got.valid_from == dt.timedelta(days=3)
    assert got.valid_from == got.issued_at


@pytest.mark.parametrize(
    ("_case", "fields", "expected"),
    [
        ("draft", {"status": "draft"}, "promotions.coupon_not_claimable"),
        ("paused", {"status": "paused"}, "promotions.coupon_not_claimable"),
        ("ended", {"status": "ended"}, "promotions.coupon_not_claimable"),
        ("not offered", {"claimable": False}, "promotions.coupon_not_claimable"),
        ("claims not open", {"claim_starts_at": HOUR}, "promotions.coupon_not_claimable"),
        ("claims over", {"claim_ends_at": -HOUR}, "promotions.coupon_not_claimable"),
        ("validity over", {"valid_until": -HOUR}, "promotions.coupon_not_claimable"),
        ("other channel", {"channels": ["wechat"]}, "promotions.coupon_not_claimable"),
        ("sold out", {"total_quantity": 5, "issued_quantity": 5}, "promotions.coupons_sold_out"),
    ],
)
async def test_a_refused_claim_changes_nothing(_case: str, fields: dict[str, object], expected: str) -> None:
    now = clock.now()
    values = {
        name: now + value if isinstance(value, dt.timedelta) else value for name, value in fields.items()
    }
    if "valid_until" in values:
        values["valid_from"] = now - dt.timedelta(days=2)
    template = await make_coupon_template(amount_off=500, **values)
    before = await coupon_counts(template)

    assert await claim(template, 11) == expected

    assert await coupon_counts(template) == before
    async with uow(write=False) as session:
        assert await promotions.list_wallet(session, customer_id=11) == []
        assert await session.scalar(select(func.count()).select_from(CouponStatusChange)) == 0


async def test_a_claim_over_the_limit_changes_nothing() -> None:
    template = await make_coupon_template(amount_off=500, per_customer_limit=2)
    assert [await claim(template, 3) for _ in range(3)] == [
        "claimed",
        "claimed",
        "promotions.coupon_limit_reached",
    ]
    assert await coupon_counts(template) == (2, 2, 2)


async def test_an_unknown_template_is_not_found() -> None:
    with pytest.raises(promotions.CouponTemplateNotFound):
        async with uow() as session:
            await promotions.claim_coupon(session, template_id=999_999, customer_id=1)


async def test_claim_centre_shows_guests_everything_claimable_and_customers_what_they_may_still_claim() -> (
    None
):
    now = clock.now()
    open_one = await make_coupon_template(amount_off=500, claim_ends_at=now + dt.timedelta(days=1))
    two_each = await make_coupon_template(amount_off=300, per_customer_limit=2)
    await make_coupon_template(amount_off=500, claimable=False)
    await make_coupon_template(amount_off=500, total_quantity=3, issued_quantity=3)
    await make_coupon_template(amount_off=500, status="paused")
    await claim(open_one, 5)
    await claim(two_each, 5)

    async with uow(write=False) as session:
        guest = await promotions.list_claimable(session, customer_id=None)
        mine = await promotions.list_claimable(session, customer_id=5)
        other = await promotions.list_claimable(session, customer_id=6)

    assert [t.id for t in guest] == [open_one, two_each]
    assert [t.id for t in mine] == [two_each]
    assert [t.id for t in other] == [open_one, two_each]


async def test_a_product_page_shows_the_coupons_whose_scope_holds_the_product() -> None:
    product = await make_product()
    elsewhere = await make_product()
    every = await make_coupon_template(amount_off=100)
    by_product = await make_coupon_template(
        amount_off=200, scope=promotions.Scope(all_goods=False, product_ids=(product.id,))
    )
    by_category = await make_coupon_template(
        amount_off=300, scope=promotions.Scope(all_goods=False, category_ids=(product.category_id,))
    )
    excluded = await make_coupon_template(
        amount_off=400, scope=promotions.Scope(exclude_product_ids=(product.id,))
    )
    other = await make_coupon_template(
        amount_off=500, scope=promotions.Scope(all_goods=False, product_ids=(elsewhere.id,))
    )

    async with uow(write=False) as session:
        shown = await promotions.list_claimable(session, customer_id=None, product_id=product.id)

    assert [t.id for t in shown] == [every, by_product, by_category]
    assert {excluded, other}.isdisjoint(t.id for t in shown)


async def test_the_wallet_lists_by_status_soonest_ending_first() -> None:
    week = await published_template(valid_days=7)
    day = await published_template(valid_days=1)
    async with uow() as session:
        later = await promotions.claim_coupon(session, template_id=week.id, customer_id=4)
        sooner = await promotions.claim_coupon(session, template_id=day.id, customer_id=4)
    async with uow(write=False) as session:
        unused = await promotions.list_wallet(session, customer_id=4, status=promotions.CouponStatus.unused)
        used = await promotions.list_wallet(session, customer_id=4, status=promotions.CouponStatus.used)
        someone_else = await promotions.list_wallet(session, customer_id=5)
    assert [c.id for c in unused] == [sooner.id, later.id]
    assert (used, someone_else) == ([], [])
