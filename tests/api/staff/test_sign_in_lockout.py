"""Staff sign-in lockout counts failures per account and IP address, so guessing from one
address (or from many) never locks a member (a superuser included) out of another; a superuser
can unlock a member (audited)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.identity.models import AuditEntry, AuthToken, Staff
from tests.factories.identity import PASSWORD, make_staff, staff_headers

WRONG = "wrong-pass-1"


@asynccontextmanager
async def from_address(app: object, ip: str) -> AsyncIterator[AsyncClient]:
    """A client calling from ``ip``."""
    transport = ASGITransport(app=app, client=(ip, 50000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield other


async def _login(client: AsyncClient, email: str, password: str) -> Response:
    return await client.post("/api/v1/staff/auth/login", json={"email": email, "password": password})


async def _tokens() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(AuthToken))).scalar_one()


async def _epoch_and_audit(staff_id: int) -> tuple[int, list[str]]:
    async with uow(write=False) as s:
        epoch = (await s.execute(select(Staff.lockout_epoch).where(Staff.id == staff_id))).scalar_one()
        actions = list((await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    return epoch, actions


async def test_guessing_from_one_address_does_not_lock_a_superuser_out_of_another(
    app: object, client: AsyncClient
) -> None:
    admin = await make_staff(email="root@example.com", is_superuser=True)

    failures = [await _login(client, "root@example.com", WRONG) for _ in range(5)]
    locked = await _login(client, "root@example.com", PASSWORD)
    async with from_address(app, "198.51.100.20") as office:
        elsewhere = await _login(office, "root@example.com", PASSWORD)

    assert [r.status_code for r in failures] == [401] * 5
    assert (locked.status_code, locked.json()["code"]) == (429, "identity.account_locked")
    assert 1 <= int(locked.headers["retry-after"]) <= 900
    assert elsewhere.status_code == 200
    assert elsewhere.json()["staff"]["id"] == admin.id
    assert await _tokens() == 1


async def test_guessing_from_many_addresses_does_not_lock_the_member_out(
    app: object, client: AsyncClient
) -> None:
    await make_staff(email="clerk@example.com", permissions=["orders.read"])
    for i in range(6):  # 30 failures in all, six times what locks one address
        async with from_address(app, f"198.51.100.{i + 1}") as guesser:
            assert [(await _login(guesser, "clerk@example.com", WRONG)).status_code for _ in range(5)] == [
                401
            ] * 5

    async with from_address(app, "192.0.2.50") as office:
        signed_in = await _login(office, "clerk@example.com", PASSWORD)

    assert signed_in.status_code == 200
    assert await _tokens() == 1


async def test_a_superuser_unlocks_a_member_locked_from_an_address(client: AsyncClient) -> None:
    member = await make_staff(email="clerk@example.com", permissions=["orders.read"])
    boss = await make_staff(email="boss@example.com", is_superuser=True)
    for _ in range(5):
        await _login(client, "clerk@example.com", WRONG)

    locked = await _login(client, "clerk@example.com", PASSWORD)
    unlocked = await client.post(
        f"/api/v1/staff/members/{member.id}/unlock", headers=await staff_headers(boss.id)
    )
    after = await _login(client, "clerk@example.com", PASSWORD)

    assert (locked.status_code, locked.json()["code"]) == (429, "identity.account_locked")
    assert unlocked.status_code == 200
    assert unlocked.json()["email"] == "clerk@example.com"
    assert after.status_code == 200
    epoch, actions = await _epoch_and_audit(member.id)
    assert epoch == 1
    assert actions[-1] == "staff.unlock"
    async with uow(write=False) as s:
        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "staff.unlock"))).scalar_one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (boss.id, "staff", str(member.id))
    assert (entry.before, entry.after) == (
        {"email": "clerk@example.com", "lockout_epoch": 0},
        {"email": "clerk@example.com", "lockout_epoch": 1},
    )


async def test_only_a_superuser_unlocks_and_a_refusal_changes_nothing(client: AsyncClient) -> None:
    member = await make_staff(email="clerk@example.com", permissions=["orders.read"])
    manager = await make_staff(email="manager@example.com", permissions=["staff.manage", "orders.read"])
    for _ in range(5):
        await _login(client, "clerk@example.com", WRONG)
    before = await _epoch_and_audit(member.id)

    refused = await client.post(
        f"/api/v1/staff/members/{member.id}/unlock", headers=await staff_headers(manager.id)
    )
    still_locked = await _login(client, "clerk@example.com", PASSWORD)

    assert (refused.status_code, refused.json()["code"]) == (403, "identity.superuser_required")
    assert await _epoch_and_audit(member.id) == before
    assert (still_locked.status_code, still_locked.json()["code"]) == (429, "identity.account_locked")
