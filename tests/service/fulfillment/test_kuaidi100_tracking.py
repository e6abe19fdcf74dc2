"""Tracking with Kuaidi100: a parcel is subscribed after the commit (retried by the job when the
provider fails), pushes build the timeline once, signed for (签收) delivers the part, and a forged
or unknown push changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from mercato import fulfillment, orders
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.settings import Settings
from mercato.fulfillment import TrackingStatus as T
from tests.providers.fake_kuaidi100 import SALT, FakeKuaidi100, running_fake_kuaidi100, step, use_fake
from tests.service.fulfillment.factories import counts, outbox, read_order, ship, shipment, split_order, stock

NUMBER = "YT9693083639795"
COLLECTED = step("2026-11-27 15:00:00", "【杭州市】圆通速递 已揽收", "揽收")
LEFT = step("2026-11-27 18:05:12", "【杭州市】已离开杭州转运中心，发往上海", "在途")
SIGNED = step("2026-11-28 12:00:00", "【上海市】已签收，签收人：本人", "签收")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeKuaidi100]:
    async with running_fake_kuaidi100() as server:
        use_fake(monkeypatch, server)
        yield server


async def push(form: dict[str, str]) -> dict[str, object]:
    async with uow() as s:
        return await fulfillment.handle_tracking_push(s, tracker="kuaidi100", form=form)


async def test_a_shipment_is_subscribed_and_pushes_build_its_timeline_once(fake: FakeKuaidi100) -> None:
    split = await split_order()

    shipped = await ship(split.order.id, split.near_part, NUMBER)
    subscribed = await shipment(shipped.id)
    first = await push(fake.push_form("yuantong", NUMBER, state="1", data=[COLLECTED]))
    after_first = await counts()
    second = await push(fake.push_form("yuantong", NUMBER, state="0", data=[LEFT, COLLECTED]))
    after_second = await counts()
    repeated = await push(fake.push_form("yuantong", NUMBER, state="0", data=[LEFT, COLLECTED]))

    assert fake.subscriptions == [
        {
            "company": "yuantong",
            "number": NUMBER,
            "key": "fake-kuaidi100-key",
            "parameters": {
                "callbackurl": "https://shop.example.com/api/v1/fulfillment/notify/kuaidi100",
                "salt": SALT,
                "resultv2": "1",
                "phone": "8000",  # the last four digits of the recipient's phone only
            },
        }
    ]
    assert (subscribed.tracker, subscribed.subscribed_at is not None, subscribed.last_error) == (
        "kuaidi100",
        True,
        "",
    )
    assert first == second == repeated == {"result": True, "returnCode": "200", "message": "成功"}
    assert after_second["fulfillment_tracking_event"] - after_first["fulfillment_tracking_event"] == 1
    assert await counts() == after_second  # the repeat added nothing, not even an event
    tracked = await shipment(shipped.id)
    assert tracked.status is T.in_transit
    assert [(e.context, e.status, e.carrier_status, e.source) for e in tracked.events] == [
        ("【杭州市】已离开杭州转运中心，发往上海", T.in_transit, "在途", "kuaidi100"),
        ("【杭州市】圆通速递 已揽收", T.collected, "揽收", "kuaidi100"),
    ]
    assert [(h.to_status, h.actor_label) for h in tracked.history] == [
        ("shipped", "warehouse@example.com"),
        ("collected", "carrier:kuaidi100"),
        ("in_transit", "carrier:kuaidi100"),
    ]
    assert [(p["status"], p["added_events"]) for _n, p in await outbox("fulfillment.tracking")] == [
        ("collected", 1),
        ("in_transit", 1),
    ]


async def test_signed_for_delivers_the_part_and_a_late_older_push_moves_nothing(fake: FakeKuaidi100) -> None:
    split = await split_order()
    near = await ship(split.order.id, split.near_part, NUMBER)
    far = await ship(split.order.id, split.far_part, "YT9693083639796")

    await push(fake.push_form("yuantong", NUMBER, state="3", data=[SIGNED, LEFT, COLLECTED]))
    halfway = await read_order(split.order.id)
    await push(fake.push_form("yuantong", NUMBER, state="0", data=[LEFT, COLLECTED]))  # delivered late
    await push(fake.push_form("yuantong", "YT9693083639796", state="3", data=[SIGNED]))

    delivered = await shipment(near.id)
    assert (delivered.status, delivered.delivered_at is not None, len(delivered.events)) == (
        T.delivered,
        True,
        3,
    )
    assert [h.to_status for h in delivered.history] == ["shipped", "delivered"]
    assert ([s.status for s in halfway.sub_orders], halfway.status) == (
        ["delivered", "shipped"],
        orders.OrderStatus.shipped,
    )
    done = await read_order(split.order.id)
    assert done.status is orders.OrderStatus.delivered
    assert [h.reason for h in done.history if h.to_status == "delivered"] == ["signed for (kuaidi100)"] * 3
    assert (await shipment(far.id)).status is T.delivered
    assert [await stock(split.red, split.near), await stock(split.black, split.far)] == [(3, 0), (4, 0)]


async def test_a_forged_or_unknown_push_changes_nothing(fake: FakeKuaidi100) -> None:
    split = await split_order()
    shipped = await ship(split.order.id, split.near_part, NUMBER)
    before = await counts()

    with pytest.raises(fulfillment.InvalidPushSignature):
        await push(fake.push_form("yuantong", NUMBER, state="3", data=[SIGNED], salt="guessed"))
    with pytest.raises(fulfillment.UnknownTrackingNumber):
        await push(fake.push_form("yuantong", "YT0000000000", state="3", data=[SIGNED], salt=SALT))

    assert await counts() == before
    assert (await shipment(shipped.id)).status is T.shipped
    assert (await read_order(split.order.id)).status is orders.OrderStatus.partially_shipped


async def test_a_failed_subscription_is_retried_by_the_job(fake: FakeKuaidi100) -> None:
    split = await split_order()
    fake.fail_with = 500

    shipped = await ship(split.order.id, split.near_part, NUMBER)  # the staff member's request succeeds
    failed = await shipment(shipped.id)
    not_due = await fulfillment.subscribe_due_shipments()
    fake.fail_with = None
    clock.advance(dt.timedelta(minutes=2))
    retried = await fulfillment.subscribe_due_shipments()
    again = await fulfillment.subscribe_due_shipments()

    assert (failed.subscribed_at, failed.last_error) == (None, "fulfillment.carrier_unavailable")
    assert (not_due, retried, again) == (0, 1, 0)
    assert [s["number"] for s in fake.subscriptions] == [NUMBER]
    assert (await shipment(shipped.id)).subscribed_at is not None


async def test_a_parcel_the_provider_gave_up_on_is_subscribed_again_later(fake: FakeKuaidi100) -> None:
    split = await split_order()
    shipped = await ship(split.order.id, split.near_part, NUMBER)

    await push(
        fake.push_form("yuantong", NUMBER, state="0", data=[], status="abort", message="3天查询无记录")
    )
    stopped = await shipment(shipped.id)
    soon = await fulfillment.subscribe_due_shipments()
    clock.advance(dt.timedelta(minutes=30))
    later = await fulfillment.subscribe_due_shipments()

    assert stopped.subscribed_at is None
    assert (soon, later) == (0, 1)  # Kuaidi100 answers 501 (already followed): subscribed again
    assert (await shipment(shipped.id)).subscribed_at is not None


async def test_refreshing_asks_the_provider_for_the_timeline(fake: FakeKuaidi100) -> None:
    split = await split_order()
    shipped = await ship(split.order.id, split.near_part, NUMBER)
    fake.parcels[("yuantong", NUMBER)] = {"state": "0", "data": [LEFT, COLLECTED]}

    refreshed = await fulfillment.refresh_tracking(shipment_id=shipped.id)

    assert fake.queries == [{"com": "yuantong", "num": NUMBER, "phone": "8000", "resultv2": "1"}]
    assert (refreshed.status, [e.context for e in refreshed.events]) == (
        T.in_transit,
        [LEFT["context"], COLLECTED["context"]],
    )


async def test_parcels_of_untracked_carriers_are_not_subscribed(fake: FakeKuaidi100) -> None:
    split = await split_order()

    shipped = await ship(split.order.id, split.near_part, "VAN-000001", carrier="shop")

    assert (shipped.tracker, fake.subscriptions) == ("manual", [])
    assert await fulfillment.subscribe_due_shipments() == 0


def test_kuaidi100_needs_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_TRACKING_PROVIDER", "kuaidi100")
    monkeypatch.setenv("MERCATO_KUAIDI100_KEY", "a-key")
    wanted = Settings().problems()
    monkeypatch.setenv("MERCATO_TRACKING_PROVIDER", "pigeon-post")
    unknown = Settings().problems()

    assert [p for p in wanted if "KUAIDI100" in p] == [
        "MERCATO_KUAIDI100_CUSTOMER: required when MERCATO_TRACKING_PROVIDER=kuaidi100",
        "MERCATO_KUAIDI100_SALT: required when MERCATO_TRACKING_PROVIDER=kuaidi100",
    ]
    assert [p for p in unknown if "TRACKING" in p] == [
        "MERCATO_TRACKING_PROVIDER: choose 'manual' or 'kuaidi100'"
    ]
