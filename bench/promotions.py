"""Promotions benchmarks (issue 16): the price of a big cart, and live promotions on the R1 pages.

``quote`` (scenario P1, in-process, SQLite in a throwaway folder, nothing else running): a
50-line cart with 20 live promotions of every kind and 10 coupons in the shopper's wallet, priced
by ``promotions.quote`` (coupon "best": every wallet coupon is tried) ``--runs`` times after a
warm-up; prints p50/p99 of the whole call (live-set lookup, wallet query, coupon choice and the
pricing engine). What is loaded by then is frozen out of the collector's passes, as the web
process does once started.

    .venv/bin/python -m bench.promotions quote [--runs 2000]

``pages`` (in-process, SQLite, one worker): the storefront catalogue API's product detail and
list with ``--count`` live promotions over ``--products`` products: ms a detail request the
first time the process prices that product's offers and once it has, and a list page (each page
seen once before); run it with ``--count 0`` for the figures without promotions.

    .venv/bin/python -m bench.promotions pages [--count 100] [--products 300]

``seed-live`` (used by ``bench/run.py --only r1p``): make ``--count`` live promotions over the
benchmark shop that bench/seed.py built (timed discounts on its SKUs, 满减 on its categories), so
R1 can be measured again with them live.

    python -m bench.promotions seed-live --seed var/bench/.../seed.json [--count 100]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.seed import _import, _sku_ids, _taxonomy, say  # noqa: E402

LINES = 50
PROMOTIONS = 20
COUPONS = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _rules(
    n: int, *, category_ids: list[int], sku_ids: list[int]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``n``th promotion of a mix of every kind: (name, rule, scope)."""
    category = category_ids[n % len(category_ids)]
    in_category = {"all_goods": False, "category_ids": [category]}
    match n % 5:
        case 0:
            tiers = [{"threshold_amount": 9_900 * (t + 1), "amount_off": 1_000 * (t + 1)} for t in range(3)]
            return f"满减 {n}", {"kind": "full_reduction", "tiers": tiers}, {} if n % 2 else in_category
        case 1:
            tiers = [{"threshold_pieces": 2, "percent_off": 10}, {"threshold_pieces": 4, "percent_off": 20}]
            return f"满折 {n}", {"kind": "full_discount", "tiers": tiers}, in_category
        case 2:
            return f"第二件半价 {n}", {"kind": "nth_discount", "nth": 2, "percent_off": 50}, in_category
        case 3:
            items = [{"sku_id": s, "percent_off": 5 + n % 20} for s in sku_ids[n % 7 :: 7][:10]]
            return f"限时折扣 {n}", {"kind": "timed_discount", "items": items}, {}
    return f"包邮 {n}", {"kind": "free_shipping", "threshold_amount": 19_900 + n}, {}


async def _live_promotions(count: int, *, category_ids: list[int], sku_ids: list[int]) -> None:
    from mercato import identity, promotions  # noqa: PLC0415
    from mercato.core import clock  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    now = clock.now()
    async with uow() as session:
        for n in range(count):
            name, rule, scope = _rules(n, category_ids=category_ids, sku_ids=sku_ids)
            made = await promotions.create_promotion(
                session,
                data=promotions.PromotionWrite.model_validate(
                    {
                        "name": name,
                        "rule": rule,
                        "scope": scope,
                        "starts_at": now - dt.timedelta(hours=1),
                        "ends_at": now + dt.timedelta(days=30),
                        "priority": n % 3,
                        "exclusive_group": "bench" if n % 5 == 0 and n % 2 == 0 else "",
                    }
                ),
                actor=actor,
            )
            await promotions.publish_promotion(session, promotion_id=made.id, actor=actor)


async def _wallet(customer_id: int) -> None:
    from mercato import identity, promotions  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    async with uow() as session:
        for n in range(COUPONS):
            fields: dict[str, Any] = {"name": f"券 {n}", "total_quantity": 1_000, "valid_days": 7}
            if n % 3 == 0:
                fields |= {"kind": "percent", "percent_off": 5 + n, "max_discount_amount": 5_000}
            elif n % 3 == 1:
                fields |= {"kind": "amount", "amount_off": 1_000 * n, "min_spend_amount": 10_000 * n}
            else:
                fields |= {"kind": "free_shipping"}
            made = await promotions.create_coupon_template(
                session, data=promotions.CouponTemplateWrite.model_validate(fields), actor=actor
            )
            await promotions.publish_coupon_template(session, template_id=made.id, actor=actor)
            await promotions.claim_coupon(session, template_id=made.id, customer_id=customer_id)


async def quote_bench(runs: int) -> dict[str, float]:
    from mercato import catalog, identity, pricing, promotions  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415
    from mercato.core.migrate import upgrade  # noqa: PLC0415

    await asyncio.to_thread(upgrade)
    categories, category_ids = await _taxonomy()
    product_ids = await _import([(f"bench-p{n}", n, categories[n % len(categories)]) for n in range(LINES)])
    skus = await _sku_ids(product_ids)
    sku_ids = [skus[p][0] for p in product_ids]
    await _live_promotions(PROMOTIONS, category_ids=category_ids, sku_ids=sku_ids)
    async with uow() as session:
        meta = identity.RequestMeta(ip="127.0.0.1", user_agent="mercato-bench")
        customer = await identity.create_customer(
            session, phone="+8613900000000", email=None, password=None, name="买家", meta=meta
        )
    customer_id = customer.id
    await _wallet(customer_id)
    async with uow(write=False) as session:
        refs = await catalog.get_sku_refs(session, sku_ids=sku_ids)
    lines = [
        pricing.LineIn(
            key=str(sku_id),
            sku_id=sku_id,
            product_id=refs[sku_id].product_id,
            category_ids=(category_ids[n % len(category_ids)],),
            quantity=1 + n % 3,
            unit_price_amount=refs[sku_id].price_amount,
            weight_grams=refs[sku_id].weight_grams,
        )
        for n, sku_id in enumerate(sku_ids)
    ]
    context = pricing.PricingContext(currency="CNY", province="上海市", customer_id=customer_id)
    shipping = pricing.ShippingTemplate(
        name="bench",
        rules=(pricing.ShippingRule(first_fee_amount=800, additional_fee_amount=200),),
    )
    timings: list[float] = []
    async with uow(write=False) as session:
        first = await promotions.quote(
            session, lines=lines, context=context, shipping=shipping, customer_id=customer_id
        )
        gc.freeze()  # as the web process does once started (mercato/app.py, lifespan)
        for n in range(runs + 100):
            started = time.perf_counter()
            await promotions.quote(
                session, lines=lines, context=context, shipping=shipping, customer_id=customer_id
            )
            if n >= 100:  # the first 100 warm the caches
                timings.append((time.perf_counter() - started) * 1000)
    await reset_database()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(percentile(timings, 99), 3),
        "promotions_applied": len(first.promotion_ids),
        "coupon_options": len(first.coupon_options),
        "coupon_applied": first.coupon_id is not None,
        "total_amount": first.result.total_amount,
    }


async def pages_bench(count: int, products: int) -> dict[str, Any]:
    """The catalogue API's product detail and list in-process (one worker, SQLite): ms a request
    the first time the worker prices a product's offers and once it has, and a list page."""
    from httpx import ASGITransport, AsyncClient  # noqa: PLC0415

    from mercato import catalog  # noqa: PLC0415
    from mercato.app import create_app  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415
    from mercato.core.migrate import upgrade  # noqa: PLC0415

    await asyncio.to_thread(upgrade)
    categories, category_ids = await _taxonomy()
    product_ids = await _import(
        [(f"bench-p{n}", n, categories[n % len(categories)]) for n in range(products)]
    )
    skus = await _sku_ids(product_ids)
    await _live_promotions(
        count, category_ids=category_ids, sku_ids=[s for p in product_ids for s in skus[p]]
    )
    async with uow(write=False) as session:  # the catalogue's pages cached, the offers not yet
        for product_id in product_ids:
            await catalog.get_storefront_product(session, product_id=product_id)
    result: dict[str, Any] = {"promotions": count, "products": products}
    async with AsyncClient(transport=ASGITransport(app=create_app()), base_url="http://bench") as client:
        for label in ("first_sight_ms", "seen_ms"):
            started = time.perf_counter()
            for product_id in product_ids:
                answer = await client.get(f"/api/v1/catalog/products/{product_id}")
                answer.raise_for_status()
            result[label] = round((time.perf_counter() - started) / products * 1000, 3)
        result["detail_bytes"] = len(answer.content)
        result["tags_per_sku"] = max((len(o["tags"]) for o in answer.json()["offers"]), default=0)
        lists = [f"/api/v1/catalog/products?category_id={c}&page_size=24" for c in category_ids] * 20
        for path in lists[: len(category_ids)]:  # each page seen once
            await client.get(path)
        started = time.perf_counter()
        for path in lists:
            (await client.get(path)).raise_for_status()
        result["list_ms"] = round((time.perf_counter() - started) / len(lists) * 1000, 3)
    await reset_database()
    return result


async def seed_live(seed: dict[str, Any], count: int) -> None:
    from mercato.core.db import reset_database  # noqa: PLC0415

    await _live_promotions(count, category_ids=list(seed["categories"]), sku_ids=list(seed["skus"]))
    await reset_database()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    quote = sub.add_parser("quote", help="P1: a 50-line cart, 20 live promotions, 10 wallet coupons")
    quote.add_argument("--runs", type=int, default=2_000)
    pages = sub.add_parser("pages", help="the catalogue API with live promotions, in-process")
    pages.add_argument("--count", type=int, default=100)
    pages.add_argument("--products", type=int, default=300)
    live = sub.add_parser("seed-live", help="live promotions over the benchmark shop (for R1)")
    live.add_argument("--seed", type=Path, required=True)
    live.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    if args.command == "seed-live":
        asyncio.run(seed_live(json.loads(args.seed.read_text()), args.count))
        say(f"seed-live: {args.count} live promotions")
        return
    if args.command == "pages":
        with tempfile.TemporaryDirectory(prefix="mercato-bench-pages-") as folder:
            os.environ["MERCATO_VAR_DIR"] = folder
            os.environ["MERCATO_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/pages.sqlite3"
            os.environ.setdefault("MERCATO_LOG_LEVEL", "WARNING")
            os.environ["MERCATO_RUN_JOBS_IN_WEB"] = "false"
            say(json.dumps(asyncio.run(pages_bench(args.count, args.products))))
        return
    if args.runs < 1_000:
        parser.error("--runs at least 1000")
    with tempfile.TemporaryDirectory(prefix="mercato-bench-p1-") as folder:
        os.environ["MERCATO_VAR_DIR"] = folder
        os.environ["MERCATO_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/p1.sqlite3"
        os.environ.setdefault("MERCATO_LOG_LEVEL", "WARNING")
        os.environ["MERCATO_RUN_JOBS_IN_WEB"] = "false"
        result = asyncio.run(quote_bench(args.runs))
    say(json.dumps(result, ensure_ascii=False))
    say(
        f"P1 promotions.quote, {LINES} lines, {PROMOTIONS} live promotions, {COUPONS} wallet coupons: "
        f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms over {args.runs:,} runs"
    )


if __name__ == "__main__":
    main()
