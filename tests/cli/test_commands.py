"""The `mercato` command, run as a user would: in a subprocess on a fresh SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MERCATO = [sys.executable, "-m", "mercato"]


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


def test_demo_is_idempotent_and_its_logins_work(migrated: Path) -> None:
    tmp_path = migrated
    first = run(["demo"], tmp_path)
    second = run(["demo"], tmp_path)

    assert first.returncode == 0, first.stderr
    steps = [line for line in first.stdout.splitlines() if line.startswith("demo: ")]
    assert steps[:3] == [
        "demo: building the demo shop (24 products, MERCATO_DEMO_PRODUCTS); this happens once",
        "demo: catalog 0/24 products…",
        "demo: catalog 1/24 products…",
    ]
    assert "demo: catalog 24/24 products" in steps
    assert re.fullmatch(r"demo: ready in \d+ s", steps[-1]), steps[-1]
    assert next(line for line in first.stdout.splitlines() if line.startswith("demo data: ")) == (
        "demo data: staff admin@example.com, role Catalog manager, role Customer service, role Auditor, "
        "customer +8613800138000, 24 products in 10 categories with stock in 3 warehouses and a pickup store,"
        " 3 home-page banners, shop profile 集市优选 with its privacy policy, terms and after-sales policy"
    )
    assert second.stdout.splitlines()[0] == "demo data: already present"  # no build, no steps
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
