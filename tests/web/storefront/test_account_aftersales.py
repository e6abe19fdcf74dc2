"""My after-sales: a new request from an order line (the kinds its state allows, quantity, reason,
description, photos), refusals next to the field, the list with status, one request with its
progress, the ship-back form once a return is approved, and withdrawing. Another customer's line
or request is a 404 and nothing changes; a post without the CSRF token is refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import aftersales, orders
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.checkout import open_shop
from tests.service.aftersales.support import SHOP, png, rows
from tests.web.pages import EN, alert_of, csrf_of
from tests.web.storefront.shopping import (
    delivered_order,
    other_customer,
    paid_order,
    shipped_order,
    shopper_with_order,
    signed_in_shopper,
)

pytestmark = pytest.mark.usefixtures("handlers")

NEW = "/account/aftersales/new"


def kinds_offered(page: str) -> list[str]:
    return re.findall(r'name="kind" value="([a-z_]+)"', page)


async def request_of(request_id: int) -> aftersales.AftersalesRead:
    async with uow(write=False) as s:
        return await aftersales.get_request(s, request_id=request_id)


async def only_request() -> aftersales.AftersalesRead:
    async with uow(write=False) as s:
        page = await aftersales.list_requests(s)
    [found] = page.items
    return await request_of(found.id)


def form_of(order: orders.OrderRead) -> str:
    """The new-request form for the order's first line."""
    return f"{NEW}?order={order.number}&line={order.lines[0].id}"


def request_fields(csrf_token: str, order: orders.OrderRead, kind: str, **fields: str) -> dict[str, str]:
    """A new request for one unit of the order's first line (``fields`` add to or replace it)."""
    return {
        "csrf_token": csrf_token,
        "order": order.number,
        "line": str(order.lines[0].id),
        "kind": kind,
        "quantity": "1",
        **fields,
    }


Decision = Callable[[AsyncSession, int], Awaitable[object]]


def approved(reason: str = "") -> Decision:
    """The shop approves the request (see ``filed``)."""
    return lambda s, request_id: aftersales.approve_request(
        s, request_id=request_id, data=aftersales.Decide(reason=reason), actor=SHOP
    )


def rejected(reason: str) -> Decision:
    """The shop rejects the request (see ``filed``)."""
    return lambda s, request_id: aftersales.reject_request(
        s, request_id=request_id, data=aftersales.Reject(reason=reason), actor=SHOP
    )


async def filed(
    customer_id: int,
    order: orders.OrderRead,
    kind: aftersales.AftersalesKind,
    reason: aftersales.ReasonCode,
    quantity: int = 1,
    *,
    then: Decision | None = None,
) -> aftersales.AftersalesRead:
    """A request the customer filed for the order's first line; ``then`` (the shop's decision)
    runs in the same transaction with its id."""
    async with uow() as s:
        request = await aftersales.create_request(
            s,
            customer_id=customer_id,
            data=aftersales.CreateRequest(
                order_id=order.id,
                order_line_id=order.lines[0].id,
                kind=kind,
                quantity=quantity,
                reason_code=reason,
            ),
        )
        if then is not None:
            await then(s, request.id)
    return request


async def test_the_form_offers_what_the_lines_state_allows(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    red, black = await open_shop()
    delivered = await delivered_order(customer.id, red)
    paid = await paid_order(customer.id, black, 1)
    shipped = await shipped_order(customer.id, red, "YT1000000002")

    after = await client.get(form_of(delivered), headers=EN)
    before = await client.get(form_of(paid), headers=EN)
    on_its_way = await client.get(form_of(shipped), headers=EN)

    assert after.status_code == before.status_code == on_its_way.status_code == 200
    assert kinds_offered(after.text) == ["return_refund", "refund_only", "exchange"]
    assert kinds_offered(before.text) == ["refund_only"]
    assert kinds_offered(on_its_way.text) == []
    assert (
        "This item is on its way; after-sales requests are possible once it is delivered." in on_its_way.text
    )
    assert 'enctype="multipart/form-data"' in after.text
    assert 'max="2"' in after.text


async def test_a_return_with_a_photo_is_requested_and_shows_its_progress(client: AsyncClient) -> None:
    customer, order = await shopper_with_order(client, delivered_order)
    page = await client.get(form_of(order), headers=EN)

    response = await client.post(
        NEW,
        data=request_fields(
            csrf_of(page),
            order,
            "return_refund",
            reason_code="size_fit",
            description="<script>alert(1)</script>",
        ),
        files={"photos": ("shirt.png", png(), "image/png")},
        headers=EN,
    )

    assert response.status_code == 303, response.text
    created = await only_request()
    assert response.headers["location"] == f"/account/aftersales/{created.id}?notice=created"
    assert (created.kind, created.status, created.quantity, created.customer_id) == (
        aftersales.AftersalesKind.return_refund,
        aftersales.AftersalesStatus.requested,
        1,
        customer.id,
    )
    assert (created.reason_code, created.refund_amount) == (aftersales.ReasonCode.size_fit, 3000)
    assert len(created.photos) == 1
    detail = await client.get(response.headers["location"], headers=EN)
    assert "Your request was sent to the shop." in detail.text
    assert f"After-sales request {created.number}" in detail.text
    assert '<span class="tag" id="aftersales-status">Waiting for the shop</span>' in detail.text
    assert "Request submitted" in detail.text
    assert "Size does not fit" in detail.text
    assert "CN¥30.00" in detail.text
    assert f'src="{created.photos[0].url}"' in detail.text
    assert "<script>alert(1)</script>" not in detail.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail.text
    assert "Send the goods back" not in detail.text
    listing = await client.get("/account/aftersales", headers=EN)
    assert f'<a href="/account/aftersales/{created.id}">{created.number}</a>' in listing.text
    assert "Return and refund" in listing.text
    assert "Waiting for the shop" in listing.text


async def test_too_many_units_are_refused_next_to_the_quantity(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, delivered_order)
    page = await client.get(form_of(order), headers=EN)
    before = await rows()

    response = await client.post(
        NEW,
        data=request_fields(
            csrf_of(page), order, "return_refund", quantity="3", reason_code="no_reason", description="three?"
        ),
        headers=EN,
    )

    assert response.status_code == 422
    message = "At most 2 more units of this line can be returned or refunded."
    assert alert_of(response) == message
    assert f'<p class="field-error" id="aftersales-quantity-error">{message}</p>' in response.text
    assert 'value="3"' in response.text
    assert ">three?</textarea>" in response.text
    assert await rows() == before


async def test_after_the_window_the_domains_message_is_shown(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, delivered_order)
    page = await client.get(form_of(order), headers=EN)
    before = await rows()
    clock.advance(dt.timedelta(days=8))

    response = await client.post(
        NEW, data=request_fields(csrf_of(page), order, "exchange", reason_code="quality_problem"), headers=EN
    )

    assert response.status_code == 409
    message = "The after-sales window of 7 days after delivery has closed."
    assert alert_of(response) == message
    # no form that cannot succeed: the way back to the order instead
    assert kinds_offered(response.text) == []
    assert f'href="/account/orders/{order.number}">Back to the order' in response.text
    assert await rows() == before


async def test_a_bad_photo_or_a_missing_reason_creates_nothing(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, delivered_order)
    page = await client.get(form_of(order), headers=EN)
    form = request_fields(csrf_of(page), order, "refund_only")
    before = await rows()

    no_reason = await client.post(NEW, data=form, headers=EN)
    bad_photo = await client.post(
        NEW,
        data={**form, "reason_code": "damaged"},
        files={"photos": ("evil.png", b"<script>not an image</script>", "image/png")},
        headers=EN,
    )

    assert no_reason.status_code == 422
    assert '<p class="field-error" id="aftersales-reason_code-error">' in no_reason.text
    assert bad_photo.status_code == 422
    assert '<p class="field-error" id="aftersales-photos-error">' in bad_photo.text
    assert await rows() == before


async def test_another_customers_line_and_request_are_not_found(client: AsyncClient) -> None:
    await signed_in_shopper(client)
    red, _black = await open_shop()
    stranger = await other_customer()
    theirs = await delivered_order(stranger.id, red)
    request = await filed(
        stranger.id,
        theirs,
        aftersales.AftersalesKind.return_refund,
        aftersales.ReasonCode.no_reason,
        then=approved(),
    )
    own = await client.get("/account/aftersales", headers=EN)
    before = await rows()

    form = await client.get(form_of(theirs), headers=EN)
    created = await client.post(
        NEW, data=request_fields(csrf_of(own), theirs, "refund_only", reason_code="no_reason"), headers=EN
    )
    detail = await client.get(f"/account/aftersales/{request.id}", headers=EN)
    shipped_back = await client.post(
        f"/account/aftersales/{request.id}/ship-back",
        data={"csrf_token": csrf_of(own), "carrier": "圆通", "tracking_number": "YT9900000001"},
        headers=EN,
    )
    withdrawn = await client.post(
        f"/account/aftersales/{request.id}/withdraw", data={"csrf_token": csrf_of(own)}, headers=EN
    )

    assert [r.status_code for r in (form, created, detail, shipped_back, withdrawn)] == [404] * 5
    assert request.number not in own.text
    assert await rows() == before
    assert (await request_of(request.id)).status is aftersales.AftersalesStatus.approved


async def test_an_approved_return_is_shipped_back(client: AsyncClient) -> None:
    customer, order = await shopper_with_order(client, delivered_order)
    request = await filed(
        customer.id,
        order,
        aftersales.AftersalesKind.return_refund,
        aftersales.ReasonCode.quality_problem,
        2,
        then=approved("同意退货"),
    )
    url = f"/account/aftersales/{request.id}"
    page = await client.get(url, headers=EN)
    before = await rows()

    bad = await client.post(
        f"{url}/ship-back",
        data={"csrf_token": csrf_of(page), "carrier": "圆通", "tracking_number": "no spaces!"},
        headers=EN,
    )
    forged = await client.post(
        f"{url}/ship-back", data={"carrier": "圆通", "tracking_number": "YT9900000001"}, headers=EN
    )
    assert await rows() == before
    good = await client.post(
        f"{url}/ship-back",
        data={"csrf_token": csrf_of(page), "carrier": "圆通", "tracking_number": "YT9900000001"},
        headers=EN,
    )

    assert "Send the goods back" in page.text
    assert "同意退货" in page.text
    assert bad.status_code == 422
    assert '<p class="field-error" id="ship-back-tracking_number-error">' in bad.text
    assert forged.status_code == 403
    assert good.status_code == 303
    assert good.headers["location"] == f"{url}?notice=shipped_back"
    after = await request_of(request.id)
    assert after.status is aftersales.AftersalesStatus.shipped_back
    assert after.return_parcel is not None
    assert (after.return_parcel.carrier, after.return_parcel.tracking_number) == ("圆通", "YT9900000001")
    detail = await client.get(good.headers["location"], headers=EN)
    assert "Sent back with" in detail.text
    assert "Send the goods back" not in detail.text
    assert re.findall(r"<span>(Sent back|Approved|Request submitted)", detail.text) == [
        "Sent back",
        "Approved",
        "Request submitted",
    ]


async def test_a_request_is_withdrawn_before_the_shop_decides(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    red, _black = await open_shop()
    order = await paid_order(customer.id, red, 1)
    request = await filed(
        customer.id, order, aftersales.AftersalesKind.refund_only, aftersales.ReasonCode.not_wanted
    )
    url = f"/account/aftersales/{request.id}"
    page = await client.get(url, headers=EN)

    response = await client.post(f"{url}/withdraw", data={"csrf_token": csrf_of(page)}, headers=EN)
    again = await client.post(f"{url}/withdraw", data={"csrf_token": csrf_of(page)}, headers=EN)

    assert "Withdraw request" in page.text
    assert response.status_code == 303
    assert (await request_of(request.id)).status is aftersales.AftersalesStatus.cancelled
    assert again.status_code == 409
    assert "Withdraw request" not in again.text


async def test_a_rejected_request_is_taken_to_the_platform(client: AsyncClient) -> None:
    customer, order = await shopper_with_order(client, delivered_order)
    request = await filed(
        customer.id,
        order,
        aftersales.AftersalesKind.refund_only,
        aftersales.ReasonCode.quality_problem,
        then=rejected("<b>影响二次销售</b>"),
    )
    url = f"/account/aftersales/{request.id}"
    page = await client.get(url, headers=EN)
    before = await rows()

    blank = await client.post(
        f"{url}/escalate", data={"csrf_token": csrf_of(page), "statement": " "}, headers=EN
    )
    assert await rows() == before
    response = await client.post(
        f"{url}/escalate", data={"csrf_token": csrf_of(page), "statement": "质量问题，有照片为证"}, headers=EN
    )

    assert "Ask the platform to decide" in page.text
    assert "&lt;b&gt;影响二次销售&lt;/b&gt;" in page.text
    assert blank.status_code == 422
    assert '<p class="field-error" id="escalate-statement-error">' in blank.text
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?notice=escalated"
    after = await request_of(request.id)
    assert after.status is aftersales.AftersalesStatus.disputed
    assert after.dispute is not None
    assert after.dispute.statement == "质量问题，有照片为证"
    detail = await client.get(response.headers["location"], headers=EN)
    assert "With the platform" in detail.text
    assert "Ask the platform to decide" not in detail.text
