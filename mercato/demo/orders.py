"""Demo orders: six more shoppers and about two dozen orders in every state, so the console's
orders, to-dos, customer 360, exports and the storefront's 热销 shelf show the trade at work.

Every order goes the way a shopper's does: 立即购买 (``checkout.confirm_buy_now`` for the price,
then ``checkout.buy_now``), paid at the sandbox gateway (``payments.submit_sandbox_payment``; the
shop learns of it by asking the gateway, ``payments.query_payment``, since the gateway's
notification would go to a server not yet running), shipped by hand with the manual tracker,
signed for, confirmed, cancelled, and asked for after-sales. So the stock holds and ledger,
payments, order histories, messages and sales figures are all real. No network call: the sandbox
gateway and the manual tracker are local.

Deterministic for a given catalogue; skipped once its first shopper exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mercato import aftersales, catalog, checkout, fulfillment, identity, orders, payments
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.core.events import deliver_pending
from mercato.core.settings import get_settings
from mercato.pricing import Delivery

DEMO_STAFF = identity.Actor(staff_id=None, label="demo")

#: The demo's shoppers: name, mobile (next to the README's 138 0013 8000) and an address that the
#: national division data knows.
BUYERS: tuple[tuple[str, str, tuple[str, str, str, str, str]], ...] = (
    ("王芳", "+8613800138001", ("北京市", "北京市", "朝阳区", "建国路 88 号 2 号楼 1201", "100022")),
    ("张伟", "+8613800138002", ("广东省", "深圳市", "南山区", "科技园南区高新南一道 6 号", "518057")),
    ("刘洋", "+8613800138003", ("浙江省", "杭州市", "西湖区", "文三路 90 号 3 幢 502", "310012")),
    ("陈静", "+8613800138004", ("四川省", "成都市", "武侯区", "人民南路四段 27 号", "610041")),
    ("杨帆", "+8613800138005", ("江苏省", "南京市", "鼓楼区", "中山北路 30 号 1 单元 801", "210008")),
    ("赵敏", "+8613800138006", ("湖北省", "武汉市", "洪山区", "珞喻路 1037 号", "430074")),
)

#: Where each order ends up.
PENDING = "pending"  # placed, not paid (cancelled by the pay window later, as any unpaid order)
CANCELLED = "cancelled"  # the shopper cancelled it before paying
PAID = "paid"  # waiting to ship: the console's "to ship" to-do
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"  # the shopper confirmed receipt (确认收货)
REFUND_ASKED = "refund_asked"  # delivered; a refund-only request waits for the shop
RETURN_APPROVED = "return_approved"  # delivered; the shop approved a return, the parcel is due


@dataclass(frozen=True)
class Plan:
    buyer: int  # index into the shoppers (-1: the demo customer)
    quantity: int
    outcome: str
    delivery: Delivery = Delivery.standard


PLANS: tuple[Plan, ...] = (
    Plan(-1, 1, COMPLETED),
    Plan(0, 2, COMPLETED),
    Plan(1, 1, COMPLETED),
    Plan(2, 3, COMPLETED),
    Plan(3, 1, COMPLETED),
    Plan(4, 2, COMPLETED),
    Plan(5, 1, DELIVERED),
    Plan(0, 1, DELIVERED, Delivery.express),
    Plan(2, 1, REFUND_ASKED),
    Plan(4, 1, RETURN_APPROVED),
    Plan(-1, 2, SHIPPED),
    Plan(1, 2, SHIPPED),
    Plan(3, 1, SHIPPED, Delivery.express),
    Plan(5, 2, SHIPPED),
    Plan(0, 1, PAID),
    Plan(1, 3, PAID),
    Plan(2, 1, PAID),
    Plan(3, 2, PAID),
    Plan(-1, 1, PAID, Delivery.pickup),  # 到店自提: paid, its code waits at the store
    Plan(4, 1, CANCELLED),
    Plan(5, 1, PENDING),
    Plan(1, 1, PENDING),
)


@dataclass(frozen=True)
class Buyer:
    customer_id: int
    address_id: int

    @property
    def actor(self) -> identity.Actor:
        return identity.Actor(staff_id=None, label=f"customer:{self.customer_id}")


async def _buyers(shopper_phone: str) -> list[Buyer] | None:
    """The demo's shoppers with their default addresses (the demo customer last); None when they
    exist already (the demo orders were made) or the demo customer has no address."""
    async with uow() as session:
        if (await identity.match_customers(session, term=BUYERS[0][1])).customer_ids:
            return None
        shopper = (await identity.match_customers(session, term=shopper_phone)).customer_ids
        addresses = await identity.list_addresses(session, customer_id=shopper[0]) if shopper else []
        if not addresses:
            return None
        buyers = []
        meta = identity.RequestMeta(ip=None, user_agent="mercato demo")
        for name, phone, (province, city, district, detail, postal_code) in BUYERS:
            customer = await identity.create_customer(
                session, phone=phone, email=None, password=None, name=name, meta=meta
            )
            address = await identity.add_address(
                session,
                customer_id=customer.id,
                data=identity.AddressWrite(
                    recipient=name,
                    phone=phone.removeprefix("+86"),
                    province=province,
                    city=city,
                    district=district,
                    detail=detail,
                    postal_code=postal_code,
                    is_default=True,
                ),
            )
            buyers.append(Buyer(customer.id, address.id))
        buyers.append(Buyer(shopper[0], addresses[0].id))
    return buyers


async def _skus(count: int) -> list[int]:
    """The SKUs of the older half of the demo products (the newest are the 新品 shelf, so the
    热销 shelf shows others), the first SKU of each product first."""
    firsts: list[int] = []
    others: list[int] = []
    async with uow(write=False) as session:
        for index in range(max(1, count // 2)):
            try:
                product = await catalog.get_storefront_product_by_slug(session, slug=f"demo-{index + 1:03d}")
            except catalog.ProductNotFound:
                continue
            skus = [sku.id for sku in await catalog.list_skus(session, product_id=product.id)]
            firsts += skus[:1]
            others += skus[1:]
    return firsts + others


async def _buy(buyer: Buyer, plan: Plan, skus: list[int], start: int, key: str) -> orders.OrderRead | None:
    """Buy ``plan.quantity`` of the first SKU from ``start`` on that can reach the buyer now."""
    for step in range(len(skus)):
        sku_id = skus[(start + step) % len(skus)]
        pickup_store_id = None
        try:
            async with uow(write=False) as session:
                if plan.delivery is Delivery.pickup:
                    stores = await checkout.pickup_stores(
                        session, customer_id=buyer.customer_id, sku_id=sku_id, quantity=plan.quantity
                    )
                    if not stores:
                        continue
                    pickup_store_id = stores[0].id
                choice = checkout.ConfirmCheckout(
                    address_id=buyer.address_id, delivery=plan.delivery, pickup_store_id=pickup_store_id
                )
                quote = await checkout.confirm_buy_now(
                    session, customer_id=buyer.customer_id, sku_id=sku_id, quantity=plan.quantity, data=choice
                )
            async with uow() as session:
                placed = await checkout.buy_now(
                    session,
                    customer_id=buyer.customer_id,
                    data=checkout.BuyNow(
                        sku_id=sku_id,
                        quantity=plan.quantity,
                        address_id=buyer.address_id,
                        delivery=plan.delivery,
                        pickup_store_id=pickup_store_id,
                        expected_total_amount=quote.price.total_amount,
                    ),
                    idempotency_key=key,
                )
        except DomainError:  # out of stock, or not deliverable there: the shopper picks another
            continue
        return await _read(placed.order_id)
    return None


async def _read(order_id: int) -> orders.OrderRead:
    async with uow(write=False) as session:
        return await orders.read_order(session, order_id=order_id)


async def _pay(order: orders.OrderRead) -> orders.OrderRead:
    """Pay at the sandbox gateway's page, then let the shop ask the gateway (the reconciliation
    path: its notification job would post to a server not yet running)."""
    async with uow(write=False) as session:
        payment = (await payments.list_payments(session, reference=f"order:{order.id}", limit=1)).items[0]
    assert payment.provider_payment_id is not None  # opened at the sandbox right after the commit
    async with uow() as session:
        await payments.submit_sandbox_payment(
            session,
            trade_id=payment.provider_payment_id,
            data=payments.SandboxPay(outcome=payments.SandboxOutcome.pay),
        )
        session.info.pop("after_commit", None)  # the gateway's notification: asked for below instead
    await payments.query_payment(payment_id=payment.id)
    await _settle()
    return await _read(order.id)


async def _settle() -> None:
    """Deliver the events so far (paid orders leave carts, pickup codes, messages, sales)."""
    while await deliver_pending(limit=1000):
        pass


async def _ship(order: orders.OrderRead) -> list[int]:
    """Ship every sub-order by hand; return the shipments. A trackable carrier only while the
    manual tracker follows it (never a made-up number sent to Kuaidi100)."""
    carrier = "shunfeng" if get_settings().tracking_provider == "manual" else "shop"
    shipments = []
    for sub in order.sub_orders:
        async with uow() as session:
            shipment = await fulfillment.ship_sub_order(
                session,
                data=fulfillment.ShipmentCreate(
                    order_id=order.id,
                    sub_order_id=sub.id,
                    carrier=carrier,
                    tracking_number=f"SF14{sub.id:010d}",
                ),
                actor=DEMO_STAFF,
            )
        shipments.append(shipment.id)
    return shipments


async def _deliver(shipments: list[int]) -> None:
    for shipment_id in shipments:
        async with uow() as session:
            await fulfillment.mark_shipment_delivered(
                session, shipment_id=shipment_id, data=fulfillment.DeliverShipment(), actor=DEMO_STAFF
            )


async def _after_sales(buyer: Buyer, order: orders.OrderRead, outcome: str) -> None:
    line = order.lines[0]
    refund_only = outcome == REFUND_ASKED
    async with uow() as session:
        request = await aftersales.create_request(
            session,
            customer_id=buyer.customer_id,
            data=aftersales.CreateRequest(
                order_id=order.id,
                order_line_id=line.id,
                kind=aftersales.AftersalesKind.refund_only
                if refund_only
                else aftersales.AftersalesKind.return_refund,
                quantity=1,
                reason_code=aftersales.ReasonCode.damaged if refund_only else aftersales.ReasonCode.size_fit,
                description="外包装破损，商品有划痕" if refund_only else "尺码偏小，想退货",
            ),
        )
    if not refund_only:
        async with uow() as session:
            await aftersales.approve_request(
                session,
                request_id=request.id,
                data=aftersales.Decide(reason="同意退货，请寄回商品"),
                actor=DEMO_STAFF,
            )


async def _carry_out(buyer: Buyer, order: orders.OrderRead, outcome: str) -> None:
    """Take a placed order to ``outcome``."""
    if outcome == PENDING:
        return
    if outcome == CANCELLED:
        async with uow() as session:
            await checkout.cancel_order(
                session,
                order_id=order.id,
                reason="不想要了",
                actor=buyer.actor,
                customer_id=buyer.customer_id,
            )
        await _settle()
        return
    order = await _pay(order)
    if outcome == PAID:
        return
    shipments = await _ship(order)
    if outcome == SHIPPED:
        return
    await _deliver(shipments)
    if outcome == COMPLETED:
        async with uow() as session:
            await orders.complete_order(
                session, order_id=order.id, actor=buyer.actor, reason=orders.RECEIPT_CONFIRMED
            )
    elif outcome in {REFUND_ASKED, RETURN_APPROVED}:
        await _after_sales(buyer, order, outcome)
    await _settle()


async def seed_orders(*, shopper_phone: str, count: int, progress: Callable[[str], None]) -> list[str]:
    """Place the demo orders once (see the module docstring); ``shopper_phone`` is the demo
    customer's, who gets a few of them; ``count`` is the catalogue's size."""
    if count == 0 or "sandbox" not in payments.offered_providers():
        return []
    skus = await _skus(count)
    if not skus:
        return []
    buyers = await _buyers(shopper_phone)
    if buyers is None:
        return []
    placed = 0
    for number, plan in enumerate(PLANS):
        if number % 4 == 0:
            progress(f"demo: orders {number}/{len(PLANS)}…")
        buyer = buyers[plan.buyer]
        order = await _buy(buyer, plan, skus, start=number * 3, key=f"demo-order-{number + 1:02d}")
        if order is None:
            continue
        await _carry_out(buyer, order, plan.outcome)
        placed += 1
    progress(f"demo: orders {len(PLANS)}/{len(PLANS)}")
    return [f"{len(BUYERS)} more customers with {placed} orders in every state"]
