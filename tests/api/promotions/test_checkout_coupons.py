"""Coupons at checkout over the API: a coupon that cannot be used is refused at confirm, when the
cart is placed and at 立即购买 with the same 4xx problem and stable code, and the refusal creates
nothing (no order, payment, hold or redemption; the coupon untouched); an unpaid order cancelled
by the shopper gives its coupon back; the cart names each discount and says what is missing for
the next tier (凑单).

The shop: red T-shirts at 30 元, two in the cart (60 元; shipping 8 + 2 元 = 70 元 to pay)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select

from mercato import identity, promotions
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.core.idempotency import IdempotencyRecord
from mercato.promotions.models import Coupon, CouponStatusChange, Redemption
from tests.api.checkout.test_bad_input import problem
from tests.api.checkout.test_bad_input import state as trade_state
from tests.factories.checkout import ADDRESS, open_shop
from tests.factories.identity import make_customer, signed_in_customer
from tests.factories.promotions import coupon, give_coupon, make_coupon_template, make_promotion, reduction

TOTAL = 7000
ZH = {"Accept-Language": "zh-CN"}


async def state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row a refused checkout must leave alone: the trade's (carts, orders, payments, holds,
    stock, ledger, outbox) and the coupons', redemptions' and idempotency keys'."""
    tables: dict[str, tuple[Any, ...]] = {
        "coupons": (Coupon.id, Coupon.status, Coupon.order_id, Coupon.locked_at, Coupon.updated_at),
        "coupon history": (CouponStatusChange.id, CouponStatusChange.to_status),
        "redemptions": (Redemption.id, Redemption.status),
        "idempotency keys": (IdempotencyRecord.id, IdempotencyRecord.key),
    }
    async with uow(write=False) as s:
        rows = {
            name: [tuple(row) for row in await s.execute(select(*columns).order_by(columns[0]))]
            for name, columns in tables.items()
        }
    return {**await trade_state(), **rows}


async def buyer(client: AsyncClient) -> tuple[identity.CustomerRead, dict[str, str], int, int]:
    """An open shop and a signed-in shopper with an address and two red T-shirts in the cart:
    (customer, headers, address id, red)."""
    red, _black = await open_shop(price=3000, stock=5)
    customer, auth = await signed_in_customer(client)
    address = await client.post("/api/v1/me/addresses", json=ADDRESS, headers=auth)
    added = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2}, headers=auth)
    assert (address.status_code, added.status_code) == (201, 200), added.text
    return customer, auth, address.json()["id"], red


async def checkouts(
    client: AsyncClient, auth: dict[str, str], address_id: int, red: int, choice: object
) -> list[Response]:
    """The coupon ``choice`` sent to confirm, to placing the cart and to 立即购买 (and its confirm)."""
    headers = {**auth, **ZH}
    body = {"address_id": address_id, "coupon": choice}
    return [
        await client.post("/api/v1/checkout/confirm", json=body, headers=headers),
        await client.post(
            "/api/v1/checkout/complete",
            json={**body, "expected_total_amount": TOTAL},
            headers={**headers, "Idempotency-Key": "coupon-refused-1"},
        ),
        await client.post(
            "/api/v1/checkout/buy-now/confirm", json={**body, "sku_id": red, "quantity": 2}, headers=headers
        ),
        await client.post(
            "/api/v1/checkout/buy-now",
            json={**body, "sku_id": red, "quantity": 2, "expected_total_amount": TOTAL},
            headers={**headers, "Idempotency-Key": "coupon-refused-2"},
        ),
    ]


def _days(n: float) -> dt.datetime:
    return clock.now() + dt.timedelta(days=n)


async def expired(customer_id: int) -> int:
    """Past its end, before the expiry job marked it."""
    return await give_coupon(
        customer_id, await make_coupon_template(amount_off=500), valid_from=_days(-8), valid_until=_days(-1)
    )


async def marked_expired(customer_id: int) -> int:
    """Past its end and marked so by the expiry job."""
    return await give_coupon(
        customer_id,
        await make_coupon_template(amount_off=500),
        valid_from=_days(-8),
        valid_until=_days(-1),
        status=promotions.CouponStatus.expired,
    )


async def not_yet_valid(customer_id: int) -> int:
    return await give_coupon(
        customer_id, await make_coupon_template(amount_off=500), valid_from=_days(1), valid_until=_days(8)
    )


async def another_customers(customer_id: int) -> int:
    return await coupon((await make_customer()).id, amount_off=500)


async def below_threshold(customer_id: int) -> int:
    return await coupon(customer_id, amount_off=1500, min_spend_amount=10000)


async def against_exclusive_promotion(customer_id: int) -> int:
    await make_promotion(reduction((5000, 500)), name="满50减5", allow_coupons=False)
    return await coupon(customer_id, amount_off=500)


async def used(customer_id: int) -> int:
    return await give_coupon(
        customer_id, await make_coupon_template(amount_off=500), status=promotions.CouponStatus.used
    )


async def out_of_scope(customer_id: int) -> int:
    return await coupon(
        customer_id, amount_off=500, scope=promotions.Scope(all_goods=False, product_ids=(2**40,))
    )


async def other_channel(customer_id: int) -> int:
    """Only for the web shop (the API is the app's channel)."""
    return await coupon(customer_id, amount_off=500, channels=[str(promotions.Channel.web)])


async def no_such_coupon(customer_id: int) -> int:
    return 2**62


@pytest.mark.parametrize(
    ("make", "status", "code", "detail"),
    [
        (expired, 409, "promotions.coupon_expired", None),
        (marked_expired, 409, "promotions.coupon_unavailable", None),
        (not_yet_valid, 409, "promotions.coupon_not_yet_valid", None),
        (another_customers, 404, "promotions.coupon_not_found", None),
        (below_threshold, 409, "promotions.coupon_not_applicable", "还差 ¥40.00"),
        (against_exclusive_promotion, 409, "promotions.coupons_not_combinable", None),
        (used, 409, "promotions.coupon_unavailable", None),
        (out_of_scope, 409, "promotions.coupon_not_applicable", None),
        (other_channel, 409, "promotions.coupon_not_applicable", None),
        (no_such_coupon, 404, "promotions.coupon_not_found", None),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
async def test_a_coupon_that_cannot_be_used_is_refused_everywhere_and_changes_nothing(
    client: AsyncClient,
    make: Callable[[int], Awaitable[int]],
    status: int,
    code: str,
    detail: str | None,
) -> None:
    customer, auth, address_id, red = await buyer(client)
    coupon_id = await make(customer.id)
    before = await state()

    answers = await checkouts(client, auth, address_id, red, coupon_id)

    assert [problem(a) for a in answers] == [(status, code)] * 4
    if detail is not None:
        assert [detail in a.json()["detail"] for a in answers] == [True] * 4, answers[0].json()["detail"]
    assert await state() == before


@pytest.mark.parametrize(
    "choice", ["abc", "", "BEST", "1", -1, 0, 2**63, 1.0, 1.5, True, None, [1], {"id": 1}]
)
async def test_a_coupon_that_is_not_an_id_best_or_none_is_422(client: AsyncClient, choice: object) -> None:
    _customer, auth, address_id, red = await buyer(client)
    before = await state()

    answers = await checkouts(client, auth, address_id, red, choice)

    assert [problem(a) for a in answers] == [(422, "core.validation_failed")] * 4
    assert await state() == before


@pytest.mark.usefixtures("handlers")
async def test_cancelling_an_unpaid_order_gives_its_coupon_back(client: AsyncClient) -> None:
    customer, auth, address_id, _red = await buyer(client)
    coupon_id = await coupon(customer.id, amount_off=500, name="五元券")
    placed = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": TOTAL - 500, "coupon": coupon_id},
        headers={**auth, "Idempotency-Key": "coupon-cancel-1"},
    )
    assert placed.status_code == 200, placed.text
    order_id = placed.json()["order_id"]
    locked = await client.get("/api/v1/me/coupons", headers=auth)

    cancelled = await client.post(
        f"/api/v1/orders/{order_id}/cancel", json={"reason": "不想要了"}, headers=auth
    )
    for _ in range(3):
        await events.deliver_pending()
    mine = await client.get("/api/v1/me/coupons", headers=auth)

    assert [(c["id"], c["status"], c["order_id"]) for c in locked.json()] == [(coupon_id, "locked", order_id)]
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert [(c["id"], c["status"], c["order_id"]) for c in mine.json()] == [(coupon_id, "unused", None)]
    again = await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    assert (again.json()["coupon_id"], again.json()["price"]["total_amount"]) == (coupon_id, TOTAL - 500)


async def test_the_cart_names_each_discount_and_what_is_missing_for_the_next_tier(
    client: AsyncClient,
) -> None:
    customer, auth, _address_id, red = await buyer(client)
    promo = await make_promotion(reduction((5000, 500), (10000, 1500)), name="满50减5 满100减15")
    wallet = await coupon(customer.id, amount_off=300, name="三元券")

    view = await client.get("/api/v1/cart", headers={**auth, **ZH})

    assert view.status_code == 200, view.text
    cart = view.json()
    assert [(d["code"], d["name"], d["amount"]) for d in cart["discounts"]] == [
        (f"promotion:{promo.id}", "满50减5 满100减15", 500),
        (f"coupon:{wallet}", "三元券", 300),
    ]
    assert cart["coupon_saving_amount"] == 300
    [line] = cart["lines"]
    assert (line["sku_id"], [(d["name"], d["amount"]) for d in line["discounts"]]) == (
        red,
        [("满50减5 满100减15", 500), ("三元券", 300)],
    )
    assert [(h["promotion_id"], h["name"], h["gap_amount"]) for h in cart["hints"]] == [
        (promo.id, "满50减5 满100减15", 4000)
    ]


async def test_confirm_leaves_out_a_coupon_below_its_threshold_and_says_what_is_missing(
    client: AsyncClient,
) -> None:
    customer, auth, address_id, _red = await buyer(client)
    short = await coupon(customer.id, amount_off=1500, min_spend_amount=10000)
    none_taken = await coupon(customer.id, amount_off=200)

    best = await client.post(
        "/api/v1/checkout/confirm", json={"address_id": address_id}, headers={**auth, **ZH}
    )
    without = await client.post(
        "/api/v1/checkout/confirm", json={"address_id": address_id, "coupon": "none"}, headers=auth
    )

    quote = best.json()
    assert (quote["coupon_id"], quote["price"]["total_amount"]) == (none_taken, TOTAL - 200)
    assert [
        (o["coupon"]["id"], o["usable"], o["saving_amount"], o["reason"]) for o in quote["coupon_options"]
    ] == [
        (none_taken, True, 200, None),
        (short, False, 0, {"message": "Spend {amount} more to use it", "params": {"amount": "¥40.00"}}),
    ]
    assert (without.json()["coupon_id"], without.json()["price"]["total_amount"]) == (None, TOTAL)
