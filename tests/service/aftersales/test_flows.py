"""The other paths: refund only before shipment (closing the whole order and freeing its stock),
disputes decided either way, grading refusals, and a refund the gateway refused issued again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mercato import aftersales, orders, payments
from mercato.core import events
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.payments.providers.base import RefundResult
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from tests.service.aftersales.support import (
    ARBITER,
    SHOP,
    WAREHOUSE,
    Bought,
    delivered_order,
    paid_order,
    payment_of,
    read_order,
    request_for,
    rows,
    stock,
)

K = aftersales.AftersalesKind
R = aftersales.AftersalesStatus


pytestmark = pytest.mark.usefixtures("handlers")


class RefusingGateway(SandboxProvider):
    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        return RefundResult(succeeded=False, failure_reason="account frozen")


@pytest.fixture
def refusing() -> Iterator[None]:
    set_provider("sandbox", RefusingGateway())
    yield
    set_provider("sandbox", None)


async def create(bought: Bought, data: aftersales.CreateRequest) -> aftersales.AftersalesRead:
    async with uow() as s:
        return await aftersales.create_request(s, customer_id=bought.customer_id, data=data)


async def approve(request_id: int) -> aftersales.AftersalesRead:
    async with uow() as s:
        return await aftersales.approve_request(
            s, request_id=request_id, data=aftersales.Decide(), actor=SHOP
        )


async def view(request_id: int) -> aftersales.AftersalesRead:
    async with uow(write=False) as s:
        return await aftersales.get_request(s, request_id=request_id)


async def returned(bought: Bought, quantity: int = 1) -> aftersales.AftersalesRead:
    """An approved return of ``quantity`` units, sent back."""
    opened = await create(bought, request_for(bought, quantity=quantity))
    await approve(opened.id)
    async with uow() as s:
        return await aftersales.ship_back(
            s,
            request_id=opened.id,
            customer_id=bought.customer_id,
            data=aftersales.ShipBack(carrier="ZTO", tracking_number="ZT12345678"),
        )


async def test_refunding_every_unit_before_shipment_closes_the_order_and_frees_its_stock() -> None:
    bought = await paid_order(units=2)  # 60 元 of goods + 10 元 shipping
    assert await stock(bought.red, bought.warehouse_id) == (5, 2)

    opened = await create(
        bought, request_for(bought, K.refund_only, quantity=2, reason_code=aftersales.ReasonCode.not_wanted)
    )
    approved = await approve(opened.id)
    await events.deliver_pending()

    order = await read_order(bought.order.id)
    payment = await payment_of(bought.order)
    done = await view(opened.id)
    assert (approved.status, approved.refund_amount, approved.shipping_refund_amount) == (
        R.refunding,
        6000,
        1000,
    )
    assert (order.status, order.history[-1].reason) == (
        orders.OrderStatus.closed,
        f"refunded in full by after-sales {opened.number}",
    )
    assert await stock(bought.red, bought.warehouse_id) == (5, 0)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.refunded, 7000)
    assert (done.status, done.total_refund_amount) == (R.completed, 7000)


async def test_refunding_part_of_an_order_before_shipment_keeps_it_open_until_the_last_line() -> None:
    bought = await paid_order(units=2, black=1)  # 90 元 of goods + 12 元 shipping
    red_line, black_line = sorted(bought.order.lines, key=lambda x: x.sku_id != bought.red)

    red = await approve(
        (await create(bought, request_for(bought, K.refund_only, quantity=2, order_line_id=red_line.id))).id
    )
    await events.deliver_pending()
    after_red = await read_order(bought.order.id)
    black = await approve(
        (await create(bought, request_for(bought, K.refund_only, quantity=1, order_line_id=black_line.id))).id
    )
    await events.deliver_pending()

    order = await read_order(bought.order.id)
    payment = await payment_of(bought.order)
    assert (red.total_refund_amount, after_red.status) == (6000, orders.OrderStatus.paid)
    assert [(x.sku_id, x.refunded_quantity) for x in after_red.lines if x.id == red_line.id] == [
        (bought.red, 2)
    ]
    assert (black.refund_amount, black.shipping_refund_amount) == (3000, 1200)
    assert order.status is orders.OrderStatus.closed
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.refunded, 10200)
    assert await stock(bought.red, bought.warehouse_id) == (5, 0)
    assert await stock(bought.black, bought.warehouse_id) == (5, 0)


async def test_a_dispute_decided_for_the_shopper_drives_the_refund() -> None:
    bought = await delivered_order(units=2)
    opened = await create(
        bought, request_for(bought, K.refund_only, reason_code=aftersales.ReasonCode.damaged)
    )
    async with uow() as s:
        await aftersales.reject_request(
            s, request_id=opened.id, data=aftersales.Reject(reason="照片看不出损坏"), actor=SHOP
        )
    async with uow() as s:
        await aftersales.escalate_request(
            s,
            request_id=opened.id,
            customer_id=bought.customer_id,
            data=aftersales.Escalate(statement="外箱破损"),
        )
    async with uow() as s:
        decided = await aftersales.arbitrate_request(
            s,
            request_id=opened.id,
            data=aftersales.Arbitrate(decision=aftersales.ArbitrationDecision.shopper, reason="物流破损属实"),
            actor=ARBITER,
        )
    await events.deliver_pending()

    done = await view(opened.id)
    payment = await payment_of(bought.order)
    assert decided.status is R.refunding
    assert [(s.status, s.actor, s.actor_label) for s in done.timeline] == [
        (R.requested, "customer", f"customer:{bought.customer_id}"),
        (R.rejected, "shop", SHOP.label),
        (R.disputed, "customer", f"customer:{bought.customer_id}"),
        (R.approved, "platform", ARBITER.label),
        (R.refunding, "platform", ARBITER.label),
        (R.refunded, "system", "payments"),
        (R.completed, "system", "payments"),
    ]
    assert done.dispute is not None
    assert (done.dispute.statement, done.dispute.decision, done.dispute.reason) == (
        "外箱破损",
        aftersales.ArbitrationDecision.shopper,
        "物流破损属实",
    )
    assert (done.decision_reason, done.status) == ("照片看不出损坏", R.completed)
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.partially_refunded, 3000)


async def test_a_dispute_decided_for_the_shop_closes_the_request_and_frees_its_units() -> None:
    bought = await delivered_order(units=2)
    opened = await create(bought, request_for(bought, K.refund_only, quantity=2))
    async with uow() as s:
        await aftersales.reject_request(
            s, request_id=opened.id, data=aftersales.Reject(reason="已使用"), actor=SHOP
        )
    async with uow() as s:
        await aftersales.escalate_request(
            s,
            request_id=opened.id,
            customer_id=bought.customer_id,
            data=aftersales.Escalate(statement="没用过"),
        )
    async with uow() as s:
        closed = await aftersales.arbitrate_request(
            s,
            request_id=opened.id,
            data=aftersales.Arbitrate(decision=aftersales.ArbitrationDecision.shop, reason="有使用痕迹"),
            actor=ARBITER,
        )

    again = await create(bought, request_for(bought, K.exchange, quantity=2))
    payment = await payment_of(bought.order)
    assert (closed.status, closed.refund_id, closed.closed_at is not None) == (R.closed, None, True)
    assert again.quantity == 2
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.paid, 0)


async def test_grading_more_or_fewer_units_than_returned_changes_nothing() -> None:
    bought = await delivered_order(units=2)
    sent = await returned(bought, quantity=1)
    before = await rows()

    with pytest.raises(aftersales.TooManyUnitsGraded) as more:
        async with uow() as s:
            await aftersales.receive_return(
                s, request_id=sent.id, data=aftersales.ReceiveReturn(resellable=1, scrap=1), actor=WAREHOUSE
            )
    with pytest.raises(aftersales.UnitsNotGraded) as fewer:
        async with uow() as s:
            await aftersales.receive_return(
                s, request_id=sent.id, data=aftersales.ReceiveReturn(), actor=WAREHOUSE
            )

    assert (more.value.code, more.value.params) == (
        "aftersales.too_many_units_graded",
        {"graded": 2, "returned": 1},
    )
    assert fewer.value.code == "aftersales.units_not_graded"
    assert await rows() == before
    assert await stock(bought.red, bought.warehouse_id) == (3, 0)


async def test_a_refund_the_gateway_refused_is_noticed_and_issued_again(refusing: None) -> None:
    bought = await delivered_order(units=2)
    sent = await returned(bought)
    async with uow() as s:
        await aftersales.receive_return(
            s, request_id=sent.id, data=aftersales.ReceiveReturn(scrap=1), actor=WAREHOUSE
        )
    async with uow() as s:
        noticed = await aftersales.check_refunds(s)
    failed = await view(sent.id)
    set_provider("sandbox", None)

    async with uow() as s:
        retried = await aftersales.refund_request(s, request_id=sent.id, actor=SHOP)
    await events.deliver_pending()
    async with uow() as s:
        nothing_left = await aftersales.check_refunds(s)

    done = await view(sent.id)
    async with uow(write=False) as s:
        refunds = await payments.list_refunds(s, payment_id=bought.order.payment_id)
    payment = await payment_of(bought.order)
    assert (noticed, failed.status, failed.refund_status, failed.timeline[-1].reason) == (
        1,
        R.refund_failed,
        "failed",
        "account frozen",
    )
    assert (retried.status, retried.refund_id != failed.refund_id, nothing_left) == (R.refunding, True, 0)
    assert done.status is R.completed
    assert sorted((r.amount, r.status) for r in refunds) == [
        (3000, payments.RefundStatus.failed),
        (3000, payments.RefundStatus.succeeded),
    ]
    assert (payment.status, payment.refunded_amount) == (payments.PaymentStatus.partially_refunded, 3000)
    assert await stock(bought.red, bought.warehouse_id) == (3, 0)  # a scrapped unit stays out of stock


async def test_repeated_refund_events_change_nothing() -> None:
    bought = await delivered_order(units=2)
    opened = await create(bought, request_for(bought, K.refund_only))
    approved = await approve(opened.id)
    await events.deliver_pending()
    assert approved.refund_id is not None
    assert approved.payment_id is not None
    before = await rows()

    async with uow() as s:
        again = await aftersales.record_refund_outcome(
            s, payment_id=approved.payment_id, refund_id=approved.refund_id
        )

    assert again is False
    assert (await view(opened.id)).status is R.completed
    assert await rows() == before
    with pytest.raises(DomainError) as late:
        await approve(opened.id)
    assert late.value.code == "aftersales.illegal_transition"


async def test_units_refunded_before_shipment_do_not_ship_and_their_stock_is_freed_at_once() -> None:
    bought = await paid_order(units=2, black=1)
    red_line = next(x for x in bought.order.lines if x.sku_id == bought.red)
    assert await stock(bought.red, bought.warehouse_id) == (5, 2)

    await approve(
        (await create(bought, request_for(bought, K.refund_only, quantity=1, order_line_id=red_line.id))).id
    )
    await events.deliver_pending()
    freed = await stock(bought.red, bought.warehouse_id)
    [part] = (await read_order(bought.order.id)).sub_orders
    async with uow() as s:
        await orders.mark_sub_order_shipped(
            s, order_id=bought.order.id, sub_order_id=part.id, actor=WAREHOUSE
        )

    assert freed == (5, 1)
    assert await stock(bought.red, bought.warehouse_id) == (4, 0)  # one red shipped, one stayed
    assert await stock(bought.black, bought.warehouse_id) == (4, 0)
    assert (await read_order(bought.order.id)).status is orders.OrderStatus.shipped
    async with uow() as s:
        with pytest.raises(orders.CannotDropUnits):  # shipped: too late to take units out
            await orders.drop_units_before_shipping(
                s, order_id=bought.order.id, order_line_id=red_line.id, quantity=1, actor=SHOP, reason="late"
            )
