"""The benchmark harness's own parts: reading wrk's report, and the load generator's gateway
notifications, which the shop's sandbox verifier must accept (else W1 measures refusals)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import flows, run, wrk
from mercato.payments.errors import InvalidSignature
from mercato.payments.providers import sandbox

REPORT = """Running 20s test @ http://127.0.0.1:8001
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms    1.01ms  40.12ms   93.10%
    Req/Sec    21.40k     1.90k   25.11k    71.00%
  Latency Distribution
     50%    1.35ms
     75%    1.70ms
     90%    2.10ms
     99%  512.00us
  851234 requests in 20.00s, 120.11MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  42561.70
Transfer/sec:      6.01MB
"""


def test_wrk_report_is_read_with_units_and_errors() -> None:
    result = wrk.parse(REPORT)

    assert result == wrk.WrkResult(requests=851234, rps=42561.70, p50_ms=1.35, p99_ms=0.512, errors=7)
    assert not result.ok


def test_wrk_report_in_seconds_without_errors_is_ok() -> None:
    text = REPORT.replace("1.35ms", "1.20s").replace(
        "  Socket errors: connect 0, read 2, write 0, timeout 1\n", ""
    )
    result = wrk.parse(text.replace("  Non-2xx or 3xx responses: 4\n", ""))

    assert (result.p50_ms, result.errors, result.ok) == (1200.0, 0, True)


def test_anything_but_a_wrk_report_is_refused() -> None:
    with pytest.raises(ValueError, match="not a wrk report"):
        wrk.parse("wrk: unable to connect to 127.0.0.1:1 Connection refused")


def test_the_lua_script_lists_paths_and_refuses_quotes() -> None:
    script = wrk.lua_script(["/api/v1/catalog/products/1", "/api/v1/catalog/products/2"])

    assert 'local paths = {"/api/v1/catalog/products/1", "/api/v1/catalog/products/2"}' in script
    assert "paths[(i % #paths) + 1]" in script
    with pytest.raises(ValueError, match="plain URL paths"):
        wrk.lua_script(['/x"); os.exit() --'])
    with pytest.raises(ValueError, match="plain URL paths"):
        wrk.lua_script([])


def test_the_load_generators_notification_passes_the_shops_verifier() -> None:
    body, headers = flows.notification(
        "s3cret", trade_id="sbx_abc", payment_id=42, amount=12345, currency="CNY"
    )

    sandbox.verify_signature(headers, body, secret="s3cret")
    assert json.loads(body) | {"created_at": None} == {
        "id": "sbx_abc:paid",
        "trade_id": "sbx_abc",
        "out_trade_no": "42",
        "status": "paid",
        "amount": 12345,
        "currency": "CNY",
        "created_at": None,
    }
    with pytest.raises(InvalidSignature):
        sandbox.verify_signature(headers, body, secret="another")


def test_percentile_and_table() -> None:
    assert run.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert run.percentile([float(n) for n in range(1, 101)], 99) == 99.0
    assert run.percentile([], 99) == 0.0
    table = run.table([run.Row("L1 bare ASGI app", "64 conns", "40,000 req/s", "1.4 ms", "4.9 ms", "100 %")])

    assert table.splitlines() == [
        "scenario         | load     | throughput   | p50    | p99    | share of ceiling | notes",
        "-----------------+----------+--------------+--------+--------+------------------+------",
        "L1 bare ASGI app | 64 conns | 40,000 req/s | 1.4 ms | 4.9 ms | 100 %            | ",
    ]


def test_the_profile_summary_counts_each_function_once_per_sample_ours_and_sql_only(tmp_path: Path) -> None:
    profile = tmp_path / "profile.txt"
    profile.write_text(
        "run (uvicorn/server.py:1);handle (mercato/api/v1/cart.py:70);"
        "execute (sqlalchemy/orm/session.py:9) 3\n"
        "run (uvicorn/server.py:1);handle (mercato/api/v1/cart.py:70);handle (mercato/api/v1/cart.py:71) 1\n"
    )

    assert run.summarise_profile(profile) == [
        "100.0 %  handle (mercato/api/v1/cart.py)",
        " 75.0 %  execute (sqlalchemy/orm/session.py)",
    ]
    assert run.summarise_profile(tmp_path / "missing.txt") == ["(no profile recorded)"]
