"""Proof that the stock levels equal the ledger: ``mercato inventory verify``.

For every (SKU, warehouse): on hand = the sum of the ledger's on-hand deltas, reserved = the sum
of its reserved deltas = the units of the active holds. Any difference is listed.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.inventory.models import LedgerEntry, Reservation, Stock
from mercato.inventory.schemas import ReservationStatus, VerifyProblem, VerifyReport


async def verify_stock(session: AsyncSession) -> VerifyReport:
    """Compare every stock row with its ledger and its active holds (read-only)."""
    ledger = {
        (sku_id, warehouse_id): (int(on_hand), int(reserved), int(count))
        for sku_id, warehouse_id, on_hand, reserved, count in await session.execute(
            select(
                LedgerEntry.sku_id,
                LedgerEntry.warehouse_id,
                func.sum(LedgerEntry.on_hand_delta),
                func.sum(LedgerEntry.reserved_delta),
                func.count(),
            ).group_by(LedgerEntry.sku_id, LedgerEntry.warehouse_id)
        )
    }
    holds = {
        (sku_id, warehouse_id): int(units)
        for sku_id, warehouse_id, units in await session.execute(
            select(Reservation.sku_id, Reservation.warehouse_id, func.sum(Reservation.quantity))
            .where(Reservation.status == str(ReservationStatus.active))
            .group_by(Reservation.sku_id, Reservation.warehouse_id)
        )
    }
    problems: list[VerifyProblem] = []
    stock_rows = 0
    for sku_id, warehouse_id, on_hand, reserved in await session.execute(
        select(Stock.sku_id, Stock.warehouse_id, Stock.on_hand, Stock.reserved).order_by(
            Stock.sku_id, Stock.warehouse_id
        )
    ):
        stock_rows += 1
        key = (sku_id, warehouse_id)
        ledger_on_hand, ledger_reserved, _count = ledger.pop(key, (0, 0, 0))
        for problem, expected, actual in (
            ("on_hand_mismatch", ledger_on_hand, on_hand),
            ("reserved_mismatch", ledger_reserved, reserved),
            ("holds_mismatch", holds.get(key, 0), reserved),
        ):
            if expected != actual:
                problems.append(
                    VerifyProblem(
                        sku_id=sku_id,
                        warehouse_id=warehouse_id,
                        problem=problem,
                        expected=expected,
                        actual=actual,
                    )
                )
    for (sku_id, warehouse_id), (ledger_on_hand, _reserved, _count) in sorted(ledger.items()):
        problems.append(
            VerifyProblem(
                sku_id=sku_id,
                warehouse_id=warehouse_id,
                problem="ledger_without_stock",
                expected=ledger_on_hand,
                actual=0,
            )
        )
    entries = (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
    return VerifyReport(stock_rows=stock_rows, ledger_entries=int(entries), problems=problems)
