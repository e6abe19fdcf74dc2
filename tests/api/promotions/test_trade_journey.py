"""The promotions trade journey over HTTP: a 满减 promotion and a claimed coupon → two lines in the
cart → checkout confirm preselects the coupon and names every discount → placed with it → paid
at the sandbox gateway (the coupon is used) → delivered → one line returned and refunded (exactly
what that line was paid; the coupon stays used) → the other line returned and refunded (the
coupon comes back when its template says so). The reports count the order, its discount and what
was refunded.

Amounts: 2 red at 80 元 (160 元) and 1 mug at 199 元 = 359 元. 满300减50 shares 50 元 over the lines
by their totals (22.28 / 27.72 元); the 满200减20 coupon then shares 20 元 over what is left
(137.72 / 171.28 元 → 8.91 / 11.09 元). The red line costs 128.81 元, the mug 160.19 元, 289 元 in all;
shipping is free over 99 元."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import payments, promotions
from mercato.core.db import uow
from tests.api.aftersales.support import staff
from tests.api.test_after_payment_journey import settle
from tests.factories.cart import listed_skus
from tests.factories.checkout import open_shop, shopper
from tests.factories.payments import pay_on_gateway, read_payment
from tests.factories.promotions import make_promotion, published_template, reduction
from tests.service.aftersales.support import ship_and_deliver

ADMIN = "/api/v1/admin/aftersales"
TOTAL = 28900
RED_LINE = 12881  # 16000 − 2228 (满减) − 891 (coupon)
MUG_LINE = 16019  # 19900 − 2772 (满减) − 1109 (coupon)

pytestmark = pytest.mark.usefixtures("handlers")


async def wallet(client: AsyncClient, auth: dict[str, str]) -> dict[int, tuple[str, int | None]]:
    """The shopper's coupons as their wallet shows them: id -> (status, order id)."""
    mine = await client.get("/api/v1/me/coupons", headers=auth)
    assert mine.status_code == 200, mine.text
    return {c["id"]: (c["status"], c["order_id"]) for c in mine.json()}


async def return_line(
    client: AsyncClient, auth: dict[str, str], cs: dict[str, str], *, order_id: int, line: dict[str, int]
) -> dict[str, object]:
    """The shopper returns every unit of ``line``; staff approve and receive it; the refund lands.
    The request as the shopper sees it at the end."""
    created = await client.post(
        "/api/v1/aftersales",
        json={
            "order_id": order_id,
            "order_line_id": line["id"],
            "kind": "return_refund",
            "quantity": line["quantity"],
            "reason_code": "no_reason",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    approved = await client.post(f"{ADMIN}/{request_id}/approve", json={"reason": "同意"}, headers=cs)
    sent = await client.post(
        f"/api/v1/aftersales/{request_id}/ship-back",
        json={"carrier": "顺丰", "tracking_number": f"SF10000{line['id']:05d}"},
        headers=auth,
    )
    received = await client.post(
        f"{ADMIN}/{request_id}/receive", json={"resellable": line["quantity"]}, headers=cs
    )
    assert (approved.status_code, sent.status_code, received.status_code) == (200, 200, 200), received.text
    await settle()
    done = await client.get(f"/api/v1/aftersales/{request_id}", headers=auth)
    answer: dict[str, object] = done.json()
    return answer


@pytest.mark.parametrize("return_on_refund", [True, False])
async def test_a_promotion_and_a_coupon_bought_paid_and_refunded_line_by_line(
    client: AsyncClient, return_on_refund: bool
) -> None:
    red, _black = await open_shop(price=8000, stock=5)
    mug, _other = await listed_skus(price=19900, stock=5)
    promo = await make_promotion(reduction((30000, 5000)), name="满300减50")
    big = await published_template(
        name="满200减20", amount_off=2000, min_spend_amount=20000, return_on_refund=return_on_refund
    )
    small = await published_template(name="无门槛5元", amount_off=500)
    auth, address_id = await shopper(client)
    cs = await staff("cs@example.com", "aftersales.read", "aftersales.write", "aftersales.receive")

    claimed = [await client.post(f"/api/v1/coupons/{t.id}/claim", headers=auth) for t in (big, small)]
    assert [c.status_code for c in claimed] == [201, 201], claimed[0].text
    coupon_id, small_id = (c.json()["id"] for c in claimed)
    added = [
        await client.post("/api/v1/cart/lines", json={"sku_id": sku, "quantity": n}, headers=auth)
        for sku, n in ((red, 2), (mug, 1))
    ]
    assert [a.status_code for a in added] == [200, 200], added[-1].text

    confirm = await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    assert confirm.status_code == 200, confirm.text
    quote = confirm.json()
    assert quote["coupon_id"] == coupon_id  # preselected: it saves most
    assert [(o["coupon"]["id"], o["usable"], o["saving_amount"]) for o in quote["coupon_options"]] == [
        (coupon_id, True, 2000),
        (small_id, True, 500),
    ]
    assert [(d["code"], d["name"], d["amount"], d["target"]) for d in quote["discounts"]] == [
        (f"promotion:{promo.id}", "满300减50", 5000, "lines"),
        (f"coupon:{coupon_id}", "满200减20", 2000, "lines"),
    ]
    price = quote["price"]
    assert (price["subtotal_amount"], price["discount_amount"], price["shipping_amount"]) == (35900, 7000, 0)
    assert price["total_amount"] == TOTAL

    body = {"address_id": address_id, "expected_total_amount": TOTAL, "coupon": coupon_id}
    key = {**auth, "Idempotency-Key": f"trade-journey-{return_on_refund}"}
    placed = await client.post("/api/v1/checkout/complete", json=body, headers=key)
    retried = await client.post("/api/v1/checkout/complete", json=body, headers=key)
    assert (placed.status_code, retried.status_code) == (200, 200), placed.text
    assert retried.json() == placed.json()
    order_id, payment_id = placed.json()["order_id"], placed.json()["payment_id"]
    assert placed.json()["total_amount"] == TOTAL
    assert (await wallet(client, auth))[coupon_id] == ("locked", order_id)

    await pay_on_gateway(client, await read_payment(payment_id))
    await settle()
    assert (await wallet(client, auth))[coupon_id][0] == "used"
    assert (await wallet(client, auth))[small_id] == ("unused", None)
    await ship_and_deliver(order_id)
    await settle()
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
    assert (order["status"], order["coupon_id"], order["total_amount"]) == ("delivered", coupon_id, TOTAL)
    red_line, mug_line = order["lines"]
    assert [
        (
            line["sku_id"],
            line["unit_price_amount"] * line["quantity"],
            [(d["code"], d["name"], d["amount"]) for d in line["discounts"]],
        )
        for line in order["lines"]
    ] == [
        (
            red,
            16000,
            [(f"promotion:{promo.id}", "满300减50", 2228), (f"coupon:{coupon_id}", "满200减20", 891)],
        ),
        (
            mug,
            19900,
            [(f"promotion:{promo.id}", "满300减50", 2772), (f"coupon:{coupon_id}", "满200减20", 1109)],
        ),
    ]
    assert (red_line["total_amount"], mug_line["total_amount"]) == (RED_LINE, MUG_LINE)

    first = await return_line(client, auth, cs, order_id=order_id, line=red_line)
    payment = await read_payment(payment_id)
    assert (first["status"], first["total_refund_amount"]) == ("completed", RED_LINE)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.partially_refunded, RED_LINE)
    assert (await wallet(client, auth))[coupon_id] == ("used", order_id)  # a partial refund keeps it used
    async with uow(write=False) as s:
        partly = await promotions.promotion_report(s, promotion_id=promo.id)
    assert (partly.orders, partly.discount_amount, partly.refunded_amount) == (1, 5000, RED_LINE)

    rest = await return_line(client, auth, cs, order_id=order_id, line=mug_line)
    payment = await read_payment(payment_id)
    assert (rest["status"], rest["total_refund_amount"]) == ("completed", MUG_LINE)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.refunded, TOTAL)
    assert (await wallet(client, auth))[coupon_id] == (
        ("unused", None) if return_on_refund else ("used", order_id)
    )

    async with uow(write=False) as s:
        by_promotion = await promotions.promotion_report(s, promotion_id=promo.id)
        by_coupon = await promotions.coupon_template_report(s, template_id=big.id)
    assert (
        by_promotion.orders,
        by_promotion.gmv_amount,
        by_promotion.discount_amount,
        by_promotion.refunded_amount,
        by_promotion.return_on_discount,
    ) == (1, TOTAL, 5000, TOTAL, "5.78")
    assert (
        by_coupon.issued,
        by_coupon.used,
        by_coupon.orders,
        by_coupon.discount_amount,
        by_coupon.refunded_amount,
        by_coupon.return_on_discount,
    ) == (1, 0 if return_on_refund else 1, 1, 2000, TOTAL, "14.45")
