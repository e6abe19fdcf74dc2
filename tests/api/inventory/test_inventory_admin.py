"""Inventory administration over the API: permissions, stock operations, refusals that change nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update

from mercato import inventory
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.inventory.models import LedgerEntry, Stock, Warehouse
from tests.factories.identity import make_staff, staff_headers
from tests.factories.inventory import level, make_skus, make_warehouse, receive

WH = {"code": "BJ-1", "name": "北京仓", "kind": "regional", "province": "北京市", "city": "北京市"}
WRITES = [
    ("POST", "/api/v1/admin/inventory/warehouses", WH),
    ("PATCH", "/api/v1/admin/inventory/warehouses/{wh}", {"priority": 5}),
    ("POST", "/api/v1/admin/inventory/receipts", {"sku_id": "{sku}", "warehouse_id": "{wh}", "quantity": 1}),
    (
        "POST",
        "/api/v1/admin/inventory/adjustments",
        {"sku_id": "{sku}", "warehouse_id": "{wh}", "delta": 1, "reason": "found"},
    ),
    (
        "PUT",
        "/api/v1/admin/inventory/safety-stock",
        {"sku_id": "{sku}", "warehouse_id": "{wh}", "safety_stock": 1},
    ),
    ("POST", "/api/v1/admin/inventory/reservations/release", {"reference": "order:1"}),
]
READS = [
    "/api/v1/admin/inventory/warehouses",
    "/api/v1/admin/inventory/stock",
    "/api/v1/admin/inventory/ledger",
    "/api/v1/admin/inventory/reservations?reference=order:1",
    "/api/v1/admin/inventory/verify",
]


async def counts() -> tuple[int, int, int, int]:
    async with uow(write=False) as s:
        return tuple(  # type: ignore[return-value]
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (Warehouse, Stock, LedgerEntry, AuditEntry)
            ]
        )


async def writer() -> dict[str, str]:
    staff = await make_staff(email="stock@example.com", permissions=["inventory.read", "inventory.write"])
    return await staff_headers(staff.id)


def fill(body: object, sku: int, wh: int) -> object:
    if isinstance(body, dict):
        return {k: (sku if v == "{sku}" else wh if v == "{wh}" else v) for k, v in body.items()}
    return body


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_writes_need_inventory_write(client: AsyncClient, method: str, path: str, body: object) -> None:
    (sku,) = await make_skus()
    wh = await make_warehouse()
    reader = await make_staff(email="look@example.com", permissions=["inventory.read"])
    url = path.format(wh=wh.id)
    before = await counts()

    anonymous = await client.request(method, url, json=fill(body, sku, wh.id))
    forbidden = await client.request(
        method, url, json=fill(body, sku, wh.id), headers=await staff_headers(reader.id)
    )

    assert (anonymous.status_code, forbidden.status_code) == (401, 403)
    assert forbidden.json()["code"] == "identity.permission_denied"
    assert await counts() == before


@pytest.mark.parametrize("path", READS)
async def test_reads_need_inventory_read(client: AsyncClient, path: str) -> None:
    clerk = await make_staff(email="clerk@example.com", permissions=["orders.read"])
    reader = await make_staff(email="look@example.com", permissions=["inventory.read"])

    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=await staff_headers(clerk.id))).status_code == 403
    assert (await client.get(path, headers=await staff_headers(reader.id))).status_code == 200


async def test_create_a_warehouse_and_refuse_a_duplicate_code(client: AsyncClient) -> None:
    headers = await writer()

    created = await client.post(
        "/api/v1/admin/inventory/warehouses",
        json={**WH, "regions": ["北京市", "天津市", "北京市"]},
        headers=headers,
    )
    duplicate = await client.post("/api/v1/admin/inventory/warehouses", json=WH, headers=headers)
    bad_kind = await client.post(
        "/api/v1/admin/inventory/warehouses", json={**WH, "code": "X", "kind": "moon"}, headers=headers
    )

    assert created.status_code == 201
    body = created.json()
    assert (body["code"], body["kind"], body["regions"], body["priority"], body["is_active"]) == (
        "BJ-1",
        "regional",
        ["北京市", "天津市"],
        100,
        True,
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "inventory.warehouse_code_taken")
    assert bad_kind.status_code == 422
    assert [e["loc"] for e in bad_kind.json()["errors"]] == [["body", "kind"]]
    assert (await counts())[0] == 1


async def test_a_receipt_raises_on_hand_and_is_in_the_ledger_and_the_audit_log(client: AsyncClient) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    wh = await make_warehouse()

    response = await client.post(
        "/api/v1/admin/inventory/receipts",
        json={"sku_id": sku, "warehouse_id": wh.id, "quantity": 40, "reference": "PO-2026-001"},
        headers=headers,
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["on_hand"], body["reserved"], body["available"], body["is_low"]) == (40, 0, 40, False)
    ledger = (await client.get(f"/api/v1/admin/inventory/ledger?sku_id={sku}", headers=headers)).json()[
        "items"
    ]
    assert [
        (e["kind"], e["on_hand_delta"], e["on_hand_after"], e["reference"], e["actor_label"]) for e in ledger
    ] == [("receipt", 40, 40, "PO-2026-001", "stock@example.com")]
    async with uow(write=False) as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "stock.receive"))).scalar_one()
    assert (audit.object_id, audit.before, audit.after) == (
        f"{sku}@{wh.id}",
        {"on_hand": 0},
        {"on_hand": 40, "reference": "PO-2026-001"},
    )


async def test_a_retried_receipt_with_its_idempotency_key_books_once(client: AsyncClient) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    wh = await make_warehouse()
    body = {"sku_id": sku, "warehouse_id": wh.id, "quantity": 40, "reference": "PO-2026-002"}
    keyed = {**headers, "Idempotency-Key": "receipt-PO-2026-002"}

    first = await client.post("/api/v1/admin/inventory/receipts", json=body, headers=keyed)
    retry = await client.post("/api/v1/admin/inventory/receipts", json=body, headers=keyed)
    before = await counts()
    other = await client.post(
        "/api/v1/admin/inventory/receipts", json={**body, "quantity": 41}, headers=keyed
    )

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()
    assert first.json()["on_hand"] == 40
    assert (other.status_code, other.json()["code"]) == (409, "core.idempotency_key_reused")
    assert await counts() == before
    ledger = (await client.get(f"/api/v1/admin/inventory/ledger?sku_id={sku}", headers=headers)).json()
    assert [e["on_hand_delta"] for e in ledger["items"]] == [40]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sku_id": 999999, "quantity": 1}, 404, "catalog.sku_not_found"),
        ({"warehouse_id": 999999, "quantity": 1}, 404, "inventory.warehouse_not_found"),
        ({"quantity": -5}, 422, "core.validation_failed"),
        ({"quantity": 0}, 422, "core.validation_failed"),
        ({"quantity": "many"}, 422, "core.validation_failed"),
        ({"quantity": 1, "extra": True}, 422, "core.validation_failed"),
    ],
)
async def test_a_bad_receipt_is_refused_and_changes_nothing(
    client: AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    wh = await make_warehouse()
    before = await counts()

    response = await client.post(
        "/api/v1/admin/inventory/receipts",
        json={"sku_id": sku, "warehouse_id": wh.id, **body},
        headers=headers,
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert await counts() == before


async def test_an_adjustment_cannot_take_on_hand_below_what_orders_hold(client: AsyncClient) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 10)
    async with uow() as s:
        await inventory.reserve_stock(s, reference="order:1", sku_id=sku, warehouse_id=wh.id, quantity=7)
    before = await counts()

    refused = await client.post(
        "/api/v1/admin/inventory/adjustments",
        json={"sku_id": sku, "warehouse_id": wh.id, "delta": -4, "reason": "damage"},
        headers=headers,
    )
    zero = await client.post(
        "/api/v1/admin/inventory/adjustments",
        json={"sku_id": sku, "warehouse_id": wh.id, "delta": 0, "reason": "damage"},
        headers=headers,
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "inventory.below_reserved")
    assert zero.status_code == 422
    assert await counts() == before
    stock = await level(sku, wh.id)
    assert (stock.on_hand, stock.reserved) == (10, 7)

    allowed = await client.post(
        "/api/v1/admin/inventory/adjustments",
        json={"sku_id": sku, "warehouse_id": wh.id, "delta": -3, "reason": "stocktake", "note": "盘点差异"},
        headers=headers,
    )
    assert allowed.status_code == 200
    assert (allowed.json()["on_hand"], allowed.json()["available"]) == (7, 0)


async def test_a_transfer_moves_available_units_and_refuses_more(client: AsyncClient) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    source = await make_warehouse("SH-1")
    target = await make_warehouse("HZ-1")
    await receive(sku, source.id, 10)

    moved = await client.post(
        "/api/v1/admin/inventory/transfers",
        json={"sku_id": sku, "from_warehouse_id": source.id, "to_warehouse_id": target.id, "quantity": 4},
        headers=headers,
    )
    before = await counts()
    too_many = await client.post(
        "/api/v1/admin/inventory/transfers",
        json={"sku_id": sku, "from_warehouse_id": source.id, "to_warehouse_id": target.id, "quantity": 7},
        headers=headers,
    )
    same = await client.post(
        "/api/v1/admin/inventory/transfers",
        json={"sku_id": sku, "from_warehouse_id": source.id, "to_warehouse_id": source.id, "quantity": 1},
        headers=headers,
    )

    assert moved.status_code == 200
    assert (moved.json()["source"]["on_hand"], moved.json()["destination"]["on_hand"]) == (6, 4)
    assert (too_many.status_code, too_many.json()["code"]) == (409, "inventory.insufficient_stock")
    assert (same.status_code, same.json()["code"]) == (422, "inventory.same_warehouse")
    assert await counts() == before
    ledger = (await client.get(f"/api/v1/admin/inventory/ledger?sku_id={sku}", headers=headers)).json()[
        "items"
    ]
    assert [e["kind"] for e in ledger] == ["transfer_in", "transfer_out", "receipt"]
    assert ledger[0]["reference"] == ledger[1]["reference"]
    assert ledger[0]["reference"].startswith("transfer:")


async def test_allocation_preview_and_manual_release(client: AsyncClient) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    east = await make_warehouse("SH-1", regions=["上海市"], priority=1)
    national = await make_warehouse("WH-1", priority=50)
    await receive(sku, east.id, 2)
    await receive(sku, national.id, 5)
    async with uow() as s:
        await inventory.reserve_stock(
            s, reference="order:9", sku_id=sku, warehouse_id=national.id, quantity=1
        )

    shanghai = await client.post(
        "/api/v1/admin/inventory/allocations",
        json={"province": "上海市", "lines": [{"sku_id": sku, "quantity": 6}]},
        headers=headers,
    )
    release = await client.post(
        "/api/v1/admin/inventory/reservations/release", json={"reference": "order:9"}, headers=headers
    )
    repeat = await client.post(
        "/api/v1/admin/inventory/reservations/release", json={"reference": "order:9"}, headers=headers
    )
    sold_out = await client.post(
        "/api/v1/admin/inventory/allocations",
        json={"province": "上海市", "lines": [{"sku_id": sku, "quantity": 8}]},
        headers=headers,
    )

    assert shanghai.status_code == 200
    assert [(a["warehouse_id"], a["quantity"]) for a in shanghai.json()] == [(east.id, 2), (national.id, 4)]
    assert [r["status"] for r in release.json()] == ["released"]
    assert repeat.json() == []
    assert (sold_out.status_code, sold_out.json()["code"]) == (409, "inventory.insufficient_stock")


async def test_verify_reports_a_level_that_no_longer_matches_its_ledger(client: AsyncClient) -> None:
    headers = await writer()
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 10)
    clean = (await client.get("/api/v1/admin/inventory/verify", headers=headers)).json()
    async with uow() as s:
        await s.execute(update(Stock).values(on_hand=12))  # a write that bypassed the service

    broken = (await client.get("/api/v1/admin/inventory/verify", headers=headers)).json()

    assert (clean["stock_rows"], clean["ledger_entries"], clean["problems"]) == (1, 1, [])
    assert broken["problems"] == [
        {"sku_id": sku, "warehouse_id": wh.id, "problem": "on_hand_mismatch", "expected": 10, "actual": 12}
    ]
