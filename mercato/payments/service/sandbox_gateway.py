"""The sandbox gateway's pay page, as use cases for the page routes (the gateway's side).

Paying records the outcome on the gateway's trade and, after the commit, kicks the job that
sends the signed notifications (late, twice or out of order when asked to).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import after_commit
from mercato.core.settings import get_settings
from mercato.payments import tasks
from mercato.payments.errors import SandboxTradeNotFound, SandboxTradeNotPayable
from mercato.payments.models import SandboxTransaction
from mercato.payments.schemas import SandboxCheckout, SandboxOutcome, SandboxPay


def _view(txn: SandboxTransaction) -> SandboxCheckout:
    return SandboxCheckout(
        trade_id=txn.trade_id,
        reference=txn.reference,
        amount=txn.amount,
        currency=txn.currency,
        status=txn.status,
        expires_at=txn.expires_at,
        is_payable=txn.status == "awaiting" and txn.expires_at > clock.now(),
    )


async def _trade(session: AsyncSession, trade_id: str) -> SandboxTransaction:
    if "sandbox" not in get_settings().enabled_payment_providers:
        raise SandboxTradeNotFound()
    txn = (
        await session.execute(select(SandboxTransaction).where(SandboxTransaction.trade_id == trade_id))
    ).scalar_one_or_none()
    if txn is None:
        raise SandboxTradeNotFound()
    return txn


async def get_sandbox_checkout(session: AsyncSession, *, trade_id: str) -> SandboxCheckout:
    """Raises: SandboxTradeNotFound (404; also when the sandbox provider is not enabled)."""
    return _view(await _trade(session, trade_id))


async def submit_sandbox_payment(
    session: AsyncSession, *, trade_id: str, data: SandboxPay
) -> SandboxCheckout:
    """Pay or fail the trade at the gateway, then notify the shop from a job after the commit.

    Raises:
        SandboxTradeNotFound (404).
        SandboxTradeNotPayable (409): already paid, failed or closed, or past its expiry.
    """
    txn = await _trade(session, trade_id)
    now = clock.now()
    paid = data.outcome is SandboxOutcome.pay
    result = await session.execute(
        update(SandboxTransaction)
        .where(
            SandboxTransaction.id == txn.id,
            SandboxTransaction.status == "awaiting",
            SandboxTransaction.expires_at > now,
        )
        .values(
            status="paid" if paid else "failed",
            paid_amount=(data.amount or txn.amount) if paid else None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise SandboxTradeNotPayable()
    await session.refresh(txn)

    async def notify() -> None:
        await tasks.send_sandbox_notifications.kiq(
            trade_id,
            delay_seconds=data.delay_seconds,
            duplicate=data.duplicate,
            out_of_order=data.out_of_order,
        )

    after_commit(session, notify)
    return _view(txn)
