"""Schemathesis fuzzes the OpenAPI document's operations against a live `mercato run`: whatever it
sends, the answer is never a 5xx, and its status, content type and body are the ones the document
gives for that operation (so every problem's code is one the response lists).

The server runs on the suite's database kind: SQLite, or a PostgreSQL database of its own on the
suite's cluster when MERCATO_TEST_DATABASE_URL is set. Three callers, each on the operations it
can reach: the demo customer (everything but the console API), the demo staff superuser (the
console API) and an anonymous caller (every operation, fewer examples: most answer 401). Sign-out
routes are left to the anonymous caller, so the tokens live through the run.

Bounded so the whole run takes about three minutes on two busy cores: the coverage phase (the
boundary and wrong-type values of every parameter) plus a few random examples per operation.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mercato.demo import DEMO_CUSTOMER_EMAIL, DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD
from tests.providers.local_server import free_port

ROOT = Path(__file__).resolve().parents[3]
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
PG_BASE = os.environ.get("MERCATO_TEST_DATABASE_URL", "")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CONSOLE = r"^/api/v1/(admin|staff)/"
#: Who calls, on which operations, how hard: (extra arguments, --max-examples, --phases).
CALLERS = {
    "customer": (["--exclude-path-regex", rf"{CONSOLE}|^/api/v1/auth/logout"], 10, "coverage,fuzzing"),
    "staff": (
        ["--include-path-regex", CONSOLE, "--exclude-path-regex", r"^/api/v1/staff/auth/logout$"],
        5,
        "coverage,fuzzing",
    ),
    "anonymous": ([], 4, "fuzzing"),
}


async def _fetch(sql: str, database: str | None = None) -> object:
    """The first value ``sql`` returns on the suite's cluster (its own database, or ``database``)."""
    import asyncpg  # noqa: PLC0415 - PostgreSQL runs only

    url = PG_BASE if database is None else f"{PG_BASE.rpartition('/')[0]}/{database}"
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def database() -> Iterator[dict[str, str]]:
    """The server's database settings: its own PostgreSQL database, or SQLite under its var dir."""
    if not PG_BASE:
        yield {}
        return
    name = f"mercato_fuzz_{WORKER}"
    asyncio.run(_fetch(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_fetch(f'CREATE DATABASE "{name}"'))
    try:
        yield {"MERCATO_DATABASE_URL": f"{PG_BASE.rpartition('/')[0]}/{name}"}
        # the server really ran on it: the demo staff member is there
        assert asyncio.run(_fetch("SELECT count(*) FROM identity_staff", name)) >= 1
    finally:
        asyncio.run(_fetch(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database: dict[str, str]) -> Iterator[str]:
    """`mercato run` on a fresh database, as a user starts it."""
    port = free_port()
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
        | {
            "MERCATO_VAR_DIR": str(tmp_path_factory.mktemp("fuzz")),
            "MERCATO_PORT": str(port),
            "MERCATO_LOG_LEVEL": "ERROR",
            "MERCATO_DEMO_PRODUCTS": "24",  # the whole assortment shape, a tenth of the size
        }
        | database
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "mercato", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"mercato run exited: {process.stderr.read()[-3000:] if process.stderr else ''}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("mercato run did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def _token(base: str, caller: str) -> str | None:
    if caller == "anonymous":
        return None
    if caller == "customer":
        path, body = (
            "/api/v1/auth/login/password",
            {"identifier": DEMO_CUSTOMER_EMAIL, "password": DEMO_CUSTOMER_PASSWORD},
        )
    else:
        path, body = "/api/v1/staff/auth/login", {"email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD}
    response = httpx.post(f"{base}{path}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["token"]["token"])


def _fuzz(server: str, caller: str, workdir: Path) -> str | None:
    """Run schemathesis as ``caller``; its report when something failed, else None."""
    filters, examples, phases = CALLERS[caller]
    token = _token(server, caller)
    result = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{server}/api/openapi.json",
            "--checks",
            CHECKS,
            "--phases",
            phases,
            "--max-examples",
            str(examples),
            "--seed",
            "20261122",
            "--request-timeout",
            "20",
            *(["--header", f"Authorization: Bearer {token}"] if token else []),
            *filters,
        ],
        cwd=workdir,  # its report folder and example database stay out of the tree
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    generated = re.search(r"(\d+) generated", result.stdout)
    if result.returncode == 0 and generated and int(generated[1]) > 0:
        return None
    return f"=== as {caller} ===\n{result.stdout[-8000:]}{result.stderr[-2000:]}"


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_answer_is_documented_and_none_is_a_server_error(
    server: str, tmp_path: Path, caller: str
) -> None:
    """One caller's run: a test each, so the suite's workers can share the three runs."""
    started = time.monotonic()
    report = _fuzz(server, caller, tmp_path)
    print(f"fuzz as {caller}: {time.monotonic() - started:.0f} s")  # shown by pytest -s or -rP
    assert report is None, report
