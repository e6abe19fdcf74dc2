"""The console's order pages: the list with filters and search, the detail with the customer
masked, and the actions behind their permissions and the CSRF check: ship a sub-order, record a
parcel's tracking by hand, mark it delivered or ask the tracking provider again, cancel an unpaid
order, refund a payment."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import fulfillment, identity, orders
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.fulfillment.models import Shipment
from mercato.identity.models import AuditEntry
from tests.api.aftersales.support import Purchase, bought
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import lift_unpaid_limits, place
from tests.providers.fake_kuaidi100 import FakeKuaidi100, running_fake_kuaidi100, step, use_fake
from tests.service.aftersales.support import read_order
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")


def numbers_in(page: str) -> list[str]:
    return re.findall(r'<a href="/admin/orders/([^"]+)">', page)


async def shipment_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Shipment))).scalar_one()


async def audit_actions() -> list[str]:
    async with uow(write=False) as s:
        return list((await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def paid_purchase(client: AsyncClient) -> Purchase:
    purchase = await bought(client, deliver=False)
    assert purchase.order.status is orders.OrderStatus.paid
    return purchase


async def test_the_list_filters_by_status_delivery_day_sku_and_search(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    unpaid = await place(purchase.order.customer_id, (purchase.red, 1))
    other = await make_customer()
    await place(other.id, (purchase.red, 1))
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    today = dt.datetime.now(get_settings().tz).date()
    paid_number = purchase.order.number

    everything = await client.get("/admin/orders/", headers=EN)
    paid_only = await client.get("/admin/orders/", params={"status": "paid"})
    unpaid_only = await client.get("/admin/orders/", params={"status": "pending_payment"})
    by_number = await client.get("/admin/orders/", params={"q": paid_number})
    by_title = await client.get("/admin/orders/", params={"q": purchase.line.title[:3]})
    by_sku = await client.get("/admin/orders/", params={"sku": purchase.line.sku_code})
    unknown_sku = await client.get("/admin/orders/", params={"sku": "NO-SUCH-SKU"}, headers=EN)
    express = await client.get("/admin/orders/", params={"delivery": "express"}, headers=EN)
    placed_today = await client.get(
        "/admin/orders/", params={"placed_from": today.isoformat(), "placed_to": today.isoformat()}
    )
    tomorrow = await client.get(
        "/admin/orders/", params={"placed_from": (today + dt.timedelta(days=1)).isoformat()}, headers=EN
    )
    bad = await client.get(
        "/admin/orders/", params={"placed_from": "27/11/2026", "status": "lost"}, headers=EN
    )

    assert everything.status_code == 200
    assert len(numbers_in(everything.text)) == 3
    assert numbers_in(paid_only.text) == [paid_number]
    assert len(numbers_in(unpaid_only.text)) == 2
    assert unpaid.number in numbers_in(unpaid_only.text)
    assert numbers_in(by_number.text) == [paid_number]
    assert len(numbers_in(by_title.text)) == 3
    assert len(numbers_in(by_sku.text)) == 3
    assert numbers_in(unknown_sku.text) == []
    assert "No orders match." in unknown_sku.text
    assert numbers_in(express.text) == []
    assert len(numbers_in(placed_today.text)) == 3
    assert numbers_in(tomorrow.text) == []
    assert bad.status_code == 422
    assert 'id="filter-placed_from-error">Enter a date such as 2026-11-27.</p>' in bad.text
    assert 'id="filter-status-error">Choose one of the statuses.</p>' in bad.text
    assert numbers_in(bad.text) == []


async def test_the_list_pages(client: AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    lift_unpaid_limits(monkeypatch)
    customer = await make_customer()
    red, _black = await listed_skus(stock=50)
    for _ in range(21):
        await place(customer.id, (red, 1))
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    first = await client.get("/admin/orders/", params={"status": "pending_payment"})
    match = re.search(
        r'href="(/admin/orders/\?status=pending_payment&amp;cursor=[^"]+)" rel="next"', first.text
    )
    assert match is not None
    second = await client.get(match.group(1).replace("&amp;", "&"))

    assert len(numbers_in(first.text)) == 20
    assert len(numbers_in(second.text)) == 1
    assert 'rel="next"' not in second.text


async def test_the_detail_shows_lines_payment_timeline_with_the_customer_masked(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    page = await client.get(f"/admin/orders/{purchase.order.number}", headers=EN)

    assert page.status_code == 200
    assert "139****0000" in page.text
    assert "13900000000" not in page.text
    assert purchase.line.title in page.text
    assert f"<code>{purchase.line.sku_code}</code>" in page.text
    assert f"#{purchase.order.payment_id}" in page.text
    assert 'data-order-status="paid"' in page.text
    assert "Awaiting payment → <strong>Paid, to ship</strong>" in page.text
    assert 'action="/admin/orders/' not in page.text  # no action allowed without the permissions
    missing = await client.get("/admin/orders/NOPE-1", headers=EN)
    assert missing.status_code == 404


async def test_shipping_a_sub_order_through_the_page(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url, headers=EN)
    sub = purchase.order.sub_orders[0]
    assert f'id="ship-{sub.id}-carrier"' in page.text
    form = {
        "csrf_token": csrf_of(page),
        "sub_order_id": str(sub.id),
        "carrier": fulfillment.list_carriers()[0].code,
    }

    bad = await client.post(f"{url}/ship", data={**form, "tracking_number": "x"}, headers=EN)
    assert bad.status_code == 422
    assert f'<p class="field-error" id="ship-{sub.id}-tracking_number-error">' in bad.text
    assert await shipment_count() == 0

    shipped = await client.post(f"{url}/ship", data={**form, "tracking_number": "sf1234567890"})

    assert shipped.status_code == 303
    assert shipped.headers["location"] == f"{url}?notice=shipped"
    order = await read_order(purchase.order.id)
    assert order.status is orders.OrderStatus.shipped
    assert await shipment_count() == 1
    after = await client.get(shipped.headers["location"], headers=EN)
    assert "The sub-order was shipped." in after.text
    assert "<code>SF1234567890</code>" in after.text
    assert f'id="ship-{sub.id}-carrier"' not in after.text
    assert "shipment.create" in await audit_actions()


async def test_shipping_needs_the_permission_and_the_csrf_token(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url)
    sub = purchase.order.sub_orders[0]
    form = {"sub_order_id": str(sub.id), "carrier": "sf", "tracking_number": "SF1234567890"}

    refused = await client.post(f"{url}/ship", data={**form, "csrf_token": csrf_of(page)}, headers=EN)
    no_token = await client.post(f"{url}/ship", data=form, headers=EN)
    wrong_token = await client.post(f"{url}/ship", data={**form, "csrf_token": "forged"}, headers=EN)

    assert refused.status_code == 403
    assert "You need the fulfillment.write permission." in refused.text
    assert no_token.status_code == 403
    assert wrong_token.status_code == 403
    assert await shipment_count() == 0
    assert (await read_order(purchase.order.id)).status is orders.OrderStatus.paid


async def test_cancelling_an_unpaid_order_with_a_reason(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    unpaid = await place(purchase.order.customer_id, (purchase.red, 1))
    await staff_sign_in(client, "ops@example.com", "orders.read", "orders.write")
    url = f"/admin/orders/{unpaid.number}"
    page = await client.get(url, headers=EN)

    blank = await client.post(f"{url}/cancel", data={"csrf_token": csrf_of(page), "reason": " "}, headers=EN)
    assert blank.status_code == 422
    assert 'id="cancel-reason-error"' in blank.text
    assert (await read_order(unpaid.id)).status is orders.OrderStatus.pending_payment
    paid_page = await client.get(f"/admin/orders/{purchase.order.number}", headers=EN)
    assert f'action="/admin/orders/{purchase.order.number}/cancel"' not in paid_page.text

    done = await client.post(
        f"{url}/cancel", data={"csrf_token": csrf_of(page), "reason": "<script>alert(1)</script>"}
    )

    assert done.status_code == 303
    order = await read_order(unpaid.id)
    assert order.status is orders.OrderStatus.cancelled
    after = await client.get(done.headers["location"], headers=EN)
    assert "The order was cancelled." in after.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in after.text
    assert "<script>alert(1)</script>" not in after.text


async def test_cancelling_needs_orders_write(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    unpaid = await place(purchase.order.customer_id, (purchase.red, 1))
    await staff_sign_in(client, "clerk@example.com", "orders.read", "fulfillment.write")
    url = f"/admin/orders/{unpaid.number}"
    page = await client.get(url)

    refused = await client.post(f"{url}/cancel", data={"csrf_token": csrf_of(page), "reason": "x"})

    assert refused.status_code == 403
    assert (await read_order(unpaid.id)).status is orders.OrderStatus.pending_payment


async def test_refunding_part_of_the_payment(client: AsyncClient) -> None:
    purchase = await paid_purchase(client)
    await staff_sign_in(client, "finance@example.com", "orders.read", "orders.refund")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url, headers=EN)
    key = re.search(r'name="refund_key" value="([0-9a-f]+)"', page.text)
    assert key is not None
    form = {
        "csrf_token": csrf_of(page),
        "payment_id": str(purchase.order.payment_id),
        "reason": "price adjustment",
        "refund_key": key.group(1),
    }

    bad = await client.post(f"{url}/refund", data={**form, "amount": "12.345"}, headers=EN)
    too_much = await client.post(f"{url}/refund", data={**form, "amount": "1000"}, headers=EN)
    done = await client.post(f"{url}/refund", data={**form, "amount": "5.50"})
    again = await client.post(f"{url}/refund", data={**form, "amount": "5.50"})

    assert bad.status_code == 422
    assert '<p class="field-error" id="refund-amount-error">Enter an amount such as 12.50.</p>' in bad.text
    assert too_much.status_code in (409, 422)
    assert alert_of(too_much)
    assert done.status_code == 303
    assert again.status_code == 303  # the same form again: the same refund
    after = await client.get(done.headers["location"], headers=EN)
    assert "The refund was sent to the payment provider." in after.text
    assert after.text.count("Refund #") == 1
    assert "¥5.50" in after.text
    assert (await audit_actions()).count("payment.refund") == 1


WAREHOUSE = identity.Actor(staff_id=None, label="warehouse")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeKuaidi100]:
    async with running_fake_kuaidi100() as server:
        use_fake(monkeypatch, server)
        yield server


async def shipped_purchase(client: AsyncClient, carrier: str = "shunfeng") -> tuple[Purchase, int]:
    """A paid purchase whose only part was shipped (the tracking provider of the settings follows
    it): (purchase, shipment id)."""
    purchase = await paid_purchase(client)
    async with uow() as s:
        shipment = await fulfillment.ship_sub_order(
            s,
            data=fulfillment.ShipmentCreate(
                order_id=purchase.order.id,
                sub_order_id=purchase.order.sub_orders[0].id,
                carrier=carrier,
                tracking_number="YT1000000001" if carrier == "yuantong" else "SF1234567890",
            ),
            actor=WAREHOUSE,
        )
    return purchase, shipment.id


async def parcel(shipment_id: int) -> fulfillment.ShipmentRead:
    async with uow(write=False) as s:
        return await fulfillment.get_shipment(s, shipment_id=shipment_id)


def shop_time(delta: dt.timedelta) -> str:
    """Now plus ``delta`` as a ``datetime-local`` field holds it (shop time, to the minute)."""
    return (dt.datetime.now(get_settings().tz) + delta).strftime("%Y-%m-%dT%H:%M")


async def test_adding_a_tracking_step_by_hand(client: AsyncClient) -> None:
    purchase, shipment_id = await shipped_purchase(client)
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url, headers=EN)
    form_id = f"track-{shipment_id}"
    assert f'id="{form_id}-context"' in page.text
    assert f'action="{url}/shipments/{shipment_id}/deliver"' in page.text
    assert f'action="{url}/shipments/{shipment_id}/refresh"' not in page.text  # manual tracking
    action = f"{url}/shipments/{shipment_id}/events"
    form = {"csrf_token": csrf_of(page), "status": "in_transit", "location": "杭州"}

    blank = await client.post(action, data={**form, "context": " "}, headers=EN)
    future = await client.post(
        action, data={**form, "context": "到达", "occurred_at": shop_time(dt.timedelta(hours=2))}, headers=EN
    )
    garbled = await client.post(
        action, data={**form, "context": "到达", "occurred_at": "yesterday"}, headers=EN
    )
    unknown = await client.post(action, data={**form, "context": "到达", "status": "lost"}, headers=EN)

    assert blank.status_code == 422
    assert field_error_of(blank, f"{form_id}-context")
    assert '<details class="ops-track" open>' in blank.text
    assert future.status_code == 422
    assert field_error_of(future, f"{form_id}-occurred_at") == "A tracking step cannot be in the future."
    assert garbled.status_code == 422
    assert (
        field_error_of(garbled, f"{form_id}-occurred_at") == "Enter a date and time such as 2026-11-27 14:30."
    )
    assert unknown.status_code == 422
    assert field_error_of(unknown, f"{form_id}-status")
    assert (await parcel(shipment_id)).events == []

    when = shop_time(-dt.timedelta(hours=1))
    added = await client.post(
        action, data={**form, "context": "<script>alert(1)</script> 到达杭州转运中心", "occurred_at": when}
    )

    assert added.status_code == 303
    assert added.headers["location"] == f"{url}?notice=tracked"
    tracked = await parcel(shipment_id)
    assert tracked.status is fulfillment.TrackingStatus.in_transit
    assert [(e.status, e.context, e.location) for e in tracked.events] == [
        (fulfillment.TrackingStatus.in_transit, "<script>alert(1)</script> 到达杭州转运中心", "杭州")
    ]
    assert tracked.events[0].occurred_at.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M") == when
    assert (await read_order(purchase.order.id)).status is orders.OrderStatus.shipped
    after = await client.get(added.headers["location"], headers=EN)
    assert "The tracking step was added." in after.text
    assert "In transit — &lt;script&gt;alert(1)&lt;/script&gt; 到达杭州转运中心 (杭州)" in after.text
    assert "<script>alert(1)</script>" not in after.text
    mine = await client.get(f"/api/v1/orders/{purchase.order.id}/shipments", headers=purchase.auth)
    assert [(e["status"], e["context"]) for e in mine.json()[0]["events"]] == [
        ("in_transit", "<script>alert(1)</script> 到达杭州转运中心")
    ]
    assert "shipment.track" in await audit_actions()


async def test_marking_a_parcel_delivered_delivers_the_order(client: AsyncClient) -> None:
    purchase, shipment_id = await shipped_purchase(client)
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url, headers=EN)

    done = await client.post(f"{url}/shipments/{shipment_id}/deliver", data={"csrf_token": csrf_of(page)})
    again = await client.post(f"{url}/shipments/{shipment_id}/deliver", data={"csrf_token": csrf_of(page)})

    assert done.status_code == 303
    assert done.headers["location"] == f"{url}?notice=delivered"
    assert again.status_code == 303  # a repeat changes nothing
    order = await read_order(purchase.order.id)
    assert order.status is orders.OrderStatus.delivered
    delivered = await parcel(shipment_id)
    assert delivered.status is fulfillment.TrackingStatus.delivered
    assert [e.context for e in delivered.events] == ["已签收"]
    after = await client.get(done.headers["location"], headers=EN)
    assert "The parcel was marked as delivered." in after.text
    assert 'data-order-status="delivered"' in after.text
    assert f"/shipments/{shipment_id}/" not in after.text  # no more tracking forms
    finished = await client.post(
        f"{url}/shipments/{shipment_id}/events",
        data={"csrf_token": csrf_of(page), "status": "in_transit", "context": "late"},
        headers=EN,
    )
    assert finished.status_code == 409
    assert alert_of(finished) == "This shipment has already been delivered or returned."
    assert len((await parcel(shipment_id)).events) == 1


async def test_tracking_by_hand_needs_the_permission_and_the_csrf_token(client: AsyncClient) -> None:
    purchase, shipment_id = await shipped_purchase(client)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url, headers=EN)
    assert f"/shipments/{shipment_id}/" not in page.text
    step_form = {"status": "delivered", "context": "已签收"}
    actions = {"events": step_form, "deliver": {}, "refresh": {}}

    refused = [
        await client.post(
            f"{url}/shipments/{shipment_id}/{name}", data={**form, "csrf_token": csrf_of(page)}, headers=EN
        )
        for name, form in actions.items()
    ]
    client.cookies.clear()
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    page = await client.get(url)
    forged = [
        await client.post(f"{url}/shipments/{shipment_id}/{name}", data={**form, "csrf_token": "forged"})
        for name, form in actions.items()
    ]
    no_token = [
        await client.post(f"{url}/shipments/{shipment_id}/{name}", data=form)
        for name, form in actions.items()
    ]
    elsewhere = await client.post(
        f"{url}/shipments/{shipment_id + 1}/deliver", data={"csrf_token": csrf_of(page)}, headers=EN
    )

    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all("You need the fulfillment.write permission." in r.text for r in refused)
    assert [r.status_code for r in forged + no_token] == [403] * 6
    assert elsewhere.status_code == 404  # not a parcel of this order
    assert (await parcel(shipment_id)).events == []
    assert (await read_order(purchase.order.id)).status is orders.OrderStatus.shipped
    assert "shipment.track" not in await audit_actions()


async def test_refreshing_a_parcel_followed_by_kuaidi100(client: AsyncClient, fake: FakeKuaidi100) -> None:
    purchase, shipment_id = await shipped_purchase(client, carrier="yuantong")
    fake.parcels[("yuantong", "YT1000000001")] = {
        "state": "5",
        "data": [step("2026-11-27 09:30:00", "【上海市】快递员正在派件", "派件")],
    }
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    url = f"/admin/orders/{purchase.order.number}"
    page = await client.get(url, headers=EN)
    assert f'action="{url}/shipments/{shipment_id}/refresh"' in page.text
    assert f'action="{url}/shipments/{shipment_id}/deliver"' not in page.text  # the provider says when

    asked = await client.post(f"{url}/shipments/{shipment_id}/refresh", data={"csrf_token": csrf_of(page)})

    assert asked.status_code == 303
    assert asked.headers["location"] == f"{url}?notice=refreshing"
    assert [q["num"] for q in fake.queries] == ["YT1000000001"]
    after = await client.get(asked.headers["location"], headers=EN)
    assert "Out for delivery — 【上海市】快递员正在派件" in after.text
    assert "shipment.refresh" in await audit_actions()
