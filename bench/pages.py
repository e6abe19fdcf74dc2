"""Benchmark: server time of the storefront's product and category pages on the demo data.

Issue 6 asks for product and category pages under 50 ms at the 95th percentile of server time
on the demo shop. This script builds the demo shop in a throwaway folder (SQLite, as `make run`
does; `MERCATO_DEMO_PRODUCTS` sets its size, 300 by default), reads the page addresses from the
shop's own /sitemap.xml, warms each page once (as a running shop would have), then requests
pages one at a time in-process (ASGI, no network, no client in the way) and reports the time
each request spent in the application: p50, p95 and p99 per kind of page, the median of
``--runs`` runs.

    .venv/bin/python bench/pages.py [--requests 300] [--runs 3] [--var-dir DIR]

``--var-dir`` reuses a folder that already holds a demo shop (``MERCATO_VAR_DIR`` of `make run`,
i.e. ``var/``) instead of building one (about 40 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LOC = re.compile(r"<loc>https?://[^/]+(/[^<]*)</loc>")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="requests per kind of page and run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--var-dir", default="", help="a folder with a demo shop (default: build one)")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def build_demo(var_dir: str) -> None:
    env = {**os.environ, "MERCATO_VAR_DIR": var_dir}
    started = time.perf_counter()
    mercato = str(ROOT / ".venv/bin/mercato")  # our own command, fixed arguments
    subprocess.run([mercato, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([mercato, "demo"], env=env, check=True, capture_output=True)  # noqa: S603
    say(f"demo shop built in {var_dir} in {time.perf_counter() - started:.0f} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


async def bench(args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    import httpx  # noqa: PLC0415

    from mercato.app import create_app  # noqa: PLC0415
    from mercato.core.db import reset_database  # noqa: PLC0415

    app = create_app()
    transport = httpx.ASGITransport(app=app)
    results: dict[str, list[dict[str, float]]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        sitemap = await client.get("/sitemap.xml")
        sitemap.raise_for_status()
        paths = LOC.findall(sitemap.text)
        kinds = {
            "product page /p/…": [p for p in paths if p.startswith("/p/")],
            "category page /c/…": [p for p in paths if p.startswith("/c/")],
            "category, in stock, by price": [
                f"{p}?in_stock=1&sort=price_asc" for p in paths if p.startswith("/c/")
            ],
            "search /search?q=…": [f"/search?q={word}" for word in ("手机", "耳机", "智能手表", "降噪")],
            "home /": ["/"],
        }
        say(f"{len(kinds['product page /p/…'])} products, {len(kinds['category page /c/…'])} categories")
        for urls in kinds.values():  # warm: each page once, as a shop that has been running
            for url in urls:
                response = await client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code}")
        rng = random.Random(args.seed)
        for run in range(args.runs):
            for kind, urls in kinds.items():
                times: list[float] = []
                for _ in range(args.requests):
                    url = rng.choice(urls)
                    started = time.perf_counter()
                    response = await client.get(url)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (url, response.status_code)
                row = {
                    "p50": percentile(times, 0.50),
                    "p95": percentile(times, 0.95),
                    "p99": percentile(times, 0.99),
                    "mean": statistics.fmean(times),
                }
                results.setdefault(kind, []).append(row)
                say(f"run {run + 1} {kind}: p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms")
    await reset_database()
    return results


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="mercato-bench-pages-") as scratch:
        var_dir = args.var_dir or scratch
        if not args.var_dir:
            build_demo(var_dir)
        os.environ["MERCATO_VAR_DIR"] = var_dir
        os.environ.setdefault("MERCATO_LOG_LEVEL", "WARNING")
        results = asyncio.run(bench(args))
    say("")
    say(f"| page ({args.requests} requests × {args.runs} runs, median of runs) | p50 | p95 | p99 |")
    say("| --- | --- | --- | --- |")
    for kind, rows in results.items():
        cells = [f"{statistics.median(r[key] for r in rows):.1f} ms" for key in ("p50", "p95", "p99")]
        say(f"| {kind} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
