"""W3's own parts (bench/flash.py): the requests its load generator writes, how it reads answers,
a rush against a tiny loopback server, and the referee's sums."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from bench import flash


def test_an_order_request_is_the_flash_sale_apis_post_with_its_headers_and_body() -> None:
    raw = flash.order_request(
        "127.0.0.1:8000", item_id=7, token="mct_abc-_1", key="0123456789abcdef", total=1990
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")

    assert lines[0] == "POST /api/v1/flash-sale/items/7/orders HTTP/1.1"
    assert "Authorization: Bearer mct_abc-_1" in lines
    assert "Idempotency-Key: 0123456789abcdef" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert json.loads(body) == {"expected_total_amount": 1990, "quantity": 1}
    with pytest.raises(ValueError, match="single-line"):
        flash.order_request("h", item_id=1, token="x\r\nX-Evil: 1", key="k" * 8, total=1)


def test_response_heads_are_read_for_status_body_length_and_keep_alive() -> None:
    head = flash.parse_head(
        b"HTTP/1.1 409 Conflict\r\ncontent-type: application/problem+json\r\ncontent-length: 42\r\n\r\n"
    )
    assert head == flash.Head(status=409, length=42, chunked=False, keep_alive=True)
    closing = flash.parse_head(b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\n")
    assert (closing.status, closing.keep_alive) == (201, False)
    chunked = flash.parse_head(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert (chunked.chunked, chunked.keep_alive) == (True, False)
    with pytest.raises(ValueError, match="not an HTTP"):
        flash.parse_head(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_answers_are_sorted_into_orders_clean_sold_out_and_other_errors() -> None:
    sold_out = json.dumps({"code": flash.SOLD_OUT, "status": 409}).encode()
    rush = flash.Rush(buyers=5, connections=2)
    rush.answers = [
        (0, 201, b'{"order_id": 11, "payment_id": 3}'),
        (1, 409, sold_out),
        (2, 409, b'{"code": "social.flash_limit_reached"}'),
        (3, 429, b'{"code": "social.flash_too_fast"}'),
        (4, 502, b"<html>bad gateway</html>"),
    ]
    rush.sent_ms = {0: 30.0, 1: 2.0, 2: 3.0, 3: 1.0, 4: 1.0}
    rush.sort()

    assert (rush.ordered, rush.order_ids, rush.sold_out) == ([0], [11], [1])
    assert rush.errors == Counter(
        {"409:social.flash_limit_reached": 1, "429:social.flash_too_fast": 1, "502:": 1}
    )
    assert rush.error_count == 3
    assert rush.ms(rush.sold_out, 99) == 2.0
    assert flash.answer_code(b"not json") == ""
    assert flash.answer_code(b"[1]") == ""


async def test_a_rush_releases_every_request_over_a_bounded_pool_and_survives_closed_connections() -> None:
    """A tiny HTTP/1.1 server on loopback: the first 3 buyers get orders, the rest "sold out";
    it closes each connection after its second answer (the client must reconnect)."""
    sold = 0
    served: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sold
        for n in range(2):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            served.append(1)
            if sold < 3:
                sold += 1
                status, body = b"201 Created", json.dumps({"order_id": sold}).encode()
            else:
                status, body = b"409 Conflict", json.dumps({"code": flash.SOLD_OUT}).encode()
            close = b"connection: close\r\n" if n == 1 else b""
            writer.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-length: %d\r\n" % len(body) + close + b"\r\n" + body
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    requests = [
        flash.order_request(f"127.0.0.1:{port}", item_id=1, token=f"t{n}", key=f"key-{n:05d}", total=100)
        for n in range(25)
    ]
    async with server:
        result = await flash.rush("127.0.0.1", port, requests, connections=4)

    assert len(result.answers) == len(served) == 25
    assert (len(result.ordered), len(result.sold_out), result.error_count) == (3, 22, 0)
    assert sorted(result.order_ids) == [1, 2, 3]
    assert set(result.sent_ms) == set(range(25))
    assert all(result.waited_ms[b] >= result.sent_ms[b] for b in range(25))
    assert result.seconds > 0


def _ledger(orders: dict[str, int], units: int, hold: int, in_orders: int) -> flash.Ledger:
    return flash.Ledger(orders, units, hold, in_orders, on_hand=500, reserved=500, broken_rows=0)


def _sale(name: str, buyers: int, ordered: int, before: flash.Ledger, after: flash.Ledger) -> flash.Sale:
    rush = flash.Rush(buyers=buyers, connections=1_000, seconds=2.5)
    rush.ordered = list(range(ordered))
    rush.sold_out = list(range(ordered, buyers))
    rush.sent_ms = {b: 5.0 if b >= ordered else 50.0 for b in range(buyers)}
    rush.waited_ms = dict.fromkeys(range(buyers), 900.0)
    return flash.Sale(name, buyers, before.hold, 500, rush, before, after, "CPU: web 90%")


def test_the_referees_sums_and_the_rows_of_an_exact_sale_and_second_wave() -> None:
    fresh = _ledger({}, 0, 500, 0)
    sold = _ledger({"pending_payment": 500}, 500, 0, 500)
    released = _ledger({"cancelled": 500}, 0, 500, 0)
    again = _ledger({"cancelled": 500, "pending_payment": 500}, 500, 0, 500)
    first = _sale("a", 20_000, 500, fresh, sold)
    wave = _sale("wave", 2_000, 500, released, again)

    assert (first.sold, first.placed, first.oversold, first.undersold, first.conserved) == (
        500,
        500,
        0,
        0,
        True,
    )
    assert (wave.units, wave.sold, wave.placed, wave.oversold, wave.conserved) == (500, 500, 500, 0, True)
    short = _sale("b", 2_000, 499, fresh, _ledger({"pending_payment": 499}, 499, 1, 499))
    assert (short.undersold, short.conserved) == (1, True)
    leaking = _sale("b", 2_000, 500, fresh, _ledger({"pending_payment": 499}, 499, 0, 499))
    assert not leaking.conserved  # a unit neither in the quota hold nor in an order's hold

    result = flash.RunResult(sales=[first, short, wave], release_seconds=130.0, admission_note="in sync")
    rows = flash.rows([result])

    assert [row["scenario"] for row in rows] == ["W3 flash-sale API", "W3 flash-sale API", "W3 second wave"]
    assert rows[0]["load"] == "20,000 buyers / 500 units, 1,000 conns"
    assert (rows[0]["rate"], rows[0]["p99"], rows[0]["share"]) == ("500 orders", "5.0 ms", "2.50 s wall")
    assert "oversold 0, undersold 0" in rows[0]["note"]
    assert "500 answers 201 for 500 orders in the DB; quota conserved: yes" in rows[0]["note"]
    assert "wall target < 5 s met" in rows[0]["note"]
    assert "MERCATO_FLASH_RATE_PER_IP=100000000/minute" in rows[0]["note"]
    assert "undersold 1" in rows[1]["note"]
    assert "wall target < 1 s MISSED" in rows[1]["note"]
    assert rows[2]["load"] == "2,000 buyers / 500 units released, 1,000 conns"
    assert "released units sold exactly: yes (500 of 500)" in rows[2]["note"]
    assert "non-cancelled units 500 <= quota 500: yes" in rows[2]["note"]
