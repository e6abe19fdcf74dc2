"""`make bench`: start Mercato in production mode on loopback, load it, print one table.

What it starts (and stops at the end, whatever happens): a throwaway PostgreSQL cluster
(scripts/pg), Redis (scripts/redis), what ``mercato run --workers 2`` runs (launched as
Uvicorn's module, see ``main``) and ``mercato worker`` in production mode, and for L1 a
framework-free ASGI app under the same server with the same workers. It seeds the benchmark
shop (bench/seed.py), waits until the worker has delivered every seeding event, then runs the
scenarios (each alone with ``--only``):

    l1  framework-free ASGI app, wrk at 64 connections          (the HTTP ceiling)
    l2  pgbench select-only and tpcb-like, 16 clients            (the database ceiling)
    r1  product list (24 a page) and product detail, wrk at 16 and 64 connections
    r1p R1 again after 100 live promotions are made (bench/promotions.py seed-live) and the
        shared cache emptied (so its pages are as fresh as R1's); they stay live for W1/W2 of
        the same run, so measure it alone: --only r1,r1p
    w1  closed-loop guest-style purchases at 8 and 32 virtual users (bench/flows.py)
    w2  flash sale: 200 buyers for 50 units, then 2,000 for 500
    w3  flash sales through the flash-sale API (bench/flash.py): 20,000 buyers for 500 units,
        2,000 for 500, sold-out answers after the rush, and a second wave for the units of the
        unpaid orders (the server runs with MERCATO_FLASH_PAY_MINUTES=1 and a per-IP limit of
        100000000/minute: bench settings, not the defaults); the seed adds 24,000 shoppers a run

Every figure is the median of ``--runs`` runs (default 3) of ``--seconds`` (default 20) each.
Every target is 127.0.0.1; every loop is bounded in time or count.

    .venv/bin/python -m bench.run [--only r1,w1] [--runs 3] [--seconds 20] [--products 10000]
                                   [--profile w1] [--json var/bench/results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import math
import os
import platform
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import flash, flows  # noqa: E402
from bench.wrk import WrkResult, run_wrk  # noqa: E402

VENV = ROOT / ".venv" / "bin"
SCENARIOS = ("l1", "l2", "r1", "r1p", "w1", "w2", "w3")
WEB_WORKERS = 2
R1_CONNECTIONS = (16, 64)
W1_USERS = (8, 32)
W2_SALES = ((200, 50), (2_000, 500))
PGBENCH_CLIENTS = 16


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)  # nearest rank: the smallest value with q % of values at or below it
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Stack:
    """Everything this run started, so that ``stop`` can take it all down."""

    env: dict[str, str] = field(default_factory=dict)
    pg_url: str = ""
    pg_dir: str = ""
    redis_dir: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = ROOT / "var" / "bench"

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own executables
            argv, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process in self.processes:
            self.processes.remove(process)

    def stop(self) -> None:
        for process in list(self.processes):
            self.kill(process)
        if self.redis_dir:
            subprocess.run([str(ROOT / "scripts" / "redis"), "stop", self.redis_dir], check=False)  # noqa: S603
        if self.pg_dir:
            subprocess.run([str(ROOT / "scripts" / "pg"), "stop", self.pg_dir], check=False)  # noqa: S603


def start_pg(stack: Stack) -> None:
    out = subprocess.run(  # noqa: S603
        [str(ROOT / "scripts" / "pg"), "start"], capture_output=True, text=True, check=True
    ).stdout.split()
    stack.pg_url, stack.pg_dir = out[0], out[1]


def libpq(url: str, database: str | None = None) -> str:
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    return plain if database is None else plain.rsplit("/", 1)[0] + "/" + database


def psql(url: str, sql: str) -> str:
    return subprocess.run(  # noqa: S603
        ["psql", "-X", "-q", "-t", "-A", "-d", libpq(url), "-c", sql],  # noqa: S607 - Debian's psql
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def wait_http(url: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def wait_outbox(url: str, *, seconds: float = 900) -> float:
    """Wait until the worker has delivered every domain event; return how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        pending = int(psql(url, "SELECT count(*) FROM core_outbox_event WHERE dispatched_at IS NULL"))
        if pending == 0:
            return time.monotonic() - started
        time.sleep(1.0)
    raise RuntimeError("the worker did not deliver the outbox in time")


def wait_settled(pids: list[int], *, seconds: float = 180) -> float:
    """Wait until every process in ``pids`` is idle (its CPU time climbs by under 50 ms in a
    second, twice running): /readyz answers once one web worker is up, while another may still be
    importing the app. Return how long that took."""
    started = time.monotonic()
    calm = 0
    before = [cpu_seconds(pid) for pid in pids]
    while calm < 2 and time.monotonic() - started < seconds:
        time.sleep(1.0)
        now = [cpu_seconds(pid) for pid in pids]
        calm = calm + 1 if all(b - a < 0.05 for a, b in zip(before, now, strict=True)) else 0
        before = now
    return time.monotonic() - started


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found = [pid]
    for child in children(pid):
        found += descendants(child)
    return found


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process tree so far: the root's own and that of its exited
    children it has reaped (fields 14-17 of /proc/PID/stat), plus each live descendant's own.
    PostgreSQL backends come and go; counted this way, one that exits mid-scenario still counts."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for n, pid in enumerate(descendants(root)):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used = fields[11:15] if n == 0 else fields[11:13]
            total += sum(int(value) for value in used) / ticks
    return total


@dataclass
class CpuMeter:
    """Where the machine's CPU went during a scenario: web, job worker, PostgreSQL, Redis and the
    load generator (this process and wrk), as a share of all cores over the wall time."""

    groups: dict[str, int]  # name -> root process id
    _start: dict[str, float] = field(default_factory=dict)
    _wall: float = 0.0

    def _now(self) -> dict[str, float]:
        now = {name: cpu_seconds(root) for name, root in self.groups.items()}
        mine = os.times()
        now["load"] = mine.user + mine.system + mine.children_user + mine.children_system
        return now

    def start(self) -> None:
        self._start, self._wall = self._now(), time.monotonic()

    def report(self) -> str:
        end, wall = self._now(), time.monotonic() - self._wall
        capacity = wall * (os.cpu_count() or 1)
        parts = [f"{name} {100 * (end[name] - self._start.get(name, 0.0)) / capacity:.0f}%" for name in end]
        return "CPU: " + ", ".join(parts)


def web_workers(pid: int) -> list[int]:
    """Uvicorn's worker processes (not multiprocessing's resource tracker beside them)."""
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def mercato_env(stack: Stack, port: int, sandbox_secret: str) -> dict[str, str]:
    # Bytecode as a deployment has it, cached under var/bench (the tree stays clean): with
    # PYTHONDONTWRITEBYTECODE inherited, every web worker compiled the whole app from source at
    # start, and on a busy machine took longer than Uvicorn's 5 s worker health check, which then
    # killed and restarted it, again and again.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MERCATO_") and k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    }
    env["PYTHONPYCACHEPREFIX"] = str(stack.logs / "pycache")
    env.update(
        {
            "MERCATO_MODE": "production",
            "MERCATO_DATABASE_URL": stack.pg_url,
            "MERCATO_REDIS_URL": stack.env["REDIS_URL"],
            "MERCATO_SECRET_KEY": secrets.token_urlsafe(48),
            "MERCATO_SECURE_COOKIES": "true",
            "MERCATO_ALLOW_TEST_PROVIDERS": "true",
            "MERCATO_PAYMENT_PROVIDERS": '["sandbox"]',
            "MERCATO_SANDBOX_SECRET": sandbox_secret,
            "MERCATO_HOST": "127.0.0.1",
            "MERCATO_PORT": str(port),
            "MERCATO_BASE_URL": f"http://127.0.0.1:{port}",
            "MERCATO_VAR_DIR": str(stack.logs / "var"),
            "MERCATO_LOG_LEVEL": "WARNING",
        }
    )
    env.update(flash.SERVER_ENV)  # W3's bench settings (flash-sale endpoints only; printed at start)
    return env


# -- measurements ------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    load: str
    rate: str  # req/s, tps or orders/s
    p50: str
    p99: str
    share: str = ""
    note: str = ""


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def wrk_median(results: list[WrkResult]) -> tuple[float, float, float, int]:
    return (
        median([r.rps for r in results]),
        median([r.p50_ms for r in results]),
        median([r.p99_ms for r in results]),
        sum(r.errors for r in results),
    )


def repeat(runs: int, label: str, measure: Callable[[], Any]) -> list[Any]:
    results = []
    for n in range(runs):
        result = measure()
        say(f"  {label} run {n + 1}/{runs}: {result}")
        results.append(result)
    return results


def bench_l1(args: argparse.Namespace, stack: Stack) -> tuple[Row, float]:
    port = free_port()
    server = stack.spawn(
        "l1",
        [
            str(VENV / "uvicorn"),
            "bench.l1_app:app",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--workers={WEB_WORKERS}",
            "--no-access-log",
            "--log-level=warning",
        ],
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        run_wrk(f"http://127.0.0.1:{port}", ["/"], connections=64, seconds=3)  # warm-up
        results = repeat(
            args.runs,
            "L1",
            lambda: run_wrk(f"http://127.0.0.1:{port}", ["/"], connections=64, seconds=args.seconds),
        )
    finally:
        stack.kill(server)
    rps, p50, p99, errors = wrk_median(results)
    note = f"{errors} errors" if errors else ""
    return Row("L1 bare ASGI app", "64 conns", f"{rps:,.0f} req/s", ms(p50), ms(p99), "100 %", note), rps


_TPS = re.compile(r"^tps = ([\d.]+)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([\d.]+) ms", re.MULTILINE)


def bench_l2(args: argparse.Namespace, stack: Stack) -> tuple[list[Row], float]:
    psql(stack.pg_url, "CREATE DATABASE pgbench")
    target = libpq(stack.pg_url, "pgbench")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", target], capture_output=True, check=True)  # noqa: S603,S607
    rows: list[Row] = []
    tpcb = 0.0
    for name, extra in (("select-only", ["-S"]), ("tpcb-like", [])):
        tps: list[float] = []
        latency: list[float] = []
        for n in range(args.runs):
            out = subprocess.run(  # noqa: S603
                ["pgbench", *extra, "-c", str(PGBENCH_CLIENTS), "-j", "2", "-T", str(args.seconds), target],  # noqa: S607
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            found, lat = _TPS.search(out), _LATENCY.search(out)
            if found is None or lat is None:
                raise RuntimeError(f"not a pgbench report: {out[-300:]}")
            tps.append(float(found[1]))
            latency.append(float(lat[1]))
            say(f"  L2 {name} run {n + 1}/{args.runs}: {tps[-1]:,.0f} tps, {latency[-1]:.2f} ms")
        rows.append(
            Row(
                f"L2 pgbench {name}",
                f"{PGBENCH_CLIENTS} clients",
                f"{median(tps):,.0f} tps",
                "",
                "",
                note=f"latency avg {median(latency):.2f} ms",
            )
        )
        if name == "tpcb-like":
            tpcb = median(tps)
    psql(stack.pg_url, "DROP DATABASE pgbench")
    return rows, tpcb


def redis_flush(url: str) -> None:
    """Empty the shared cache (catalogue pages, version tokens): every page is built again."""
    from redis import Redis  # noqa: PLC0415 - the app's own client

    client = Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def bench_r1(
    args: argparse.Namespace, base: str, seed: dict[str, Any], l1: float, meter: CpuMeter
) -> list[Row]:
    rng = random.Random(7)  # noqa: S311
    products = list(seed["products"])
    rng.shuffle(products)
    detail = [f"/api/v1/catalog/products/{pid}" for pid in products]
    listing = [f"/api/v1/catalog/products?category_id={cid}&page_size=24" for cid in seed["categories"]]
    rows: list[Row] = []
    # The floor under any page: Mercato's cheapest route (/healthz, no database) through the same
    # server, middleware and routing; no page can be served faster than this.
    run_wrk(base, ["/healthz"], connections=64, seconds=3)
    meter.start()
    floor = repeat(
        args.runs,
        "R0 /healthz c=64",
        lambda: run_wrk(base, ["/healthz"], connections=64, seconds=args.seconds),
    )
    rps, p50, p99, errors = wrk_median(floor)
    rows.append(
        Row(
            "R0 Mercato /healthz (floor)",
            "64 conns",
            f"{rps:,.0f} req/s",
            ms(p50),
            ms(p99),
            f"{100 * rps / l1:.1f} %" if l1 else "",
            (f"{errors} errors; " if errors else "") + meter.report(),
        )
    )
    say(f"  warming: each of {len(detail) + len(listing):,} pages once")
    asyncio.run(flows.warm(base, listing + detail))
    for name, paths in (("R1 product list", listing), ("R1 product detail", detail)):
        run_wrk(base, paths, connections=16, seconds=3)  # warm-up
        for connections in R1_CONNECTIONS:
            meter.start()
            results = repeat(
                args.runs,
                f"{name} c={connections}",
                functools.partial(run_wrk, base, paths, connections=connections, seconds=args.seconds),
            )
            rps, p50, p99, errors = wrk_median(results)
            share = f"{100 * rps / l1:.1f} %" if l1 else ""
            rows.append(
                Row(
                    name,
                    f"{connections} conns",
                    f"{rps:,.0f} req/s",
                    ms(p50),
                    ms(p99),
                    share,
                    (f"{errors} errors; " if errors else "") + meter.report(),
                )
            )
    return rows


def bench_w1(
    args: argparse.Namespace,
    base: str,
    seed: dict[str, Any],
    secret: str,
    tpcb: float,
    stack: Stack,
    meter: CpuMeter,
) -> list[Row]:
    rows: list[Row] = []
    shoppers = itertools.cycle(seed["customers"])  # a new shopper for each purchase
    for users in W1_USERS:
        runs: list[flows.CheckoutStats] = []
        meter.start()
        for n in range(args.runs):
            stats = asyncio.run(
                flows.checkout(
                    base,
                    customers=shoppers,
                    skus=seed["skus"],
                    users=users,
                    seconds=args.seconds,
                    secret=secret,
                )
            )
            runs.append(stats)
            say(
                f"  W1 {users} users run {n + 1}/{args.runs}: {stats.completed} orders "
                f"in {stats.seconds:.1f} s = {stats.orders_per_second:.1f}/s, "
                f"flow p50 {percentile(stats.flow_ms, 50):.0f} ms "
                f"p99 {percentile(stats.flow_ms, 99):.0f} ms, "
                f"errors {dict(stats.errors)}"
            )
        cpu = meter.report()
        drained = wait_outbox(stack.pg_url)
        ids = [i for stats in runs for i in stats.order_ids]
        listed = ",".join(str(int(i)) for i in ids or [0])  # integers only
        query = f"SELECT count(*) FROM orders_order WHERE status = 'paid' AND id IN ({listed})"  # noqa: S608
        paid = int(psql(stack.pg_url, query))
        rate = median([s.orders_per_second for s in runs])
        errors = sum(sum(s.errors.values()) for s in runs)
        steps = " ".join(
            f"{step} {percentile([v for s in runs for v in s.step_ms[step]], 99):.0f}" for step in flows.STEPS
        )
        rows.append(
            Row(
                "W1 checkout",
                f"{users} users",
                f"{rate:.1f} orders/s",
                ms(median([percentile(s.flow_ms, 50) for s in runs])),
                ms(median([percentile(s.flow_ms, 99) for s in runs])),
                f"{100 * rate / tpcb:.1f} % of tpcb" if tpcb else "",
                f"{paid}/{len(ids)} paid after {drained:.0f} s; {errors} errors; step p99 ms: {steps}; {cpu}",
            )
        )
    return rows


def bench_w2(
    args: argparse.Namespace, base: str, seed: dict[str, Any], stack: Stack, meter: CpuMeter
) -> list[Row]:
    rows: list[Row] = []
    customers = seed["customers"]
    for buyers, units in W2_SALES:
        if buyers > len(customers):
            say(f"  W2 {buyers} buyers: skipped, only {len(customers)} customers seeded")
            continue
        outcomes = []
        meter.start()
        for n in range(args.runs):
            sku = seed["flash"][str(units)][n % len(seed["flash"][str(units)])]
            stats = asyncio.run(flows.flash_sale(base, customers=customers, sku_id=sku, buyers=buyers))
            sku = int(sku)  # the referee's SQL below takes integers only
            ordered_units = int(
                psql(stack.pg_url, f"SELECT coalesce(sum(quantity), 0) FROM orders_line WHERE sku_id = {sku}")  # noqa: S608
            )
            on_hand, reserved = (
                int(v)
                for v in psql(
                    stack.pg_url,
                    f"SELECT coalesce(sum(on_hand), 0), coalesce(sum(reserved), 0) FROM inventory_stock WHERE sku_id = {sku}",  # noqa: S608, E501
                ).split("|")
            )
            oversold = max(0, ordered_units - units)
            undersold = max(0, min(buyers, units) - ordered_units)
            outcomes.append((stats, ordered_units, on_hand - reserved, oversold, undersold))
            say(
                f"  W2 {buyers}/{units} run {n + 1}/{args.runs}: {stats.ordered} orders "
                f"({ordered_units} units in the DB), {stats.sold_out} sold out, errors {dict(stats.errors)}, "
                f"available after {on_hand - reserved}, "
                f"oversold {oversold}, undersold {undersold}, {stats.seconds:.2f} s"
            )
        cpu = meter.report()
        wall = median([o[0].seconds for o in outcomes])
        errors = sum(sum(o[0].errors.values()) for o in outcomes)
        rows.append(
            Row(
                "W2 flash sale",
                f"{buyers} buyers / {units} units",
                f"{median([o[1] for o in outcomes]):.0f} orders",
                "",
                "",
                f"{wall:.2f} s wall",
                f"oversold {max(o[3] for o in outcomes)}, undersold {max(o[4] for o in outcomes)}, "
                f"sold-out answers {median([o[0].sold_out for o in outcomes]):.0f}, other errors {errors}, "
                f"stock left {max(o[2] for o in outcomes)}; {cpu}",
            )
        )
    return rows


def bench_w3(
    args: argparse.Namespace, base: str, seed: dict[str, Any], stack: Stack, meter: CpuMeter
) -> list[Row]:
    results = []
    for n in range(args.runs):
        say(f"  W3 run {n + 1}/{args.runs}")
        results.append(
            flash.run_sale(
                base,
                seed["w3"][n],
                sql=lambda query: psql(stack.pg_url, query),
                redis_url=stack.env["REDIS_URL"],
                meter=meter,
                say=say,
            )
        )
    return [Row(**row) for row in flash.rows(results)]


# -- the run -----------------------------------------------------------------------------------


@contextlib.contextmanager
def profiled(
    stack: Stack, web: subprocess.Popen[bytes] | None, enabled: bool, seconds: int
) -> Iterator[None]:
    """Sample one web worker with py-spy while the block runs (collapsed stacks, as flame graph
    tools read them), then print where its time went."""
    if not enabled or web is None:
        yield
        return
    workers = web_workers(web.pid)
    target = workers[-1] if workers else web.pid
    out = stack.logs / "profile.txt"
    spy = stack.spawn(
        "py-spy",
        [
            str(VENV / "py-spy"),
            "record",
            "-p",
            str(target),
            "-o",
            str(out),
            "-f",
            "raw",
            "-d",
            str(seconds),
            "-r",
            "200",
            "--nonblocking",
        ],
    )
    try:
        yield
    finally:
        spy.wait(timeout=seconds + 60)
        say(f"  profile of web worker {target}: {out} (collapsed stacks)")
        for line in summarise_profile(out):
            say("    " + line)


def summarise_profile(path: Path, top: int = 25) -> list[str]:
    """The functions that most samples passed through (inclusive), Mercato's own and SQL."""
    inclusive: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return ["(no profile recorded)"]
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        seen: set[str] = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            module = where.split(":")[0]  # py-spy names files from the package: mercato/..., asyncpg/...
            if module.startswith(("mercato/", "sqlalchemy/", "asyncpg/", "redis/")):
                key = f"{name} ({module})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += int(count)
    wanted = inclusive.most_common()
    return [f"{100 * n / max(total, 1):5.1f} %  {key}" for key, n in wanted[:top]]


def table(rows: list[Row]) -> str:
    header = ("scenario", "load", "throughput", "p50", "p99", "share of ceiling", "notes")
    cells = [header] + [(r.scenario, r.load, r.rate, r.p50, r.p99, r.share, r.note) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    lines = []
    for n, row in enumerate(cells):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + " | " + row[-1])
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 5)
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument(
        "--customers",
        type=int,
        default=6_000,
        help="shoppers (W1 takes a new one per purchase; W2 needs 2,000)",
    )
    parser.add_argument(
        "--serve", action="store_true", help="start and seed the shop, print its URL, keep it up until Ctrl-C"
    )
    parser.add_argument("--profile", default="", help="a scenario (r1, w1, w2, w3) to profile with py-spy")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "results.json")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()] if not args.serve else []
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if not (1 <= args.runs <= 9 and 3 <= args.seconds <= 120 and 100 <= args.products <= 100_000):
        parser.error("--runs 1..9, --seconds 3..120, --products 100..100000")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    stack = Stack()
    stack.env = dict(os.environ)
    rows: list[Row] = []
    started = time.monotonic()
    say(
        f"bench: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"scenarios {args.only}"
    )
    try:
        l1 = tpcb = 0.0
        if "l1" in args.only:
            say("L1: framework-free ASGI app, 2 Uvicorn workers")
            row, l1 = bench_l1(args, stack)
            rows.append(row)
        wants_shop = args.serve or bool({"r1", "r1p", "w1", "w2", "w3"} & set(args.only))
        needs_pg = wants_shop or "l2" in args.only
        if needs_pg:
            start_pg(stack)
            say(f"PostgreSQL: {psql(stack.pg_url, 'SHOW server_version')} in {stack.pg_dir}")
        if "l2" in args.only:
            say("L2: pgbench")
            l2_rows, tpcb = bench_l2(args, stack)
            rows += l2_rows
        if wants_shop:
            out = subprocess.run(  # noqa: S603
                [str(ROOT / "scripts" / "redis"), "start"], capture_output=True, text=True, check=True
            ).stdout.split()
            stack.env["REDIS_URL"], stack.redis_dir = out[0], out[1]
            port = free_port()
            secret = secrets.token_hex(32)
            env = mercato_env(stack, port, secret)
            subprocess.run(  # noqa: S603
                [str(VENV / "python"), "-m", "compileall", "-q", "mercato"], env=env, check=True, cwd=ROOT
            )
            subprocess.run([str(VENV / "mercato"), "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
            seed_file = stack.logs / "seed.json"
            flash_buyers = flash.CUSTOMERS_PER_RUN if "w3" in args.only else 0
            say(
                f"seed: {args.products:,} products x 3 SKUs, stock in 3 warehouses, "
                f"{args.customers:,} customers"
                + (
                    f", W3: {args.runs} flash-sale session(s) and {args.runs * flash_buyers:,} shoppers"
                    if flash_buyers
                    else ""
                )
            )
            seeding = time.monotonic()
            subprocess.run(  # noqa: S603
                [
                    str(VENV / "python"),
                    "-m",
                    "bench.seed",
                    "--out",
                    str(seed_file),
                    "--products",
                    str(args.products),
                    "--customers",
                    str(args.customers),
                    "--runs",
                    str(args.runs),
                    "--flash-buyers",
                    str(flash_buyers),
                ],
                env=env,
                check=True,
                cwd=ROOT,
            )
            seed = json.loads(seed_file.read_text())
            say(f"seed: {time.monotonic() - seeding:.0f} s in all")
            # What ``mercato run --workers 2`` starts (migrated above), but launched through Uvicorn's
            # own module: a worker process then re-imports that light module instead of
            # mercato/cli.py (which imports the demo data and with it most domains) before it can
            # answer Uvicorn's 5 s health check; on a busy machine that import took longer, and the
            # workers were killed and restarted without end.
            web = stack.spawn(
                "web",
                [
                    str(VENV / "python"),
                    "-m",
                    "uvicorn",
                    "mercato.app:create_app",
                    "--factory",
                    f"--host={env['MERCATO_HOST']}",
                    f"--port={port}",
                    f"--workers={WEB_WORKERS}",
                    "--proxy-headers",
                    "--no-access-log",
                    "--log-level=warning",
                ],
                env=env,
            )
            worker = stack.spawn("worker", [str(VENV / "mercato"), "worker"], env=env)
            base = f"http://127.0.0.1:{port}"
            wait_http(base + "/readyz", seconds=120)
            say(
                f"Mercato: production mode on {base}, {WEB_WORKERS} web workers + job worker "
                f"(pid {worker.pid}); bench settings "
                + ", ".join(f"{k}={v}" for k, v in flash.SERVER_ENV.items())
                + " (the defaults are 5 and 600/minute)"
            )
            say(f"  the worker delivered the seeding events in {wait_outbox(stack.pg_url):.0f} s")
            settled = wait_settled(web_workers(web.pid))
            say(f"  {len(web_workers(web.pid))} web workers idle after {settled:.0f} s more")
            postmaster = int((Path(stack.pg_dir) / "data" / "postmaster.pid").read_text().split()[0])
            redis_pid = int((Path(stack.redis_dir) / "redis.pid").read_text().split()[0])
            meter = CpuMeter(
                {"web": web.pid, "worker": worker.pid, "postgres": postmaster, "redis": redis_pid}
            )
            if args.serve:
                say(f"serving until interrupted (Ctrl-C); seed data in {seed_file}")
                signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
                with contextlib.suppress(KeyboardInterrupt):
                    while web.poll() is None:
                        time.sleep(1)
                return
            if "r1" in args.only:
                say("R1: browse")
                with profiled(stack, web, args.profile == "r1", args.seconds):
                    rows += bench_r1(args, base, seed, l1, meter)
            if "r1p" in args.only:
                say("R1 with 100 live promotions: making them")
                subprocess.run(  # noqa: S603
                    [str(VENV / "python"), "-m", "bench.promotions", "seed-live", "--seed", str(seed_file)],
                    env=env,
                    check=True,
                    cwd=ROOT,
                )
                # Start the cached pages afresh, as R1 did: pages warmed for R1 would reach their
                # 300 s TTL in the middle of these runs and be rebuilt there, charging R1+promotions
                # with catalogue rebuilds R1 never paid for.
                redis_flush(stack.env["REDIS_URL"])
                for row in bench_r1(args, base, seed, l1, meter):
                    rows.append(Row(**(row.__dict__ | {"scenario": row.scenario + " +100 promotions"})))
            if "w1" in args.only:
                say("W1: checkout")
                with profiled(stack, web, args.profile == "w1", args.seconds):
                    rows += bench_w1(args, base, seed, secret, tpcb, stack, meter)
            if "w2" in args.only:
                say("W2: flash sale")
                rows += bench_w2(args, base, seed, stack, meter)
            if "w3" in args.only:
                say("W3: flash sales through the flash-sale API")
                with profiled(stack, web, args.profile == "w3", args.seconds):
                    rows += bench_w3(args, base, seed, stack, meter)
            memory = [rss_mb(pid) for pid in web_workers(web.pid)]
            rows.append(
                Row(
                    "memory",
                    f"{len(memory)} web workers",
                    "",
                    "",
                    "",
                    "",
                    "RSS after the run: " + ", ".join(f"{m:.0f} MB" for m in memory),
                )
            )
    finally:
        stack.stop()
    say("")
    say(table(rows))
    say(f"\nbench: done in {time.monotonic() - started:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
