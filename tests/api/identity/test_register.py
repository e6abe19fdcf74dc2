"""Registration by mobile + SMS code and by email + emailed code + password."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import identity, notify
from mercato.core import cache
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import Consent, Customer
from tests.factories.identity import emailed_code


async def _counts() -> tuple[int, int, int]:
    async with uow(write=False) as s:
        customers = (await s.execute(select(func.count()).select_from(Customer))).scalar_one()
        consents = (await s.execute(select(func.count()).select_from(Consent))).scalar_one()
        events = (await s.execute(select(func.count()).select_from(OutboxEvent))).scalar_one()
    return customers, consents, events


def _code(sms: identity.ConsoleSms, phone: str) -> str:
    message = sms.last_to(phone)
    assert message is not None
    return "".join(ch for ch in message.text if ch.isdigit())[:6]


async def test_registers_with_phone_and_code(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    sent = await client.post("/api/v1/auth/codes", json={"phone": "138 0013 8001", "purpose": "register"})
    assert sent.status_code == 202
    code = _code(sms, "+8613800138001")

    response = await client.post(
        "/api/v1/auth/register",
        json={"phone": "13800138001", "code": code, "name": "小明", "accept_privacy_policy": True},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["customer"]["phone"] == "+8613800138001"
    assert body["customer"]["name"] == "小明"
    assert body["customer"]["has_password"] is False
    assert body["token"]["token"].startswith("mct_")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']['token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == body["customer"]["id"]
    async with uow(write=False) as s:
        consent = (await s.execute(select(Consent))).scalar_one()
        event = (await s.execute(select(OutboxEvent))).scalar_one()
    assert (consent.policy, consent.policy_version, consent.ip) == (
        "privacy_policy",
        "2026-11-01",
        "203.0.113.7",
    )
    assert event.name == "identity.customer_registered.v1"
    assert event.payload == {"customer_id": body["customer"]["id"], "channel": "phone"}


async def test_registers_with_email_code_and_password(client: AsyncClient, mail: notify.ConsoleEmail) -> None:
    sent = await client.post(
        "/api/v1/auth/email-codes", json={"email": "alice@example.com", "purpose": "register"}
    )
    assert sent.status_code == 202
    code = await emailed_code(mail, "alice@example.com")

    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "Alice@Example.COM",
            "code": code,
            "password": "s3cret-horse",
            "accept_privacy_policy": True,
        },
    )

    assert response.status_code == 201
    assert response.json()["customer"]["email"] == "alice@example.com"
    assert response.json()["customer"]["has_password"] is True


async def test_refuses_without_consent_and_changes_nothing(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.com", "password": "s3cret-horse", "accept_privacy_policy": False},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "identity.consent_required"
    assert response.json()["errors"][0]["loc"] == ["body", "accept_privacy_policy"]
    assert await _counts() == (0, 0, 0)


async def test_refuses_wrong_code_and_counts_the_attempt(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await client.post("/api/v1/auth/codes", json={"phone": "13800138002", "purpose": "register"})
    code = _code(sms, "+8613800138002")
    wrong = "000000" if code != "000000" else "111111"

    responses = [
        await client.post(
            "/api/v1/auth/register",
            json={"phone": "13800138002", "code": wrong, "accept_privacy_policy": True},
        )
        for _ in range(5)
    ]
    sixth = await client.post(
        "/api/v1/auth/register", json={"phone": "13800138002", "code": code, "accept_privacy_policy": True}
    )

    assert [r.json()["code"] for r in responses] == ["identity.code_invalid"] * 5
    assert sixth.status_code == 422
    assert sixth.json()["code"] == "identity.code_attempts_exceeded"
    assert await _counts() == (0, 0, 0)


async def test_refuses_duplicate_phone(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    for attempt in range(2):
        if attempt:
            cache.reset_backends()  # the per-number minute limit would refuse a second code right away
        await client.post("/api/v1/auth/codes", json={"phone": "13800138003", "purpose": "register"})
        code = _code(sms, "+8613800138003")
        response = await client.post(
            "/api/v1/auth/register",
            json={"phone": "13800138003", "code": code, "accept_privacy_policy": True},
        )

    assert response.status_code == 409
    assert response.json()["code"] == "identity.account_exists"
    assert (await _counts())[0] == 1


async def test_rejects_invalid_phone(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/codes", json={"phone": "12345", "purpose": "register"})

    assert response.status_code == 422
    assert response.json()["code"] == "identity.phone_invalid"
    assert response.json()["detail"] == "手机号码无效。"
    assert response.json()["errors"] == [
        {"loc": ["body", "phone"], "code": "identity.phone_invalid", "message": "手机号码无效。"}
    ]
