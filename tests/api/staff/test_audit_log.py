"""The audit log over the API: filters, time ranges, pages, and bad filters refused cleanly."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from httpx import AsyncClient

from mercato import identity
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.identity import make_staff, staff_headers


async def write_entries() -> tuple[dict[str, str], int, dt.datetime]:
    """Five entries an hour apart, by two actors; returns the auditor's headers, actor id, a midpoint."""
    auditor = await make_staff(email="auditor@example.com", permissions=["audit.read"])
    actor = identity.Actor(staff_id=auditor.id, label="auditor@example.com", ip="198.51.100.9")
    other = identity.Actor(staff_id=None, label="system")
    rows = [
        (actor, "product.create", "product", "1"),
        (other, "order.cancel", "order", "7"),
        (actor, "product.update", "product", "1"),
        (actor, "order.refund", "order", "7"),
        (other, "product.delete", "product", "2"),
    ]
    midpoint = clock.now()
    for index, (who, action, object_type, object_id) in enumerate(rows):
        clock.advance(dt.timedelta(hours=1))
        if index == 2:
            midpoint = clock.now()
        async with uow() as s:
            await identity.record_audit(
                s, actor=who, action=action, object_type=object_type, object_id=object_id, after={"n": index}
            )
    return await staff_headers(auditor.id), auditor.id, midpoint


def actions(response: object) -> list[str]:
    return [entry["action"] for entry in response.json()["items"]]  # type: ignore[attr-defined]


async def test_filters_by_action_prefix_object_actor_and_time(client: AsyncClient) -> None:
    headers, actor_id, midpoint = await write_entries()
    since = quote(midpoint.isoformat())

    by_prefix = await client.get("/api/v1/staff/audit?action=product.", headers=headers)
    exact = await client.get("/api/v1/staff/audit?action=product", headers=headers)
    by_object = await client.get("/api/v1/staff/audit?object_type=order&object_id=7", headers=headers)
    by_actor = await client.get(f"/api/v1/staff/audit?actor_id={actor_id}", headers=headers)
    from_midpoint = await client.get(f"/api/v1/staff/audit?since={since}&action=product.", headers=headers)
    before_midpoint = await client.get(f"/api/v1/staff/audit?until={since}&action=product.", headers=headers)

    assert actions(by_prefix) == ["product.delete", "product.update", "product.create"]
    assert actions(exact) == []
    assert actions(by_object) == ["order.refund", "order.cancel"]
    assert actions(by_actor) == ["order.refund", "product.update", "product.create"]
    assert actions(from_midpoint) == ["product.delete", "product.update"]
    assert actions(before_midpoint) == ["product.create"]
    first = by_actor.json()["items"][-1]
    assert (first["actor_label"], first["ip"], first["after"], first["object_id"]) == (
        "auditor@example.com",
        "198.51.100.9",
        {"n": 0},
        "1",
    )


async def test_pages_follow_the_cursor_to_the_end(client: AsyncClient) -> None:
    headers, _, _ = await write_entries()

    seen: list[str] = []
    url = "/api/v1/staff/audit?limit=2&action=product."
    pages = 0
    while url:
        body = (await client.get(url, headers=headers)).json()
        seen += [e["action"] for e in body["items"]]
        pages += 1
        url = (
            f"/api/v1/staff/audit?limit=2&action=product.&cursor={body['next_cursor']}"
            if body["next_cursor"]
            else ""
        )

    assert (pages, seen) == (2, ["product.delete", "product.update", "product.create"])


async def test_bad_filters_are_4xx_problems(client: AsyncClient) -> None:
    headers, _, _ = await write_entries()

    cursor = await client.get("/api/v1/staff/audit?cursor=not-a-cursor", headers=headers)
    text_cursor = await client.get(f"/api/v1/staff/audit?cursor={quote('ImFiYyI')}", headers=headers)
    naive = await client.get("/api/v1/staff/audit?since=2026-01-01T00:00:00", headers=headers)
    limit = await client.get("/api/v1/staff/audit?limit=1000", headers=headers)
    actor = await client.get("/api/v1/staff/audit?actor_id=abc", headers=headers)

    assert (cursor.status_code, cursor.json()["code"]) == (400, "core.invalid_cursor")
    assert (text_cursor.status_code, text_cursor.json()["code"]) == (400, "core.invalid_cursor")
    for response, field in ((naive, "since"), (limit, "limit"), (actor, "actor_id")):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in response.json()["errors"]] == [["query", field]]
