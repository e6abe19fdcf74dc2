"""Staff promotions over the API: promotions, coupon templates (with code batches and bulk runs)
and campaigns, each created, read, changed, moved through its statuses and reported on; every
refusal a problem with its stable code that changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato.core import clock
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.promotions.models import Campaign, CouponTemplate, IssueRun, Promotion, StatusChange
from tests.factories.identity import make_customer, make_staff, staff_headers

API = "/api/v1/admin"


def window(hours_from_now: int = -1, days: int = 1) -> dict[str, str]:
    start = clock.now() + dt.timedelta(hours=hours_from_now)
    return {"starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(days=days)).isoformat()}


REDUCTION = {"kind": "full_reduction", "tiers": [{"threshold_amount": 19900, "amount_off": 2000}]}


async def marketer(*permissions: str, email: str = "marketer@example.com") -> dict[str, str]:
    staff = await make_staff(
        email=email, permissions=list(permissions or ("promotions.read", "promotions.write"))
    )
    return await staff_headers(staff.id)


async def counts() -> tuple[int, ...]:
    async with uow(write=False) as s:
        found = []
        for model in (Promotion, CouponTemplate, Campaign, IssueRun, StatusChange, AuditEntry):
            found.append((await s.execute(select(func.count()).select_from(model))).scalar_one())
        return tuple(found)


async def test_a_promotion_round_trip(client: AsyncClient) -> None:
    headers = await marketer()

    created = await client.post(
        f"{API}/promotions", json={"name": "满 199 减 20", "rule": REDUCTION, **window()}, headers=headers
    )
    promotion_id = created.json()["id"]
    changed = await client.put(
        f"{API}/promotions/{promotion_id}",
        json={
            "name": "满 199 减 25",
            "rule": {**REDUCTION, "tiers": [{"threshold_amount": 19900, "amount_off": 2500}]},
            **window(),
        },
        headers=headers,
    )
    published = await client.post(f"{API}/promotions/{promotion_id}/publish", headers=headers)
    paused = await client.post(f"{API}/promotions/{promotion_id}/pause", headers=headers)
    resumed = await client.post(f"{API}/promotions/{promotion_id}/resume", headers=headers)
    ended = await client.post(f"{API}/promotions/{promotion_id}/end", headers=headers)
    listed = await client.get(f"{API}/promotions", params={"phase": "ended"}, headers=headers)
    history = await client.get(f"{API}/promotions/{promotion_id}/history", headers=headers)
    report = await client.get(f"{API}/promotions/{promotion_id}/report", headers=headers)

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["phase"], created.json()["kind"]) == (
        "draft",
        "draft",
        "full_reduction",
    )
    assert changed.json()["name"] == "满 199 减 25"
    assert [r.json()["status"] for r in (published, paused, resumed, ended)] == [
        "active",
        "paused",
        "active",
        "ended",
    ]
    assert [p["id"] for p in listed.json()["items"]] == [promotion_id]
    assert [(h["from_status"], h["to_status"]) for h in history.json()] == [
        ("draft", "active"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "ended"),
    ]
    assert {h["actor_label"] for h in history.json()} == {"marketer@example.com"}
    assert report.status_code == 200
    assert (report.json()["subject"], report.json()["orders"], report.json()["discount_amount"]) == (
        "promotion",
        0,
        0,
    )


async def test_an_idempotency_key_creates_once(client: AsyncClient) -> None:
    headers = {**await marketer(), "Idempotency-Key": "promo-key-1"}
    body = {"name": "满 199 减 20", "rule": REDUCTION, **window()}

    first = await client.post(f"{API}/promotions", json=body, headers=headers)
    again = await client.post(f"{API}/promotions", json=body, headers=headers)
    other = await client.post(f"{API}/promotions", json={**body, "name": "另一个"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (other.status_code, other.json()["code"]) == (409, "core.idempotency_key_reused")
    assert (await counts())[0] == 1


async def test_refusals_change_nothing(client: AsyncClient) -> None:
    headers = await marketer()
    before = await counts()
    start = clock.now()

    over = await client.post(
        f"{API}/promotions",
        json={
            "name": "折",
            "rule": {"kind": "full_discount", "tiers": [{"threshold_pieces": 2, "percent_off": 120}]},
            **window(),
        },
        headers=headers,
    )
    backwards = await client.post(
        f"{API}/promotions",
        json={
            "name": "倒",
            "rule": REDUCTION,
            "starts_at": start.isoformat(),
            "ends_at": (start - dt.timedelta(hours=1)).isoformat(),
        },
        headers=headers,
    )
    bad_tiers = await client.post(
        f"{API}/promotions",
        json={
            "name": "坏",
            "rule": {**REDUCTION, "tiers": [{"threshold_amount": 1000, "amount_off": 2000}]},
            **window(),
        },
        headers=headers,
    )
    campaign_backwards = await client.post(
        f"{API}/campaigns",
        json={
            "name": "618",
            "slug": "618",
            "starts_at": start.isoformat(),
            "ends_at": (start - dt.timedelta(days=1)).isoformat(),
        },
        headers=headers,
    )
    unknown = await client.get(f"{API}/promotions/999999", headers=headers)
    unknown_action = await client.post(f"{API}/promotions/999999/publish", headers=headers)
    unknown_template = await client.get(f"{API}/coupon-templates/999999/report", headers=headers)
    unknown_campaign = await client.put(
        f"{API}/campaigns/999999", json={"name": "x", "slug": "x", **window()}, headers=headers
    )

    assert (over.status_code, over.json()["code"]) == (422, "core.validation_failed")
    assert (backwards.status_code, backwards.json()["code"]) == (422, "promotions.ends_before_start")
    assert (bad_tiers.status_code, bad_tiers.json()["code"]) == (422, "promotions.invalid_rule")
    assert (campaign_backwards.status_code, campaign_backwards.json()["code"]) == (
        422,
        "promotions.ends_before_start",
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "promotions.promotion_not_found")
    assert (unknown_action.status_code, unknown_action.json()["code"]) == (
        404,
        "promotions.promotion_not_found",
    )
    assert (unknown_template.status_code, unknown_template.json()["code"]) == (
        404,
        "promotions.coupon_template_not_found",
    )
    assert (unknown_campaign.status_code, unknown_campaign.json()["code"]) == (
        404,
        "promotions.campaign_not_found",
    )
    assert await counts() == before


async def test_an_illegal_move_is_refused(client: AsyncClient) -> None:
    headers = await marketer()
    created = await client.post(
        f"{API}/promotions", json={"name": "满减", "rule": REDUCTION, **window()}, headers=headers
    )
    promotion_id = created.json()["id"]
    before = await counts()

    paused = await client.post(f"{API}/promotions/{promotion_id}/pause", headers=headers)
    shown = await client.get(f"{API}/promotions/{promotion_id}", headers=headers)

    assert (paused.status_code, paused.json()["code"]) == (409, "promotions.illegal_transition")
    assert shown.json()["status"] == "draft"
    assert await counts() == before


async def test_permissions_are_checked(client: AsyncClient) -> None:
    reader = await marketer("promotions.read", email="reader@example.com")
    outsider = await marketer("orders.read", email="outsider@example.com")
    before = await counts()

    read = await client.get(f"{API}/promotions", headers=reader)
    write = await client.post(
        f"{API}/promotions", json={"name": "满减", "rule": REDUCTION, **window()}, headers=reader
    )
    outside = await client.get(f"{API}/campaigns", headers=outsider)
    guest = await client.get(f"{API}/coupon-templates")

    assert (read.status_code, read.json()) == (200, {"items": [], "next_cursor": None})
    assert (write.status_code, write.json()["code"]) == (403, "identity.permission_denied")
    assert (outside.status_code, outside.json()["code"]) == (403, "identity.permission_denied")
    assert (guest.status_code, guest.json()["code"]) == (401, "core.unauthenticated")
    assert await counts() == before


TEMPLATE: dict[str, Any] = {
    "name": "满 100 减 10",
    "kind": "amount",
    "amount_off": 1000,
    "min_spend_amount": 10000,
    "total_quantity": 50,
    "valid_days": 7,
}


async def test_a_coupon_template_round_trip_with_its_runs(client: AsyncClient) -> None:
    headers = await marketer()
    customer = await make_customer()

    created = await client.post(f"{API}/coupon-templates", json=TEMPLATE, headers=headers)
    template_id = created.json()["id"]
    changed = await client.put(
        f"{API}/coupon-templates/{template_id}", json={**TEMPLATE, "total_quantity": 60}, headers=headers
    )
    published = await client.post(f"{API}/coupon-templates/{template_id}/publish", headers=headers)
    batch = await client.post(
        f"{API}/coupon-templates/{template_id}/code-batches", json={"count": 3}, headers=headers
    )
    run = await client.post(
        f"{API}/coupon-templates/{template_id}/issue-runs",
        json={"customer_ids": [customer.id]},
        headers=headers,
    )
    batch_read = await client.get(
        f"{API}/coupon-templates/{template_id}/code-batches/{batch.json()['id']}", headers=headers
    )
    run_read = await client.get(
        f"{API}/coupon-templates/{template_id}/issue-runs/{run.json()['id']}", headers=headers
    )
    wrong_kind = await client.get(
        f"{API}/coupon-templates/{template_id}/issue-runs/{batch.json()['id']}", headers=headers
    )
    csv = await client.get(
        f"{API}/coupon-templates/{template_id}/code-batches/{batch.json()['id']}/codes.csv", headers=headers
    )
    report = await client.get(f"{API}/coupon-templates/{template_id}/report", headers=headers)
    listed = await client.get(f"{API}/coupon-templates", params={"status": "active"}, headers=headers)

    assert created.status_code == 201
    assert changed.json()["total_quantity"] == 60
    assert published.json()["status"] == "active"
    assert (batch.status_code, batch.json()["kind"], batch.json()["total"]) == (201, "codes", 3)
    assert (run.status_code, run.json()["kind"], run.json()["total"]) == (201, "customers", 1)
    assert batch_read.json()["id"] == batch.json()["id"]
    assert run_read.json()["id"] == run.json()["id"]
    assert (wrong_kind.status_code, wrong_kind.json()["code"]) == (404, "promotions.issue_run_not_found")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert report.json()["subject"] == "coupon_template"
    assert [t["id"] for t in listed.json()["items"]] == [template_id]


async def test_a_coupon_template_over_100_percent_is_refused(client: AsyncClient) -> None:
    headers = await marketer()
    before = await counts()

    response = await client.post(
        f"{API}/coupon-templates",
        json={"name": "打折", "kind": "percent", "percent_off": 120, "total_quantity": 10, "valid_days": 7},
        headers=headers,
    )

    assert (response.status_code, response.json()["code"]) == (422, "core.validation_failed")
    assert await counts() == before


async def test_a_campaign_round_trip_and_its_calendar(client: AsyncClient) -> None:
    headers = await marketer()
    start = clock.now() + dt.timedelta(days=2)
    body = {
        "name": "618",
        "slug": "618-test",
        "preheat_starts_at": (start - dt.timedelta(days=1)).isoformat(),
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(days=3)).isoformat(),
        "budget_amount": 100000,
        "blocks": [{"kind": "banner", "image_url": "/media/618.png", "link": "/c/phones"}],
    }

    created = await client.post(f"{API}/campaigns", json=body, headers=headers)
    campaign_id = created.json()["id"]
    changed = await client.put(
        f"{API}/campaigns/{campaign_id}", json={**body, "name": "618 大促"}, headers=headers
    )
    published = await client.post(f"{API}/campaigns/{campaign_id}/publish", headers=headers)
    day = start.date()
    calendar = await client.get(
        f"{API}/campaigns/calendar",
        params={"start": day.isoformat(), "end": (day + dt.timedelta(days=30)).isoformat()},
        headers=headers,
    )
    before_it = await client.get(
        f"{API}/campaigns/calendar",
        params={
            "start": (day - dt.timedelta(days=60)).isoformat(),
            "end": (day - dt.timedelta(days=30)).isoformat(),
        },
        headers=headers,
    )
    backwards = await client.get(
        f"{API}/campaigns/calendar",
        params={"start": day.isoformat(), "end": (day - dt.timedelta(days=1)).isoformat()},
        headers=headers,
    )
    report = await client.get(f"{API}/campaigns/{campaign_id}/report", headers=headers)
    ended = await client.post(f"{API}/campaigns/{campaign_id}/end", headers=headers)
    again = await client.post(f"{API}/campaigns/{campaign_id}/publish", headers=headers)

    assert created.status_code == 201
    assert changed.json()["name"] == "618 大促"
    assert (published.json()["status"], published.json()["phase"]) == ("published", "scheduled")
    assert [c["id"] for c in calendar.json()] == [campaign_id]
    assert before_it.json() == []
    assert (backwards.status_code, backwards.json()["code"]) == (422, "promotions.ends_before_start")
    assert (report.json()["subject"], report.json()["discount_amount"]) == ("campaign", 0)
    assert ended.json()["status"] == "ended"
    assert (again.status_code, again.json()["code"]) == (409, "promotions.illegal_transition")
