"""Run wrk (Debian's package) against a list of paths and read its report.

wrk is a closed-loop load generator written in C: ``connections`` keep one request in flight
each, so req/s and the latency percentiles describe the same load. A small Lua script spreads
the requests over the given paths (each thread from its own offset), so a scenario reads many
products instead of one cached URL.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")

LUA = """
local paths = {%s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.requests > 0


def parse(output: str) -> WrkResult:
    """Read wrk's ``--latency`` report (raises ValueError when it is not one)."""
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    if rate is None or total is None:
        raise ValueError(f"not a wrk report: {output[-400:]!r}")
    percentiles = {int(m[1]): float(m[2]) * _UNITS[m[3]] for m in _PERCENTILE.finditer(output)}
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET.search(output)
    errors = (int(non_2xx[1]) if non_2xx else 0) + (sum(int(n) for n in sockets.groups()) if sockets else 0)
    return WrkResult(
        requests=int(total[1]),
        rps=float(rate[1]),
        p50_ms=percentiles.get(50, 0.0),
        p99_ms=percentiles.get(99, 0.0),
        errors=errors,
    )


def lua_script(paths: list[str]) -> str:
    if not paths or any('"' in p or "\\" in p or "\n" in p for p in paths):
        raise ValueError("paths must be plain URL paths")
    return LUA % ", ".join(f'"{p}"' for p in paths)


def run_wrk(
    base_url: str, paths: list[str], *, connections: int, seconds: int, threads: int = 2, timeout_s: int = 10
) -> WrkResult:
    """Load ``base_url`` + paths for ``seconds`` with ``connections`` open; return the report."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(paths))
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, loopback target
            [
                shutil.which("wrk") or "/usr/bin/wrk",
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                f"--timeout={timeout_s}s",
                "--latency",
                "-s",
                script.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + timeout_s + 30,
            check=False,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return parse(done.stdout)
