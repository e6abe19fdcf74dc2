"""Support for the console's order tools tests: paid orders, shipments and stock, and
the text of a PDF (reportlab's output read back with a tiny parser: no PDF library needed)."""

from __future__ import annotations

import base64
import re
import zlib

from sqlalchemy import select

from mercato import orders
from mercato.core.db import uow
from mercato.fulfillment.models import ShipBatch, Shipment
from mercato.inventory.models import Stock
from tests.factories.checkout import open_shop
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.factories.spreadsheets import count, csv_bytes
from tests.service.aftersales.support import pay


async def paid_orders(number: int, *, units: int = 1) -> list[orders.OrderRead]:
    """``number`` paid orders of ``units`` red T-shirts (30 元) each, from one warehouse."""
    red, _black = await open_shop(price=3000, stock=10)
    paid = []
    for _ in range(number):
        customer = await make_customer()
        paid.append(await pay(await place(customer.id, (red, units)), customer.id))
    return paid


async def shipments() -> list[tuple[int, str, str]]:
    async with uow(write=False) as s:
        rows = await s.execute(
            select(Shipment.order_id, Shipment.carrier, Shipment.tracking_number).order_by(Shipment.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def stock_levels() -> list[tuple[int, int]]:
    """(on hand, reserved) of every stock row."""
    async with uow(write=False) as s:
        rows = await s.execute(select(Stock.on_hand, Stock.reserved).order_by(Stock.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def batch_count() -> int:
    return await count(ShipBatch)


_STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", re.DOTALL)
_SHOW = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        char = literal[i : i + 1]
        if char != b"\\":
            out += char
            i += 1
            continue
        octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(0), 8))
            i += 1 + len(octal.group(0))
        else:
            nxt = literal[i + 1 : i + 2]
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def csv_file(header: list[str], *rows: list[str]) -> bytes:
    """A CSV of ``rows`` under ``header``."""
    return csv_bytes([dict(zip(header, row, strict=True)) for row in rows], header)


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", data))


def pdf_text(data: bytes) -> str:
    """Every string the PDF shows, one per line: its content streams inflated (ASCII85 and
    Flate, as reportlab writes them), CID-font strings decoded as UCS-2 (UniGB-UCS2-H)."""
    assert data.startswith(b"%PDF-")
    shown: list[str] = []
    for head, raw in _STREAM.findall(data):
        body = raw.strip()
        if b"ASCII85Decode" in head:
            body = base64.a85decode(body.removesuffix(b"~>"))
        if b"FlateDecode" in head:
            body = zlib.decompress(body)
        for literal in _SHOW.findall(body):
            shown.append(_unescape(literal).decode("utf-16-be"))
    return "\n".join(shown)
