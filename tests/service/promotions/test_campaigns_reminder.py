"""The coupon-expiring reminder: notify writes one in-app message (and email) per coupon, in the
shop's language, with the end in the shop's time zone, however often the event is delivered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mercato import notify, promotions
from mercato.core import events
from mercato.core.db import uow
from mercato.notify.models import Delivery
from tests.factories.identity import make_customer

pytestmark = pytest.mark.usefixtures("handlers")


async def remind(coupon_id: int, customer_id: int) -> None:
    async with uow() as session:
        await events.record_event(
            session,
            promotions.CouponExpiring(
                coupon_id=coupon_id,
                customer_id=customer_id,
                template_id=3,
                coupon_name="满 200 减 30",
                valid_until="2026-12-13T15:59:00+00:00",
            ),
        )
    await events.deliver_pending()


async def test_one_message_per_coupon_with_the_end_in_the_shop_time_zone() -> None:
    customer = await make_customer(email="shopper@example.com")

    await remind(7, customer.id)
    await remind(7, customer.id)  # recorded twice: still one message

    async with uow(write=False) as session:
        page = await notify.list_messages(session, customer_id=customer.id)
        emails = await session.scalar(select(func.count()).select_from(Delivery))
    assert [(m.kind, m.title, m.body, m.link) for m in page.items] == [
        (
            notify.MessageKind.coupon_expiring,
            "您的优惠券即将过期",
            "您的优惠券「满 200 减 30」将于 2026-12-13 23:59 过期，请尽快使用。"
            "在「我的优惠券」中可以查看它的使用条件。",
            "coupon:7",
        )
    ]
    assert emails == 1
