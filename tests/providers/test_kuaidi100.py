"""The Kuaidi100 tracking client against a local server speaking Kuaidi100's query and
subscription API, and its reading of pushes signed the documented way."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest

from mercato import fulfillment
from mercato.fulfillment import TrackingStatus as T
from mercato.fulfillment.carriers.kuaidi100 import tracking_status
from tests.providers.fake_kuaidi100 import (
    CUSTOMER,
    KEY,
    SALT,
    FakeKuaidi100,
    md5_upper,
    running_fake_kuaidi100,
    step,
)
from tests.providers.local_server import free_port

CALLBACK = "https://shop.example.com/api/v1/fulfillment/notify/kuaidi100"
PARCEL = fulfillment.Parcel(carrier="yuantong", tracking_number="YT9693083639795", phone_tail="8000")
TIMELINE = [
    step("2026-11-28 09:30:00", "【上海市】快件已到达【浦东新区】，正在派件", "派件", "上海市,浦东新区"),
    step("2026-11-27 18:05:12", "【杭州市】已离开杭州转运中心，发往上海", "在途"),
    step("2026-11-27 15:00:00", "【杭州市】圆通速递 已揽收", "揽收"),
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeKuaidi100]:
    async with running_fake_kuaidi100() as server:
        yield server


def client(base_url: str, *, key: str = KEY, salt: str = SALT) -> fulfillment.Kuaidi100Tracker:
    return fulfillment.Kuaidi100Tracker(
        customer=CUSTOMER, key=key, salt=salt, base_url=base_url, callback_url=CALLBACK
    )


def beijing(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def test_query_is_signed_and_reads_the_timeline(fake: FakeKuaidi100) -> None:
    fake.parcels[("yuantong", "YT9693083639795")] = {"state": "5", "data": TIMELINE}

    found = await client(fake.base_url).query(PARCEL)

    assert fake.refused == []
    assert fake.queries == [{"com": "yuantong", "num": "YT9693083639795", "phone": "8000", "resultv2": "1"}]
    assert (found.carrier, found.tracking_number, found.status, found.carrier_state) == (
        "yuantong",
        "YT9693083639795",
        T.out_for_delivery,
        "5",
    )
    assert [(e.occurred_at, e.status, e.carrier_status, e.location) for e in found.events] == [
        (beijing("2026-11-28 09:30:00"), T.out_for_delivery, "派件", "上海市,浦东新区"),
        (beijing("2026-11-27 18:05:12"), T.in_transit, "在途", ""),
        (beijing("2026-11-27 15:00:00"), T.collected, "揽收", ""),
    ]
    assert found.events[0].occurred_at.utcoffset() == dt.timedelta(0)  # stored in UTC
    assert found.events[2].context == "【杭州市】圆通速递 已揽收"


async def test_a_parcel_without_a_record_yet_has_no_status(fake: FakeKuaidi100) -> None:
    found = await client(fake.base_url).query(PARCEL)

    assert (found.status, found.events) == (None, ())
    assert len(fake.queries) == 1


async def test_a_query_with_the_wrong_key_is_refused_by_the_provider(fake: FakeKuaidi100) -> None:
    with pytest.raises(fulfillment.CarrierUnavailable):
        await client(fake.base_url, key="not-the-key").query(PARCEL)

    assert (fake.refused, fake.queries) == (["query: bad signature"], [])


async def test_subscribing_sends_the_key_the_callback_and_the_salt(fake: FakeKuaidi100) -> None:
    tracker = client(fake.base_url)

    await tracker.subscribe(PARCEL)
    await tracker.subscribe(PARCEL)  # 501 "重复订阅": already followed, not an error

    assert fake.subscriptions == [
        {
            "company": "yuantong",
            "number": "YT9693083639795",
            "key": KEY,
            "parameters": {"callbackurl": CALLBACK, "salt": SALT, "resultv2": "1", "phone": "8000"},
        }
    ]


async def test_a_refused_subscription_is_not_retried(fake: FakeKuaidi100) -> None:
    with pytest.raises(fulfillment.TrackerRefused, match="kuaidi100 600"):
        await client(fake.base_url, key="expired").subscribe(PARCEL)

    assert (fake.refused, fake.subscriptions) == (["subscribe: bad key"], [])


@pytest.mark.parametrize("status_code", [500, 502])
async def test_a_failing_provider_is_unavailable(fake: FakeKuaidi100, status_code: int) -> None:
    fake.fail_with = status_code

    with pytest.raises(fulfillment.CarrierUnavailable):
        await client(fake.base_url).subscribe(PARCEL)
    with pytest.raises(fulfillment.CarrierUnavailable):
        await client(fake.base_url).query(PARCEL)


async def test_an_unreachable_provider_is_unavailable() -> None:
    with pytest.raises(fulfillment.CarrierUnavailable):
        await client(f"http://127.0.0.1:{free_port()}").query(PARCEL)


def push(state: str = "0", data: list[dict[str, object]] | None = None, **extra: object) -> str:
    return json.dumps(
        {
            "status": "polling",
            "message": "",
            **extra,
            "lastResult": FakeKuaidi100.result(
                "yuantong", "YT9693083639795", state=state, data=TIMELINE if data is None else data
            ),
        },
        ensure_ascii=False,
    )


def test_a_push_signed_with_the_salt_is_read() -> None:
    param = push("3", [step("2026-11-28 12:00:00", "已签收，签收人：本人", "签收"), *TIMELINE])

    found = client("http://unused").parse_push({"param": param, "sign": md5_upper(param + SALT)})

    assert (found.tracking_number, found.status, found.stopped) == ("YT9693083639795", T.delivered, False)
    assert [e.status for e in found.events] == [T.delivered, T.out_for_delivery, T.in_transit, T.collected]
    assert client("http://unused").push_answer() == {"result": True, "returnCode": "200", "message": "成功"}


@pytest.mark.parametrize(
    ("_case", "form"),
    [
        ("another salt", {"param": push(), "sign": md5_upper(push() + "guessed")}),
        ("tampered body", {"param": push("3"), "sign": md5_upper(push() + SALT)}),
        ("no signature", {"param": push()}),
        ("lower-case MD5 of something else", {"param": push(), "sign": "0" * 32}),
    ],
)
def test_a_push_that_fails_its_signature_is_refused(_case: str, form: dict[str, str]) -> None:
    with pytest.raises(fulfillment.InvalidPushSignature):
        client("http://unused").parse_push(form)


def test_a_push_is_refused_when_no_salt_is_configured() -> None:
    param = push()

    with pytest.raises(fulfillment.InvalidPushSignature):
        client("http://unused", salt="").parse_push({"param": param, "sign": md5_upper(param)})


@pytest.mark.parametrize(
    ("_case", "param"),
    [
        ("not JSON", "{"),
        ("no lastResult", json.dumps({"status": "polling"})),
        ("a step without time", push(data=[{"context": "x", "status": "在途"}])),
        ("a step without words", push(data=[step("2026-11-28 12:00:00", "")])),
    ],
)
def test_a_signed_but_malformed_push_is_invalid(_case: str, param: str) -> None:
    with pytest.raises(fulfillment.InvalidPush):
        client("http://unused").parse_push({"param": param, "sign": md5_upper(param + SALT)})


def test_an_aborted_push_asks_to_subscribe_again() -> None:
    param = push("0", [], status="abort", message="3天查询无记录")

    found = client("http://unused").parse_push({"param": param, "sign": md5_upper(param + SALT)})

    assert (found.stopped, found.status, found.events) == (True, T.in_transit, ())


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("0", T.in_transit),
        ("1", T.collected),
        ("2", T.exception),
        ("3", T.delivered),
        ("4", T.returned),
        ("5", T.out_for_delivery),
        ("6", T.returning),
        ("7", T.in_transit),
        ("8", T.in_transit),
        ("11", T.in_transit),
        ("13", T.exception),
        ("14", T.refused),
        ("101", T.shipped),
        ("103", T.collected),
        ("204", T.exception),
        ("301", T.delivered),
        ("501", T.out_for_delivery),
        ("1001", T.in_transit),
        ("99", T.in_transit),
    ],
)
def test_kuaidi100_states_map_to_ours(state: str, expected: T) -> None:
    assert tracking_status(state) is expected
