"""The Twilio SMS client against a local server speaking Twilio's Messages API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import identity
from mercato.core.db import uow
from mercato.identity.models import OneTimeCode
from tests.providers.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, running_fake_twilio
from tests.providers.local_server import free_port


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio() as server:
        yield server


def _client(base_url: str, token: str = AUTH_TOKEN) -> identity.TwilioSms:
    return identity.TwilioSms(
        account_sid=ACCOUNT_SID, auth_token=token, from_number="+15005550006", base_url=base_url
    )


async def test_sends_a_message(fake: FakeTwilio) -> None:
    sms = _client(fake.base_url)

    sid = await sms.send(phone="+8613900000900", text="code 123456")
    await sms.aclose()

    assert sid == "SM" + "1".zfill(32)
    assert fake.messages == [
        {"sid": sid, "to": "+8613900000900", "from": "+15005550006", "body": "code 123456"}
    ]


@pytest.mark.parametrize(
    ("_case", "token", "fail_with"), [("bad credentials", "wrong", None), ("provider error", AUTH_TOKEN, 500)]
)
async def test_refusal_is_a_delivery_failure(
    fake: FakeTwilio, _case: str, token: str, fail_with: int | None
) -> None:
    fake.fail_with = fail_with
    sms = _client(fake.base_url, token)

    with pytest.raises(identity.SmsDeliveryFailed):
        await sms.send(phone="+8613900000900", text="x")
    await sms.aclose()

    assert fake.messages == []


async def test_unreachable_provider_is_a_delivery_failure() -> None:
    sms = _client(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(identity.SmsDeliveryFailed):
        await sms.send(phone="+8613900000900", text="x")
    await sms.aclose()


async def test_the_app_texts_codes_through_twilio_after_commit(client: AsyncClient, fake: FakeTwilio) -> None:
    identity.set_sms_sender(_client(fake.base_url))

    response = await client.post("/api/v1/auth/codes", json={"phone": "13900000901", "purpose": "login"})

    assert response.status_code == 202
    assert [m["to"] for m in fake.messages] == ["+8613900000901"]
    assert "验证码" in fake.messages[0]["body"]


async def test_provider_failure_is_a_503_problem(client: AsyncClient, fake: FakeTwilio) -> None:
    fake.fail_with = 503
    identity.set_sms_sender(_client(fake.base_url))

    response = await client.post("/api/v1/auth/codes", json={"phone": "13900000902", "purpose": "login"})

    assert response.status_code == 503
    assert response.json()["code"] == "identity.sms_delivery_failed"
    assert response.json()["detail"] == "短信发送失败，请稍后重试。"
    async with uow(write=False) as s:
        # the code row committed before the send; nobody received it and it expires in 5 minutes
        assert (await s.execute(select(func.count()).select_from(OneTimeCode))).scalar_one() == 1
