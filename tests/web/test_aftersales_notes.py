"""Reasons the system writes on an after-sales timeline ("refund 3 confirmed", "refunded") are
translated on the shopper's page and in the console; a reason a person typed is shown as typed,
and steps written before the notes were marked are still recognised."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy import update

from mercato import aftersales
from mercato.aftersales.models import AftersalesStatusChange
from mercato.core import events
from mercato.core.db import uow
from tests.web.pages import EN, staff_sign_in
from tests.web.storefront.shopping import paid_order, shopper_with_order
from tests.web.storefront.test_account_aftersales import approved, filed

pytestmark = pytest.mark.usefixtures("handlers")

ZH = {"Accept-Language": "zh-CN"}


async def refunded_request(client: AsyncClient) -> aftersales.AftersalesRead:
    """A paid order's refund-only request, approved with a typed note and refunded at the sandbox."""
    customer, order = await shopper_with_order(client, paid_order)
    request = await filed(
        customer.id,
        order,
        aftersales.AftersalesKind.refund_only,
        aftersales.ReasonCode.no_reason,
        2,
        then=approved("同意，refund today"),
    )
    await events.deliver_pending()
    async with uow(write=False) as s:
        done = await aftersales.get_request(s, request_id=request.id)
    assert done.status is aftersales.AftersalesStatus.completed
    return done


def shopper_notes(page: str) -> list[str]:
    return re.findall(r'<br><span class="muted(?: pre-line)?">([^<]*)</span>', page)


def console_notes(page: str) -> list[str]:
    return re.findall(r"<span> · ([^<(]*)</span></li>", page)


async def test_system_notes_are_translated_and_typed_reasons_shown_as_typed(client: AsyncClient) -> None:
    request = await refunded_request(client)
    refund_id = request.refund_id
    assert [(step.note, step.reason) for step in request.timeline] == [
        (None, ""),
        (None, "同意，refund today"),
        ("refund %(refund_id)s", f"refund {refund_id}"),
        ("refund %(refund_id)s confirmed", f"refund {refund_id} confirmed"),
        ("refunded", "refunded"),
    ]
    url = f"/account/aftersales/{request.id}"

    zh = await client.get(url, headers=ZH)
    en = await client.get(url, headers=EN)

    assert zh.status_code == 200
    assert shopper_notes(zh.text) == [
        "已退款",
        f"退款 {refund_id} 已确认",
        f"退款 {refund_id} 已发起",
        "同意，refund today",
    ]
    assert shopper_notes(en.text) == [
        "refunded",
        f"refund {refund_id} confirmed",
        f"refund {refund_id}",
        "同意，refund today",
    ]

    await staff_sign_in(client, "cs@example.com", "aftersales.read")
    console = await client.get(f"/admin/aftersales/{request.id}", headers=ZH)
    assert console.status_code == 200
    assert console_notes(console.text) == [
        "同意，refund today",
        f"退款 {refund_id} 已发起",
        f"退款 {refund_id} 已确认",
        "已退款",
    ]


async def test_steps_written_before_notes_were_marked_are_still_translated(client: AsyncClient) -> None:
    request = await refunded_request(client)
    refund_id = request.refund_id
    async with uow() as s:  # as rows written before the message id was kept
        await s.execute(
            update(AftersalesStatusChange)
            .where(AftersalesStatusChange.request_id == request.id)
            .values(details={"refund_id": refund_id})
        )

    page = await client.get(f"/account/aftersales/{request.id}", headers=ZH)

    assert shopper_notes(page.text) == [
        "已退款",
        f"退款 {refund_id} 已确认",
        f"退款 {refund_id} 已发起",
        "同意，refund today",
    ]
