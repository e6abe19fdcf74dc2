"""The console's after-sales pages: the queue (oldest first, filters), and a return worked through
the pages: approve → the shopper sends it back → receive and grade → refunded to the payment;
rejections need a reason, disputes are decided by an arbiter, and every action needs its
permission and the CSRF token (refused with nothing changed)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from httpx import AsyncClient

from mercato import aftersales, payments
from mercato.core import events
from mercato.core.db import uow
from tests.api.aftersales.support import Purchase, bought
from tests.service.aftersales.support import payment_of, stock
from tests.web.pages import EN, csrf_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")


async def requested(
    client: AsyncClient, purchase: Purchase, kind: str = "return_refund", quantity: int = 1, **fields: object
) -> int:
    created = await client.post(
        "/api/v1/aftersales", json=purchase.request(kind, quantity, **fields), headers=purchase.auth
    )
    assert created.status_code == 201, created.text
    request_id: int = created.json()["id"]
    return request_id


async def read(request_id: int) -> aftersales.AftersalesRead:
    async with uow(write=False) as s:
        return await aftersales.get_request(s, request_id=request_id)


def numbers_in(page: str) -> list[str]:
    return re.findall(r'<a href="/admin/aftersales/\d+">([^<]+)</a>', page)


async def test_a_return_is_approved_received_graded_and_refunded_through_the_pages(
    client: AsyncClient,
) -> None:
    purchase = await bought(client, quantity=2)
    request_id = await requested(client, purchase, quantity=1, description="<script>alert(1)</script>")
    await staff_sign_in(client, "cs@example.com", "aftersales.read", "aftersales.write", "aftersales.receive")
    url = f"/admin/aftersales/{request_id}"
    page = await client.get(url, headers=EN)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert f'action="{url}/approve"' in page.text
    assert f'action="{url}/receive"' not in page.text  # nothing sent back yet

    approved = await client.post(f"{url}/approve", data={"csrf_token": csrf_of(page), "reason": "同意退货"})
    assert approved.status_code == 303
    assert approved.headers["location"] == f"{url}?notice=approve"
    assert (await read(request_id)).status is aftersales.AftersalesStatus.approved
    sent = await client.post(
        f"/api/v1/aftersales/{request_id}/ship-back",
        json={"carrier": "顺丰", "tracking_number": "SF1029384756"},
        headers=purchase.auth,
    )
    assert sent.status_code == 200
    page = await client.get(url, headers=EN)
    assert f'action="{url}/receive"' in page.text
    assert "<code>SF1029384756</code>" in page.text

    too_many = await client.post(
        f"{url}/receive",
        data={"csrf_token": csrf_of(page), "resellable": "1", "defective": "1", "scrap": "0"},
        headers=EN,
    )
    assert too_many.status_code == 422
    assert (await read(request_id)).status is aftersales.AftersalesStatus.shipped_back
    received = await client.post(
        f"{url}/receive",
        data={
            "csrf_token": csrf_of(page),
            "resellable": "1",
            "defective": "0",
            "scrap": "0",
            "note": "吊牌完好",
        },
    )
    await events.deliver_pending()  # PaymentRefunded → refunded → completed

    assert received.status_code == 303
    item = await read(request_id)
    assert (item.status, item.refund_status, item.total_refund_amount) == (
        aftersales.AftersalesStatus.completed,
        "succeeded",
        3000,
    )
    assert item.grading is not None
    assert (item.grading.resellable, item.grading.defective) == (1, 0)
    assert [step.actor_label for step in item.timeline if step.actor is aftersales.ActorKind.shop] == [
        "cs@example.com",
        "cs@example.com",
        "cs@example.com",
    ]
    payment = await payment_of(purchase.order)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.partially_refunded, 3000)
    assert await stock(purchase.red, purchase.warehouse_id) == (4, 0)
    done = await client.get(url, headers=EN)
    assert 'data-request-status="completed"' in done.text
    assert 'data-refund-status="succeeded"' in done.text
    assert "1 resellable, 0 defective, 0 scrap" in done.text


async def test_rejecting_needs_a_reason_and_a_dispute_is_decided_by_an_arbiter(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2)
    request_id = await requested(client, purchase, kind="refund_only", reason_code="quality_problem")
    await staff_sign_in(client, "cs@example.com", "aftersales.read", "aftersales.write")
    url = f"/admin/aftersales/{request_id}"
    page = await client.get(url, headers=EN)

    blank = await client.post(f"{url}/reject", data={"csrf_token": csrf_of(page), "reason": ""}, headers=EN)
    assert blank.status_code == 422
    assert 'id="reject-reason-error"' in blank.text
    assert (await read(request_id)).status is aftersales.AftersalesStatus.requested
    rejected = await client.post(f"{url}/reject", data={"csrf_token": csrf_of(page), "reason": "无质量问题"})
    assert rejected.status_code == 303
    escalated = await client.post(
        f"/api/v1/aftersales/{request_id}/escalate", json={"statement": "确实有问题"}, headers=purchase.auth
    )
    assert escalated.status_code == 200
    not_arbiter = await client.get(url, headers=EN)
    assert f'action="{url}/arbitrate"' not in not_arbiter.text
    refused = await client.post(
        f"{url}/arbitrate",
        data={"csrf_token": csrf_of(page), "decision": "shopper", "reason": "x"},
        headers=EN,
    )
    assert refused.status_code == 403
    assert "You need the aftersales.arbitrate permission." in refused.text
    client.cookies.clear()
    await staff_sign_in(client, "arbiter@example.com", "aftersales.read", "aftersales.arbitrate")
    page = await client.get(url, headers=EN)

    decided = await client.post(
        f"{url}/arbitrate", data={"csrf_token": csrf_of(page), "decision": "shop", "reason": "证据不足"}
    )

    assert decided.status_code == 303
    item = await read(request_id)
    assert item.status is aftersales.AftersalesStatus.closed
    assert item.dispute is not None
    assert item.dispute.reason == "证据不足"


async def test_actions_need_the_permission_and_the_csrf_token(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2)
    request_id = await requested(client, purchase)
    await staff_sign_in(client, "viewer@example.com", "aftersales.read")
    url = f"/admin/aftersales/{request_id}"
    page = await client.get(url, headers=EN)
    assert f'action="{url}/approve"' not in page.text

    refused = await client.post(
        f"{url}/approve", data={"csrf_token": csrf_of(page), "reason": ""}, headers=EN
    )
    client.cookies.clear()
    await staff_sign_in(client, "cs@example.com", "aftersales.read", "aftersales.write")
    no_token = await client.post(f"{url}/approve", data={"reason": ""})
    unknown = await client.post(f"{url}/explode", data={"csrf_token": csrf_of(await client.get(url))})

    assert refused.status_code == 403
    assert "You need the aftersales.write permission." in refused.text
    assert no_token.status_code == 403
    assert unknown.status_code == 404
    assert (await read(request_id)).status is aftersales.AftersalesStatus.requested


async def test_the_queue_lists_oldest_first_with_filters(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=3)
    first = await requested(client, purchase, quantity=1)
    second = await requested(client, purchase, kind="exchange", quantity=1)
    numbers = [(await read(first)).number, (await read(second)).number]
    await staff_sign_in(client, "cs@example.com", "aftersales.read")

    everything = await client.get("/admin/aftersales/", headers=EN)
    exchanges = await client.get("/admin/aftersales/", params={"kind": "exchange"})
    waiting = await client.get("/admin/aftersales/", params={"waiting": "1", "status": "requested"})
    done = await client.get("/admin/aftersales/", params={"status": "completed"}, headers=EN)
    of_order = await client.get("/admin/aftersales/", params={"order_id": str(purchase.order.id)})
    bad = await client.get("/admin/aftersales/", params={"kind": "refund_everything"}, headers=EN)
    forbidden_order = await client.get(f"/admin/orders/{purchase.order.number}", headers=EN)

    assert everything.status_code == 200
    assert numbers_in(everything.text) == numbers
    assert numbers_in(exchanges.text) == numbers[1:]
    assert numbers_in(waiting.text) == numbers
    assert numbers_in(done.text) == []
    assert "No requests match." in done.text
    assert numbers_in(of_order.text) == numbers
    assert bad.status_code == 200  # an unknown choice is ignored (ADR 0031), never a 500
    assert numbers_in(bad.text) == numbers
    assert forbidden_order.status_code == 403


async def test_the_queue_exports_exactly_its_filtered_rows(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=3)
    await requested(client, purchase, quantity=1)
    second = await requested(client, purchase, kind="exchange", quantity=1)
    item = await read(second)
    await staff_sign_in(client, "cs@example.com", "aftersales.read")

    page = await client.get("/admin/aftersales/", params={"kind": "exchange", "waiting": "1"}, headers=EN)
    exported = await client.get(
        "/admin/aftersales/", params={"kind": "exchange", "waiting": "1", "export": "csv"}, headers=EN
    )
    not_an_order = await client.get("/admin/aftersales/", params={"order_id": "12x"}, headers=EN)

    waited = item.waiting_since
    assert waited is not None
    since = waited.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
    assert '<input id="queue-waiting" name="waiting" type="checkbox" value="1" checked>' in page.text
    assert (
        '<a href="/admin/aftersales/?kind=exchange&amp;waiting=1&amp;export=csv" download>Export CSV</a>'
        in page.text
    )
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == 'attachment; filename="aftersales.csv"'
    assert exported.content.decode("utf-8-sig").splitlines() == [
        "Request,Order,Product,Quantity,Type,Status,Refund,Currency,Waiting since",
        f"{item.number},{purchase.order.number},{item.title},1,Exchange,Requested,0.00,CNY,{since}",
    ]
    assert numbers_in(not_an_order.text) == []
    assert "No requests match." in not_an_order.text
