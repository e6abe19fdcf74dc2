"""`mercato unlock-staff --email E`, run as a user would (a subprocess) against the test
database: a staff member locked out by wrong passwords can sign in again at once, audited."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from httpx import AsyncClient
from sqlalchemy import select

from mercato.core.db import uow
from mercato.identity.models import AuditEntry, Staff
from tests.conftest import DATABASE_URL
from tests.factories.identity import PASSWORD, make_staff

ROOT = Path(__file__).resolve().parents[2]


def unlock_staff(email: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_VAR_DIR": str(tmp_path),
        "MERCATO_DATABASE_URL": DATABASE_URL,
        "MERCATO_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "mercato", "unlock-staff", "--email", email],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _login(client: AsyncClient, password: str) -> int:
    response = await client.post(
        "/api/v1/staff/auth/login", json={"email": "root@example.com", "password": password}
    )
    return response.status_code


async def test_unlock_staff_lets_a_locked_out_superuser_sign_in_again(
    client: AsyncClient, tmp_path: Path
) -> None:
    admin = await make_staff(email="root@example.com", is_superuser=True)
    failures = [await _login(client, "wrong-pass-1") for _ in range(5)]
    locked = await _login(client, PASSWORD)

    result = unlock_staff("Root@Example.com", tmp_path)

    assert failures == [401] * 5
    assert locked == 429
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"unlocked root@example.com (id {admin.id}): failed sign-ins forgotten\n"
    assert await _login(client, PASSWORD) == 200
    async with uow(write=False) as s:
        epoch = (await s.execute(select(Staff.lockout_epoch).where(Staff.id == admin.id))).scalar_one()
        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "staff.unlock"))).scalar_one()
    assert epoch == 1
    assert (entry.action, entry.actor_id, entry.actor_label, entry.object_id) == (
        "staff.unlock",
        None,
        "cli",
        str(admin.id),
    )


async def test_an_unknown_email_is_an_error_and_changes_nothing(tmp_path: Path) -> None:
    await make_staff(email="root@example.com", is_superuser=True)

    result = unlock_staff("nobody@example.com", tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "identity.staff_not_found: Staff member not found.\n"
    async with uow(write=False) as s:
        assert (await s.execute(select(Staff.lockout_epoch))).scalars().all() == [0]
        assert (await s.execute(select(AuditEntry.action))).scalars().all() == ["staff.create"]
