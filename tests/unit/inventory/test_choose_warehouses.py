"""Warehouse choice is a pure function: region, stock, then priority and cost; splits when needed."""

from __future__ import annotations

import pytest

from mercato import inventory
from mercato.inventory import DemandLine, WarehouseKind, WarehouseRead


def warehouse(
    id: int, *, regions: list[str], priority: int = 100, cost: int = 0, active: bool = True
) -> WarehouseRead:
    return WarehouseRead(
        id=id,
        code=f"W{id}",
        name=f"W{id}",
        kind=WarehouseKind.regional,
        province="上海市",
        city="上海市",
        district="",
        detail="",
        regions=regions,
        priority=priority,
        cost_amount=cost,
        currency="CNY",
        is_active=active,
    )


EAST = warehouse(1, regions=["上海市", "江苏省", "浙江省"], priority=10)
NATIONAL = warehouse(2, regions=["*"], priority=50)
CHEAP_NATIONAL = warehouse(3, regions=["*"], priority=50, cost=100)
CLOSED = warehouse(4, regions=["*"], priority=1, active=False)
ALL = [NATIONAL, CHEAP_NATIONAL, EAST, CLOSED]


def choose(
    province: str, available: dict[tuple[int, int], int], *lines: tuple[int, int]
) -> list[tuple[int, int, int]]:
    result = inventory.choose_warehouses(
        lines=[DemandLine(sku_id=s, quantity=q) for s, q in lines],
        province=province,
        warehouses=ALL,
        available=available,
    )
    return [(a.sku_id, a.warehouse_id, a.quantity) for a in result]


def test_the_regional_warehouse_with_the_best_priority_ships_the_whole_line() -> None:
    stock = {(7, 1): 5, (7, 2): 50, (7, 4): 100}

    assert choose("江苏省", stock, (7, 3)) == [(7, 1, 3)]


def test_a_warehouse_that_does_not_serve_the_province_is_skipped() -> None:
    stock = {(7, 1): 5, (7, 2): 50}

    assert choose("四川省", stock, (7, 3)) == [(7, 2, 3)]


def test_equal_priority_goes_to_the_lower_cost_then_the_older_warehouse() -> None:
    stock = {(7, 2): 5, (7, 3): 5}

    assert choose("四川省", stock, (7, 2)) == [(7, 2, 2)]
    assert choose("四川省", {(7, 3): 5}, (7, 2)) == [(7, 3, 2)]


def test_one_warehouse_holding_the_whole_line_beats_a_split() -> None:
    stock = {(7, 1): 2, (7, 2): 10}

    assert choose("上海市", stock, (7, 6)) == [(7, 2, 6)]


def test_a_line_no_single_warehouse_holds_is_split_in_preference_order() -> None:
    stock = {(7, 1): 2, (7, 2): 3, (7, 3): 4}

    assert choose("上海市", stock, (7, 8)) == [(7, 1, 2), (7, 2, 3), (7, 3, 3)]


def test_lines_of_the_same_sku_are_merged_before_choosing() -> None:
    assert choose("上海市", {(7, 1): 5}, (7, 2), (7, 3)) == [(7, 1, 5)]


def test_too_few_units_anywhere_is_insufficient_stock() -> None:
    with pytest.raises(inventory.InsufficientStock):
        choose("上海市", {(7, 1): 2, (7, 2): 3}, (7, 6))


def test_no_serving_warehouse_with_the_sku_is_not_deliverable() -> None:
    with pytest.raises(inventory.NotDeliverable):
        choose("四川省", {(7, 1): 100, (7, 4): 100}, (7, 1))
