"""A failed group's refund through a real gateway protocol: the members paid with Alipay (a local
server speaking Alipay's gateway, RSA2-signed both ways); when the group runs out of time each is
refunded in full through Alipay's refund API, exactly once, and their orders close."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from httpx import AsyncClient

from mercato import orders, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.jobs import broker
from tests.factories.checkout import shopper
from tests.factories.payments import read_payment
from tests.factories.social import deliver, flash_shop, group_offer
from tests.providers.fake_alipay import FakeAlipay, configure, running_fake_alipay

pytestmark = pytest.mark.usefixtures("handlers")

TOTAL = 1990 + 800


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeAlipay]:
    async with running_fake_alipay() as server:
        configure(monkeypatch, server)
        yield server


async def pay_with_alipay(client: AsyncClient, fake: FakeAlipay, payment_id: int) -> None:
    """Open Alipay's cashier, pay there, and let Alipay notify the shop (signed)."""
    await broker.wait_all()
    payment = await read_payment(payment_id)
    assert payment.pay_url is not None
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(payment.pay_url)).status_code == 200
    fake.pay(str(payment_id))
    assert (await fake.notify(client, str(payment_id))).text == "success"
    await deliver()


async def test_a_failed_groups_members_are_refunded_through_alipay(
    client: AsyncClient, fake: FakeAlipay
) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await group_offer(red, price=1990, size=3, hours=1)
    leader, _ = await shopper(client)
    friend, _ = await shopper(client)
    opened = await client.post(
        f"/api/v1/group-offers/{offer.id}/groups",
        json={"expected_total_amount": TOTAL, "provider": "alipay"},
        headers={**leader, "Idempotency-Key": "alipay-group-open"},
    )
    await pay_with_alipay(client, fake, opened.json()["payment_id"])
    group_id = opened.json()["group_id"]
    joined = await client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"expected_total_amount": TOTAL, "provider": "alipay"},
        headers={**friend, "Idempotency-Key": "alipay-group-join"},
    )
    await pay_with_alipay(client, fake, joined.json()["payment_id"])
    clock.advance(dt.timedelta(hours=1, seconds=1))

    counts = await social.settle_due_groups()
    await broker.wait_all()  # the refunds go to Alipay after the commit
    again = await social.settle_due_groups()
    await broker.wait_all()

    assert (counts["failed"], again["failed"]) == (1, 0)
    for placed in (opened.json(), joined.json()):
        payment = await read_payment(placed["payment_id"])
        assert (payment.status, payment.refunded_amount) == ("refunded", TOTAL)
        assert list(fake.trades[str(payment.id)].refunds.values()) == [TOTAL]  # refunded once, in full
        async with uow(write=False) as s:
            order = await orders.read_order(s, order_id=placed["order_id"])
        assert order.status is orders.OrderStatus.closed
