"""The current-password checks of a password change and of account deletion are limited per
account: after five wrong passwords in 15 minutes every check is refused (429 with Retry-After),
the right password included, and nothing changes."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import AuthToken, Customer
from tests.factories.identity import PASSWORD, customer_token, signed_in_customer

WRONG = "wrong-pass-1"


async def _state(customer_id: int) -> tuple[str | None, str, int, list[str]]:
    """The account's password hash and status, its live tokens and the outbox."""
    async with uow(write=False) as s:
        row = await s.get(Customer, customer_id)
        assert row is not None
        live = (
            await s.execute(select(func.count()).select_from(AuthToken).where(AuthToken.revoked_at.is_(None)))
        ).scalar_one()
        events = list((await s.execute(select(OutboxEvent.name).order_by(OutboxEvent.id))).scalars())
    return row.password_hash, row.status, live, events


async def test_a_password_change_refuses_even_the_right_password_after_five_wrong_ones(
    client: AsyncClient,
) -> None:
    customer, headers = await signed_in_customer(client, email="gus@example.com")
    await customer_token(customer.id)  # another session, which a change would end
    wrong = [
        await client.post(
            "/api/v1/auth/password",
            headers=headers,
            json={"current_password": WRONG, "new_password": "brand-new-77"},
        )
        for _ in range(5)
    ]
    before = await _state(customer.id)

    right = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "brand-new-77"},
    )

    assert [(r.status_code, r.json()["code"]) for r in wrong] == [(401, "identity.password_incorrect")] * 5
    assert right.status_code == 429
    assert right.json()["code"] == "identity.password_attempts_exceeded"
    assert right.json()["detail"].startswith("密码错误次数过多，请 ")
    assert 1 <= int(right.headers["retry-after"]) <= 900
    assert await _state(customer.id) == before
    assert before[2] == 2
    login = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "gus@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_deletion_shares_the_limit_and_erases_nothing_once_it_is_reached(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client, phone="+8613900000795")
    changes = [
        await client.post(
            "/api/v1/auth/password",
            headers=headers,
            json={"current_password": WRONG, "new_password": "brand-new-77"},
        )
        for _ in range(3)
    ]
    deletions = [
        await client.post("/api/v1/me/delete", headers=headers, json={"password": WRONG}) for _ in range(2)
    ]
    before = await _state(customer.id)

    right = await client.post("/api/v1/me/delete", headers=headers, json={"password": PASSWORD})

    assert [r.status_code for r in changes + deletions] == [401] * 5
    assert (right.status_code, right.json()["code"]) == (429, "identity.password_attempts_exceeded")
    assert 1 <= int(right.headers["retry-after"]) <= 900
    assert await _state(customer.id) == before
    assert before[1] == "active"
    assert "identity.customer_deleted.v1" not in before[3]
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200


async def test_the_limit_is_per_account(client: AsyncClient) -> None:
    _first, first = await signed_in_customer(client, phone="+8613900000796")
    _second, second = await signed_in_customer(client, phone="+8613900000797")
    for _ in range(5):
        await client.post("/api/v1/me/delete", headers=first, json={"password": WRONG})

    other = await client.post(
        "/api/v1/auth/password",
        headers=second,
        json={"current_password": PASSWORD, "new_password": "brand-new-77"},
    )

    assert other.status_code == 200
