"""What an order's page offers next: 立即付款 pays (defect 9), 申请售后 says when it becomes
possible instead of leading to a dead end (defect 10), and an approved return shows where the
goods go back to (defect 11)."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from mercato import aftersales
from mercato.core.db import uow
from mercato.payments.models import Payment
from tests.service.aftersales.support import rows
from tests.web.pages import EN, csrf_of
from tests.web.storefront.shopping import delivered_order, shipped_order, shopper_with_order
from tests.web.storefront.test_account_aftersales import approved, filed, request_fields
from tests.web.storefront.test_checkout import counts, only_order_number, place, ready_to_check_out, review

pytestmark = pytest.mark.usefixtures("handlers")


async def test_pay_now_on_an_unpaid_order_opens_its_pay_page(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client)
    placed = await place(
        client,
        await review(client, f"address_id={address_id}&delivery=standard"),
        kind="none",
        provider="sandbox",
    )
    number = await only_order_number()
    pay_page = placed.headers["location"]  # /pay/<payment id>, where checkout sends the shopper

    detail = await client.get(f"/account/orders/{number}", headers=EN)
    listed = await client.get("/account/orders", headers=EN)
    link = f"/account/orders/{number}/pay"
    before = await counts()
    opened = await client.get(link, headers=EN)
    page = await client.get(opened.headers["location"], headers=EN)

    assert f'href="{link}"' in detail.text
    assert f'href="{link}"' in listed.text
    assert (opened.status_code, opened.headers["location"]) == (303, pay_page)
    assert page.status_code == 200
    assert "Pay for your order" in page.text
    assert f'href="{pay_page}/go"' in page.text
    assert "Waiting for the payment to be confirmed" not in page.text
    assert await counts() == before  # opening the pay page starts no second payment


async def test_pay_now_for_another_customers_order_is_not_found(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, shipped_order)
    async with uow(write=False) as s:
        payments_before = len((await s.execute(Payment.__table__.select())).all())

    stranger = await client.get("/account/orders/NOPE-1/pay", headers=EN)
    paid = await client.get(f"/account/orders/{order.number}/pay", headers=EN)

    assert stranger.status_code == 404
    assert (paid.status_code, paid.headers["location"]) == (303, f"/checkout/result/{order.number}")
    async with uow(write=False) as s:
        assert len((await s.execute(Payment.__table__.select())).all()) == payments_before


async def test_after_sales_on_a_parcel_in_transit_says_when_it_becomes_possible(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, shipped_order)
    new_request = f"/account/aftersales/new?order={order.number}&line={order.lines[0].id}"

    detail = await client.get(f"/account/orders/{order.number}", headers=EN)
    form = await client.get(new_request, headers=EN)
    before = await rows()
    refused = await client.post(
        "/account/aftersales/new",
        data=request_fields(csrf_of(form), order, "refund_only", reason_code="quality_problem"),
        headers=EN,
    )

    assert "Return or refund: possible once delivered" in detail.text
    assert f'href="{new_request.replace("&", "&amp;")}"' not in detail.text
    assert "after-sales requests are possible once it is delivered" in form.text
    assert f'href="/account/orders/{order.number}">Back to the order' in form.text
    assert refused.status_code == 409
    assert "after-sales requests are possible once it is delivered" in refused.text
    assert f'href="/account/orders/{order.number}">Back to the order' in refused.text
    assert await rows() == before


async def test_a_delivered_order_offers_after_sales_until_the_window_closes(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, delivered_order)

    detail = await client.get(f"/account/orders/{order.number}", headers=EN)

    assert f'href="/account/aftersales/new?order={order.number}&amp;line={order.lines[0].id}"' in detail.text
    assert "possible once delivered" not in detail.text


async def test_an_approved_return_shows_the_address_to_send_it_to(client: AsyncClient) -> None:
    customer, order = await shopper_with_order(client, delivered_order)
    requested = await filed(
        customer.id, order, aftersales.AftersalesKind.return_refund, aftersales.ReasonCode.quality_problem
    )
    waiting = await client.get(f"/account/aftersales/{requested.id}", headers=EN)
    async with uow() as s:
        await approved("同意退货")(s, requested.id)

    page = await client.get(f"/account/aftersales/{requested.id}", headers=EN)

    assert 'id="return-address"' not in waiting.text  # not before the shop approves
    assert page.status_code == 200
    address = re.search(r'<div class="return-address" id="return-address">(.*?)</div>', page.text, re.DOTALL)
    assert address is not None
    assert "Send them to" in address.group(1)
    assert "仓库 W" in address.group(1)  # the warehouse the line shipped from (tests' warehouses)
    assert "上海市 上海市" in address.group(1)
    assert requested.number in address.group(1)


async def test_a_refund_only_shows_no_return_address(client: AsyncClient) -> None:
    customer, order = await shopper_with_order(client, delivered_order)
    requested = await filed(
        customer.id,
        order,
        aftersales.AftersalesKind.refund_only,
        aftersales.ReasonCode.quality_problem,
        then=approved(),
    )

    page = await client.get(f"/account/aftersales/{requested.id}", headers=EN)

    assert 'id="return-address"' not in page.text
