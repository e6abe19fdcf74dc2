"""The shopper's coupons over the API: the wallet by status, the coupons to claim, claiming one
and redeeming a code; guests and refusals answered with problems that change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

from httpx import AsyncClient

from mercato import promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.jobs import broker
from tests.factories.identity import SYSTEM, signed_in_customer
from tests.factories.promotions import coupon_counts, give_coupon, make_coupon_template, published_template


async def test_the_wallet_lists_only_the_customers_own_coupons_by_status(client: AsyncClient) -> None:
    me, headers = await signed_in_customer(client)
    other, _ = await signed_in_customer(client)
    template_id = await make_coupon_template(amount_off=500)
    now = clock.now()
    unused = await give_coupon(me.id, template_id)
    used = await give_coupon(me.id, template_id, status=promotions.CouponStatus.used)
    expired = await give_coupon(
        me.id,
        template_id,
        valid_from=now - dt.timedelta(days=9),
        valid_until=now - dt.timedelta(days=2),
        status=promotions.CouponStatus.expired,
    )
    await give_coupon(other.id, template_id)

    every = await client.get("/api/v1/me/coupons", headers=headers)
    by_status = {
        status: await client.get("/api/v1/me/coupons", params={"status": status}, headers=headers)
        for status in ("unused", "used", "expired")
    }
    wrong = await client.get("/api/v1/me/coupons", params={"status": "void"}, headers=headers)

    assert sorted(c["id"] for c in every.json()) == sorted([unused, used, expired])
    assert {status: [c["id"] for c in r.json()] for status, r in by_status.items()} == {
        "unused": [unused],
        "used": [used],
        "expired": [expired],
    }
    assert every.headers["cache-control"] == "no-store"
    assert (wrong.status_code, wrong.json()["code"]) == (422, "core.validation_failed")


async def test_a_guest_has_no_wallet_and_cannot_claim(client: AsyncClient) -> None:
    template = await published_template()

    wallet = await client.get("/api/v1/me/coupons")
    claim = await client.post(f"/api/v1/coupons/{template.id}/claim")
    claimable = await client.get("/api/v1/coupons/claimable")

    assert (wallet.status_code, wallet.json()["code"]) == (401, "core.unauthenticated")
    assert (claim.status_code, claim.json()["code"]) == (401, "core.unauthenticated")
    assert [t["id"] for t in claimable.json()] == [template.id]
    assert await coupon_counts(template.id) == (0, 0, 0)


async def test_claiming_once_then_the_limit_refuses(client: AsyncClient) -> None:
    me, headers = await signed_in_customer(client)
    template = await published_template(per_customer_limit=1)

    before = await client.get("/api/v1/coupons/claimable", headers=headers)
    first = await client.post(f"/api/v1/coupons/{template.id}/claim", headers=headers)
    second = await client.post(f"/api/v1/coupons/{template.id}/claim", headers=headers)
    after = await client.get("/api/v1/coupons/claimable", headers=headers)
    unknown = await client.post("/api/v1/coupons/999999/claim", headers=headers)

    assert [t["id"] for t in before.json()] == [template.id]
    assert (first.status_code, first.json()["customer_id"], first.json()["source"]) == (201, me.id, "claim")
    assert (second.status_code, second.json()["code"]) == (409, "promotions.coupon_limit_reached")
    assert after.json() == []
    assert (unknown.status_code, unknown.json()["code"]) == (404, "promotions.coupon_template_not_found")
    assert await coupon_counts(template.id) == (1, 1, 1)


async def test_a_code_is_redeemed_once(client: AsyncClient) -> None:
    me, headers = await signed_in_customer(client)
    template = await published_template(claimable=False)
    async with uow() as session:
        run = await promotions.start_code_batch(session, template_id=template.id, count=1, actor=SYSTEM)
    await broker.wait_all()
    async with uow(write=False) as session:
        exported = await promotions.export_codes(session, run_id=run.id)
    code = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))[1][0]

    redeemed = await client.post("/api/v1/coupons/redeem", json={"code": code}, headers=headers)
    again = await client.post("/api/v1/coupons/redeem", json={"code": code}, headers=headers)
    guessed = await client.post("/api/v1/coupons/redeem", json={"code": "ZZZZ-ZZZZ-ZZZZ"}, headers=headers)

    assert (redeemed.status_code, redeemed.json()["template_id"], redeemed.json()["customer_id"]) == (
        201,
        template.id,
        me.id,
    )
    assert (again.status_code, again.json()["code"]) == (422, "promotions.code_invalid")
    assert (guessed.status_code, guessed.json()["code"]) == (422, "promotions.code_invalid")
    assert await coupon_counts(template.id) == (1, 1, 1)
