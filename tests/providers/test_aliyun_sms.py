"""The Alibaba Cloud SMS client against a local server speaking Dysmsapi's signed RPC API: the
documented signature, delivery of the code template, each refusal mapped to identity's errors,
a forged signature refused by the server, timeouts, and the settings it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from httpx import AsyncClient
from pydantic import SecretStr
from sqlalchemy import func, select

from mercato import identity
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.settings import Settings, get_settings
from mercato.identity.models import OneTimeCode
from mercato.identity.providers.aliyun import signature
from tests.providers.fake_aliyun_sms import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    SIGN_NAME,
    TEMPLATE_CODE,
    FakeAliyunSms,
    pop_signature,
    running_fake_aliyun_sms,
)
from tests.providers.local_server import free_port

#: The worked example of Alibaba's SMS signature documentation (GET, AccessKeySecret testSecret).
DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAliyunSms]:
    async with running_fake_aliyun_sms() as server:
        yield server


@pytest.fixture
async def sender(fake: FakeAliyunSms) -> AsyncIterator[identity.AliyunSms]:
    sms = _client(fake.base_url)
    yield sms
    await sms.aclose()


def _client(base_url: str, secret: str = ACCESS_KEY_SECRET, timeout: float = 10.0) -> identity.AliyunSms:
    return identity.AliyunSms(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=secret,
        sign_name=SIGN_NAME,
        template_code=TEMPLATE_CODE,
        endpoint=base_url,
        timeout=timeout,
    )


def test_the_signature_is_alibabas_documented_example() -> None:
    assert signature("testSecret", "GET", DOC_PARAMS) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert pop_signature("testSecret", "GET", DOC_PARAMS) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


async def test_sends_the_code_template_with_the_signature(
    fake: FakeAliyunSms, sender: identity.AliyunSms
) -> None:
    biz_id = await sender.send(phone="+8613800138000", text="验证码 123456", code="123456")

    assert biz_id == "000001^0"
    assert fake.messages == [
        {
            "biz_id": "000001^0",
            "phone": "13800138000",
            "sign_name": SIGN_NAME,
            "template": TEMPLATE_CODE,
            "code": "123456",
        }
    ]
    sent = fake.requests[0]
    assert sent["TemplateParam"] == '{"code":"123456"}'
    assert (sent["Action"], sent["Version"], sent["Format"], sent["RegionId"]) == (
        "SendSms",
        "2017-05-25",
        "JSON",
        "cn-hangzhou",
    )


async def test_the_callers_signature_name_is_used_when_given(
    fake: FakeAliyunSms, sender: identity.AliyunSms
) -> None:
    with pytest.raises(identity.SmsDeliveryFailed):
        await sender.send(phone="+8613800138000", text="x", code="123456", sign_name="别家商城")

    assert fake.requests[0]["SignName"] == "别家商城"
    assert fake.messages == []


@pytest.mark.parametrize(
    ("_case", "code", "message", "error", "retry_after"),
    [
        (
            "a minute's flow control",
            "isv.BUSINESS_LIMIT_CONTROL",
            "触发分钟级流控Permits:1",
            identity.CodeRateLimited,
            60,
        ),
        (
            "an hour's flow control",
            "isv.BUSINESS_LIMIT_CONTROL",
            "触发小时级流控Permits:5",
            identity.CodeRateLimited,
            3600,
        ),
        (
            "a day's flow control",
            "isv.BUSINESS_LIMIT_CONTROL",
            "触发天级流控Permits:10",
            identity.CodeRateLimited,
            86400,
        ),
        ("the daily limit", "isv.DAY_LIMIT_CONTROL", "触发日发送限额", identity.CodeRateLimited, 86400),
        (
            "too many numbers",
            "isv.MOBILE_COUNT_OVER_LIMIT",
            "手机号码数量超过限制",
            identity.PhoneInvalid,
            None,
        ),
        ("no balance", "isv.AMOUNT_NOT_ENOUGH", "账户余额不足", identity.SmsDeliveryFailed, None),
        ("out of service", "isv.OUT_OF_SERVICE", "业务停机", identity.SmsDeliveryFailed, None),
        ("the provider's own fault", "isp.SYSTEM_ERROR", "系统错误", identity.SmsDeliveryFailed, None),
    ],
)
async def test_refusals_map_to_identity_errors(
    fake: FakeAliyunSms,
    sender: identity.AliyunSms,
    _case: str,
    code: str,
    message: str,
    error: type[DomainError],
    retry_after: int | None,
) -> None:
    fake.fail_with = (code, message)

    with pytest.raises(error) as raised:
        await sender.send(phone="+8613800138000", text="x", code="123456")

    assert raised.value.retry_after == retry_after
    assert fake.messages == []


async def test_an_illegal_number_is_a_phone_error_on_the_field(
    fake: FakeAliyunSms, sender: identity.AliyunSms
) -> None:
    with pytest.raises(identity.PhoneInvalid) as raised:
        await sender.send(phone="+85291234567", text="x", code="123456")

    assert fake.requests[0]["PhoneNumbers"] == "85291234567"
    assert [(f.loc, f.code) for f in raised.value.fields] == [(("body", "phone"), "identity.phone_invalid")]
    assert fake.messages == []


async def test_a_wrong_secret_or_an_unapproved_template_is_a_delivery_failure(fake: FakeAliyunSms) -> None:
    wrong_secret = _client(fake.base_url, secret="not-the-secret")
    unapproved = identity.AliyunSms(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        sign_name=SIGN_NAME,
        template_code="SMS_000000000",
        endpoint=fake.base_url,
    )

    for sms in (wrong_secret, unapproved):
        with pytest.raises(identity.SmsDeliveryFailed):
            await sms.send(phone="+8613800138000", text="x", code="123456")
        await sms.aclose()

    assert len(fake.requests) == 2
    assert fake.messages == []


async def test_the_server_refuses_a_forged_or_replayed_signature(
    fake: FakeAliyunSms, sender: identity.AliyunSms
) -> None:
    signed = sender.signed_params(
        {
            "PhoneNumbers": "13800138000",
            "SignName": SIGN_NAME,
            "TemplateCode": TEMPLATE_CODE,
            "TemplateParam": '{"code":"123456"}',
        }
    )
    async with httpx.AsyncClient(base_url=fake.base_url) as raw:
        forged = await raw.post("/", data={**signed, "PhoneNumbers": "13900139000"})
        genuine = await raw.post("/", data=signed)
        replayed = await raw.post("/", data=signed)
        as_get = await raw.get("/", params={**signed, "SignatureNonce": "other"})

    assert (forged.status_code, forged.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert (genuine.status_code, genuine.json()["Code"]) == (200, "OK")
    assert (replayed.status_code, replayed.json()["Code"]) == (400, "SignatureNonceUsed")
    assert (as_get.status_code, as_get.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert [m["phone"] for m in fake.messages] == ["13800138000"]


async def test_a_slow_provider_times_out_as_a_delivery_failure(fake: FakeAliyunSms) -> None:
    fake.delay = 1.0
    sms = _client(fake.base_url, timeout=0.2)

    with pytest.raises(identity.SmsDeliveryFailed):
        await sms.send(phone="+8613800138000", text="x", code="123456")
    await sms.aclose()

    assert fake.messages == []


async def test_an_unreachable_provider_is_a_delivery_failure() -> None:
    sms = _client(f"http://127.0.0.1:{free_port()}")

    with pytest.raises(identity.SmsDeliveryFailed):
        await sms.send(phone="+8613800138000", text="x", code="123456")
    await sms.aclose()


async def test_the_app_texts_its_codes_through_aliyun_after_commit(
    client: AsyncClient, fake: FakeAliyunSms, sender: identity.AliyunSms
) -> None:
    identity.set_sms_sender(sender)

    response = await client.post("/api/v1/auth/codes", json={"phone": "13900000901", "purpose": "login"})

    assert response.status_code == 202
    assert [m["phone"] for m in fake.messages] == ["13900000901"]
    async with uow() as s:  # the code texted is the one stored
        await identity.verify_code(
            s, destination="+8613900000901", purpose=identity.CodePurpose.login, code=fake.messages[0]["code"]
        )


async def test_flow_control_is_a_429_problem_after_the_code_was_stored(
    client: AsyncClient, fake: FakeAliyunSms, sender: identity.AliyunSms
) -> None:
    fake.fail_with = ("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
    identity.set_sms_sender(sender)

    response = await client.post("/api/v1/auth/codes", json={"phone": "13900000902", "purpose": "login"})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    assert response.json()["code"] == "identity.code_rate_limited"
    assert fake.messages == []
    async with uow(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(OneTimeCode))).scalar_one() == 1


def test_choosing_aliyun_requires_its_settings() -> None:
    bare = Settings(_env_file=None, sms_provider="aliyun")  # type: ignore[call-arg]
    full = Settings(
        _env_file=None,  # type: ignore[call-arg]
        sms_provider="aliyun",
        sms_aliyun_access_key_id=ACCESS_KEY_ID,
        sms_aliyun_access_key_secret=SecretStr(ACCESS_KEY_SECRET),
        sms_aliyun_sign_name=SIGN_NAME,
        sms_aliyun_template_code=TEMPLATE_CODE,
        sms_aliyun_endpoint="dysmsapi.aliyuncs.com",
    )

    assert bare.problems() == [
        "MERCATO_SMS_ALIYUN_ACCESS_KEY_ID: required when MERCATO_SMS_PROVIDER=aliyun",
        "MERCATO_SMS_ALIYUN_ACCESS_KEY_SECRET: required when MERCATO_SMS_PROVIDER=aliyun",
        "MERCATO_SMS_ALIYUN_SIGN_NAME: required when MERCATO_SMS_PROVIDER=aliyun",
        "MERCATO_SMS_ALIYUN_TEMPLATE_CODE: required when MERCATO_SMS_PROVIDER=aliyun",
    ]
    assert full.problems() == ["MERCATO_SMS_ALIYUN_ENDPOINT: must start with https://"]


async def test_the_registry_builds_the_aliyun_client_from_settings(
    monkeypatch: pytest.MonkeyPatch, fake: FakeAliyunSms
) -> None:
    for name, value in {
        "SMS_PROVIDER": "aliyun",
        "SMS_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "SMS_ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "SMS_ALIYUN_SIGN_NAME": SIGN_NAME,
        "SMS_ALIYUN_TEMPLATE_CODE": TEMPLATE_CODE,
        "SMS_ALIYUN_ENDPOINT": fake.base_url,
    }.items():
        monkeypatch.setenv(f"MERCATO_{name}", value)
    get_settings.cache_clear()
    identity.set_sms_sender(None)

    sms = identity.get_sms_sender()
    assert isinstance(sms, identity.AliyunSms)
    await sms.send(phone="+8613800138000", text="x", code="654321")
    await sms.aclose()

    assert [m["code"] for m in fake.messages] == ["654321"]
