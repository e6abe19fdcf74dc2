"""Payments over the API: the customer sees only their own payments; staff list, read and
refund with orders.read / orders.refund; refunds are idempotent by Idempotency-Key."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import payments
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.factories.payments import counts, make_payment, outbox, pay_on_gateway, read_payment


async def paid_payment(client: AsyncClient, *, amount: int = 10_000, customer_id: int | None = None) -> int:
    payment = await make_payment(amount=amount, customer_id=customer_id)
    await pay_on_gateway(client, payment)
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid
    return payment.id


async def refunder() -> dict[str, str]:
    staff = await make_staff(email="refunds@example.com", permissions=["orders.read", "orders.refund"])
    return await staff_headers(staff.id)


async def audit_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()


async def refund_audits() -> list[tuple[str, str, dict[str, object] | None]]:
    async with uow(write=False) as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.object_id, AuditEntry.after)
            .where(AuditEntry.action == "payment.refund")
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_customer_reads_their_own_payment(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client)
    payment = await make_payment(customer_id=customer.id, amount=500)

    response = await client.get(f"/api/v1/payments/{payment.id}", headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["amount"], body["currency"]) == (
        payment.id,
        "pending",
        500,
        "CNY",
    )
    assert body["pay_url"] == payment.pay_url
    assert "needs_review" not in body
    assert "review_reason" not in body


async def test_another_customers_payment_is_not_found(client: AsyncClient) -> None:
    owner, _ = await signed_in_customer(client)
    _, stranger = await signed_in_customer(client)
    payment = await make_payment(customer_id=owner.id)

    response = await client.get(f"/api/v1/payments/{payment.id}", headers=stranger)
    anonymous = await client.get(f"/api/v1/payments/{payment.id}")

    assert (response.status_code, response.json()["code"]) == (404, "payments.payment_not_found")
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", "/api/v1/admin/payments?reference=order:42", "orders.read"),
        ("GET", "/api/v1/admin/payments/{id}", "orders.read"),
        ("POST", "/api/v1/admin/payments/{id}/refunds", "orders.refund"),
    ],
)
async def test_staff_routes_need_their_permission(
    client: AsyncClient, method: str, path: str, permission: str
) -> None:
    payment_id = await paid_payment(client)
    other = "orders.write" if permission == "orders.read" else "orders.read"
    staff = await make_staff(email="nope@example.com", permissions=[other])
    url = path.format(id=payment_id)
    body = {"amount": 100, "reason": "damaged"}
    key = {"Idempotency-Key": "k-1"}
    before = await counts()

    anonymous = await client.request(method, url, json=body, headers=key)
    forbidden = await client.request(method, url, json=body, headers={**key, **await staff_headers(staff.id)})

    assert (anonymous.status_code, forbidden.status_code) == (401, 403)
    assert forbidden.json()["code"] == "identity.permission_denied"
    assert await counts() == before


async def test_staff_list_payments_by_reference(client: AsyncClient) -> None:
    first = await make_payment(reference="order:1")
    await make_payment(reference="order:2")
    staff = await make_staff(email="look@example.com", permissions=["orders.read"])

    response = await client.get(
        "/api/v1/admin/payments", params={"reference": "order:1"}, headers=await staff_headers(staff.id)
    )

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [first.id]
    assert response.json()["next_cursor"] is None


async def test_staff_read_a_payment_with_its_history(client: AsyncClient) -> None:
    payment_id = await paid_payment(client)
    staff = await make_staff(email="look@example.com", permissions=["orders.read"])

    response = await client.get(f"/api/v1/admin/payments/{payment_id}", headers=await staff_headers(staff.id))

    assert response.status_code == 200
    body = response.json()
    assert body["payment"]["status"] == "paid"
    assert [(c["from_status"], c["to_status"]) for c in body["status_changes"]] == [("pending", "paid")]
    assert [n["outcome"] for n in body["notifications"]] == ["captured"]
    assert body["refunds"] == []


async def test_a_partial_then_the_rest_refunds_the_payment(client: AsyncClient) -> None:
    payment_id = await paid_payment(client, amount=10_000)
    headers = await refunder()
    url = f"/api/v1/admin/payments/{payment_id}/refunds"

    first = await client.post(
        url,
        json={"amount": 3_000, "reason": "one item returned"},
        headers={**headers, "Idempotency-Key": "r-1"},
    )
    middle = await read_payment(payment_id)
    second = await client.post(
        url, json={"amount": 7_000, "reason": "the rest"}, headers={**headers, "Idempotency-Key": "r-2"}
    )

    assert (first.status_code, second.status_code) == (202, 202)
    assert (first.json()["amount"], first.json()["status"]) == (3_000, "pending")  # before the provider
    assert (middle.status, middle.refunded_amount) == (payments.PaymentStatus.partially_refunded, 3_000)
    final = await read_payment(payment_id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.refunded, 10_000)
    refunded = [p for name, p in await outbox() if name == "payments.payment_refunded.v1"]
    assert [(e["amount"], e["refunded_total"], e["is_full"]) for e in refunded] == [
        (3_000, 3_000, False),
        (7_000, 10_000, True),
    ]
    assert [(action, obj) for action, obj, _ in await refund_audits()] == [
        ("payment.refund", str(payment_id)),
        ("payment.refund", str(payment_id)),
    ]


async def test_a_retry_with_the_same_key_returns_the_same_refund(client: AsyncClient) -> None:
    payment_id = await paid_payment(client)
    headers = {**await refunder(), "Idempotency-Key": "refund-abc"}
    url = f"/api/v1/admin/payments/{payment_id}/refunds"
    body = {"amount": 2_500, "reason": "late delivery"}

    first = await client.post(url, json=body, headers=headers)
    after_first = await counts()
    retries = [await client.post(url, json=body, headers=headers) for _ in range(2)]

    assert first.status_code == 202
    assert [(r.status_code, r.json()["id"], r.json()["status"]) for r in retries] == [
        (202, first.json()["id"], "succeeded")
    ] * 2
    assert await counts() == after_first
    assert after_first["payments_refund"] == 1
    assert (await read_payment(payment_id)).refunded_amount == 2_500


async def test_the_same_key_with_another_body_is_refused(client: AsyncClient) -> None:
    payment_id = await paid_payment(client)
    headers = {**await refunder(), "Idempotency-Key": "refund-abc"}
    url = f"/api/v1/admin/payments/{payment_id}/refunds"
    await client.post(url, json={"amount": 2_500, "reason": "late"}, headers=headers)
    before = await counts()

    response = await client.post(url, json={"amount": 2_600, "reason": "late"}, headers=headers)

    assert (response.status_code, response.json()["code"]) == (409, "core.idempotency_key_reused")
    assert await counts() == before


async def test_refunding_more_than_is_left_is_refused_and_changes_nothing(client: AsyncClient) -> None:
    payment_id = await paid_payment(client, amount=10_000)
    headers = await refunder()
    url = f"/api/v1/admin/payments/{payment_id}/refunds"
    await client.post(url, json={"amount": 6_000, "reason": "a"}, headers={**headers, "Idempotency-Key": "a"})
    before = await counts()
    audits = await audit_count()

    response = await client.post(
        url,
        json={"amount": 4_001, "reason": "b"},
        headers={**headers, "Idempotency-Key": "b", "accept-language": "en"},
    )

    assert (response.status_code, response.json()["code"]) == (409, "payments.refund_exceeds_payment")
    assert response.json()["detail"] == "The refund exceeds the amount still refundable (4000)."
    assert await counts() == before
    assert await audit_count() == audits
    assert (await read_payment(payment_id)).refunded_amount == 6_000


async def test_an_unpaid_payment_cannot_be_refunded(client: AsyncClient) -> None:
    payment = await make_payment()
    before = await counts()

    response = await client.post(
        f"/api/v1/admin/payments/{payment.id}/refunds",
        json={"amount": 1, "reason": "x"},
        headers={**await refunder(), "Idempotency-Key": "k"},
    )

    assert (response.status_code, response.json()["code"]) == (409, "payments.not_refundable")
    assert await counts() == before


@pytest.mark.parametrize(
    ("_case", "body", "key"),
    [
        ("no_key", {"amount": 100, "reason": "x"}, None),
        ("key_with_spaces", {"amount": 100, "reason": "x"}, "a b"),
        ("zero_amount", {"amount": 0, "reason": "x"}, "k"),
        ("float_amount", {"amount": 1.5, "reason": "x"}, "k"),
        ("no_reason", {"amount": 100}, "k"),
        ("extra_field", {"amount": 100, "reason": "x", "status": "refunded"}, "k"),
    ],
)
async def test_bad_refund_requests_get_422_and_change_nothing(
    client: AsyncClient, _case: str, body: dict[str, object], key: str | None
) -> None:
    payment_id = await paid_payment(client)
    headers = await refunder()
    if key is not None:
        headers["Idempotency-Key"] = key
    before = await counts()

    response = await client.post(f"/api/v1/admin/payments/{payment_id}/refunds", json=body, headers=headers)

    assert response.status_code == 422
    assert await counts() == before


async def test_a_refund_of_an_unknown_payment_is_not_found(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/admin/payments/999999/refunds",
        json={"amount": 1, "reason": "x"},
        headers={**await refunder(), "Idempotency-Key": "k"},
    )

    assert (response.status_code, response.json()["code"]) == (404, "payments.payment_not_found")
