"""A dispute over the API (rejected → escalated → decided for the shopper → refunded, audited) and
the resolution report staff read."""

from __future__ import annotations

import datetime as dt

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from mercato import payments
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.api.aftersales.support import bought, staff
from tests.service.aftersales.support import payment_of

ADMIN = "/api/v1/admin/aftersales"


pytestmark = pytest.mark.usefixtures("handlers")


async def test_a_dispute_decided_for_the_shopper_refunds_them(client: AsyncClient) -> None:
    purchase = await bought(client)
    cs = await staff("cs@example.com", "aftersales.read", "aftersales.write")
    arbiter = await staff("arbiter@example.com", "aftersales.read", "aftersales.arbitrate")
    request_id = (
        await client.post(
            "/api/v1/aftersales",
            json=purchase.request("refund_only", reason_code="quality_problem", description="开线了"),
            headers=purchase.auth,
        )
    ).json()["id"]

    rejected = await client.post(f"{ADMIN}/{request_id}/reject", json={"reason": "人为损坏"}, headers=cs)
    escalated = await client.post(
        f"/api/v1/aftersales/{request_id}/escalate", json={"statement": "收到就开线"}, headers=purchase.auth
    )
    shop_cannot_reject_again = await client.post(
        f"{ADMIN}/{request_id}/reject", json={"reason": "再拒"}, headers=cs
    )
    clock.advance(dt.timedelta(minutes=45))
    decided = await client.post(
        f"{ADMIN}/{request_id}/arbitrate", json={"decision": "shopper", "reason": "做工问题"}, headers=arbiter
    )
    await events.deliver_pending()
    mine = (await client.get(f"/api/v1/aftersales/{request_id}", headers=purchase.auth)).json()

    assert (rejected.json()["status"], escalated.json()["status"]) == ("rejected", "disputed")
    assert (shop_cannot_reject_again.status_code, shop_cannot_reject_again.json()["code"]) == (
        409,
        "aftersales.illegal_transition",
    )
    assert (decided.status_code, decided.json()["status"]) == (200, "refunding")
    assert mine["status"] == "completed"
    assert mine["dispute"] | {"disputed_at": None, "decided_at": None} == {
        "statement": "收到就开线",
        "decision": "shopper",
        "reason": "做工问题",
        "disputed_at": None,
        "decided_at": None,
    }
    assert [(s["status"], s["actor"], s["response_seconds"]) for s in mine["timeline"]][2:4] == [
        ("disputed", "customer", None),
        ("approved", "platform", 2700),
    ]
    payment = await payment_of(purchase.order)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.partially_refunded, 3000)
    async with uow(write=False) as s:
        audits = (
            await s.execute(
                select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.after)
                .where(AuditEntry.action.in_(["aftersales.reject", "aftersales.arbitrate", "payment.refund"]))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(a, label) for a, label, _after in audits] == [
        ("aftersales.reject", "cs@example.com"),
        ("payment.refund", "arbiter@example.com"),
        ("aftersales.arbitrate", "arbiter@example.com"),
    ]
    assert audits[2][2] == {"status": "refunding", "decision": "shopper", "reason": "做工问题"}


async def test_staff_read_the_resolution_report(client: AsyncClient) -> None:
    purchase = await bought(client)
    cs = await staff("cs@example.com", "aftersales.read", "aftersales.write")
    start = clock.now()
    request_id = (
        await client.post("/api/v1/aftersales", json=purchase.request(), headers=purchase.auth)
    ).json()["id"]
    clock.advance(dt.timedelta(hours=3))
    await client.post(f"{ADMIN}/{request_id}/approve", json={}, headers=cs)
    until = clock.now() + dt.timedelta(seconds=1)

    report = await client.get(
        f"{ADMIN}/reports/resolution",
        params={"since": start.isoformat(), "until": until.isoformat()},
        headers=cs,
    )
    backwards = await client.get(
        f"{ADMIN}/reports/resolution",
        params={"since": until.isoformat(), "until": start.isoformat()},
        headers=cs,
    )
    naive = await client.get(
        f"{ADMIN}/reports/resolution",
        params={"since": "2026-01-01T00:00:00", "until": until.isoformat()},
        headers=cs,
    )

    assert report.status_code == 200, report.text
    assert {k: v for k, v in report.json().items() if k not in {"since", "until"}} == {
        "target_seconds": 14400,
        "responses": 1,
        "average_seconds": 10800,
        "p90_seconds": 10800,
        "max_seconds": 10800,
        "within_target": 1,
        "waiting_now": 0,
        "overdue_now": 0,
    }
    assert (backwards.status_code, backwards.json()["code"]) == (422, "aftersales.invalid_period")
    assert (naive.status_code, naive.json()["errors"][0]["loc"]) == (422, ["query", "since"])
