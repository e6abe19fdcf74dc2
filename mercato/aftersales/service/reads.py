"""Reading requests (the shopper's own, or the staff queue) and the resolution-time report."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.aftersales.errors import InvalidPeriod
from mercato.aftersales.models import AftersalesRequest, AftersalesStatusChange
from mercato.aftersales.schemas import AftersalesKind, AftersalesRead, AftersalesSummary, ResolutionReport
from mercato.aftersales.service.common import load, read, summary
from mercato.aftersales.states import WAITING_ON_SHOP, AftersalesStatus
from mercato.core import clock
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.core.settings import get_settings

MAX_REPORT_DAYS = 366
_WAITING = [str(s) for s in WAITING_ON_SHOP]


async def get_request(
    session: AsyncSession, *, request_id: int, customer_id: int | None = None
) -> AftersalesRead:
    """One request with its photos and timeline. ``customer_id`` scopes it to that customer (who
    sees the shop's steps without staff names); without it, the staff view.

    Raises:
        RequestNotFound (404): none, or another customer's.
    """
    row = await load(session, request_id, customer_id=customer_id)
    return await read(session, row, staff_view=customer_id is None)


def _target() -> dt.timedelta:
    return dt.timedelta(hours=get_settings().aftersales_response_target_hours)


async def list_requests(
    session: AsyncSession,
    *,
    customer_id: int | None = None,
    status: AftersalesStatus | None = None,
    kind: AftersalesKind | None = None,
    order_id: int | None = None,
    waiting: bool | None = None,
    overdue: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
    oldest_first: bool = False,
) -> Page[AftersalesSummary]:
    """Requests, newest first: a customer's own, or all of them for staff (the queue).

    ``waiting`` keeps those waiting for the shop's answer (or, False, the others); ``overdue``
    those waiting longer than the response target. ``oldest_first`` turns the order round (the
    console's queue: the longest-waiting first); its cursors only work with the same order.

    Raises:
        InvalidCursor (400).
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    order = AftersalesRequest.id.asc() if oldest_first else AftersalesRequest.id.desc()
    stmt = select(AftersalesRequest).order_by(order).limit(size + 1)
    if after is not None:
        stmt = stmt.where(AftersalesRequest.id > after if oldest_first else AftersalesRequest.id < after)
    if customer_id is not None:
        stmt = stmt.where(AftersalesRequest.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(AftersalesRequest.status == str(status))
    if kind is not None:
        stmt = stmt.where(AftersalesRequest.kind == str(kind))
    if order_id is not None:
        stmt = stmt.where(AftersalesRequest.order_id == order_id)
    if waiting is not None:
        in_wait = AftersalesRequest.status.in_(_WAITING)
        stmt = stmt.where(in_wait if waiting else ~in_wait)
    if overdue:
        stmt = stmt.where(
            AftersalesRequest.status.in_(_WAITING),
            AftersalesRequest.last_shopper_action_at <= clock.now() - _target(),
        )
    rows = list((await session.execute(stmt)).scalars())
    items = [summary(row) for row in rows[:size]]
    return Page[AftersalesSummary](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


async def count_waiting_requests(session: AsyncSession) -> int:
    """How many requests wait for the shop's (or the platform's) answer: the console's to-do,
    the same requests as ``list_requests(waiting=True)``."""
    stmt = select(func.count()).select_from(AftersalesRequest).where(AftersalesRequest.status.in_(_WAITING))
    return int((await session.execute(stmt)).scalar_one())


async def resolution_report(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime
) -> ResolutionReport:
    """How long shoppers waited for the shop's (or the platform's) answers given in
    ``[since, until)``: count, average, 90th percentile (nearest rank), longest, and how many
    within the target (``aftersales_response_target_hours``); plus the requests waiting now.

    Raises:
        InvalidPeriod (422): ``since`` not before ``until``, or more than a year apart.
    """
    if since >= until or until - since > dt.timedelta(days=MAX_REPORT_DAYS):
        raise InvalidPeriod(max_days=MAX_REPORT_DAYS)
    target = _target()
    rows = (
        await session.execute(
            select(AftersalesStatusChange.response_seconds).where(
                AftersalesStatusChange.response_seconds.is_not(None),
                AftersalesStatusChange.created_at >= since,
                AftersalesStatusChange.created_at < until,
            )
        )
    ).scalars()
    values = sorted(int(s) for s in rows if s is not None)
    count = len(values)
    overdue = AftersalesRequest.last_shopper_action_at <= clock.now() - target
    waiting_now, overdue_now = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0)).where(
                AftersalesRequest.status.in_(_WAITING)
            )
        )
    ).one()
    target_seconds = int(target.total_seconds())
    return ResolutionReport(
        since=since,
        until=until,
        target_seconds=target_seconds,
        responses=count,
        average_seconds=(sum(values) + count // 2) // count if count else None,
        p90_seconds=values[(9 * count + 9) // 10 - 1] if count else None,
        max_seconds=values[-1] if count else None,
        within_target=sum(1 for v in values if v <= target_seconds),
        waiting_now=int(waiting_now),
        overdue_now=int(overdue_now),
    )
