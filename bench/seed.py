"""Seed the benchmark shop through Mercato's own services and write what the load needs to JSON.

The catalog: ``--products`` products (default 10,000) with 3 SKUs each (colours) in 10 leaf
categories, imported as CSV in chunks (the import a merchant uses), put on sale through the
listing workflow, and stocked in 3 warehouses by stocktake files (1,000 units per SKU and
warehouse). Then the buyers: customers with one address and one bearer token each (no password:
signing in is not what is measured), and the flash-sale SKUs W2 sells out — one with 50 units
and one with 500 per run, stocked in one warehouse.

For W3 (``--flash-buyers N``, bench/flash.py), per run: a published flash-sale session (场次,
live from a minute ago for twelve hours) with two items of 500 units each, made through the
social domain's services as staff would (its quotas carved out of stock that holds exactly 500
units), and N more shoppers. Those are written with bulk INSERTs (a customer, its default address
and a bearer token as ``identity.issue_token`` makes them, 2,000 a transaction): tens of thousands
through the services one by one would take most of an hour. They skip what the registration
service adds beside: the consent row and the ``CustomerRegistered`` event (the new-customer gift).

Run by ``bench/run.py`` with the benchmark's environment (MERCATO_DATABASE_URL etc.):

    python -m bench.seed --out var/bench/seed.json [--products 10000] [--customers 2000]
                         [--flash-buyers 24000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLOURS = ("红色", "黑色", "白色")
WAREHOUSES = (
    ("BENCH-SH", "上海仓", "上海市"),
    ("BENCH-GZ", "广州仓", "广东省"),
    ("BENCH-BJ", "北京仓", "北京市"),
)
CATEGORIES = 10
CHUNK = 1_000  # products per import file (3,000 rows)
UNITS = 1_000  # per SKU and warehouse
W3_UNITS = 500  # each W3 item's quota (and its SKU's whole stock)
W3_PRICE = 990  # fen: W3's 秒杀价, below every benchmark SKU's own price (59 yuan and up)
BULK = 2_000  # W3 shoppers per transaction
#: Real (province, city, district) triples: addresses are checked against the region list.
ADDRESS_REGIONS = (
    ("上海市", "上海市", "黄浦区"),
    ("广东省", "深圳市", "南山区"),
    ("北京市", "北京市", "朝阳区"),
    ("浙江省", "杭州市", "西湖区"),
    ("江苏省", "南京市", "玄武区"),
)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def product_rows(slugs: list[tuple[str, int, str]]) -> bytes:
    """CSV rows for ``(slug, number, category slug)``: 3 SKUs each, prices in yuan text."""
    from mercato.catalog.service.spreadsheets import COLUMNS  # noqa: PLC0415

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for slug, number, category in slugs:
        for s, colour in enumerate(COLOURS):
            row = {
                "product_slug": slug,
                "title": f"纯棉圆领T恤 第{number}款",
                "title_en": f"Cotton tee no. {number}",
                "subtitle": "舒适透气 四季可穿",
                "category": category,
                "brand": "bench-brand",
                "product_type": "基准服装",
                "description_html": f"<p>第 {number} 款, <strong>新疆长绒棉</strong>, 180g 面料</p>",
                "tags": "新品|纯棉",
                "params": "material=棉|origin=新疆",
                "spec": f"colour={colour}",
                "sku_code": f"{slug.upper()}-{s}",
                "barcode": f"69{number:08d}{s:02d}",
                "price": f"{59 + number % 200 + s * 10}.{number % 100:02d}",
                "market_price": f"{399 + s * 10}.00",
                "cost_price": "30.00",
                "weight_grams": str(200 + s * 10),
                "min_order_quantity": "1",
            }
            writer.writerow([row[column] for column in COLUMNS])
    return buffer.getvalue().encode()


def stock_rows(codes: list[tuple[str, str, int]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["sku_code", "warehouse_code", "on_hand"])
    writer.writerows(codes)
    return buffer.getvalue().encode()


def apparel_type(colours: Sequence[str]) -> Any:
    """The benchmark shops' product type: colour as the spec, material and origin as params
    (also used by bench/catalog_import.py). Returns a ``catalog.ProductTypeCreate``."""
    from mercato import catalog  # noqa: PLC0415 - after the benchmark's environment is set

    return catalog.ProductTypeCreate(
        name="基准服装",
        attributes=[
            catalog.AttributeCreate(
                code="colour",
                name="颜色",
                kind=catalog.AttributeKind.spec,
                values=[catalog.AttributeValueWrite(value=c, position=i) for i, c in enumerate(colours)],
            ),
            catalog.AttributeCreate(
                code="material",
                name="材质",
                kind=catalog.AttributeKind.param,
                values=[catalog.AttributeValueWrite(value="棉")],
            ),
            catalog.AttributeCreate(code="origin", name="产地", kind=catalog.AttributeKind.param),
        ],
    )


async def _taxonomy() -> tuple[list[str], list[int]]:
    from mercato import catalog, identity, inventory  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    slugs = [f"bench-c{i}" for i in range(CATEGORIES)]
    ids: list[int] = []
    async with uow() as session:
        for i, slug in enumerate(slugs):
            category = await catalog.create_category(
                session, data=catalog.CategoryCreate(name=f"基准类目{i}", slug=slug), actor=actor
            )
            ids.append(category.id)
        await catalog.create_brand(
            session, data=catalog.BrandCreate(name="基准品牌", slug="bench-brand"), actor=actor
        )
        await catalog.create_product_type(session, data=apparel_type(COLOURS), actor=actor)
        for code, name, province in WAREHOUSES:
            await inventory.create_warehouse(
                session,
                data=inventory.WarehouseWrite(
                    code=code,
                    name=name,
                    kind=inventory.WarehouseKind.regional,
                    province=province,
                    city=province,
                ),
                actor=actor,
            )
    return slugs, ids


async def _import(slugs: list[tuple[str, int, str]]) -> list[int]:
    """Import, then put on sale; return the new product ids in the order of ``slugs``."""
    from mercato import catalog, identity  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    async with uow() as session:
        result = await catalog.import_products(
            session,
            data=product_rows(slugs),
            filename="bench.csv",
            content_type=None,
            dry_run=False,
            actor=actor,
        )
    if result.products_created != len(slugs):
        raise SystemExit(f"seed: import created {result.products_created} of {len(slugs)} products: {result}")
    by_slug: dict[str, int] = {}
    async with uow(write=False) as session:
        cursor: str | None = None
        while True:
            page = await catalog.list_products(
                session, status=catalog.ListingStatus.draft, cursor=cursor, limit=100
            )
            by_slug.update({product.slug: product.id for product in page.items})
            cursor = page.next_cursor
            if cursor is None:
                break
    ids = [by_slug[slug] for slug, _number, _category in slugs]
    async with uow() as session:
        for product_id in ids:
            product = await catalog.submit_for_review(session, product_id=product_id, actor=actor)
            if product.status is not catalog.ListingStatus.on_sale:
                await catalog.approve_listing(session, product_id=product_id, actor=actor)
    return ids


async def _stock(lines: list[tuple[str, str, int]]) -> None:
    from mercato import identity, inventory  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    for start in range(0, len(lines), 15_000):
        async with uow() as session:
            await inventory.import_stock(
                session,
                data=stock_rows(lines[start : start + 15_000]),
                filename="stock.csv",
                content_type=None,
                dry_run=False,
                actor=actor,
            )


async def _sku_ids(product_ids: list[int]) -> dict[int, list[int]]:
    from mercato import catalog  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    found: dict[int, list[int]] = {}
    async with uow(write=False) as session:
        for product_id in product_ids:
            found[product_id] = [sku.id for sku in await catalog.list_skus(session, product_id=product_id)]
    return found


async def _customers(count: int) -> list[dict[str, object]]:
    from mercato import identity  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    meta = identity.RequestMeta(ip="127.0.0.1", user_agent="mercato-bench")
    made: list[dict[str, object]] = []
    for start in range(0, count, 500):
        async with uow() as session:
            for n in range(start, min(count, start + 500)):
                customer = await identity.create_customer(
                    session, phone=f"+86139{n:08d}", email=None, password=None, name=f"买家{n}", meta=meta
                )
                address = await identity.add_address(
                    session,
                    customer_id=customer.id,
                    data=identity.AddressWrite(
                        recipient=f"买家{n}",
                        phone=f"139{n:08d}",
                        province=ADDRESS_REGIONS[n % len(ADDRESS_REGIONS)][0],
                        city=ADDRESS_REGIONS[n % len(ADDRESS_REGIONS)][1],
                        district=ADDRESS_REGIONS[n % len(ADDRESS_REGIONS)][2],
                        detail=f"人民路 {n} 号",
                        is_default=True,
                    ),
                )
                token = await identity.issue_token(
                    session,
                    subject_kind="customer",
                    subject_id=customer.id,
                    kind="bearer",
                    meta=meta,
                    name="bench",
                )
                made.append({"customer_id": customer.id, "token": token.token, "address_id": address.id})
    return made


async def _bulk_customers(first: int, count: int) -> list[dict[str, object]]:
    """``count`` W3 shoppers numbered from ``first`` (mobiles +86138…, apart from ``_customers``'
    +86139…), each with a default address and a bearer token whose SHA-256 is stored, as the
    services make them; ``region`` tells which of ``ADDRESS_REGIONS`` the address is in."""
    import datetime as dt  # noqa: PLC0415

    from sqlalchemy import insert  # noqa: PLC0415

    from mercato.core import clock  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415
    from mercato.core.security import hash_token, new_token  # noqa: PLC0415
    from mercato.core.settings import get_settings  # noqa: PLC0415
    from mercato.identity.models import Address, AuthToken, Customer  # noqa: PLC0415
    from mercato.identity.service.tokens import PREFIX  # noqa: PLC0415

    lifetime = dt.timedelta(days=get_settings().token_days)
    made: list[dict[str, object]] = []
    for start in range(first, first + count, BULK):
        numbers = range(start, min(first + count, start + BULK))
        now = clock.now()
        async with uow() as session:
            ids = (
                (
                    await session.execute(
                        insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                        [
                            {
                                "phone": f"+86138{n:08d}",
                                "name": f"抢购者{n}",
                                "status": "active",
                                "created_at": now,
                            }
                            for n in numbers
                        ],
                    )
                )
                .scalars()
                .all()
            )
            address_ids = (
                (
                    await session.execute(
                        insert(Address).returning(Address.id, sort_by_parameter_order=True),
                        [
                            {
                                "customer_id": customer_id,
                                "recipient": f"抢购者{n}",
                                "phone": f"+86138{n:08d}",
                                "province": ADDRESS_REGIONS[n % len(ADDRESS_REGIONS)][0],
                                "city": ADDRESS_REGIONS[n % len(ADDRESS_REGIONS)][1],
                                "district": ADDRESS_REGIONS[n % len(ADDRESS_REGIONS)][2],
                                "detail": f"解放路 {n} 号",
                                "postal_code": "",
                                "is_default": True,
                                "created_at": now,
                                "updated_at": now,
                            }
                            for n, customer_id in zip(numbers, ids, strict=True)
                        ],
                    )
                )
                .scalars()
                .all()
            )
            raw = [new_token(PREFIX[("customer", "bearer")]) for _ in numbers]
            await session.execute(
                insert(AuthToken),
                [
                    {
                        "token_hash": hash_token(token),
                        "subject_kind": "customer",
                        "subject_id": customer_id,
                        "kind": "bearer",
                        "name": "bench",
                        "ip": "127.0.0.1",
                        "user_agent": "mercato-bench",
                        "created_at": now,
                        "expires_at": now + lifetime,
                    }
                    for token, customer_id in zip(raw, ids, strict=True)
                ],
            )
        made += [
            {"customer_id": c, "token": t, "address_id": a, "region": n % len(ADDRESS_REGIONS)}
            for n, c, t, a in zip(numbers, ids, raw, address_ids, strict=True)
        ]
    return made


async def _flash_session(run: int, category: str) -> dict[str, object]:
    """W3's flash-sale session for one run: two items (``a`` for the 20,000-buyer rush and the
    second wave, ``b`` for the 2,000-buyer one) of ``W3_UNITS`` units each at ``W3_PRICE``, each
    the first SKU of a new product whose stock is exactly its quota, then published."""
    import datetime as dt  # noqa: PLC0415

    from mercato import identity, social  # noqa: PLC0415
    from mercato.core import clock  # noqa: PLC0415
    from mercato.core.db import uow  # noqa: PLC0415

    actor = identity.Actor(staff_id=None, label="bench")
    slugs = [(f"bench-w3-{label}-r{run}", 920_000 + run * 10 + n, category) for n, label in enumerate("ab")]
    ids = await _import(slugs)
    skus = await _sku_ids(ids)
    await _stock([(f"{slug.upper()}-0", WAREHOUSES[0][0], W3_UNITS) for slug, _n, _c in slugs])
    now = clock.now()
    async with uow() as session:
        draft = await social.create_flash_session(
            session,
            data=social.FlashSessionWrite(
                name=f"基准秒杀 第{run + 1}场",
                starts_at=now - dt.timedelta(minutes=1),
                ends_at=now + dt.timedelta(hours=12),
            ),
            actor=actor,
        )
        items = {}
        for label, product_id in zip("ab", ids, strict=True):
            item = await social.add_flash_item(
                session,
                flash_session_id=draft.id,
                data=social.FlashItemWrite(
                    sku_id=skus[product_id][0], price_amount=W3_PRICE, quota=W3_UNITS, per_customer=1
                ),
                actor=actor,
            )
            items[label] = {"item_id": item.id, "sku_id": item.sku_id, "quota": item.quota}
        await social.publish_flash_session(session, flash_session_id=draft.id, actor=actor)
    return {"session_id": draft.id, **items}


async def seed(args: argparse.Namespace) -> dict[str, object]:
    from mercato.core.db import reset_database  # noqa: PLC0415

    started = time.perf_counter()
    categories, category_ids = await _taxonomy()
    product_ids: list[int] = []
    for start in range(0, args.products, CHUNK):
        chunk = [
            (f"bench-p{n}", n, categories[n % CATEGORIES])
            for n in range(start, min(args.products, start + CHUNK))
        ]
        product_ids += await _import(chunk)
        say(f"seed: {len(product_ids):,} products on sale ({time.perf_counter() - started:.0f} s)")
    codes = [
        (f"BENCH-P{n}-{s}", warehouse, UNITS)
        for n in range(args.products)
        for s in range(len(COLOURS))
        for warehouse, _name, _province in WAREHOUSES
    ]
    await _stock(codes)
    say(f"seed: {len(codes):,} stock rows ({time.perf_counter() - started:.0f} s)")
    flash: dict[str, list[int]] = {}
    for units in (50, 500):
        slugs = [
            (f"bench-flash{units}-r{run}", 900_000 + units * 10 + run, categories[0])
            for run in range(args.runs)
        ]
        ids = await _import(slugs)
        skus = await _sku_ids(ids)
        first_skus = [skus[product_id][0] for product_id in ids]
        await _stock([(f"{slug.upper()}-0", WAREHOUSES[0][0], units) for slug, _n, _c in slugs])
        flash[str(units)] = first_skus
    customers = await _customers(args.customers)
    say(
        f"seed: {len(customers):,} customers with an address and a token "
        f"({time.perf_counter() - started:.0f} s)"
    )
    w3: list[dict[str, object]] = []
    if args.flash_buyers:
        w3_started = time.perf_counter()
        for run in range(args.runs):
            sale = await _flash_session(run, categories[0])
            sale["customers"] = await _bulk_customers(run * args.flash_buyers, args.flash_buyers)
            w3.append(sale)
        say(
            f"seed: W3 {args.runs} flash-sale session(s) and {args.runs * args.flash_buyers:,} more "
            f"customers by bulk INSERTs in {time.perf_counter() - w3_started:.1f} s "
            f"({time.perf_counter() - started:.0f} s)"
        )
    skus = await _sku_ids(product_ids[: min(len(product_ids), 2_000)])
    await reset_database()
    return {
        "products": product_ids,
        "categories": category_ids,
        "skus": [sku for ids in skus.values() for sku in ids],
        "flash": flash,
        "customers": customers,
        "w3": w3,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3, help="flash-sale SKUs to make (one per W2 run)")
    parser.add_argument(
        "--flash-buyers",
        type=int,
        default=0,
        help="W3: shoppers per run, bulk-inserted, and a flash-sale session per run (0: none)",
    )
    args = parser.parse_args()
    result = asyncio.run(seed(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result))
    say(f"seed: done in {result['seconds']} s -> {args.out}")


if __name__ == "__main__":
    main()
