"""The message telling a shopper their return or exchange was approved says where to send the
goods (the warehouse the line shipped from, the shop's service phone, the request number); a
refund-only approval says nothing of it, and a caller that leaves the address out still renders."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from mercato import aftersales, inventory, notify, shop
from mercato.core import events
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.notify import templating as notify_templating
from tests.service.aftersales.support import SHOP, delivered_order, paid_order, request_for

pytestmark = pytest.mark.usefixtures("handlers")

K = aftersales.AftersalesKind


@pytest.fixture(params=["zh_CN", "en"])
def locale(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MERCATO_LOCALE", request.param)
    get_settings.cache_clear()
    return str(request.param)


class Approved(NamedTuple):
    order_number: str
    request_number: str
    warehouse: str
    message: notify.MessageRead


async def approved(kind: K, *, service_phone: str | None = None) -> Approved:
    """A request of ``kind`` approved by the shop, and the message its approval wrote."""
    bought = await (paid_order() if kind is K.refund_only else delivered_order())
    if service_phone is not None:
        async with uow() as s:
            await shop.update_profile(s, data=shop.ProfileWrite(name="山海小铺", service_phone=service_phone))
    async with uow() as s:
        opened = await aftersales.create_request(
            s, customer_id=bought.customer_id, data=request_for(bought, kind, quantity=1)
        )
    async with uow() as s:
        await aftersales.approve_request(s, request_id=opened.id, data=aftersales.Decide(), actor=SHOP)
    await events.deliver_pending()
    async with uow(write=False) as s:
        page = await notify.list_messages(s, customer_id=bought.customer_id)
        warehouse = await inventory.get_warehouse(s, warehouse_id=bought.warehouse_id)
    (message,) = [m for m in page.items if m.kind is notify.MessageKind.aftersales_decided]
    return Approved(bought.order.number, opened.number, warehouse.name, message)


async def test_an_approved_return_says_where_to_send_the_goods(locale: str) -> None:
    done = await approved(K.return_refund, service_phone="400-123-4567")

    expected = {
        "zh_CN": f"您对订单 {done.order_number} 的售后申请已通过。\n\n"
        f"请将商品寄回：{done.warehouse}，上海市上海市，电话 400-123-4567。\n"
        f"请在包裹上注明售后单号 {done.request_number}。",
        "en": f"Your after-sales request for order {done.order_number} has been approved.\n\n"
        f"Please send the goods to: {done.warehouse}, 上海市 上海市, phone 400-123-4567.\n"
        f"Write the request number {done.request_number} on the parcel.",
    }
    assert (done.message.locale, done.message.body) == (locale, expected[locale])


async def test_an_approved_exchange_says_where_to_send_the_goods_without_a_phone() -> None:
    done = await approved(K.exchange)

    assert done.message.body == (
        f"您对订单 {done.order_number} 的售后申请已通过。\n\n"
        f"请将商品寄回：{done.warehouse}，上海市上海市。\n"
        f"请在包裹上注明售后单号 {done.request_number}。"
    )


async def test_an_approved_refund_only_has_no_address() -> None:
    done = await approved(K.refund_only)

    assert done.message.body == f"您对订单 {done.order_number} 的售后申请已通过。"


def test_a_caller_that_leaves_the_address_out_still_renders() -> None:
    params = {"order_number": "2026112700000001", "approved": True, "reason": ""}

    rendered = notify_templating.render(
        notify.MessageKind.aftersales_decided, "en", params, name="Alex", url="/", shop_name="Shop"
    )

    assert rendered.body == "Your after-sales request for order 2026112700000001 has been approved."
