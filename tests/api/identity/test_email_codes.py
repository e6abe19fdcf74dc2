"""Email addresses are proven by an emailed code before an account uses them: registration and
password reset by email, the same answer whether or not the address has an account, and
registration limited per IP address and per address."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import identity, notify
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.core.settings import get_settings
from mercato.identity.models import AuthToken, Consent, Customer, OneTimeCode
from tests.factories.identity import (
    PASSWORD,
    customer_token,
    deliver_emails,
    emailed_code,
    emails_to,
    make_customer,
)

NEW_PASSWORD = "fresh-horse-77"


async def _counts() -> dict[str, int]:
    async with uow(write=False) as s:
        return {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Customer, Consent, OneTimeCode, OutboxEvent, AuthToken)
        }


async def _events() -> list[str]:
    async with uow(write=False) as s:
        return list((await s.execute(select(OutboxEvent.name).order_by(OutboxEvent.id))).scalars())


def _without_request_id(response: Response) -> tuple[int, bytes | dict[str, object]]:
    if response.headers.get("content-type") == "application/problem+json":
        return response.status_code, {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, response.content


async def _ask(client: AsyncClient, email: str, purpose: str = "register") -> Response:
    return await client.post("/api/v1/auth/email-codes", json={"email": email, "purpose": purpose})


async def _register(client: AsyncClient, email: str, code: str | None) -> Response:
    body: dict[str, object] = {"email": email, "password": "s3cret-horse", "accept_privacy_policy": True}
    if code is not None:
        body["code"] = code
    return await client.post("/api/v1/auth/register", json=body)


async def test_an_email_account_needs_the_code_emailed_to_the_address(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    without = await _register(client, "erin@example.com", None)
    before_code = await _counts()
    asked = await _ask(client, "Erin@Example.com")
    code = await emailed_code(mail, "erin@example.com")
    wrong = await _register(client, "erin@example.com", "000000" if code != "000000" else "111111")
    after_wrong = await _counts()

    registered = await _register(client, "erin@example.com", code)

    assert (without.status_code, without.json()["code"]) == (422, "identity.code_required")
    assert without.json()["errors"] == [
        {"loc": ["body", "code"], "code": "identity.code_required", "message": "此项为必填。"}
    ]
    assert before_code == {
        "identity_customer": 0,
        "identity_consent": 0,
        "identity_one_time_code": 0,
        "core_outbox_event": 0,
        "identity_auth_token": 0,
    }
    assert asked.status_code == 202
    assert asked.content == b""
    (email,) = emails_to(mail, "erin@example.com")
    assert email.subject == f"【Mercato】您的注册验证码是 {code}"
    assert "验证码 15 分钟内有效" in email.text
    assert (wrong.status_code, wrong.json()["code"]) == (422, "identity.code_invalid")
    assert after_wrong["identity_customer"] == 0
    assert registered.status_code == 201
    assert registered.json()["customer"]["email"] == "erin@example.com"
    assert registered.json()["customer"]["has_password"] is True
    assert (await _counts())["identity_customer"] == 1
    assert (await _events())[-1] == "identity.customer_registered.v1"


async def test_a_taken_address_gets_the_same_answer_and_its_owner_an_email_instead_of_a_code(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    owner = await make_customer(email="owner@example.com", name="Olga")

    taken = await _ask(client, "owner@example.com")
    fresh = await _ask(client, "nobody@example.com")
    await deliver_emails()
    code = await emailed_code(mail, "nobody@example.com")
    wrong = "000000" if code != "000000" else "111111"
    guess_taken = await _register(client, "owner@example.com", wrong)
    guess_fresh = await _register(client, "nobody@example.com", wrong)

    assert _without_request_id(taken) == _without_request_id(fresh) == (202, b"")
    (notice,) = emails_to(mail, "owner@example.com")
    assert notice.subject == "【Mercato】您已经有账号了"
    assert "Olga，您好" in notice.text
    assert "请直接用密码登录；如果忘记了密码，可以重置密码。" in notice.text
    assert "/account/login" in notice.text
    assert not any(ch.isdigit() for ch in notice.subject)
    assert _without_request_id(guess_taken) == _without_request_id(guess_fresh)
    assert guess_taken.json()["code"] == "identity.code_invalid"
    async with uow(write=False) as s:
        customers = (await s.execute(select(Customer.id, Customer.email))).all()
    assert customers == [(owner.id, "owner@example.com")]


async def test_a_mobile_registration_cannot_claim_an_email_as_well(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await client.post("/api/v1/auth/codes", json={"phone": "13800138021", "purpose": "register"})
    message = sms.last_to("+8613800138021")
    assert message is not None
    code = "".join(ch for ch in message.text if ch.isdigit())[:6]
    before = await _counts()

    response = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": "13800138021",
            "code": code,
            "email": "victim@example.com",
            "accept_privacy_policy": True,
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "identity.one_identifier_only"
    assert response.json()["errors"][0]["loc"] == ["body", "email"]
    assert await _counts() == before


async def test_registration_is_limited_per_ip_address(client: AsyncClient) -> None:
    attempts = [await _register(client, f"user{i}@example.com", "123456") for i in range(10)]
    before = await _counts()

    refused = await _register(client, "user10@example.com", "123456")

    assert [r.json()["code"] for r in attempts] == ["identity.code_expired"] * 10
    assert refused.status_code == 429
    assert refused.json()["code"] == "identity.registration_rate_limited"
    assert 3500 <= int(refused.headers["retry-after"]) <= 3600
    assert await _counts() == before


async def test_registration_is_limited_per_address(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_REGISTRATIONS_PER_IP_HOUR", "100")
    get_settings.cache_clear()
    attempts = [await _register(client, "same@example.com", "123456") for _ in range(10)]

    refused = await _register(client, "SAME@example.com", "123456")
    other = await _register(client, "other@example.com", "123456")

    assert [r.status_code for r in attempts] == [422] * 10
    assert (refused.status_code, refused.json()["code"]) == (429, "identity.registration_rate_limited")
    assert (other.status_code, other.json()["code"]) == (422, "identity.code_expired")


async def test_a_password_is_reset_with_an_emailed_code(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    customer = await make_customer(email="fay@example.com", name="Fay")
    old_token = await customer_token(customer.id)

    asked = await _ask(client, "fay@example.com", "reset_password")
    code = await emailed_code(mail, "fay@example.com")
    reset = await client.post(
        "/api/v1/auth/password-reset",
        json={"email": "FAY@example.com", "code": code, "new_password": NEW_PASSWORD},
    )

    assert asked.status_code == 202
    (email,) = emails_to(mail, "fay@example.com")
    assert email.subject == f"【Mercato】您的密码重置验证码是 {code}"
    assert "Fay，您好" in email.text
    assert reset.status_code == 204
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"})
    assert me.status_code == 401
    old = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "fay@example.com", "password": PASSWORD}
    )
    new = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "fay@example.com", "password": NEW_PASSWORD}
    )
    assert (old.status_code, new.status_code) == (401, 200)


async def test_a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    await make_customer(email="known@example.com")

    known = await _ask(client, "known@example.com", "reset_password")
    unknown = await _ask(client, "unknown@example.com", "reset_password")
    code = await emailed_code(mail, "known@example.com")
    wrong = "000000" if code != "000000" else "111111"
    before = await _counts()
    guesses = [
        await client.post(
            "/api/v1/auth/password-reset", json={"email": email, "code": wrong, "new_password": NEW_PASSWORD}
        )
        for email in ("known@example.com", "unknown@example.com")
    ]

    assert _without_request_id(known) == _without_request_id(unknown) == (202, b"")
    assert [m.recipient for m in mail.sent] == ["known@example.com"]
    assert _without_request_id(guesses[0]) == _without_request_id(guesses[1])
    assert guesses[0].json()["code"] == "identity.code_invalid"
    assert await _counts() == before


async def test_email_codes_are_only_for_registration_and_resets(client: AsyncClient) -> None:
    before = await _counts()

    response = await _ask(client, "someone@example.com", "login")

    assert response.status_code == 422
    assert response.json()["code"] == "core.validation_failed"
    assert response.json()["errors"][0]["loc"] == ["body", "purpose"]
    assert await _counts() == before
