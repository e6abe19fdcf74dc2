"""My orders: the overview's counts per tab, the list by tab with pages, one order with its lines,
amounts, delivery, history, parcels and pickup code, and the actions (pay, cancel an unpaid order,
confirm receipt). Another customer's order is a 404 and nothing changes; a post without the CSRF
token is refused."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from mercato import orders
from mercato.core import events
from mercato.core.db import uow
from tests.factories.checkout import open_shop
from tests.factories.orders import lift_unpaid_limits
from tests.service.aftersales.support import read_order
from tests.service.fulfillment.factories import store_order
from tests.web.pages import EN, alert_of, csrf_of
from tests.web.storefront.shopping import (
    delivered_order,
    other_customer,
    paid_order,
    post_on,
    shipped_order,
    shopper_with_order,
    signed_in_shopper,
    unpaid_order,
)

pytestmark = pytest.mark.usefixtures("handlers")


def tab_count(page: str, tab: str) -> str:
    match = re.search(rf'data-tab="{tab}">([^<]*)<', page)
    assert match is not None, tab
    return match.group(1)


async def test_the_pages_need_a_session(client: AsyncClient) -> None:
    listing = await client.get("/account/orders?tab=to_pay")
    detail = await client.get("/account/orders/2026112700000001")

    assert listing.status_code == 303
    assert listing.headers["location"] == "/account/login?next=/account/orders%3Ftab%3Dto_pay"
    assert detail.headers["location"] == "/account/login?next=/account/orders/2026112700000001"


async def test_the_overview_counts_orders_per_tab_and_shows_the_latest(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    red, black = await open_shop()
    first = await unpaid_order(customer.id, red, 1)
    await unpaid_order(customer.id, black, 1)
    paid = await paid_order(customer.id, red, 1)
    stranger = await other_customer()
    await unpaid_order(stranger.id, red, 1)

    page = await client.get("/account", headers=EN)

    assert page.status_code == 200
    assert "Hello, Alice!" in page.text
    assert [tab_count(page.text, t) for t in ("to_pay", "to_ship", "to_receive", "delivered")] == [
        "2",
        "1",
        "0",
        "0",
    ]
    numbers = re.findall(r'href="/account/orders/(\d+)"', page.text)
    assert numbers == [paid.number, numbers[1], numbers[2]]
    assert first.number == numbers[2]
    assert 'href="/account/orders?tab=to_pay"' in page.text
    assert 'href="/account/addresses"' in page.text
    assert 'href="/account/aftersales"' in page.text
    assert 'href="/account/messages"' in page.text
    assert 'href="/account/privacy"' in page.text
    assert '<a href="/account" aria-current="page">Overview</a>' in page.text


async def test_the_list_filters_by_tab_and_pages(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mercato.storefront.routes.orders.PAGE_SIZE", 2)
    lift_unpaid_limits(monkeypatch)
    customer = await signed_in_shopper(client)
    red, _black = await open_shop(stock=20)
    unpaid = [await unpaid_order(customer.id, red, 1) for _ in range(3)]
    paid = await paid_order(customer.id, red, 1)

    to_pay = await client.get("/account/orders?tab=to_pay", headers=EN)
    to_ship = await client.get("/account/orders?tab=to_ship", headers=EN)
    everything = await client.get("/account/orders", headers=EN)

    def shown(page: str) -> list[str]:
        return re.findall(r'<h2><a href="/account/orders/(\d+)">', page)

    assert shown(to_pay.text) == [unpaid[2].number, unpaid[1].number]
    assert shown(to_ship.text) == [paid.number]
    assert shown(everything.text) == [paid.number, unpaid[2].number]
    assert '<a href="/account/orders?tab=to_pay" aria-current="page">' in to_pay.text
    older = re.search(r'rel="next" href="([^"]+)"', to_pay.text)
    assert older is not None
    second = await client.get(older.group(1).replace("&amp;", "&"), headers=EN)
    assert shown(second.text) == [unpaid[0].number]
    assert 'rel="next"' not in second.text
    assert "First page" in second.text
    assert to_pay.text.count(">Pay now</a>") == 2
    assert "Pay now" not in to_ship.text


async def test_an_order_shows_lines_amounts_delivery_and_history(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, unpaid_order, 2, note="<script>alert(1)</script>")

    page = await client.get(f"/account/orders/{order.number}", headers=EN)

    assert page.status_code == 200
    assert f"<h1>Order {order.number}</h1>" in page.text
    assert '<span class="tag status-pending_payment" id="order-status">Awaiting payment</span>' in page.text
    assert "纯棉圆领T恤" in page.text
    assert '<strong id="order-total">CN¥70.00</strong>' in page.text  # 2 × 30 元 + 10 元 shipping
    assert "CN¥60.00" in page.text
    assert "Standard delivery" in page.text
    assert "李雷 138****8000" in page.text
    assert "Order placed" in page.text
    assert "No invoice requested." in page.text
    assert f'href="/account/orders/{order.number}/pay"' in page.text  # 立即付款 opens its pay page
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "Return or refund" not in page.text  # not paid: no after-sales


async def test_another_customers_order_is_not_found_and_cannot_be_cancelled(client: AsyncClient) -> None:
    await signed_in_shopper(client)
    red, _black = await open_shop()
    theirs = await unpaid_order((await other_customer()).id, red, 1)

    page = await client.get(f"/account/orders/{theirs.number}", headers=EN)
    by_id = await client.get(f"/account/orders/by-id/{theirs.id}", headers=EN)
    qr = await client.get(f"/account/orders/{theirs.number}/pickup-code.svg", headers=EN)
    own = await client.get("/account/orders", headers=EN)
    cancel = await client.post(
        f"/account/orders/{theirs.number}/cancel",
        data={"reason": "I no longer want it", "csrf_token": csrf_of(own)},
        headers=EN,
    )
    receipt = await client.post(
        f"/account/orders/{theirs.number}/confirm-receipt", data={"csrf_token": csrf_of(own)}, headers=EN
    )

    assert (page.status_code, by_id.status_code, qr.status_code) == (404, 404, 404)
    assert (cancel.status_code, receipt.status_code) == (404, 404)
    assert f"Order {theirs.number}" not in page.text
    after = await read_order(theirs.id)
    assert after.status is orders.OrderStatus.pending_payment
    assert len(after.history) == 1


async def test_cancelling_an_unpaid_order(client: AsyncClient) -> None:
    customer, order = await shopper_with_order(client, unpaid_order, 1)
    url = f"/account/orders/{order.number}"

    response = await post_on(client, url, f"{url}/cancel", {"reason": "I no longer want it"})

    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?notice=cancelled"
    after = await read_order(order.id)
    assert after.status is orders.OrderStatus.cancelled
    assert (after.history[-1].reason, after.history[-1].actor_label) == (
        "I no longer want it",
        f"customer:{customer.id}",
    )
    page = await client.get(response.headers["location"], headers=EN)
    assert "The order was cancelled." in page.text
    assert ">Cancelled</span>" in page.text
    assert "Cancel order" not in page.text


async def test_cancelling_needs_a_reason_and_the_csrf_token(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, unpaid_order, 1)
    url = f"/account/orders/{order.number}"

    blank = await post_on(client, url, f"{url}/cancel", {"reason": ""})
    forged = await client.post(f"{url}/cancel", data={"reason": "x", "csrf_token": "forged"}, headers=EN)
    missing = await client.post(f"{url}/cancel", data={"reason": "x"}, headers=EN)

    assert blank.status_code == 422
    assert alert_of(blank) == "Some fields are not valid."
    assert '<p class="field-error" id="cancel-reason-error">' in blank.text
    assert '<details class="confirm" open>' in blank.text
    assert (forged.status_code, missing.status_code) == (403, 403)
    after = await read_order(order.id)
    assert after.status is orders.OrderStatus.pending_payment
    assert len(after.history) == 1


async def test_a_paid_order_cannot_be_cancelled_here(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, paid_order, 1)
    url = f"/account/orders/{order.number}"
    page = await client.get(url, headers=EN)

    response = await client.post(
        f"{url}/cancel", data={"reason": "I no longer want it", "csrf_token": csrf_of(page)}, headers=EN
    )

    assert "Cancel order" not in page.text
    assert f'href="/account/aftersales/new?order={order.number}&amp;line={order.lines[0].id}"' in page.text
    assert response.status_code == 409
    assert alert_of(response) == "This order can no longer be cancelled."
    assert (await read_order(order.id)).status is orders.OrderStatus.paid


async def test_the_parcel_timeline_of_a_shipped_order(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, shipped_order)

    page = await client.get(f"/account/orders/{order.number}", headers=EN)

    assert page.status_code == 200
    assert ">Shipped</span>" in page.text
    assert "Parcel 1: " in page.text
    assert "YT1000000001" in page.text
    assert "In transit" in page.text
    assert '快件已到达【杭州转运中心】 <span class="muted">(杭州)</span>' in page.text
    assert "Confirm receipt" not in page.text


async def test_confirming_receipt_completes_a_delivered_order(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, delivered_order)
    url = f"/account/orders/{order.number}"

    response = await post_on(client, url, f"{url}/confirm-receipt", {})
    again = await post_on(client, url, f"{url}/confirm-receipt", {})

    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?notice=received"
    assert again.status_code == 303  # already completed: nothing more happens
    after = await read_order(order.id)
    assert after.status is orders.OrderStatus.completed
    assert [h.to_status for h in after.history].count("completed") == 1
    page = await client.get(response.headers["location"], headers=EN)
    assert "Thank you for confirming receipt." in page.text


async def test_receipt_cannot_be_confirmed_before_delivery(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, paid_order, 1)
    url = f"/account/orders/{order.number}"

    response = await post_on(client, url, f"{url}/confirm-receipt", {})

    assert response.status_code == 409
    assert alert_of(response) == "This order has not been delivered yet."
    assert (await read_order(order.id)).status is orders.OrderStatus.paid


async def test_a_paid_pickup_order_shows_its_code_and_qr_image(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    order, _red, _store = await store_order(customer_id=customer.id)
    await events.deliver_pending()  # orders.order_paid → the pickup code
    async with uow(write=False) as s:
        from mercato import fulfillment

        code = (await fulfillment.get_pickup_code(s, order_id=order.id, customer_id=customer.id)).code
    assert code is not None

    page = await client.get(f"/account/orders/{order.number}", headers=EN)
    qr = await client.get(f"/account/orders/{order.number}/pickup-code.svg")

    assert page.status_code == 200
    assert f'<p class="pickup-code" id="pickup-code">{code[:4]} {code[4:]}</p>' in page.text
    assert f'alt="QR code of the pickup code {code}"' in page.text
    assert "Store pickup" in page.text
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.headers["cache-control"] == "no-store"
    assert qr.text.startswith("<svg")


async def test_an_order_link_from_a_message_goes_to_the_order(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, unpaid_order, 1)

    response = await client.get(f"/account/orders/by-id/{order.id}")

    assert response.status_code == 303
    assert response.headers["location"] == f"/account/orders/{order.number}"


async def test_an_order_calls_its_delivery_a_delivery_and_its_tax_included(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, unpaid_order, 2)
    assert order.tax_amount > 0

    zh = await client.get(f"/account/orders/{order.number}")
    en = await client.get(f"/account/orders/{order.number}", headers=EN)

    assert "<dt>配送方式</dt>" in zh.text
    assert "支付方式" not in zh.text
    assert "<dt>Delivery method</dt>" in en.text
    assert "<dt>税费</dt>" not in zh.text
    assert "<dt>Tax</dt>" not in en.text
    assert re.search(r'id="order-total">[^<]*</strong> <span class="muted" id="order-tax">（含税 ¥', zh.text)
    assert re.search(r'id="order-tax">\(incl\. tax CN¥[\d.]+\)</span>', en.text)
