"""Who may do what: another customer's request is 404 and unchanged; every staff route answers 403
without its permission and 401 without a staff sign-in, changing nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.api.aftersales.support import bought, staff
from tests.factories.identity import signed_in_customer
from tests.service.aftersales.support import rows

ADMIN = "/api/v1/admin/aftersales"


pytestmark = pytest.mark.usefixtures("handlers")


async def test_another_customers_request_is_not_found_and_untouched(client: AsyncClient) -> None:
    purchase = await bought(client)
    _bob, bob = await signed_in_customer(client)
    request_id = (
        await client.post("/api/v1/aftersales", json=purchase.request(), headers=purchase.auth)
    ).json()["id"]
    before = await rows()

    answers = [
        await client.get(f"/api/v1/aftersales/{request_id}", headers=bob),
        await client.post(f"/api/v1/aftersales/{request_id}/cancel", json={}, headers=bob),
        await client.post(
            f"/api/v1/aftersales/{request_id}/ship-back",
            json={"carrier": "SF", "tracking_number": "SF0001"},
            headers=bob,
        ),
        await client.post(f"/api/v1/aftersales/{request_id}/escalate", json={"statement": "x"}, headers=bob),
        await client.post(
            f"/api/v1/aftersales/{request_id}/photos",
            files={"file": ("a.png", b"\x89PNG", "image/png")},
            headers=bob,
        ),
    ]
    opened_on_their_order = await client.post("/api/v1/aftersales", json=purchase.request(), headers=bob)
    listed = await client.get("/api/v1/aftersales", headers=bob)

    assert [(r.status_code, r.json()["code"]) for r in answers] == [(404, "aftersales.request_not_found")] * 5
    assert (opened_on_their_order.status_code, opened_on_their_order.json()["code"]) == (
        404,
        "aftersales.line_not_found",
    )
    assert listed.json()["items"] == []
    assert await rows() == before


#: (method, path under /api/v1/admin/aftersales, body, the permission it needs)
STAFF_ROUTES: list[tuple[str, str, dict[str, object] | None, str]] = [
    ("GET", "", None, "aftersales.read"),
    (
        "GET",
        "/reports/resolution?since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z",
        None,
        "aftersales.read",
    ),
    ("GET", "/{id}", None, "aftersales.read"),
    ("POST", "/{id}/approve", {}, "aftersales.write"),
    ("POST", "/{id}/reject", {"reason": "不行"}, "aftersales.write"),
    ("POST", "/{id}/receive", {"resellable": 1}, "aftersales.receive"),
    ("POST", "/{id}/refund", None, "aftersales.write"),
    ("POST", "/{id}/ship-replacement", {"carrier": "SF", "tracking_number": "SF0001"}, "aftersales.write"),
    ("POST", "/{id}/arbitrate", {"decision": "shop", "reason": "x"}, "aftersales.arbitrate"),
]
ALL = ("aftersales.arbitrate", "aftersales.read", "aftersales.receive", "aftersales.write")


async def test_staff_routes_need_their_permission(client: AsyncClient) -> None:
    """Each route is tried by a member holding every after-sales permission but its own, by
    nobody, and by the shopper: 403, 401, 401, and nothing changes."""
    purchase = await bought(client)
    request_id = (
        await client.post("/api/v1/aftersales", json=purchase.request(), headers=purchase.auth)
    ).json()["id"]
    lacking = {p: await staff(f"no-{p}@example.com", *(x for x in ALL if x != p)) for p in ALL}
    before = await rows()

    answers = []
    for method, path, body, permission in STAFF_ROUTES:
        url = f"{ADMIN}{path.format(id=request_id)}"
        forbidden = await client.request(method, url, json=body, headers=lacking[permission])
        anonymous = await client.request(method, url, json=body)
        as_customer = await client.request(method, url, json=body, headers=purchase.auth)
        answers.append(
            (
                path,
                forbidden.status_code,
                forbidden.json()["code"],
                anonymous.status_code,
                as_customer.status_code,
            )
        )

    assert answers == [
        (path, 403, "identity.permission_denied", 401, 401) for _m, path, _b, _p in STAFF_ROUTES
    ]
    assert await rows() == before
