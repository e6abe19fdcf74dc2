"""The console's inventory pages: stock by warehouse, low stock, receive, adjust, transfer, the
ledger, warehouses and the stocktake import (inventory.read / inventory.write)."""

from __future__ import annotations

import re

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import catalog, inventory
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.inventory.models import LedgerEntry
from tests.factories.inventory import SYSTEM, level, make_skus, make_warehouse, receive
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, post_form, staff_sign_in

READER = ["inventory.read"]
WRITER = ["inventory.read", "inventory.write"]
XSS = "<script>alert(1)</script>"
ADJUST = "/admin/inventory/adjust"
TRANSFER = "/admin/inventory/transfer"


async def _counts() -> tuple[int, int]:
    async with uow(write=False) as s:
        ledger = (await s.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
        audit = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return ledger, audit


async def _stocked(on_hand: int) -> tuple[int, inventory.WarehouseRead]:
    """One new SKU with ``on_hand`` units received at warehouse SH-1: (SKU id, warehouse)."""
    (sku,) = await make_skus(1)
    warehouse = await make_warehouse("SH-1")
    await receive(sku, warehouse.id, on_hand)
    return sku, warehouse


async def _listed_code(client: AsyncClient, **params: str) -> str:
    """The code of the first SKU the stock page lists (the factory numbers products across the run)."""
    page = await client.get("/admin/inventory/", params=params, headers=EN)
    match = re.search(r"<code>(SKU-\d+-\d+)</code>", page.text)
    assert match is not None
    return match.group(1)


def _adjustment(code: str, warehouse_id: int, delta: str, **fields: str) -> dict[str, str]:
    return {"sku_code": code, "warehouse_id": str(warehouse_id), "delta": delta, **fields}


def _transfer(code: str, source_id: int, destination_id: int, quantity: str) -> dict[str, str]:
    return {
        "sku_code": code,
        "from_warehouse_id": str(source_id),
        "to_warehouse_id": str(destination_id),
        "quantity": quantity,
    }


async def test_stock_by_warehouse_lists_levels_and_searches_by_code_and_title(client: AsyncClient) -> None:
    (sku,) = await make_skus(1)
    (other,) = await make_skus(1)
    shanghai = await make_warehouse("SH-1")
    beijing = await make_warehouse("BJ-1")
    await receive(sku, shanghai.id, 7)
    await receive(sku, beijing.id, 2)
    await receive(other, shanghai.id, 4)
    await staff_sign_in(client, "ops@example.com", *READER)
    async with uow(write=False) as s:  # the factory numbers products across the whole run
        labels = await catalog.get_sku_labels(s, sku_ids=[sku, other])
    first, second = labels[sku], labels[other]

    everything = await client.get("/admin/inventory/", headers=EN)
    by_code = await client.get("/admin/inventory/", params={"q": first.code.lower()}, headers=EN)
    by_title = await client.get("/admin/inventory/", params={"q": second.product_title}, headers=EN)
    in_beijing = await client.get("/admin/inventory/", params={"warehouse": str(beijing.id)}, headers=EN)

    assert everything.status_code == 200
    assert everything.text.count("<tr>") == 1 + 3
    assert f"<code>{first.code}</code> {first.product_title}" in everything.text
    assert 'data-label="On hand" class="num">7</td>' in everything.text
    assert by_code.text.count("<tr>") == 1 + 2
    assert second.code not in by_code.text
    assert by_title.text.count("<tr>") == 1 + 1
    assert f"<code>{second.code}</code>" in by_title.text
    assert in_beijing.text.count("<tr>") == 1 + 1
    assert 'data-label="On hand" class="num">2</td>' in in_beijing.text
    assert 'href="/admin/inventory/adjust' not in everything.text  # no inventory.write


async def test_low_stock_uses_the_safety_stock_of_each_row(client: AsyncClient) -> None:
    low, plenty = await make_skus(2)
    warehouse = await make_warehouse()
    await receive(plenty, warehouse.id, 5)
    await receive(low, warehouse.id, 1)
    async with uow() as s:
        await inventory.set_safety_stock(
            s,
            data=inventory.SetSafetyStock(sku_id=low, warehouse_id=warehouse.id, safety_stock=2),
            actor=SYSTEM,
        )
    await staff_sign_in(client, "ops@example.com", *READER)

    page = await client.get("/admin/inventory/low-stock", headers=EN)

    assert page.status_code == 200
    labels = await _labels(low)
    assert page.text.count("<tr>") == 1 + 1
    assert f"<code>{labels}</code>" in page.text
    assert '<span class="tag tag-warn">Low</span>' in page.text


async def _labels(sku_id: int) -> str:
    async with uow(write=False) as s:
        return (await catalog.get_sku_labels(s, sku_ids=[sku_id]))[sku_id].code


async def test_adjusting_below_zero_shows_the_error_next_to_the_quantity(client: AsyncClient) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)
    before = await _counts()

    response = await post_form(client, ADJUST, ADJUST, _adjustment(code, warehouse.id, "-4", reason="damage"))

    assert response.status_code == 409
    assert field_error_of(response, "adjust-delta") == "实物库存不能低于订单已预占的数量。"
    assert f'value="{code}"' in response.text
    assert (await level(sku, warehouse.id)).on_hand == 3
    assert await _counts() == before


async def test_adjusting_with_an_unknown_sku_code_or_no_reason_is_refused(client: AsyncClient) -> None:
    warehouse = await make_warehouse()
    await staff_sign_in(client, "ops@example.com", *WRITER)
    before = await _counts()

    unknown = await post_form(
        client, ADJUST, ADJUST, _adjustment("<script>alert(1)</script>", warehouse.id, "2", reason="found")
    )
    no_reason = await post_form(client, ADJUST, ADJUST, _adjustment("", warehouse.id, "2"))

    assert unknown.status_code == 404
    assert field_error_of(unknown, "adjust-sku_code") == "没有此编码的 SKU。"
    assert "<script>alert(1)</script>" not in unknown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in unknown.text
    assert no_reason.status_code == 422
    assert field_error_of(no_reason, "adjust-sku_code") == "此项为必填。"
    assert field_error_of(no_reason, "adjust-reason") == "此项为必填。"
    assert await _counts() == before


async def test_adjusting_records_the_change_and_redirects_to_the_ledger(client: AsyncClient) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)

    response = await post_form(
        client, ADJUST, ADJUST, _adjustment(code, warehouse.id, "-2", reason="damage", note="wet box")
    )

    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/admin/inventory/ledger?sku={code}&warehouse={warehouse.id}&notice=adjusted"
    )
    assert (await level(sku, warehouse.id)).on_hand == 1
    ledger = await client.get(response.headers["location"], headers=EN)
    assert "Stock adjusted." in ledger.text
    assert ledger.text.count("<tr>") == 1 + 2
    assert '<td data-label="Reason">Damaged</td>' in ledger.text
    assert '<td data-label="Note">wet box</td>' in ledger.text
    assert 'data-label="On hand change" class="num">-2</td>' in ledger.text


async def test_a_transfer_moves_exactly_the_quantity(client: AsyncClient) -> None:
    sku, source = await _stocked(10)
    destination = await make_warehouse("BJ-1")
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)

    response = await post_form(client, TRANSFER, TRANSFER, _transfer(code, source.id, destination.id, "4"))

    assert response.status_code == 303
    assert (await level(sku, source.id)).on_hand == 6
    assert (await level(sku, destination.id)).on_hand == 4
    ledger = await client.get("/admin/inventory/ledger", params={"kind": "transfer_in"}, headers=EN)
    assert ledger.text.count("<tr>") == 1 + 1
    assert 'data-label="On hand change" class="num">+4</td>' in ledger.text


async def test_a_transfer_of_more_than_available_or_to_the_same_warehouse_changes_nothing(
    client: AsyncClient,
) -> None:
    sku, source = await _stocked(3)
    destination = await make_warehouse("BJ-1")
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)
    before = await _counts()

    too_many = await post_form(client, TRANSFER, TRANSFER, _transfer(code, source.id, destination.id, "4"))
    same = await post_form(client, TRANSFER, TRANSFER, _transfer(code, source.id, source.id, "1"))

    assert too_many.status_code == 409
    assert "transfer-quantity-error" in too_many.text
    assert same.status_code == 422
    assert "transfer-to_warehouse_id-error" in same.text
    assert (await level(sku, source.id)).on_hand == 3
    assert await _counts() == before


async def test_receiving_stock_adds_units_with_the_reference(client: AsyncClient) -> None:
    sku, warehouse = await _stocked(1)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)

    response = await post_form(
        client,
        "/admin/inventory/receive",
        "/admin/inventory/receive",
        {"sku_code": code, "warehouse_id": str(warehouse.id), "quantity": "12", "reference": "PO-77"},
    )

    assert response.status_code == 303
    assert (await level(sku, warehouse.id)).on_hand == 13
    ledger = await client.get("/admin/inventory/ledger", params={"kind": "receipt", "sku": code}, headers=EN)
    assert ledger.text.count("<tr>") == 1 + 2
    assert "<code>PO-77</code>" in ledger.text


async def test_the_ledger_lists_entries_filtered_by_sku_and_warehouse(client: AsyncClient) -> None:
    first, second = await make_skus(2)
    shanghai = await make_warehouse("SH-1")
    beijing = await make_warehouse("BJ-1")
    await receive(first, shanghai.id, 1)
    await receive(first, beijing.id, 2)
    await receive(second, shanghai.id, 3)
    await staff_sign_in(client, "ops@example.com", *READER)
    code = await _listed_code(client, q="-0")

    everything = await client.get("/admin/inventory/ledger", headers=EN)
    one_sku = await client.get("/admin/inventory/ledger", params={"sku": code}, headers=EN)
    one_place = await client.get(
        "/admin/inventory/ledger", params={"sku": code, "warehouse": str(beijing.id)}, headers=EN
    )
    unknown = await client.get("/admin/inventory/ledger", params={"sku": "NOPE"}, headers=EN)

    assert everything.status_code == 200
    assert everything.text.count("<tr>") == 1 + 3
    assert one_sku.text.count("<tr>") == 1 + 2
    assert one_place.text.count("<tr>") == 1 + 1
    assert "No ledger entries match." in unknown.text


async def test_reading_without_inventory_read_and_writing_without_inventory_write_is_403(
    client: AsyncClient,
) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *READER)
    before = await _counts()
    page = await client.get("/admin/inventory/", headers=EN)
    code = await _listed_code(client)

    form = await client.get(ADJUST, headers=EN)
    post = await client.post(
        ADJUST,
        data=_adjustment(code, warehouse.id, "5", reason="found", csrf_token=csrf_of(page)),
        headers=EN,
    )

    assert form.status_code == 403
    assert post.status_code == 403
    assert "You need the inventory.write permission." in post.text
    assert (await level(sku, warehouse.id)).on_hand == 3
    assert await _counts() == before


async def test_an_operation_without_the_csrf_token_is_refused(client: AsyncClient) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)
    before = await _counts()

    response = await client.post(
        ADJUST, data=_adjustment(code, warehouse.id, "5", reason="found", csrf_token="x")
    )

    assert response.status_code == 403
    assert (await level(sku, warehouse.id)).on_hand == 3
    assert await _counts() == before


async def test_inventory_pages_need_a_staff_session(client: AsyncClient) -> None:
    response = await client.get("/admin/inventory/ledger?kind=receipt")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/inventory/ledger%3Fkind%3Dreceipt"


async def test_warehouses_are_listed(client: AsyncClient) -> None:
    await make_warehouse("SH-1")
    await make_warehouse("BJ-1")
    await staff_sign_in(client, "ops@example.com", *READER)

    page = await client.get("/admin/inventory/warehouses", headers=EN)

    assert page.status_code == 200
    assert page.text.count("<tr>") == 1 + 2
    assert "<code>SH-1</code>" in page.text
    assert "Regional warehouse" in page.text


async def test_the_warehouse_table_names_warehouses_not_people(client: AsyncClient) -> None:
    await make_warehouse("SH-1")
    await staff_sign_in(client, "ops@example.com", *READER)

    page = await client.get("/admin/inventory/warehouses")
    english = await client.get("/admin/inventory/warehouses", headers=EN)

    assert '<th scope="col">仓库名称</th>' in page.text
    assert 'data-label="仓库名称"' in page.text
    assert "姓名" not in page.text
    assert '<th scope="col">Warehouse name</th>' in english.text


async def test_a_stocktake_import_checks_then_writes(client: AsyncClient) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)
    page = await client.get("/admin/inventory/import", headers=EN)
    token = csrf_of(page)
    body = f"sku_code,warehouse_code,on_hand\n{code},SH-1,8\n".encode()

    checked = await client.post(
        "/admin/inventory/import",
        data={"csrf_token": token, "dry_run": "1"},
        files={"file": ("stock.csv", body, "text/csv")},
        headers=EN,
    )
    after_check = (await level(sku, warehouse.id)).on_hand
    imported = await client.post(
        "/admin/inventory/import",
        data={"csrf_token": token},
        files={"file": ("stock.csv", body, "text/csv")},
        headers=EN,
    )
    bad = await client.post(
        "/admin/inventory/import",
        data={"csrf_token": token},
        files={"file": ("stock.csv", b"sku_code,warehouse_code,on_hand\nNOPE,SH-1,1\n", "text/csv")},
        headers=EN,
    )
    no_file = await client.post("/admin/inventory/import", data={"csrf_token": token}, headers=EN)

    assert checked.status_code == 200
    assert "Checked: nothing was written." in checked.text
    assert after_check == 3
    assert imported.status_code == 200
    assert "Imported." in imported.text
    assert (await level(sku, warehouse.id)).on_hand == 8
    assert bad.status_code == 422
    assert "No SKU has this code." in bad.text
    assert no_file.status_code == 422
    assert field_error_of(no_file, "import-file") == "Choose a CSV or XLSX file."
    assert alert_of(no_file) == "Some fields are not valid."


async def test_every_inventory_form_carries_the_csrf_token(client: AsyncClient) -> None:
    await staff_sign_in(client, "ops@example.com", *WRITER)

    for path in ("receive", "adjust", "transfer", "import", "safety-stock", "warehouses/new"):
        page = await client.get(f"/admin/inventory/{path}", headers=EN)
        token = csrf_of(page)
        assert page.text.count(f'name="csrf_token" value="{token}"') == 2, path  # sign-out and the form


# --- warehouses: create and edit; safety stock -----------------------------------------------

WAREHOUSES = "/admin/inventory/warehouses"
NEW_WAREHOUSE = "/admin/inventory/warehouses/new"
SAFETY = "/admin/inventory/safety-stock"


def _warehouse_form(**fields: str) -> dict[str, str]:
    return {
        "code": "GZ-1",
        "name": "广州仓",
        "kind": "regional",
        "province": "广东省",
        "city": "广州市",
        "district": "白云区",
        "detail": "机场路 1 号",
        "regions": "广东省\n广西壮族自治区, 海南省",
        "priority": "20",
        "cost": "12.50",
        **fields,
    }


async def _warehouses() -> list[inventory.WarehouseRead]:
    async with uow(write=False) as s:
        return await inventory.list_warehouses(s)


async def test_a_warehouse_is_created_with_its_cost_in_fen_and_listed(client: AsyncClient) -> None:
    await staff_sign_in(client, "ops@example.com", *WRITER)

    response = await post_form(client, NEW_WAREHOUSE, WAREHOUSES, _warehouse_form())
    listed = await client.get(response.headers["location"], headers=EN)

    assert response.status_code == 303
    assert response.headers["location"] == f"{WAREHOUSES}?notice=created"
    (warehouse,) = await _warehouses()
    assert (warehouse.code, warehouse.name, warehouse.kind) == (
        "GZ-1",
        "广州仓",
        inventory.WarehouseKind.regional,
    )
    assert (warehouse.province, warehouse.city, warehouse.district) == ("广东省", "广州市", "白云区")
    assert warehouse.detail == "机场路 1 号"
    assert warehouse.regions == sorted(["广东省", "广西壮族自治区", "海南省"])
    assert (warehouse.priority, warehouse.cost_amount, warehouse.is_active) == (20, 1250, True)
    assert "The warehouse was created." in listed.text
    assert f'href="{WAREHOUSES}/{warehouse.id}"' in listed.text


async def test_a_bad_cost_or_a_taken_code_saves_nothing(client: AsyncClient) -> None:
    await make_warehouse("SH-1")
    await staff_sign_in(client, "ops@example.com", *WRITER)
    before = await _counts()

    bad_cost = await post_form(client, NEW_WAREHOUSE, WAREHOUSES, _warehouse_form(cost="1.234", code="X-1"))
    negative = await post_form(client, NEW_WAREHOUSE, WAREHOUSES, _warehouse_form(cost="-1", code="X-2"))
    blank = await post_form(client, NEW_WAREHOUSE, WAREHOUSES, _warehouse_form(code="", kind=""))
    taken = await post_form(client, NEW_WAREHOUSE, WAREHOUSES, _warehouse_form(code="SH-1"))

    assert bad_cost.status_code == 422
    assert field_error_of(bad_cost, "warehouse-cost") == "小数点后最多 2 位。"
    assert 'value="1.234"' in bad_cost.text
    assert field_error_of(negative, "warehouse-cost") == "金额不能为负数。"
    assert blank.status_code == 422
    assert field_error_of(blank, "warehouse-code") == "此项为必填。"
    assert field_error_of(blank, "warehouse-kind") == "此项为必填。"
    assert taken.status_code == 409
    assert field_error_of(taken, "warehouse-code") == alert_of(taken)
    assert [w.code for w in await _warehouses()] == ["SH-1"]
    assert await _counts() == before


async def test_a_warehouse_is_edited_and_deactivated(client: AsyncClient) -> None:
    warehouse = await make_warehouse("SH-1", cost_amount=500)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    edit = f"{WAREHOUSES}/{warehouse.id}"
    form = await client.get(edit, headers=EN)

    response = await post_form(
        client,
        edit,
        edit,
        {"name": "上海 <b>仓</b>", "regions": "*", "priority": "5", "cost": "0.3", "district": "浦东"},
    )
    listed = await client.get(WAREHOUSES, headers=EN)

    assert 'value="5.00"' in form.text
    assert 'name="is_active" value="1" checked' in form.text
    assert response.status_code == 303
    assert response.headers["location"] == f"{WAREHOUSES}?notice=saved"
    (saved,) = await _warehouses()
    assert (saved.name, saved.regions, saved.priority, saved.cost_amount) == ("上海 <b>仓</b>", ["*"], 5, 30)
    assert (saved.district, saved.code, saved.is_active) == ("浦东", "SH-1", False)
    assert "上海 &lt;b&gt;仓&lt;/b&gt;" in listed.text
    assert "上海 <b>仓</b>" not in listed.text
    assert '<span class="tag tag-muted">Inactive</span>' in listed.text


async def test_a_refused_warehouse_edit_changes_nothing(client: AsyncClient) -> None:
    warehouse = await make_warehouse("SH-1", cost_amount=500)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    edit = f"{WAREHOUSES}/{warehouse.id}"
    before = await _counts()

    bad = await post_form(client, edit, edit, {"name": "", "cost": "1.234", "is_active": "1"})

    assert bad.status_code == 422
    assert field_error_of(bad, "warehouse-name") == "至少 1 个字符。"
    assert field_error_of(bad, "warehouse-cost") == "小数点后最多 2 位。"
    assert await _warehouses() == [warehouse]
    assert await _counts() == before
    assert (await client.get(f"{WAREHOUSES}/999999")).status_code == 404


async def test_warehouse_writes_need_inventory_write_and_the_csrf_token(client: AsyncClient) -> None:
    warehouse = await make_warehouse("SH-1")
    await staff_sign_in(client, "ops@example.com", *READER)
    page = await client.get(WAREHOUSES, headers=EN)
    token = csrf_of(page)
    before = await _counts()

    new_form = await client.get(NEW_WAREHOUSE)
    edit_form = await client.get(f"{WAREHOUSES}/{warehouse.id}")
    create = await client.post(WAREHOUSES, data={**_warehouse_form(), "csrf_token": token})
    update = await client.post(f"{WAREHOUSES}/{warehouse.id}", data={"name": "X", "csrf_token": token})
    safety = await client.post(
        SAFETY,
        data={"sku_code": "X", "warehouse_id": str(warehouse.id), "safety_stock": "3", "csrf_token": token},
    )
    after_reader = await _counts()
    client.cookies.clear()
    await staff_sign_in(client, "writer@example.com", *WRITER)
    before_writer = await _counts()
    no_csrf = await client.post(WAREHOUSES, data={**_warehouse_form(), "csrf_token": "x"})

    assert 'href="/admin/inventory/warehouses/new"' not in page.text
    assert [r.status_code for r in (new_form, edit_form, create, update, safety, no_csrf)] == [403] * 6
    assert await _warehouses() == [warehouse]
    assert after_reader == before
    assert await _counts() == before_writer


async def test_safety_stock_is_set_from_the_stock_row_and_the_low_stock_list_follows(
    client: AsyncClient,
) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)
    stock_page = await client.get("/admin/inventory/", headers=EN)
    link = f"{SAFETY}?sku_code={code}&amp;warehouse_id={warehouse.id}&amp;safety_stock=0"
    before_low = await client.get("/admin/inventory/low-stock", headers=EN)

    form = await client.get(link.replace("&amp;", "&"), headers=EN)
    response = await post_form(
        client, SAFETY, SAFETY, {"sku_code": code, "warehouse_id": str(warehouse.id), "safety_stock": "3"}
    )
    low = await client.get("/admin/inventory/low-stock", headers=EN)

    assert f'href="{link}"' in stock_page.text
    assert before_low.text.count("<tr>") == 0
    assert f'value="{code}"' in form.text
    assert response.status_code == 303
    assert (
        response.headers["location"] == f"/admin/inventory/?q={code}&warehouse={warehouse.id}&notice=safety"
    )
    assert (await level(sku, warehouse.id)).safety_stock == 3
    assert low.text.count("<tr>") == 1 + 1
    assert f"<code>{code}</code>" in low.text
    assert 'data-label="Safety stock" class="num">3</td>' in low.text


async def test_a_refused_safety_stock_changes_nothing(client: AsyncClient) -> None:
    sku, warehouse = await _stocked(3)
    await staff_sign_in(client, "ops@example.com", *WRITER)
    code = await _listed_code(client)
    before = await _counts()

    negative = await post_form(
        client, SAFETY, SAFETY, {"sku_code": code, "warehouse_id": str(warehouse.id), "safety_stock": "-1"}
    )
    unknown = await post_form(
        client, SAFETY, SAFETY, {"sku_code": XSS, "warehouse_id": str(warehouse.id), "safety_stock": "2"}
    )

    assert negative.status_code == 422
    assert field_error_of(negative, "safety-safety_stock") != ""
    assert unknown.status_code == 404
    assert field_error_of(unknown, "safety-sku_code") == "没有此编码的 SKU。"
    assert XSS not in unknown.text
    assert (await level(sku, warehouse.id)).safety_stock == 0
    assert await _counts() == before
