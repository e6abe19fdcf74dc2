"""Consent records, data export and account deletion."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import select

from mercato import identity, notify
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import Address, AuthToken, Consent, Customer
from tests.api.identity.test_addresses import ADDRESS
from tests.factories.identity import PASSWORD, emailed_code, signed_in_customer


async def test_lists_the_consent_given_at_registration(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    await client.post("/api/v1/auth/email-codes", json={"email": "dan@example.com", "purpose": "register"})
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "dan@example.com",
            "code": await emailed_code(mail, "dan@example.com"),
            "password": "s3cret-horse",
            "accept_privacy_policy": True,
        },
    )
    headers = {"Authorization": f"Bearer {response.json()['token']['token']}"}

    consents = await client.get("/api/v1/me/consents", headers=headers)

    assert [(c["policy"], c["policy_version"], c["granted"]) for c in consents.json()] == [
        ("privacy_policy", "2026-11-01", True)
    ]


async def test_exports_everything_held_about_the_customer(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client, phone="+8613900000790", email="erin@example.com")
    await client.post("/api/v1/me/addresses", headers=headers, json=ADDRESS)

    response = await client.get("/api/v1/me/export", headers=headers)

    body = response.json()
    assert response.status_code == 200
    assert body["customer"]["id"] == customer.id
    assert (body["customer"]["phone"], body["customer"]["email"]) == ("+8613900000790", "erin@example.com")
    assert [a["recipient"] for a in body["addresses"]] == ["韩梅梅"]
    assert [c["policy"] for c in body["consents"]] == ["privacy_policy"]
    assert len(body["sessions"]) == 1
    assert "password_hash" not in str(body)


async def test_deletion_erases_personal_data_and_keeps_an_anonymous_record(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client, phone="+8613900000791", email="fay@example.com")
    await client.post("/api/v1/me/addresses", headers=headers, json=ADDRESS)

    response = await client.post("/api/v1/me/delete", headers=headers, json={"password": PASSWORD})

    assert response.status_code == 204
    async with uow(write=False) as s:
        row = await s.get(Customer, customer.id)
        addresses = (await s.execute(select(Address))).scalars().all()
        consent = (await s.execute(select(Consent))).scalar_one()
        tokens = (await s.execute(select(AuthToken))).scalars().all()
        events = (
            await s.execute(select(OutboxEvent.name, OutboxEvent.payload).order_by(OutboxEvent.id))
        ).all()
    assert row is not None
    assert (row.phone, row.email, row.name, row.password_hash, row.status) == (
        None,
        None,
        "deleted",
        None,
        "deleted",
    )
    assert addresses == []
    assert (consent.policy_version, consent.ip) == ("2026-11-01", None)
    assert all(t.revoked_at is not None and t.ip is None for t in tokens)
    assert events[-1] == ("identity.customer_deleted.v1", {"customer_id": customer.id})
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    login = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "fay@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401


async def test_deletion_with_an_sms_code(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    customer, headers = await signed_in_customer(client, phone="+8613900000792", password=None)
    await client.post("/api/v1/auth/codes", json={"phone": "13900000792", "purpose": "delete_account"})
    message = sms.last_to("+8613900000792")
    assert message is not None
    code = "".join(ch for ch in message.text if ch.isdigit())[:6]

    response = await client.post("/api/v1/me/delete", headers=headers, json={"code": code})

    assert response.status_code == 204
    async with uow(write=False) as s:
        assert (await s.get(Customer, customer.id)).status == "deleted"  # type: ignore[union-attr]


async def test_deletion_refused_without_confirmation_changes_nothing(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client, phone="+8613900000793")

    wrong = await client.post("/api/v1/me/delete", headers=headers, json={"password": "wrong-pass-1"})
    empty = await client.post("/api/v1/me/delete", headers=headers, json={})

    assert (wrong.status_code, wrong.json()["code"]) == (401, "identity.password_incorrect")
    assert (empty.status_code, empty.json()["code"]) == (401, "identity.confirmation_required")
    async with uow(write=False) as s:
        row = await s.get(Customer, customer.id)
        names = (await s.execute(select(OutboxEvent.name))).scalars().all()
    assert row is not None
    assert (row.phone, row.status) == ("+8613900000793", "active")
    assert names == ["identity.customer_registered.v1"]
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
