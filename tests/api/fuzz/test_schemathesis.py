"""Schemathesis fuzzes every operation of the OpenAPI document against a live server: whatever it
sends, the answer is never a 5xx. Runs once anonymous-but-signed-in as the demo customer and once
as the demo staff superuser, so authenticated routes are fuzzed too."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mercato run` on a fresh embedded database, as a user starts it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_VAR_DIR": str(tmp_path_factory.mktemp("fuzz")),
        "MERCATO_PORT": str(port),
        "MERCATO_LOG_LEVEL": "ERROR",
        "MERCATO_DEMO_PRODUCTS": "24",  # the whole assortment shape, a tenth of the size
    }
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
        deadline = time.monotonic() + 90
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


def _token(base: str, path: str, body: dict[str, str]) -> str:
    response = httpx.post(f"{base}{path}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["token"]["token"])


@pytest.mark.parametrize("_case", ["customer", "staff"])
def test_no_input_produces_a_server_error(server: str, _case: str) -> None:
    if _case == "customer":
        token = _token(
            server,
            "/api/v1/auth/login/password",
            {"identifier": DEMO_CUSTOMER_EMAIL, "password": DEMO_CUSTOMER_PASSWORD},
        )
    else:
        token = _token(
            server, "/api/v1/staff/auth/login", {"email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD}
        )

    result = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{server}/api/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "12",
            "--seed",
            "20261122",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "20",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
