"""Messages over the API: a customer lists (newest first, pages, unread only), counts, reads and
reads all of their own messages; another customer's message is 404 and stays unread; staff see
the email outbox masked and send a given-up email again, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update

from mercato import notify
from mercato.core import clock
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from mercato.notify.models import Delivery, Message
from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.service.notify import flow


async def message(customer_id: int, number: int) -> notify.MessageRead:
    async with uow() as s:
        written = await notify.notify_customer(
            s,
            customer_id=customer_id,
            kind=notify.MessageKind.order_delivered,
            params={"order_number": f"N{number}"},
            dedupe_key=f"order:{number}",
            link=f"order:{number}",
        )
    assert written is not None
    return written


async def read_ats() -> dict[int, Any]:
    async with uow(write=False) as s:
        return {row.id: row.read_at for row in await s.execute(select(Message.id, Message.read_at))}


async def test_lists_newest_first_in_pages_and_only_unread(client: AsyncClient) -> None:
    customer, auth = await signed_in_customer(client)
    ids = [(await message(customer.id, n)).id for n in range(1, 4)]
    async with uow() as s:
        await notify.mark_read(s, customer_id=customer.id, message_id=ids[1])

    first = (await client.get("/api/v1/me/messages", params={"limit": 2}, headers=auth)).json()
    second = (
        await client.get(
            "/api/v1/me/messages", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
        )
    ).json()
    unread = (await client.get("/api/v1/me/messages", params={"unread": "true"}, headers=auth)).json()
    count = (await client.get("/api/v1/me/messages/unread-count", headers=auth)).json()

    assert [m["id"] for m in first["items"]] == [ids[2], ids[1]]
    assert [m["id"] for m in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    assert first["items"][0] == {
        "id": ids[2],
        "kind": "order_delivered",
        "title": "订单已送达",
        "body": "您的订单 N3 已送达。如商品有问题，可在订单详情中申请售后。",
        "link": "order:3",
        "locale": "zh_CN",
        "created_at": first["items"][0]["created_at"],
        "read_at": None,
    }
    assert first["items"][1]["read_at"] is not None
    assert [m["id"] for m in unread["items"]] == [ids[2], ids[0]]
    assert count == {"unread": 2}


async def test_marks_one_read_once_and_then_all(client: AsyncClient) -> None:
    customer, auth = await signed_in_customer(client)
    ids = [(await message(customer.id, n)).id for n in range(1, 5)]

    read = await client.post(f"/api/v1/me/messages/{ids[0]}/read", headers=auth)
    clock.advance(dt.timedelta(minutes=5))
    again = await client.post(f"/api/v1/me/messages/{ids[0]}/read", headers=auth)
    up_to = await client.post("/api/v1/me/messages/read-all", json={"up_to_id": ids[2]}, headers=auth)
    after_partial = (await client.get("/api/v1/me/messages/unread-count", headers=auth)).json()
    everything = await client.post("/api/v1/me/messages/read-all", headers=auth)
    nothing_left = await client.post("/api/v1/me/messages/read-all", headers=auth)

    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert again.json()["read_at"] == read.json()["read_at"]  # the first time stands
    assert up_to.json() == {"marked": 2}
    assert after_partial == {"unread": 1}
    assert everything.json() == {"marked": 1}
    assert nothing_left.json() == {"marked": 0}
    assert all(value is not None for value in (await read_ats()).values())


async def test_another_customers_message_is_404_and_stays_unread(client: AsyncClient) -> None:
    alice, _alice_auth = await signed_in_customer(client)
    _bob, bob_auth = await signed_in_customer(client)
    theirs = await message(alice.id, 1)

    got = await client.get(f"/api/v1/me/messages/{theirs.id}", headers=bob_auth)
    read = await client.post(f"/api/v1/me/messages/{theirs.id}/read", headers=bob_auth)
    read_all = await client.post("/api/v1/me/messages/read-all", headers=bob_auth)
    listed = (await client.get("/api/v1/me/messages", headers=bob_auth)).json()

    assert [(r.status_code, r.json()["code"]) for r in (got, read)] == [(404, "notify.message_not_found")] * 2
    assert read_all.json() == {"marked": 0}
    assert listed == {"items": [], "next_cursor": None}
    assert await read_ats() == {theirs.id: None}


@pytest.mark.parametrize(
    ("_case", "method", "path"),
    [
        ("list", "GET", "/api/v1/me/messages"),
        ("count", "GET", "/api/v1/me/messages/unread-count"),
        ("read", "POST", "/api/v1/me/messages/1/read"),
        ("read all", "POST", "/api/v1/me/messages/read-all"),
    ],
)
async def test_signed_out_is_401(client: AsyncClient, _case: str, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert (response.status_code, response.json()["code"]) == (401, "core.unauthenticated")


@pytest.mark.parametrize(
    ("_case", "path", "params", "status"),
    [
        ("bad cursor", "/api/v1/me/messages", {"cursor": "!!"}, 400),
        ("id out of range", "/api/v1/me/messages/0", {}, 422),
        ("limit too large", "/api/v1/me/messages", {"limit": "101"}, 422),
    ],
)
async def test_bad_input_is_4xx(
    client: AsyncClient, _case: str, path: str, params: dict[str, str], status: int
) -> None:
    _customer, auth = await signed_in_customer(client)

    response = await client.get(path, params=params, headers=auth)

    assert response.status_code == status


async def test_staff_see_emails_masked_and_send_a_given_up_one_again(client: AsyncClient) -> None:
    customer, _auth = await signed_in_customer(client, email="alice@example.com")
    with flow.console_email() as sent:
        await message(customer.id, 1)
        await flow.deliver()
    delivery = (await flow.deliveries())[0]
    reader = await make_staff(email="reader@example.com", permissions=["customers.read"])
    writer = await make_staff(email="writer@example.com", permissions=["customers.read", "customers.write"])
    reader_auth, writer_auth = await staff_headers(reader.id), await staff_headers(writer.id)

    listed = (await client.get("/api/v1/admin/notify/emails", headers=reader_auth)).json()
    not_failed = await client.post(
        f"/api/v1/admin/notify/emails/{delivery.id}/retry", json={"reason": "smtp fixed"}, headers=writer_auth
    )
    async with uow() as s:
        await s.execute(update(Delivery).values(status="failed", attempts=6, last_error="451 later"))
    forbidden = await client.post(
        f"/api/v1/admin/notify/emails/{delivery.id}/retry", json={"reason": "smtp fixed"}, headers=reader_auth
    )
    with flow.console_email() as resent:
        retried = await client.post(
            f"/api/v1/admin/notify/emails/{delivery.id}/retry",
            json={"reason": "smtp fixed"},
            headers=writer_auth,
        )
        await flow.deliver()
    history = (
        await client.get(f"/api/v1/admin/notify/emails/{delivery.id}/history", headers=reader_auth)
    ).json()

    assert [(e["recipient"], e["subject"], e["status"]) for e in listed["items"]] == [
        ("a***@example.com", "【Mercato】订单已送达", "sent")
    ]
    assert "alice@example.com" not in str(listed)
    assert (not_failed.status_code, not_failed.json()["code"]) == (409, "notify.not_retryable")
    assert forbidden.status_code == 403
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert [e.recipient for e in sent.sent] == ["alice@example.com"]
    assert [e.recipient for e in resent.sent] == ["alice@example.com"]
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in history][-3:] == [
        ("failed", "pending", "writer@example.com"),
        ("pending", "sending", "job:notify.send_emails"),
        ("sending", "sent", "job:notify.send_emails"),
    ]
    async with uow(write=False) as s:
        audit = [
            tuple(row)
            for row in await s.execute(
                select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_label).where(
                    AuditEntry.action.startswith("notify.")
                )
            )
        ]
    assert audit == [("notify.email_retry", str(delivery.id), "writer@example.com")]
