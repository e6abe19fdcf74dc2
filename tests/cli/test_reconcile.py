"""`mercato payments reconcile FILE --provider NAME`, run in-process with typer's CliRunner:
one line per difference and exit 1, "ok" and exit 0, a clear message and exit 2 for a file it
cannot read (never a traceback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from mercato.cli import app
from mercato.core.db import reset_database
from tests.service.payments.test_reconcile import (
    BEIJING,
    alipay_bill,
    alipay_row,
    at,
    local_payment,
    local_refund,
    stripe_scenario,
    wechat_bill,
    wechat_row,
)

runner = CliRunner()


async def reconcile(path: Path, *options: str) -> Result:
    """Run the command as a user would; it owns its event loop and database engine, so it runs
    in a thread after this test's engine is let go (the next query opens a new one)."""
    await reset_database()
    return await asyncio.to_thread(runner.invoke, app, ["payments", "reconcile", str(path), *options])


async def test_differences_are_listed_one_per_line_with_exit_code_1(tmp_path: Path) -> None:
    data, ids = await stripe_scenario()
    path = tmp_path / "unified_payments.csv"
    path.write_bytes(data)

    result = await reconcile(path, "--provider", "stripe")

    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"amount mismatch: payment {ids['short']} (pi_3Short) row 4: local 50.00 CNY, statement 49.00 CNY",
        f"status mismatch: payment {ids['closed']} (pi_3Closed) row 5: local closed, statement paid",
        f"amount mismatch: payment {ids['lost_refund']} (pi_3Lost) row 7: "
        "local 30.00 CNY refunded, statement 50.00 CNY refunded",
        "missing locally: payment pi_3Stranger row 8: statement 12.34 CNY paid",
        f"missing in statement: payment {ids['unlisted']} (pi_3Unlisted): local 20.00 CNY paid",
    ]
    assert result.stderr == ""


async def test_a_matching_alipay_bill_says_ok_with_exit_code_0(tmp_path: Path) -> None:
    paid = await local_payment("alipay", amount=3580, captured_at=at(10, tz=BEIJING))
    refund = await local_refund(
        paid, "alipay", amount=1000, status="succeeded", completed_at=at(11, tz=BEIJING), ref=None
    )
    path = tmp_path / "20880000000000000156_20261127_业务明细.csv"
    path.write_bytes(
        alipay_bill(
            [
                alipay_row("2026112722001400000000000001", str(paid), "交易", "35.80", "2026-11-27 10:00:05"),
                alipay_row(
                    "2026112722001400000000000001",
                    str(paid),
                    "退款",
                    "-10.00",
                    "2026-11-27 11:00:00",
                    str(refund),
                ),
            ]
        )
    )

    result = await reconcile(path, "--provider", "alipay")

    assert (result.exit_code, result.stdout) == (
        0,
        "ok: 2 statement lines match our records (2026-11-26 16:00 to 2026-11-27 16:00 UTC)\n",
    )


async def test_a_wechat_pay_bill_with_a_payment_we_do_not_have(tmp_path: Path) -> None:
    path = tmp_path / "tradebill.csv"
    path.write_bytes(
        wechat_bill([wechat_row("2026-11-27 10:00:00", "4200000009", "000777", "SUCCESS", "20.00")])
    )

    result = await reconcile(path, "--provider", "wechatpay")

    assert (result.exit_code, result.stdout) == (
        1,
        "missing locally: payment 4200000009 row 2: statement 20.00 CNY paid\n",
    )


@pytest.mark.parametrize(
    ("case", "provider", "message"),
    [
        ("no such file", "stripe", "cannot be read (No such file or directory)"),
        ("another provider's file", "alipay", "This is not a statement of alipay: the columns"),
        ("a provider without statements", "sandbox", "There is no statement format for the provider sandbox"),
        ("not text", "stripe", "The statement is not text: it contains NUL bytes."),
    ],
)
async def test_an_unreadable_file_is_a_clear_message_and_exit_code_2(
    tmp_path: Path, case: str, provider: str, message: str
) -> None:
    path = tmp_path / "statement.csv"
    if case != "no such file":
        data, _ids = await stripe_scenario()
        path.write_bytes(data if case != "not text" else b"\x00\x01PK")

    result = await reconcile(path, "--provider", provider)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_the_provider_option_is_required(tmp_path: Path) -> None:
    result = await reconcile(tmp_path / "statement.csv")

    assert result.exit_code == 2
    assert "Missing option '--provider'" in result.stderr
