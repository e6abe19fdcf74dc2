"""Social factories: a published flash-sale session and shoppers ready to buy in it."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from mercato import checkout, identity, inventory, social
from mercato.core import clock, events
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM
from tests.factories.checkout import ADDRESS, open_shop
from tests.factories.identity import make_customer

_keys = itertools.count(1)


async def flash_session(
    sku_id: int,
    *,
    price: int = 990,
    quota: int = 10,
    per_customer: int = 1,
    starts_in: dt.timedelta = dt.timedelta(0),
    lasts: dt.timedelta = dt.timedelta(hours=2),
    publish: bool = True,
    human_check: bool = False,
) -> social.FlashSessionRead:
    """A session with one item, published (its quota carved out) unless told otherwise."""
    start = clock.now() + starts_in
    async with uow() as s:
        created = await social.create_flash_session(
            s,
            data=social.FlashSessionWrite(
                name="20:00 场", starts_at=start, ends_at=start + lasts, human_check=human_check
            ),
            actor=SYSTEM,
        )
        await social.add_flash_item(
            s,
            flash_session_id=created.id,
            data=social.FlashItemWrite(
                sku_id=sku_id, price_amount=price, quota=quota, per_customer=per_customer
            ),
            actor=SYSTEM,
        )
    if not publish:
        async with uow(write=False) as s:
            return await social.get_flash_session(s, flash_session_id=created.id)
    async with uow() as s:
        return await social.publish_flash_session(s, flash_session_id=created.id, actor=SYSTEM)


async def flash_shop(*, price: int = 3000, stock: int = 20) -> tuple[int, int]:
    """The default shipping template and a T-shirt in red and black with ``stock`` each."""
    return await open_shop(price=price, stock=stock)


async def buyer() -> int:
    """A customer with a default address in Hangzhou."""
    customer = await make_customer()
    async with uow() as s:
        await identity.add_address(
            s,
            customer_id=customer.id,
            data=identity.AddressWrite(**{k: v for k, v in ADDRESS.items() if k != "is_default"}),  # type: ignore[arg-type]
        )
    return customer.id


async def buy(
    customer_id: int, item_id: int, *, quantity: int = 1, total: int, key: str | None = None, proof: str = ""
) -> checkout.CheckoutResult:
    async with uow() as s:
        return await social.buy_flash(
            s,
            customer_id=customer_id,
            item_id=item_id,
            data=social.FlashBuy(quantity=quantity, expected_total_amount=total, proof=proof),
            idempotency_key=key or f"flash-test-{next(_keys)}",
        )


async def left(item_id: int) -> int:
    async with uow(write=False) as s:
        return (await inventory.held_units(s, references=[f"flash:item:{item_id}"]))[f"flash:item:{item_id}"]


async def available(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await inventory.available_units(s, sku_ids=[sku_id]))[sku_id]


async def figures(session_id: int) -> social.FlashItemFigures:
    async with uow(write=False) as s:
        (only,) = await social.flash_figures(s, flash_session_id=session_id)
    return only


async def deliver() -> None:
    """Run the event handlers (the worker's job in production)."""
    while await events.deliver_pending():
        pass


async def purchase_statuses() -> list[str]:
    from mercato.social.models import FlashPurchase  # noqa: PLC0415 - tests read the rows

    async with uow(write=False) as s:
        return list((await s.execute(select(FlashPurchase.status).order_by(FlashPurchase.id))).scalars())
