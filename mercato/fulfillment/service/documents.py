"""Printable PDFs for the warehouse: packing lists (拣货单/发货单) and waybill sheets (面单).

One page per sub-order — the part of an order one warehouse ships, which becomes one parcel.
A packing list names the order, the warehouse and every line (title, spec values, SKU code,
quantity) with the recipient masked: pickers need the goods, not the person. A waybill sheet
(100 × 150 mm, the size of a Chinese thermal label) carries the sender (the warehouse and its
address), the recipient, the order number with its Code 128 barcode and the tracking number
once shipped. The recipient's full name, phone and address are printed only for staff holding
``orders.reveal_pii``, and each order so printed is audited as ``orders.recipient_revealed``;
without it the waybill shows them masked.

Reading (``read_order_documents``) happens in the caller's transaction; rendering
(``render_packing_lists``, ``render_waybills``) is CPU work on plain data, run in a worker thread
after the transaction has ended. Text is set in the Adobe-GB1 CID font ``STSong-Light`` that
every PDF reader provides, so Chinese renders without shipping a font file (ADR 0027).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Sequence

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, inventory, orders
from mercato.core.i18n import gettext
from mercato.core.security import mask_phone, mask_text
from mercato.core.settings import get_settings
from mercato.fulfillment.carriers.registry import CARRIERS
from mercato.fulfillment.models import Shipment
from mercato.fulfillment.schemas import DocumentLine, OrderDocument
from mercato.fulfillment.service.exports import item_text

FONT = "STSong-Light"
#: Orders one print may hold.
MAX_ORDERS = 200
WAYBILL = (100 * mm, 150 * mm)


async def read_order_documents(
    session: AsyncSession, *, order_numbers: Sequence[str], full_recipient: bool, actor: identity.Actor
) -> list[OrderDocument]:
    """One document per sub-order of each order (in the order given; pickup orders and parts
    that will not ship are left out). ``full_recipient`` prints the recipient in full and audits
    each order (``orders.recipient_revealed``, reason "print"); the caller checks the permission.

    Raises:
        OrderNotFound (404): a number names no order.
    """
    warehouses = {w.id: w for w in await inventory.list_warehouses(session)}
    documents: list[OrderDocument] = []
    for number in dict.fromkeys(order_numbers[:MAX_ORDERS]):
        found = await orders.list_orders(session, number=number[:32], limit=1)
        if not found.items:
            raise orders.OrderNotFound()
        order = await orders.read_order(session, order_id=found.items[0].id)
        if order.delivery == "pickup":
            continue
        parcels = {
            sub_id: (CARRIERS[carrier].name if carrier in CARRIERS else carrier, tracking)
            for sub_id, carrier, tracking in await session.execute(
                select(Shipment.sub_order_id, Shipment.carrier, Shipment.tracking_number).where(
                    Shipment.order_id == order.id
                )
            )
        }
        address = order.address
        for sub in order.sub_orders:
            if sub.status in {"cancelled", "closed"}:
                continue
            warehouse = warehouses.get(sub.warehouse_id)
            parcel = parcels.get(sub.id)
            documents.append(
                OrderDocument(
                    order_number=order.number,
                    placed_at=order.placed_at,
                    note=order.note,
                    warehouse_name=warehouse.name if warehouse else f"#{sub.warehouse_id}",
                    warehouse_code=warehouse.code if warehouse else "",
                    sender_address=" ".join(
                        [warehouse.province, warehouse.city, warehouse.district, warehouse.detail]
                    ).strip()
                    if warehouse
                    else "",
                    recipient=address.recipient if full_recipient else mask_text(address.recipient) or "",
                    recipient_phone=address.phone if full_recipient else mask_phone(address.phone) or "",
                    recipient_region=f"{address.province} {address.city} {address.district}".strip(),
                    recipient_detail=address.detail if full_recipient else mask_text(address.detail, 2) or "",
                    is_masked=not full_recipient,
                    carrier_name=parcel[0] if parcel else "",
                    tracking_number=parcel[1] if parcel else "",
                    lines=[
                        DocumentLine(
                            item=item_text(line),
                            sku_code=line.sku_code,
                            quantity=line.quantity - line.refunded_quantity,
                        )
                        for line in order.lines
                        if line.sub_order_id == sub.id and line.quantity > line.refunded_quantity
                    ],
                )
            )
        if full_recipient:
            await _audit_reveal(session, actor, order, "print")
    return documents


async def _audit_reveal(
    session: AsyncSession, actor: identity.Actor, order: orders.OrderRead, reason: str
) -> None:
    """``orders.recipient_revealed``: who saw the order's recipient in full, and how."""
    await identity.record_audit(
        session,
        actor=actor,
        action="orders.recipient_revealed",
        object_type="order",
        object_id=str(order.id),
        after={"number": order.number, "reason": reason},
    )


# --- Rendering (plain data → PDF bytes; no database) ------------------------------------------


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` cut into lines no wider than ``width`` points (character by character: Chinese
    has no spaces to break at)."""
    lines: list[str] = []
    current = ""
    for char in text:
        if pdfmetrics.stringWidth(current + char, FONT, size) > width and current:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current else lines or [""]


def _local_time(value: dt.datetime) -> str:
    return value.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M")


class _Page:
    """A cursor down a page: text lines set one below the other."""

    def __init__(self, canvas: Canvas, left: float, top: float, width: float) -> None:
        self.canvas, self.left, self.y, self.width = canvas, left, top, width

    def text(self, text: str, size: float = 10, *, indent: float = 0, gap: float = 1.35) -> None:
        self.canvas.setFont(FONT, size)
        for line in _wrap(text, self.width - indent, size):
            self.y -= size * gap
            self.canvas.drawString(self.left + indent, self.y, line)

    def rule(self, space: float = 4) -> None:
        self.y -= space
        self.canvas.line(self.left, self.y, self.left + self.width, self.y)
        self.y -= space


def _packing_page(canvas: Canvas, doc: OrderDocument, locale: str) -> None:
    width, height = A4
    page = _Page(canvas, 18 * mm, height - 15 * mm, width - 36 * mm)
    page.text(gettext("Packing list", locale), 18)
    page.text(f"{gettext('Order', locale)}: {doc.order_number}    {_local_time(doc.placed_at)}", 11)
    page.text(f"{gettext('Warehouse', locale)}: {doc.warehouse_name} {doc.warehouse_code}".strip(), 11)
    page.text(
        f"{gettext('Recipient', locale)}: {doc.recipient} {doc.recipient_phone}  {doc.recipient_region}", 11
    )
    if doc.tracking_number:
        page.text(f"{gettext('Tracking number', locale)}: {doc.carrier_name} {doc.tracking_number}", 11)
    barcode = Code128(doc.order_number, barHeight=12 * mm, barWidth=0.33 * mm)
    barcode.drawOn(canvas, width - 18 * mm - barcode.width, height - 32 * mm)
    page.rule(6)
    columns = (0, 40 * mm, page.width - 18 * mm)
    canvas.setFont(FONT, 10)
    page.y -= 12
    for x, title in zip(
        columns,
        (gettext("SKU code", locale), gettext("Item", locale), gettext("Quantity", locale)),
        strict=True,
    ):
        canvas.drawString(page.left + x, page.y, title)
    page.rule()
    step = 13.5
    for line in doc.lines:
        wrapped = _wrap(line.item, columns[2] - columns[1] - 4 * mm, 10)
        if page.y - step * len(wrapped) < 20 * mm:  # a long order goes on over the next page
            canvas.showPage()
            page.y = height - 15 * mm
        canvas.setFont(FONT, 10)
        y = page.y - step
        canvas.drawString(page.left, y, line.sku_code)
        canvas.drawRightString(page.left + page.width, y, str(line.quantity))
        for text in wrapped:
            canvas.drawString(page.left + columns[1], y, text)
            y -= step
        page.y = y + step - 4
    page.rule()
    page.text(f"{gettext('Pieces', locale)}: {sum(line.quantity for line in doc.lines)}", 11)
    if doc.note:
        page.text(f"{gettext('Note', locale)}: {doc.note}", 10)
    canvas.showPage()


def _waybill_page(canvas: Canvas, doc: OrderDocument, locale: str) -> None:
    width, height = WAYBILL
    page = _Page(canvas, 6 * mm, height - 6 * mm, width - 12 * mm)
    page.text(f"{doc.carrier_name or gettext('Carrier', locale)}", 14)
    if doc.tracking_number:
        page.text(f"{gettext('Tracking number', locale)}: {doc.tracking_number}", 11)
    page.rule()
    page.text(gettext("Recipient", locale), 9)
    page.text(f"{doc.recipient}  {doc.recipient_phone}", 14)
    page.text(f"{doc.recipient_region} {doc.recipient_detail}", 12)
    page.rule()
    page.text(gettext("Sender", locale), 9)
    page.text(doc.warehouse_name, 10)
    if doc.sender_address:
        page.text(doc.sender_address, 9)
    page.rule()
    page.text(f"{gettext('Order', locale)}: {doc.order_number}", 11)
    page.text(
        f"{gettext('Pieces', locale)}: {sum(line.quantity for line in doc.lines)}  "
        + "；".join(f"{line.item} × {line.quantity}" for line in doc.lines),
        8,
    )
    barcode = Code128(doc.order_number, barHeight=16 * mm, barWidth=0.3 * mm)
    barcode.drawOn(canvas, (width - barcode.width) / 2, 10 * mm)
    canvas.setFont(FONT, 9)
    canvas.drawCentredString(width / 2, 6 * mm, doc.order_number)
    canvas.showPage()


def _render(documents: Sequence[OrderDocument], locale: str, *, waybill: bool) -> bytes:
    _font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=WAYBILL if waybill else A4, invariant=True)
    canvas.setTitle(gettext("Waybills", locale) if waybill else gettext("Packing lists", locale))
    canvas.setCreator("Mercato")
    for doc in documents:
        (_waybill_page if waybill else _packing_page)(canvas, doc, locale)
    if not documents:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


async def render_packing_lists(documents: Sequence[OrderDocument], *, locale: str) -> bytes:
    """An A4 PDF, one packing list per sub-order (in a worker thread; outside any transaction)."""
    return await asyncio.to_thread(_render, documents, locale, waybill=False)


async def render_waybills(documents: Sequence[OrderDocument], *, locale: str) -> bytes:
    """A PDF of 100 × 150 mm waybill sheets, one per sub-order (in a worker thread)."""
    return await asyncio.to_thread(_render, documents, locale, waybill=True)


async def reveal_recipient(
    session: AsyncSession, *, order_id: int, actor: identity.Actor
) -> orders.AddressSnapshot:
    """The order's recipient in full (name, phone, address) for a staff member the caller has
    checked for ``orders.reveal_pii``; audited as ``orders.recipient_revealed``.

    Raises:
        OrderNotFound (404).
    """
    order = await orders.read_order(session, order_id=order_id)
    await _audit_reveal(session, actor, order, "reveal")
    return order.address
