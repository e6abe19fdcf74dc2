"""The `mercato` command, run as a user would: in a subprocess on a fresh SQLite database.

The command runs on its own embedded SQLite whichever database the suite uses (the environment's
MERCATO_* settings are dropped), so the PostgreSQL run of the suite would repeat these tests
unchanged: they run in the SQLite run only.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MERCATO = [sys.executable, "-m", "mercato"]

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MERCATO_TEST_DATABASE_URL")),
    reason="the command runs on its own SQLite: the SQLite run of the suite covers it",
)


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = (
        {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
        | {"MERCATO_VAR_DIR": str(tmp_path), "MERCATO_LOG_LEVEL": "WARNING", "MERCATO_DEMO_PRODUCTS": "24"}
        | env
    )
    return subprocess.run(
        MERCATO + args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_lists_each_problem_on_its_own_line(tmp_path: Path) -> None:
    result = run(
        ["check"],
        tmp_path,
        MERCATO_MODE="production",
        MERCATO_DATABASE_URL="mysql://x",
        MERCATO_TIMEZONE="Mars/Olympus",
        MERCATO_CURRENCY="XYZ",
        MERCATO_SMS_PROVIDER="twilio",
    )

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "MERCATO_DATABASE_URL: use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
        "MERCATO_SECRET_KEY: required in production mode, at least 32 characters",
        "MERCATO_REDIS_URL: production mode needs Redis (cache, limits, jobs)",
        "MERCATO_SECURE_COOKIES: must be true in production mode (HTTPS only cookies)",
        "MERCATO_BASE_URL: required in production mode, the shop's public address "
        "(https://shop.example.com): links, canonical URLs and the sitemap use it",
        "MERCATO_TIMEZONE: unknown time zone 'Mars/Olympus'",
        "MERCATO_CURRENCY: unknown ISO 4217 currency 'XYZ'",
        "MERCATO_EMAIL_TRANSPORT: 'console' only logs emails; use 'smtp' in production",
        "MERCATO_SMS_TWILIO_ACCOUNT_SID: required when MERCATO_SMS_PROVIDER=twilio",
        "MERCATO_SMS_TWILIO_AUTH_TOKEN: required when MERCATO_SMS_PROVIDER=twilio",
        "MERCATO_SMS_TWILIO_FROM: required when MERCATO_SMS_PROVIDER=twilio",
    ]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated embedded database shared by this module's tests (each run costs seconds)."""
    path = tmp_path_factory.mktemp("migrated")
    result = run(["migrate"], path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database migrated to head"
    return path


def test_check_reports_pending_migrations_then_passes(tmp_path: Path, migrated: Path) -> None:
    before = run(["check"], tmp_path)
    after = run(["check"], migrated)

    assert (before.returncode, before.stdout.strip()) == (
        1,
        "database: migrations are pending; run `mercato migrate`",
    )
    assert after.returncode == 0
    assert after.stdout.startswith("ok: embedded mode, database sqlite+aiosqlite:///")


def demo_trade(var_dir: Path) -> dict[str, list[Any]]:
    """What the demo's orders left in the database: orders per status and delivery, the demo
    customer's orders, after-sales requests, payments, shipments and pickup codes."""
    with closing(sqlite3.connect(var_dir / "mercato.sqlite3")) as db:
        return {
            name: db.execute(query).fetchall()
            for name, query in {
                "orders": "SELECT status, delivery, count(*) FROM orders_order GROUP BY 1, 2 ORDER BY 1, 2",
                "shopper": "SELECT o.status, o.delivery FROM orders_order o JOIN identity_customer c"
                " ON c.id = o.customer_id WHERE c.phone = '+8613800138000' ORDER BY o.id",
                "buyers": "SELECT count(DISTINCT customer_id) FROM orders_order",
                "aftersales": "SELECT kind, status FROM aftersales_request ORDER BY id",
                "payments": "SELECT provider, status, count(*)"
                " FROM payments_payment GROUP BY 1, 2 ORDER BY 1, 2",
                "shipments": "SELECT carrier, status, count(*)"
                " FROM fulfillment_shipment GROUP BY 1, 2 ORDER BY 1, 2",
                "pickup_codes": "SELECT status, count(*) FROM fulfillment_pickup_code GROUP BY 1",
                "ledger": "SELECT count(*) FROM inventory_ledger_entry",
            }.items()
        }


def test_demo_is_idempotent_and_its_logins_work(migrated: Path) -> None:
    tmp_path = migrated
    first = run(["demo"], tmp_path)
    trade = demo_trade(tmp_path)
    second = run(["demo"], tmp_path)

    assert first.returncode == 0, first.stderr
    steps = [line for line in first.stdout.splitlines() if line.startswith("demo: ")]
    assert steps[:3] == [
        "demo: building the demo shop (24 products, MERCATO_DEMO_PRODUCTS); this happens once",
        "demo: catalog 0/24 products…",
        "demo: catalog 1/24 products…",
    ]
    assert "demo: catalog 24/24 products" in steps
    assert steps[-8:-1] == [f"demo: orders {n}/22…" for n in (0, 4, 8, 12, 16, 20)] + ["demo: orders 22/22"]
    assert re.fullmatch(r"demo: ready in \d+ s", steps[-1]), steps[-1]
    assert next(line for line in first.stdout.splitlines() if line.startswith("demo data: ")) == (
        "demo data: staff admin@example.com, role Catalog manager, role Customer service, role Auditor, "
        "customer +8613800138000, 24 products in 10 categories with stock in 3 warehouses and a pickup store,"
        " 3 home-page banners, shop profile 集市优选 with its privacy policy, terms and after-sales policy,"
        " 6 more customers with 22 orders in every state, campaign 双12 年终盛典 running"
        " (满减, timed discount, 第二件半价, 满 99 包邮), 新春年货节 in pre-heat, 5 coupon templates,"
        " 50 redeemable codes, 2 coupons in the demo shopper's wallet (one expiring within a day),"
        " 秒杀 session selling 3 items now and another starting in 3 hours,"
        " 拼团 offer with a group waiting for one more,"
        " 砍价 offer with the demo shopper's bargain helped twice"
    )
    assert second.stdout.splitlines()[0] == "demo data: already present"  # no build, no steps
    assert demo_trade(tmp_path) == trade  # the second run placed nothing
    assert {k: v for k, v in trade.items() if k != "ledger"} == {
        "orders": [
            ("cancelled", "standard", 1),
            ("completed", "standard", 6),
            ("delivered", "express", 1),
            ("delivered", "standard", 3),
            ("paid", "pickup", 1),
            ("paid", "standard", 5),  # one is the 拼团 leader's, waiting for its group
            ("pending_payment", "standard", 2),
            ("shipped", "express", 1),
            ("shipped", "standard", 3),
        ],
        "shopper": [("completed", "standard"), ("shipped", "standard"), ("paid", "pickup")],
        "buyers": [(7,)],
        "aftersales": [("refund_only", "requested"), ("return_refund", "approved")],
        "payments": [("sandbox", "closed", 1), ("sandbox", "paid", 20), ("sandbox", "pending", 2)],
        "shipments": [("shunfeng", "delivered", 10), ("shunfeng", "shipped", 4)],
        "pickup_codes": [("open", 1)],
    }
    verify = run(["inventory", "verify"], tmp_path)  # stock levels equal the ledger and the holds
    assert verify.returncode == 0, verify.stdout
    assert re.fullmatch(
        rf"ok: \d+ stock rows match {trade['ledger'][0][0]} ledger entries", verify.stdout.strip()
    )
    assert "admin@example.com / mercato-admin-2026" in first.stdout
    probe = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "cli" / "sign_in_probe.py")],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
        | {"MERCATO_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.stdout.split() == ["staff=200", "customer_phone=200", "customer_email=200", "customers=1"], (
        probe.stderr
    )


@pytest.mark.parametrize(
    ("_case", "password", "code", "message"),
    [
        ("created", "adm1n-strong-pass", 0, "created superuser boss@example.com"),
        ("weak password", "short", 1, "identity.weak_password: Use 8 to 128 characters"),
    ],
)
def test_createadmin(migrated: Path, _case: str, password: str, code: int, message: str) -> None:
    result = run(["createadmin", "--email", "Boss@Example.com"], migrated, MERCATO_ADMIN_PASSWORD=password)

    assert result.returncode == code
    assert message in (result.stdout + result.stderr)


def test_inventory_verify_says_ok_when_levels_match_the_ledger(migrated: Path) -> None:
    result = run(["inventory", "verify"], migrated)

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ok: \d+ stock rows match \d+ ledger entries", result.stdout.strip())
