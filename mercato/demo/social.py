"""Demo social plays: flash sales (秒杀: a session selling now with three items, one nearly sold
out, and one starting in a few hours), a 拼团 offer with a group waiting for one more, and a 砍价
offer with the demo shopper's bargain already helped, so the pages, countdowns and the console's
live counts have something to show.

Made through the social services as staff would (quotas carved out of stock, audit log and
status history real). Skipped once any flash-sale session exists. Times are relative to the
first run; the live session lasts six hours from then, after which the page shows the next one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity, inventory, payments, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.events import deliver_pending
from mercato.demo.orders import BUYERS

ACTOR = identity.Actor(staff_id=None, label="demo")
HOUR = dt.timedelta(hours=1)


async def _session(
    session: AsyncSession,
    *,
    name: str,
    starts_at: dt.datetime,
    hours: int,
    items: list[tuple[int, int, int, int]],
) -> int:
    """A published session of ``items`` (SKU id, sale price, quota, per customer)."""
    created = await social.create_flash_session(
        session,
        data=social.FlashSessionWrite(
            name=name,
            starts_at=starts_at,
            ends_at=starts_at + hours * HOUR,
            note="每人限购，付款时限 5 分钟，超时未付款的商品将重新开抢。",
        ),
        actor=ACTOR,
    )
    for position, (sku_id, price, quota, per_customer) in enumerate(items):
        await social.add_flash_item(
            session,
            flash_session_id=created.id,
            data=social.FlashItemWrite(
                sku_id=sku_id, price_amount=price, quota=quota, per_customer=per_customer, position=position
            ),
            actor=ACTOR,
        )
    await social.publish_flash_session(session, flash_session_id=created.id, actor=ACTOR)
    return created.id


async def seed_flash_sales(session: AsyncSession) -> list[str]:
    """Create the demo sessions once (see the module docstring); nothing without stocked products."""
    if await social.list_flash_sessions(session):
        return []
    cards = (await catalog.list_storefront_products(session, page_size=24)).items
    skus = await catalog.get_card_skus(session, product_ids=[c.id for c in cards])
    cheapest = [found[0] for product_id in (c.id for c in cards) if (found := skus.get(product_id))]
    available = await inventory.available_units(session, sku_ids=[s.sku_id for s in cheapest])
    stocked = [s for s in cheapest if available.get(s.sku_id, 0) >= 20 and s.price_amount >= 1000][:5]
    if len(stocked) < 5:
        return []
    now = clock.now()

    def sale(sku: catalog.CardSku, percent: int) -> int:
        return max(100, sku.price_amount * percent // 100 // 100 * 100 - 10)  # ¥xx.90

    live = [
        (stocked[0].sku_id, sale(stocked[0], 50), min(50, available[stocked[0].sku_id] // 2), 1),
        (stocked[1].sku_id, sale(stocked[1], 60), min(30, available[stocked[1].sku_id] // 2), 2),
        (stocked[2].sku_id, sale(stocked[2], 40), 3, 1),
    ]
    soon = [
        (stocked[3].sku_id, sale(stocked[3], 50), min(40, available[stocked[3].sku_id] // 2), 1),
        (stocked[4].sku_id, sale(stocked[4], 70), min(20, available[stocked[4].sku_id] // 2), 1),
    ]
    await _session(session, name="限时秒杀 · 正在疯抢", starts_at=now - HOUR, hours=7, items=live)
    await _session(session, name="限时秒杀 · 下一场", starts_at=now + 3 * HOUR, hours=2, items=soon)
    return ["秒杀 session selling 3 items now and another starting in 3 hours"]


async def _customer(session: AsyncSession, phone: str) -> int | None:
    found = (await identity.match_customers(session, term=phone)).customer_ids
    return found[0] if found else None


async def seed_groups_and_bargains(*, shopper_phone: str) -> list[str]:
    """A live 拼团 offer with a group its leader opened and paid (one seat left, on the product
    page as 凑团), and a 砍价 offer with the demo shopper's bargain already helped twice. Each step
    in its own unit of work, the leader paying at the sandbox gateway as a shopper would. Skipped
    once any group offer exists."""
    async with uow() as session:
        if await social.list_group_offers(session):
            return []
        cards = (await catalog.list_storefront_products(session, page_size=24)).items
        skus = await catalog.get_card_skus(session, product_ids=[c.id for c in cards])
        cheapest = [found[0] for product_id in (c.id for c in cards) if (found := skus.get(product_id))]
        available = await inventory.available_units(session, sku_ids=[s.sku_id for s in cheapest])
        stocked = [s for s in cheapest if available.get(s.sku_id, 0) >= 20 and s.price_amount >= 2000]
        leader_id = await _customer(session, BUYERS[0][1])
        helpers = [await _customer(session, b[1]) for b in BUYERS[1:3]]
        shopper_id = await _customer(session, shopper_phone)
        if len(stocked) < 8 or leader_id is None or shopper_id is None or None in helpers:
            return []
        now = clock.now()
        group_sku, bargain_sku = stocked[6], stocked[7]
        offer = await social.create_group_offer(
            session,
            data=social.GroupOfferWrite(
                name="2 人拼团",
                sku_id=group_sku.sku_id,
                price_amount=group_sku.price_amount * 70 // 100 // 100 * 100 - 10,
                size=2,
                hours=24,
                starts_at=now - HOUR,
                ends_at=now + 7 * 24 * HOUR,
            ),
            actor=ACTOR,
        )
        await social.publish_group_offer(session, offer_id=offer.id, actor=ACTOR)
        bargain_offer = await social.create_bargain_offer(
            session,
            data=social.BargainOfferWrite(
                name="好友帮砍，砍到底价带回家",
                sku_id=bargain_sku.sku_id,
                floor_amount=max(100, bargain_sku.price_amount // 10 // 100 * 100),
                helps_min=5,
                helps_max=8,
                hours=48,
                stock=20,
                starts_at=now - HOUR,
                ends_at=now + 7 * 24 * HOUR,
            ),
            actor=ACTOR,
        )
        await social.publish_bargain_offer(session, offer_id=bargain_offer.id, actor=ACTOR)
        quote = await social.confirm_group(session, customer_id=leader_id, offer_id=offer.id)
    async with uow() as session:
        opened = await social.open_group(
            session,
            customer_id=leader_id,
            offer_id=offer.id,
            data=social.GroupBuy(expected_total_amount=quote.price.total_amount),
            idempotency_key="demo-group-leader",
        )
    async with uow(write=False) as session:
        payment = await payments.get_payment(session, payment_id=opened.payment_id)
    assert payment.provider_payment_id is not None  # opened at the sandbox right after the commit
    async with uow() as session:
        await payments.submit_sandbox_payment(
            session,
            trade_id=payment.provider_payment_id,
            data=payments.SandboxPay(outcome=payments.SandboxOutcome.pay),
        )
        session.info.pop("after_commit", None)  # no server to notify yet: the shop asks instead
    await payments.query_payment(payment_id=payment.id)
    while await deliver_pending(limit=1000):
        pass
    async with uow() as session:
        bargain = await social.start_bargain(session, offer_id=bargain_offer.id, customer_id=shopper_id)
    for helper_id in helpers:
        async with uow() as session:
            assert helper_id is not None
            await social.help_bargain(session, bargain_id=bargain.id, helper_id=helper_id)
    return [
        "拼团 offer with a group waiting for one more",
        "砍价 offer with the demo shopper's bargain helped twice",
    ]
