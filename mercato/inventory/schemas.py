"""Public inventory DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from mercato.core.schemas import IdInt, InputModel, MultilineText, ReadModel

Quantity = Annotated[int, Field(ge=1, le=1_000_000)]
Id = IdInt
Reason = Annotated[MultilineText, Field(max_length=200)]
Reference = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class WarehouseKind(StrEnum):
    regional = "regional"  # 区域仓: ships to a region
    front = "front"  # 前置仓: small city warehouse for same-day delivery
    store = "store"  # 门店: a shop, also for O2O pickup
    dropship = "dropship"  # 一件代发 / cloud warehouse: a supplier ships for us


class LedgerKind(StrEnum):
    receipt = "receipt"  # goods received (purchase, return to stock)
    adjustment = "adjustment"  # stocktake, damage, loss, correction
    transfer_out = "transfer_out"  # sent to another warehouse
    transfer_in = "transfer_in"  # received from another warehouse
    reserve = "reserve"  # units held for an order
    release = "release"  # a hold given back (cancel)
    expire = "expire"  # a hold that timed out
    ship = "ship"  # a hold consumed: the units left the warehouse


class AdjustmentReason(StrEnum):
    stocktake = "stocktake"  # 盘点: counted quantity differs
    damage = "damage"  # 损坏
    loss = "loss"  # 丢失
    found = "found"  # 盘盈: units found
    correction = "correction"  # a wrong earlier entry
    other = "other"  # explained in the note


class ReservationStatus(StrEnum):
    active = "active"  # units held
    released = "released"  # given back before shipping (order cancelled)
    expired = "expired"  # not consumed in time; given back by the expiry job
    consumed = "consumed"  # shipped: on hand went down by the quantity


class WarehouseWrite(InputModel):
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=60)]
    kind: WarehouseKind
    province: Annotated[str, Field(min_length=1, max_length=30)]
    city: Annotated[str, Field(min_length=1, max_length=30)]
    district: Annotated[str, Field(max_length=30)] = ""
    detail: Annotated[str, Field(max_length=200)] = ""
    regions: Annotated[list[Annotated[str, Field(min_length=1, max_length=30)]], Field(max_length=40)] = ["*"]
    priority: Annotated[int, Field(ge=0, le=10_000)] = 100
    cost_amount: Annotated[int, Field(ge=0, le=10**9)] = 0
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"


class WarehouseUpdate(InputModel):
    name: Annotated[str | None, Field(min_length=1, max_length=60)] = None
    district: Annotated[str | None, Field(max_length=30)] = None
    detail: Annotated[str | None, Field(max_length=200)] = None
    regions: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=30)]] | None, Field(max_length=40)
    ] = None
    priority: Annotated[int | None, Field(ge=0, le=10_000)] = None
    cost_amount: Annotated[int | None, Field(ge=0, le=10**9)] = None
    is_active: bool | None = None


class WarehouseRead(ReadModel):
    id: int
    code: str
    name: str
    kind: WarehouseKind
    province: str
    city: str
    district: str
    detail: str
    regions: list[str]
    priority: int
    cost_amount: int
    currency: str
    is_active: bool

    def serves(self, province: str) -> bool:
        return "*" in self.regions or province in self.regions


class StockRead(ReadModel):
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int
    safety_stock: int
    is_low: bool  # available at or below the safety stock
    updated_at: dt.datetime


class ReceiveStock(InputModel):
    sku_id: Id
    warehouse_id: Id
    quantity: Quantity
    reason: Reason = ""
    reference: Annotated[str, Field(max_length=80)] = ""  # e.g. a purchase order number


class AdjustStock(InputModel):
    sku_id: Id
    warehouse_id: Id
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    reason: AdjustmentReason
    note: Reason = ""

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be zero")
        return value


class TransferStock(InputModel):
    sku_id: Id
    from_warehouse_id: Id
    to_warehouse_id: Id
    quantity: Quantity
    reason: Reason = ""


class SetSafetyStock(InputModel):
    sku_id: Id
    warehouse_id: Id
    safety_stock: Annotated[int, Field(ge=0, le=1_000_000)]


class LedgerEntryRead(ReadModel):
    id: int
    sku_id: int
    warehouse_id: int
    kind: LedgerKind
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    reference: str
    actor_label: str
    created_at: dt.datetime


class ReservationRead(ReadModel):
    id: int
    reference: str
    sku_id: int
    warehouse_id: int
    quantity: int
    status: ReservationStatus
    expires_at: dt.datetime | None  # None: kept until shipped or released
    created_at: dt.datetime
    closed_at: dt.datetime | None
    source: str | None = None  # the quota hold the units came from (``take_from_hold``)


class DemandLine(InputModel):
    """One line a destination needs: a SKU and a quantity."""

    sku_id: Id
    quantity: Quantity


class AllocationRequest(InputModel):
    province: Annotated[str, Field(min_length=1, max_length=30)]
    lines: Annotated[list[DemandLine], Field(min_length=1, max_length=100)]


class Allocation(ReadModel):
    """Units of one SKU to take from one warehouse."""

    sku_id: int
    warehouse_id: int
    quantity: int


class ReleaseReservations(InputModel):
    reference: Reference


class VerifyProblem(ReadModel):
    sku_id: int
    warehouse_id: int
    problem: str  # on_hand_mismatch | reserved_mismatch | holds_mismatch | ledger_without_stock
    expected: int
    actual: int


class VerifyReport(ReadModel):
    stock_rows: int
    ledger_entries: int
    problems: list[VerifyProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


class StockImportResult(ReadModel):
    """What a stock import did (with ``dry_run``: what it would do; nothing was written).

    ``levels_changed`` rows had a counted quantity different from on hand (one ledger entry
    each, with ``reference``; None when nothing was written); ``safety_stocks_changed`` rows set
    a new safety stock.
    """

    rows: int
    levels_changed: int
    safety_stocks_changed: int
    unchanged: int
    dry_run: bool
    reference: str | None
