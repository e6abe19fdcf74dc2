"""Delivery options at placement: scheduled time slots (定时达), store pickup (到店自提), and the
invoice request (发票) — each either recorded on the order or refused with nothing placed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mercato import inventory, orders, pricing
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.settings import Settings, get_settings
from mercato.orders.models import Order
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.inventory import make_warehouse, receive, verify
from tests.factories.orders import place

SHANGHAI = ZoneInfo("Asia/Shanghai")
COMPANY_TAX_ID = "91350100M000100Y43"  # a well-formed unified social credit code


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


async def order_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Order))).scalar_one()


async def available(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await inventory.available_units(s, sku_ids=[sku_id]))[sku_id]


def test_slots_close_before_they_start_and_run_for_the_configured_days() -> None:
    slots = orders.offered_slots(at(27, 10, 30))  # 10:30: the 09:00 slot has started, 14:00 is open

    assert len(slots) == 2 + 3 * 3
    assert [(s.starts_at.astimezone(SHANGHAI), s.ends_at.astimezone(SHANGHAI)) for s in slots[:3]] == [
        (at(27, 14), at(27, 18)),
        (at(27, 18), at(27, 21)),
        (at(28, 9), at(28, 12)),
    ]
    assert slots[-1].starts_at == at(30, 18).astimezone(dt.UTC)
    assert orders.offered_slots(at(27, 12, 0))[0].starts_at == at(27, 14).astimezone(dt.UTC)
    assert orders.offered_slots(at(27, 12, 1))[0].starts_at == at(27, 18).astimezone(dt.UTC)


def test_the_slots_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_DELIVERY_SLOTS", '["10:00-12:00"]')
    monkeypatch.setenv("MERCATO_DELIVERY_SLOT_DAYS", "0")
    monkeypatch.setenv("MERCATO_DELIVERY_SLOT_LEAD_MINUTES", "0")
    get_settings.cache_clear()

    assert [s.starts_at for s in orders.offered_slots(at(27, 10))] == [at(27, 10).astimezone(dt.UTC)]
    assert orders.offered_slots(at(27, 10, 1)) == []


@pytest.mark.parametrize("slot", ["12:00-10:00", "9-12", "09:00", "25:00-26:00"])
def test_a_malformed_slot_setting_is_refused(slot: str) -> None:
    with pytest.raises(ValidationError, match="delivery slot"):
        Settings(delivery_slots=[slot])


async def test_a_scheduled_order_keeps_its_slot() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=3000)
    slot = orders.offered_slots(clock.now())[1]

    order = await place(
        customer.id, (red, 1), delivery=pricing.Delivery.scheduled, slot_starts_at=slot.starts_at
    )

    assert (order.delivery, order.slot) == (pricing.Delivery.scheduled, slot)
    assert order.pickup_store_id is None


@pytest.mark.parametrize(
    ("delivery", "shift", "code"),
    [
        (pricing.Delivery.scheduled, None, "orders.slot_required"),
        (pricing.Delivery.scheduled, dt.timedelta(minutes=30), "orders.slot_unavailable"),
        (pricing.Delivery.scheduled, -dt.timedelta(days=1), "orders.slot_unavailable"),
        (pricing.Delivery.standard, dt.timedelta(0), "orders.slot_not_scheduled"),
    ],
)
async def test_a_slot_that_is_missing_or_not_offered_is_refused(
    delivery: pricing.Delivery, shift: dt.timedelta | None, code: str
) -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=5)
    first = orders.offered_slots(clock.now())[0].starts_at

    with pytest.raises(orders.InvalidDelivery) as refused:
        await place(
            customer.id, (red, 1), delivery=delivery, slot_starts_at=None if shift is None else first + shift
        )

    assert [(f.loc, f.code) for f in refused.value.fields] == [(("body", "slot_starts_at"), code)]
    assert (await order_count(), await available(red)) == (0, 5)


async def test_pickup_reserves_at_the_chosen_store_only_and_ships_free() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=3000, stock=10)  # a regional warehouse serving everywhere
    store = await make_warehouse("STORE-HZ", kind=inventory.WarehouseKind.store, regions=["浙江省"])
    await receive(red, store.id, 3)

    order = await place(customer.id, (red, 2), delivery=pricing.Delivery.pickup, pickup_store_id=store.id)

    assert (order.delivery, order.pickup_store_id, order.shipping_amount) == (
        pricing.Delivery.pickup,
        store.id,
        0,
    )
    assert [s.warehouse_id for s in order.sub_orders] == [store.id]
    async with uow(write=False) as s:
        holds = await inventory.list_reservations(s, reference=f"order:{order.id}")
    assert [(h.warehouse_id, h.quantity) for h in holds] == [(store.id, 2)]
    assert (await verify()).problems == []


async def test_pickup_at_a_store_without_enough_is_refused_not_split() -> None:
    customer = await make_customer()
    red, black = await listed_skus(stock=10)
    store = await make_warehouse("STORE-SH", kind=inventory.WarehouseKind.store)
    await receive(red, store.id, 1)

    with pytest.raises(inventory.InsufficientStock):
        await place(customer.id, (red, 2), delivery=pricing.Delivery.pickup, pickup_store_id=store.id)
    with pytest.raises(inventory.NotAtStore):
        await place(customer.id, (black, 1), delivery=pricing.Delivery.pickup, pickup_store_id=store.id)

    assert await order_count() == 0
    assert (await available(red), await available(black)) == (11, 10)


async def test_pickup_needs_an_active_store() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=5)
    regional = await make_warehouse("REG-1")
    closed = await make_warehouse("STORE-OLD", kind=inventory.WarehouseKind.store)
    async with uow() as s:
        from tests.factories.catalog import SYSTEM

        await inventory.update_warehouse(
            s, warehouse_id=closed.id, data=inventory.WarehouseUpdate(is_active=False), actor=SYSTEM
        )
    cases = [
        (None, "orders.store_required"),
        (regional.id, "orders.store_unavailable"),
        (closed.id, "orders.store_unavailable"),
        (10**9, "orders.store_unavailable"),
    ]
    for store_id, code in cases:
        with pytest.raises(orders.InvalidDelivery) as refused:
            await place(customer.id, (red, 1), delivery=pricing.Delivery.pickup, pickup_store_id=store_id)
        assert [(f.loc, f.code) for f in refused.value.fields] == [(("body", "pickup_store_id"), code)]
    with pytest.raises(orders.InvalidDelivery) as refused:
        await place(customer.id, (red, 1), delivery=pricing.Delivery.express, pickup_store_id=regional.id)
    assert refused.value.fields[0].code == "orders.store_not_pickup"

    assert (await order_count(), await available(red)) == (0, 5)


async def test_an_invoice_request_is_kept_with_the_order() -> None:
    customer = await make_customer()
    red, _black = await listed_skus()
    invoice = orders.InvoiceRequest(
        kind=orders.InvoiceKind.company,
        title=" 杭州示例科技有限公司 ",
        tax_id=COMPANY_TAX_ID.lower(),
        email="finance@example.com",
    )

    order = await place(customer.id, (red, 1), invoice=invoice)

    assert order.invoice == orders.InvoiceRequest(
        kind=orders.InvoiceKind.company,
        title="杭州示例科技有限公司",
        tax_id=COMPANY_TAX_ID,
        email="finance@example.com",
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "company", "title": "某公司"}, "needs the company's tax id"),
        ({"kind": "company", "title": "某公司", "tax_id": "91350100M000100Y44"}, "not a valid"),
        ({"kind": "company", "title": "某公司", "tax_id": "91350100M000100Y4"}, "not a valid"),
        ({"kind": "company", "title": "某公司", "tax_id": "9135010OM000100Y43"}, "not a valid"),
        ({"kind": "personal", "title": "个人", "tax_id": COMPANY_TAX_ID}, "no tax id"),
        ({"kind": "personal", "title": "   "}, "at least 1 character"),
        ({"kind": "personal", "title": "个人", "email": "not-an-email"}, "email"),
    ],
)
def test_a_malformed_invoice_request_is_refused(fields: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        orders.InvoiceRequest.model_validate(fields)


@pytest.mark.parametrize(
    ("tax_id", "valid"),
    [
        ("91350100M000100Y43", True),
        ("91110000802100433B", True),
        ("91350100M000100Y40", False),
        ("91350100M000100YI3", False),  # I is not in the code's alphabet
        ("", False),
    ],
)
def test_tax_ids_are_checked_by_their_check_character(tax_id: str, valid: bool) -> None:
    assert orders.is_valid_tax_id(tax_id) is valid
