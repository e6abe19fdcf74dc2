"""W1 and W2: shoppers driven through Mercato's HTTP API by an asyncio load generator (aiohttp).

W1 (checkout) runs closed-loop virtual users: each repeats a whole purchase — add two lines to
the cart, confirm (address and delivery, the priced quote), complete (place the order and open
the payment), open the pay page (the 303 to the gateway carries the trade id), then the gateway's
signed "paid" notification — until the time is up. Every step and every whole flow is timed.

W2 (flash sale) releases ``buyers`` shoppers at the same instant, each buying one unit of the
same SKU ("立即购买"); the answers are sorted into orders, clean sold-out answers and anything
else. The referee (bench/run.py) then counts orders and stock in the database.

The notification is made the way the sandbox gateway makes it (mercato/payments/providers/
sandbox.py documents the protocol): HMAC-SHA256 over timestamp, nonce and body with the secret
the benchmark gave the shop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import random
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

NOTIFY_PATH = "/api/v1/payments/notify/sandbox"
SOLD_OUT = {"inventory.insufficient_stock"}
STEPS = ("add_line", "confirm", "complete", "pay_page", "notify")
MAX_FLOWS_PER_USER = 100_000


class FlowError(Exception):
    def __init__(self, step: str, status: int, code: str) -> None:
        super().__init__(f"{step}: {status} {code}")
        self.key = f"{step}:{status}:{code}"


@dataclass
class CheckoutStats:
    users: int
    seconds: float = 0.0
    completed: int = 0
    flow_ms: list[float] = field(default_factory=list)
    step_ms: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    errors: Counter[str] = field(default_factory=Counter)
    order_ids: list[int] = field(default_factory=list)

    @property
    def orders_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


@dataclass
class FlashStats:
    buyers: int
    sku_id: int
    seconds: float = 0.0
    ordered: int = 0
    sold_out: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def notification(
    secret: str, *, trade_id: str, payment_id: int, amount: int, currency: str
) -> tuple[bytes, dict[str, str]]:
    """A "paid" notification as the sandbox gateway signs it."""
    body = json.dumps(
        {
            "id": f"{trade_id}:paid",
            "trade_id": trade_id,
            "out_trade_no": str(payment_id),
            "status": "paid",
            "amount": amount,
            "currency": currency,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    stamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    message = stamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "Sandbox-Timestamp": stamp,
        "Sandbox-Nonce": nonce,
        "Sandbox-Signature": signature,
    }
    return body, headers


async def _call(
    http: aiohttp.ClientSession,
    step: str,
    method: str,
    path: str,
    stats: CheckoutStats | None,
    *,
    expect: int = 200,
    **kwargs: Any,
) -> tuple[Any, aiohttp.ClientResponse]:
    started = time.perf_counter()
    async with http.request(method, path, allow_redirects=False, **kwargs) as response:
        raw = await response.read()
    if stats is not None:
        stats.step_ms[step].append((time.perf_counter() - started) * 1000)
    if response.status != expect:
        try:
            code = str(json.loads(raw).get("code", ""))
        except (ValueError, AttributeError):
            code = ""
        raise FlowError(step, response.status, code)
    if response.content_type == "application/json":
        return json.loads(raw), response
    return raw, response


async def _purchase(
    http: aiohttp.ClientSession,
    customer: dict[str, Any],
    skus: list[int],
    rng: random.Random,
    secret: str,
    stats: CheckoutStats,
) -> int:
    auth = {"Authorization": f"Bearer {customer['token']}"}
    first, second = rng.sample(skus, 2)
    for sku in (first, second):
        await _call(http, "add_line", "POST", "/api/v1/cart/lines", stats, json={"sku_id": sku}, headers=auth)
    where = {"address_id": customer["address_id"], "delivery": "standard"}
    quote, _ = await _call(
        http, "confirm", "POST", "/api/v1/checkout/confirm", stats, json=where, headers=auth
    )
    total = quote["price"]["total_amount"]
    placed, _ = await _call(
        http,
        "complete",
        "POST",
        "/api/v1/checkout/complete",
        stats,
        json={**where, "expected_total_amount": total, "provider": "sandbox"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    _, redirect = await _call(http, "pay_page", "GET", placed["pay_path"], stats, expect=303, headers=auth)
    trade_id = redirect.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    body, headers = notification(
        secret, trade_id=trade_id, payment_id=placed["payment_id"], amount=total, currency=placed["currency"]
    )
    answer, _ = await _call(http, "notify", "POST", NOTIFY_PATH, stats, data=body, headers=headers)
    if answer != b"success":
        raise FlowError("notify", 200, answer.decode(errors="replace")[:40])
    return int(placed["order_id"])


async def checkout(
    base_url: str,
    *,
    customers: Iterator[dict[str, Any]],
    skus: list[int],
    users: int,
    seconds: float,
    secret: str,
) -> CheckoutStats:
    """W1: ``users`` virtual users buy until ``seconds`` have passed (flows under way finish).

    Each purchase is a new shopper (the next of ``customers``), as with guests: a customer's cart
    waits for its order's payment to be confirmed (by the worker) before it takes new lines.
    """
    stats = CheckoutStats(users=users)
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=users)
    timeout = aiohttp.ClientTimeout(total=30)

    async def user(n: int) -> None:
        rng = random.Random(n)  # noqa: S311 - load generation, not security
        for _ in range(MAX_FLOWS_PER_USER):
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            try:
                order_id = await _purchase(http, next(customers), skus, rng, secret, stats)
            except FlowError as exc:
                stats.errors[exc.key] += 1
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                stats.errors[f"transport:{type(exc).__name__}"] += 1
                continue
            stats.flow_ms.append((time.perf_counter() - started) * 1000)
            stats.completed += 1
            stats.order_ids.append(order_id)

    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        stats.seconds = time.perf_counter() - started
    return stats


async def flash_sale(
    base_url: str, *, customers: list[dict[str, Any]], sku_id: int, buyers: int
) -> FlashStats:
    """W2: ``buyers`` shoppers press "buy now" on ``sku_id`` at the same instant."""
    stats = FlashStats(buyers=buyers, sku_id=sku_id)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as http:
        first = customers[0]
        quote, _ = await _call(
            http,
            "confirm",
            "POST",
            "/api/v1/checkout/buy-now/confirm",
            None,
            json={"sku_id": sku_id, "address_id": first["address_id"]},
            headers={"Authorization": f"Bearer {first['token']}"},
        )
        total = quote["price"]["total_amount"]
        go = asyncio.Event()

        async def buyer(customer: dict[str, Any]) -> None:
            body = {"sku_id": sku_id, "quantity": 1, "expected_total_amount": total, "provider": "sandbox"}
            headers = {"Authorization": f"Bearer {customer['token']}", "Idempotency-Key": uuid.uuid4().hex}
            await go.wait()
            try:
                await _call(
                    http, "buy_now", "POST", "/api/v1/checkout/buy-now", None, json=body, headers=headers
                )
            except FlowError as exc:
                if exc.key in {f"buy_now:409:{code}" for code in SOLD_OUT}:
                    stats.sold_out += 1
                else:
                    stats.errors[exc.key] += 1
                return
            except (aiohttp.ClientError, TimeoutError) as exc:
                stats.errors[f"transport:{type(exc).__name__}"] += 1
                return
            stats.ordered += 1

        tasks = [asyncio.create_task(buyer(customer)) for customer in customers[:buyers]]
        await asyncio.sleep(0.2)  # every buyer is waiting at the gate
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        stats.seconds = time.perf_counter() - started
    return stats


async def warm(base_url: str, paths: list[str], *, concurrency: int = 16) -> int:
    """GET each path once (filling the shop's caches as visitors would); return the non-200s."""
    queue = list(reversed(paths))
    failures = 0

    async def reader(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        while queue:
            async with http.get(queue.pop()) as response:
                await response.read()
                failures += response.status != 200

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, timeout=timeout) as http:
        await asyncio.gather(*(reader(http) for _ in range(concurrency)))
    return failures
