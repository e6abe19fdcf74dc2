"""Order exports: the orders matching the console list's filters as a CSV or XLSX spreadsheet.

One row per order: number, placed and paid time (shop time zone), status, customer and
recipient (always masked: a file leaves the console, where the full number is behind the
audited ``orders.reveal_pii``), province and city, the items, goods, shipping, discount and
total in major units, the payment provider and the parcels' tracking numbers.

Up to ``MERCATO_ORDER_EXPORT_SYNC_ROWS`` orders are exported at once (``prepare_order_export``
reads them, the caller writes the file after its transaction); more are queued as an
``OrderExport`` that the ``fulfillment.run_order_export`` job writes in batches, each in a
short transaction of its own that also moves ``rows_done`` (the progress bar). The job claims
the export with one conditional UPDATE, so a repeated or concurrent run does nothing; a claim
older than ``STALE_CLAIM`` (a worker that died) may be taken over. The file is kept in media
storage under a random key that ``/media`` never serves (not an image), until ``expires_at``;
``sweep_order_exports`` deletes expired files and runs exports whose job was lost. Every
export, small or large, is audited as ``orders.exported`` with its filters.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders, payments
from mercato.core import clock, tabular
from mercato.core.db import after_commit, uow
from mercato.core.i18n import N_, gettext
from mercato.core.money import exponent
from mercato.core.security import mask_email, mask_phone, mask_text
from mercato.core.settings import get_settings
from mercato.core.storage import get_storage
from mercato.fulfillment.carriers.registry import CARRIERS
from mercato.fulfillment.errors import ExportExpired, ExportNotFound, ExportNotReady
from mercato.fulfillment.models import OrderExport, Shipment
from mercato.fulfillment.schemas import OrderExportFilters, OrderExportRead, PreparedOrderExport
from mercato.fulfillment.states import ExportStatus

log = structlog.get_logger(__name__)

#: Orders read per transaction by the job (and per page of the list).
BATCH = 100
#: A running export not finished after this long is taken to be abandoned (its worker died).
STALE_CLAIM = dt.timedelta(minutes=10)
#: Queued exports whose job kick was lost are started by the sweep after this long.
LOST_KICK = dt.timedelta(minutes=1)

COLUMNS = (
    N_("Order number"),
    N_("Placed at"),
    N_("Paid at"),
    N_("Status"),
    N_("Customer"),
    N_("Recipient"),
    N_("Recipient phone"),
    N_("Province"),
    N_("City"),
    N_("Items"),
    N_("Goods total"),
    N_("Shipping"),
    N_("Discount"),
    N_("Total"),
    N_("Currency"),
    N_("Payment provider"),
    N_("Tracking numbers"),
)
#: The console's names of the order statuses (the same msgids as its pages).
STATUS_LABELS = {
    orders.OrderStatus.pending_payment: N_("Awaiting payment"),
    orders.OrderStatus.paid: N_("Paid, to ship"),
    orders.OrderStatus.partially_shipped: N_("Partly shipped"),
    orders.OrderStatus.shipped: N_("Shipped"),
    orders.OrderStatus.delivered: N_("Delivered"),
    orders.OrderStatus.completed: N_("Completed"),
    orders.OrderStatus.cancelled: N_("Cancelled"),
    orders.OrderStatus.closed: N_("Closed"),
}
PROVIDER_LABELS = {
    "alipay": N_("Alipay"),
    "wechatpay": N_("WeChat Pay"),
    "stripe": "Stripe",
    "sandbox": N_("Sandbox gateway"),
}

Cells = list[tabular.Cell]


def _filters_kwargs(filters: OrderExportFilters) -> dict[str, Any]:
    return filters.model_dump(exclude_none=True)


async def _order_ids(session: AsyncSession, filters: OrderExportFilters, limit: int | None) -> list[int]:
    """The ids of the matching orders, newest first as the list shows them (at most ``limit``)."""
    found: list[int] = []
    cursor = None
    while True:
        page = await orders.list_orders(session, cursor=cursor, limit=BATCH, **_filters_kwargs(filters))
        found.extend(item.id for item in page.items)
        if page.next_cursor is None or (limit is not None and len(found) >= limit):
            return found[:limit] if limit is not None else found
        cursor = page.next_cursor


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _major(amount: int, currency: str) -> Decimal:
    """Minor units as a major-unit amount with the currency's decimals (1234 fen → 12.34)."""
    return Decimal(amount).scaleb(-exponent(currency))


def item_text(line: orders.OrderLineRead) -> str:
    """A line as a person reads it: title, its spec values and the quantity to ship."""
    spec = " / ".join(value for value in line.spec.values() if value)
    return f"{line.title}（{spec}）" if spec else line.title


def _customer(customer: identity.CustomerRead | None, customer_id: int) -> str:
    if customer is None:
        return f"#{customer_id}"
    shown = mask_phone(customer.phone) or mask_email(customer.email) or mask_text(customer.name) or ""
    return f"#{customer_id} {shown}".strip()


class _Lookups:
    """What a batch of rows needs besides the orders: customers, payments, parcels (cached)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.customers: dict[int, identity.CustomerRead | None] = {}

    async def customer(self, customer_id: int) -> identity.CustomerRead | None:
        if customer_id not in self.customers:
            try:
                self.customers[customer_id] = await identity.get_customer_record(
                    self.session, customer_id=customer_id
                )
            except identity.CustomerNotFound:
                self.customers[customer_id] = None
        return self.customers[customer_id]

    async def provider(self, payment_id: int | None) -> str:
        if payment_id is None:
            return ""
        try:
            payment = await payments.get_payment(self.session, payment_id=payment_id)
        except payments.PaymentNotFound:
            return ""
        return payment.provider

    async def parcels(self, order_ids: Sequence[int]) -> dict[int, list[str]]:
        rows = await self.session.execute(
            select(Shipment.order_id, Shipment.carrier, Shipment.tracking_number)
            .where(Shipment.order_id.in_(order_ids))
            .order_by(Shipment.id)
        )
        found: dict[int, list[str]] = {}
        for order_id, carrier, number in rows:
            name = CARRIERS[carrier].name if carrier in CARRIERS else carrier
            found.setdefault(order_id, []).append(f"{name} {number}")
        return found


async def _rows(session: AsyncSession, order_ids: Sequence[int], locale: str) -> list[Cells]:
    lookups = _Lookups(session)
    parcels = await lookups.parcels(order_ids)
    rows: list[Cells] = []
    for order_id in order_ids:
        order = await orders.read_order(session, order_id=order_id)
        provider = await lookups.provider(order.payment_id)
        currency = order.currency
        rows.append(
            [
                order.number,
                _time(order.placed_at),
                _time(order.paid_at),
                gettext(STATUS_LABELS.get(order.status, order.status), locale),
                _customer(await lookups.customer(order.customer_id), order.customer_id),
                mask_text(order.address.recipient) or "",
                mask_phone(order.address.phone) or "",
                order.address.province,
                order.address.city,
                "；".join(
                    f"{item_text(line)} × {line.quantity - line.refunded_quantity}"
                    for line in order.lines
                    if line.quantity > line.refunded_quantity
                ),
                _major(order.subtotal_amount, currency),
                _major(order.shipping_amount, currency),
                _major(order.discount_amount, currency),
                _major(order.total_amount, currency),
                currency,
                gettext(PROVIDER_LABELS[provider], locale) if provider in PROVIDER_LABELS else provider,
                "；".join(parcels.get(order.id, [])),
            ]
        )
    return rows


def _header(locale: str) -> list[str]:
    return [gettext(name, locale) for name in COLUMNS]


def _filename(file_format: tabular.FileFormat, when: dt.datetime) -> str:
    return f"orders-{when.astimezone(get_settings().tz):%Y%m%d-%H%M%S}.{file_format}"


async def prepare_order_export(
    session: AsyncSession, *, filters: OrderExportFilters, file_format: tabular.FileFormat, locale: str
) -> PreparedOrderExport:
    """Read the orders matching ``filters`` if there are at most ``MERCATO_ORDER_EXPORT_SYNC_ROWS``
    (their rows are returned, for :func:`write_prepared_export` after the transaction), else
    only note that a job must make the file (:func:`record_order_export` queues it)."""
    threshold = get_settings().order_export_sync_rows
    ids = await _order_ids(session, filters, threshold + 1)
    rows = await _rows(session, ids, locale) if len(ids) <= threshold else None
    return PreparedOrderExport(
        filters=filters, file_format=str(file_format), locale=locale, header=_header(locale), rows=rows
    )


async def record_order_export(
    session: AsyncSession, *, prepared: PreparedOrderExport, actor: identity.Actor
) -> OrderExportRead | None:
    """Audit the export (``orders.exported`` with its filters); a large one is also queued for
    the job, kicked once this transaction commits, and returned (None: download it now)."""
    assert actor.staff_id is not None, "exports belong to a staff member"
    export: OrderExportRead | None = None
    filters = prepared.filters.model_dump(mode="json", exclude_none=True)
    audited = dict(filters)
    if prepared.filters.buyer is not None and prepared.filters.buyer.recipient_phone:
        audited["buyer"] = {
            **filters["buyer"],
            "recipient_phone": mask_phone(prepared.filters.buyer.recipient_phone),
        }
    if prepared.rows is None:
        now = clock.now()
        row = OrderExport(
            staff_id=actor.staff_id,
            status=str(ExportStatus.queued),
            file_format=prepared.file_format,
            locale=prepared.locale,
            filters=filters,
            rows_done=0,
            filename=_filename(tabular.FileFormat(prepared.file_format), now),
            error="",
            attempts=0,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        export = _read(row, now)
        after_commit(session, functools.partial(_kick, row.id))
    await identity.record_audit(
        session,
        actor=actor,
        action="orders.exported",
        object_type="order_export",
        object_id=str(export.id) if export else "",
        after={
            "filters": audited,
            "format": prepared.file_format,
            "rows": len(prepared.rows) if prepared.rows is not None else None,
        },
    )
    return export


async def write_prepared_export(prepared: PreparedOrderExport) -> tabular.ExportedFile:
    """The file of a small export (in a worker thread; call it outside any transaction)."""
    assert prepared.rows is not None
    file_format = tabular.FileFormat(prepared.file_format)
    content = await tabular.write_table_async(file_format, prepared.header, prepared.rows)
    return tabular.ExportedFile(_filename(file_format, clock.now()), file_format.media_type, content)


async def _kick(export_id: int) -> None:
    from mercato.fulfillment import tasks  # noqa: PLC0415 - tasks imports this module

    try:
        await tasks.run_order_export.kiq(export_id)
    except Exception as exc:  # committed already; the sweep starts it later
        log.warning("fulfillment.export_kick_failed", export_id=export_id, error=repr(exc))


def _read(row: OrderExport, now: dt.datetime) -> OrderExportRead:
    expired = row.status == ExportStatus.done and (
        row.storage_key is None or (row.expires_at is not None and row.expires_at <= now)
    )
    return OrderExportRead(
        id=row.id,
        staff_id=row.staff_id,
        status=ExportStatus(row.status),
        file_format=row.file_format,
        filters=OrderExportFilters.model_validate(row.filters),
        rows_total=row.rows_total,
        rows_done=row.rows_done,
        filename=row.filename,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
        is_expired=expired,
    )


async def _own_row(session: AsyncSession, export_id: int, staff_id: int) -> OrderExport:
    row = (
        await session.execute(
            select(OrderExport)
            .where(OrderExport.id == export_id, OrderExport.staff_id == staff_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise ExportNotFound()
    return row


async def get_order_export(session: AsyncSession, *, export_id: int, staff_id: int) -> OrderExportRead:
    """The export, if ``staff_id`` asked for it.

    Raises:
        ExportNotFound (404): no such export, or someone else's.
    """
    return _read(await _own_row(session, export_id, staff_id), clock.now())


async def open_order_export(session: AsyncSession, *, export_id: int, staff_id: int) -> tabular.ExportedFile:
    """The file of a finished export, for the staff member who asked for it.

    Raises:
        ExportNotFound (404): no such export, or someone else's; ExportNotReady (409): not
        finished, or failed; ExportExpired (409): its file was deleted.
    """
    row = await _own_row(session, export_id, staff_id)
    export = _read(row, clock.now())
    if export.status is not ExportStatus.done:
        raise ExportNotReady()
    if export.is_expired or row.storage_key is None:
        raise ExportExpired()
    try:
        content = await get_storage().open(row.storage_key)
    except FileNotFoundError:
        raise ExportExpired() from None
    file_format = tabular.FileFormat(row.file_format)
    return tabular.ExportedFile(row.filename, file_format.media_type, content)


async def _claim(export_id: int) -> tuple[OrderExportRead, int] | None:
    """Take the export for this run: queued, or running under a stale claim. Returns it with
    this run's attempt number, which every later step checks (None: not ours to run)."""
    now = clock.now()
    async with uow() as session:
        claimed = await session.execute(
            update(OrderExport)
            .where(
                OrderExport.id == export_id,
                or_(
                    OrderExport.status == ExportStatus.queued,
                    (OrderExport.status == ExportStatus.running)
                    & (OrderExport.started_at < now - STALE_CLAIM),
                ),
            )
            .values(
                status=str(ExportStatus.running),
                started_at=now,
                rows_done=0,
                attempts=OrderExport.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        row = await session.get_one(OrderExport, export_id, populate_existing=True)
        return _read(row, now), row.attempts


async def _progress(export_id: int, attempt: int, **values: object) -> bool:
    """Move the export on, if this run still holds it (its claim's ``attempt``)."""
    async with uow() as session:
        moved = await session.execute(
            update(OrderExport)
            .where(
                OrderExport.id == export_id,
                OrderExport.status == ExportStatus.running,
                OrderExport.attempts == attempt,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return getattr(moved, "rowcount", 0) == 1


async def run_order_export(export_id: int) -> bool:
    """The job: write the export's file in batches of ``BATCH`` orders (each batch a short read,
    then its progress in a short write), store it and mark the export done, kept for
    ``MERCATO_ORDER_EXPORT_HOURS``. Idempotent by the export id: an export that is not queued
    (or abandoned) is left alone. A failure marks it failed, with the reason. Owns its
    transactions; returns whether this run finished the export."""
    claimed = await _claim(export_id)
    if claimed is None:
        return False
    export, attempt = claimed
    async with uow(write=False) as session:
        locale = (await session.get_one(OrderExport, export_id)).locale
    try:
        async with uow(write=False) as session:
            ids = await _order_ids(session, export.filters, None)
        if not await _progress(export_id, attempt, rows_total=len(ids)):
            return False
        rows: list[Cells] = []
        for start in range(0, len(ids), BATCH):
            async with uow(write=False) as session:
                rows.extend(await _rows(session, ids[start : start + BATCH], locale))
            if not await _progress(export_id, attempt, rows_done=len(rows)):
                return False
        file_format = tabular.FileFormat(export.file_format)
        content = await tabular.write_table_async(file_format, _header(locale), rows)
        key = f"exports/orders/{export_id}-{secrets.token_hex(16)}.{file_format}"
        await get_storage().save(key, content, file_format.media_type)
        now = clock.now()
        expires_at = now + dt.timedelta(hours=get_settings().order_export_hours)
        values = {
            "status": str(ExportStatus.done),
            "storage_key": key,
            "finished_at": now,
            "expires_at": expires_at,
        }
        if not await _progress(export_id, attempt, **values):
            await get_storage().delete(key)
            return False
    except Exception as exc:
        log.exception("fulfillment.export_failed", export_id=export_id)
        await _progress(
            export_id,
            attempt,
            status=str(ExportStatus.failed),
            error=repr(exc)[:300],
            finished_at=clock.now(),
        )
        return False
    return True


async def sweep_order_exports(*, limit: int = 100) -> int:
    """The sweep job: delete the files of expired exports, and run exports whose job was lost
    (queued for over ``LOST_KICK``, or abandoned mid-way). Returns how many it handled."""
    now = clock.now()
    async with uow(write=False) as session:
        expired = list(
            (
                await session.execute(
                    select(OrderExport.id, OrderExport.storage_key)
                    .where(
                        OrderExport.status == ExportStatus.done,
                        OrderExport.storage_key.is_not(None),
                        OrderExport.expires_at <= now,
                    )
                    .limit(limit)
                )
            ).all()
        )
        lost = list(
            (
                await session.execute(
                    select(OrderExport.id)
                    .where(
                        or_(
                            (OrderExport.status == ExportStatus.queued)
                            & (OrderExport.created_at < now - LOST_KICK),
                            (OrderExport.status == ExportStatus.running)
                            & (OrderExport.started_at < now - STALE_CLAIM),
                        )
                    )
                    .order_by(OrderExport.id)
                    .limit(limit)
                )
            ).scalars()
        )
    for export_id, stored in expired:
        key = str(stored)
        async with uow() as session:
            await session.execute(
                update(OrderExport)
                .where(OrderExport.id == export_id, OrderExport.storage_key == key)
                .values(storage_key=None)
                .execution_options(synchronize_session=False)
            )
        await get_storage().delete(key)  # after the commit: a download now finds it expired
    for export_id in lost:
        await run_order_export(export_id)
    return len(expired) + len(lost)
