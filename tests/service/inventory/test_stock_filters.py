"""list_stock by a set of SKUs and list_ledger by kind (the console's stock search and ledger
filter), with catalog.search_sku_ids finding the SKUs by code or product title."""

from __future__ import annotations

from mercato import catalog, inventory
from mercato.core.db import uow
from tests.factories.inventory import SYSTEM, make_skus, make_warehouse, receive


async def test_list_stock_keeps_the_rows_of_the_given_skus() -> None:
    first, second = await make_skus(2)
    (other,) = await make_skus(1)
    warehouse = await make_warehouse()
    for sku_id in (first, second, other):
        await receive(sku_id, warehouse.id, 1)

    async with uow(write=False) as s:
        some = await inventory.list_stock(s, sku_ids=[first, other])
        none = await inventory.list_stock(s, sku_ids=[])
        every = await inventory.list_stock(s)

    assert [row.sku_id for row in some.items] == [other, first]
    assert none.items == []
    assert none.next_cursor is None
    assert len(every.items) == 3


async def test_list_ledger_keeps_one_kind() -> None:
    (sku_id,) = await make_skus(1)
    source = await make_warehouse("SH-1")
    destination = await make_warehouse("BJ-1")
    await receive(sku_id, source.id, 5)
    async with uow() as s:
        await inventory.transfer_stock(
            s,
            data=inventory.TransferStock(
                sku_id=sku_id, from_warehouse_id=source.id, to_warehouse_id=destination.id, quantity=2
            ),
            actor=SYSTEM,
        )

    async with uow(write=False) as s:
        receipts = await inventory.list_ledger(s, kind=inventory.LedgerKind.receipt)
        moved_in = await inventory.list_ledger(s, kind=inventory.LedgerKind.transfer_in)
        every = await inventory.list_ledger(s)

    assert [(e.kind, e.on_hand_delta) for e in receipts.items] == [(inventory.LedgerKind.receipt, 5)]
    assert [(e.warehouse_id, e.on_hand_delta) for e in moved_in.items] == [(destination.id, 2)]
    assert len(every.items) == 3


async def test_search_sku_ids_matches_code_or_title() -> None:
    first, second = await make_skus(2)
    (other,) = await make_skus(1)
    async with uow(write=False) as s:
        labels = await catalog.get_sku_labels(s, sku_ids=[first, other])
        by_code = await catalog.search_sku_ids(s, text=labels[first].code.lower())
        by_title = await catalog.search_sku_ids(s, text=labels[first].product_title)
        limited = await catalog.search_sku_ids(s, text=labels[first].product_title, limit=1)
        wildcard = await catalog.search_sku_ids(s, text="%")
        blank = await catalog.search_sku_ids(s, text="  ")

    assert by_code == [first]
    assert by_title == [first, second]
    assert limited == [first]
    assert wildcard == []
    assert blank == []
