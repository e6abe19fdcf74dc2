"""Social factories: a published flash-sale session and shoppers ready to buy in it."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from mercato import catalog, checkout, identity, inventory, payments, social
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
    customer = await make_customer(password=None)  # no argon2 hashing: buyers never sign in by password
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


# -- 拼团 group buying ----------------------------------------------------------------------------


async def group_offer(
    sku_id: int,
    *,
    price: int = 1990,
    leader_price: int | None = None,
    size: int = 3,
    hours: int = 24,
    new_joiners_only: bool = False,
    simulated: bool = False,
    per_customer: int = 1,
) -> social.GroupOfferRead:
    """A published group-buying offer on ``sku_id``, live for a week."""
    now = clock.now()
    async with uow() as s:
        offer = await social.create_group_offer(
            s,
            data=social.GroupOfferWrite(
                name="3 人团",
                sku_id=sku_id,
                price_amount=price,
                leader_price_amount=leader_price,
                size=size,
                hours=hours,
                new_joiners_only=new_joiners_only,
                simulated=simulated,
                per_customer=per_customer,
                starts_at=now - dt.timedelta(minutes=1),
                ends_at=now + dt.timedelta(days=7),
            ),
            actor=SYSTEM,
        )
        return await social.publish_group_offer(s, offer_id=offer.id, actor=SYSTEM)


async def open_group(
    customer_id: int, offer_id: int, *, total: int, key: str | None = None
) -> social.GroupOrder:
    async with uow() as s:
        return await social.open_group(
            s,
            customer_id=customer_id,
            offer_id=offer_id,
            data=social.GroupBuy(expected_total_amount=total),
            idempotency_key=key or f"group-test-{next(_keys)}",
        )


async def join_group(
    customer_id: int, group_id: int, *, total: int, key: str | None = None
) -> social.GroupOrder:
    async with uow() as s:
        return await social.join_group(
            s,
            customer_id=customer_id,
            group_id=group_id,
            data=social.GroupBuy(expected_total_amount=total),
            idempotency_key=key or f"group-test-{next(_keys)}",
        )


async def pay_at_gateway(payment_id: int) -> None:
    """The shopper pays on the sandbox gateway's page (so refunds find the money there); the
    gateway's notification is not sent (``notify_paid`` sends it)."""
    from mercato.core.jobs import broker  # noqa: PLC0415
    from tests.factories.payments import read_payment  # noqa: PLC0415

    await broker.wait_all()  # the trade is opened at the gateway after the placing commit
    payment = await read_payment(payment_id)
    assert payment.provider_payment_id is not None
    async with uow() as s:
        await payments.submit_sandbox_payment(
            s,
            trade_id=payment.provider_payment_id,
            data=payments.SandboxPay(outcome=payments.SandboxOutcome.pay),
        )
        s.info.pop("after_commit", None)  # the gateway's own notification job: see notify_paid


async def notify_paid(payment_id: int) -> None:
    """The gateway's "paid" notification, signed as it signs, then the event handlers run: the
    order is paid, and a group order takes its seat."""
    from tests.factories.payments import body_for, read_payment, signed  # noqa: PLC0415

    body = body_for(await read_payment(payment_id))
    async with uow() as s:
        await payments.handle_notification(s, provider="sandbox", headers=signed(body), body=body)
    await deliver()


async def pay(payment_id: int) -> None:
    """Pay at the sandbox gateway and receive its notification."""
    await pay_at_gateway(payment_id)
    await notify_paid(payment_id)


# -- 砍价 bargaining ------------------------------------------------------------------------------


async def bargain_offer(
    sku_id: int,
    *,
    price: int | None = None,
    floor: int = 1000,
    helps: tuple[int, int] = (5, 5),
    hours: int = 24,
    stock: int = 10,
    per_customer: int = 1,
    new_helpers_only: bool = False,
    lasts: dt.timedelta = dt.timedelta(days=7),
    publish: bool = True,
) -> social.BargainOfferRead:
    """A bargaining offer on ``sku_id`` (from the SKU's price down to ``floor``), published and
    open now unless told otherwise."""
    now = clock.now()
    async with uow() as s:
        offer = await social.create_bargain_offer(
            s,
            data=social.BargainOfferWrite(
                name="砍到 10 元",
                sku_id=sku_id,
                price_amount=price,
                floor_amount=floor,
                helps_min=helps[0],
                helps_max=helps[1],
                hours=hours,
                stock=stock,
                per_customer=per_customer,
                new_helpers_only=new_helpers_only,
                starts_at=now - dt.timedelta(minutes=1),
                ends_at=now + lasts,
            ),
            actor=SYSTEM,
        )
        if not publish:
            return offer
        return await social.publish_bargain_offer(s, offer_id=offer.id, actor=SYSTEM)


async def start_bargain(customer_id: int, offer_id: int, *, device: str = "") -> social.BargainRead:
    async with uow() as s:
        return await social.start_bargain(s, offer_id=offer_id, customer_id=customer_id, device=device)


async def help_bargain(bargain_id: int, helper_id: int, *, device: str = "") -> social.BargainHelpRead:
    async with uow() as s:
        return await social.help_bargain(s, bargain_id=bargain_id, helper_id=helper_id, device=device)


async def read_bargain(bargain_id: int, viewer_id: int | None = None) -> social.BargainRead:
    async with uow(write=False) as s:
        return await social.get_bargain(s, bargain_id=bargain_id, viewer_id=viewer_id)


async def helpers(count: int) -> list[int]:
    """``count`` signed-up customers named 张三, 李四 … (no address: helpers need none)."""
    names = ["张三", "李四", "王五", "赵六", "钱七"]
    return [(await make_customer(name=names[i % len(names)])).id for i in range(count)]


async def buy_bargain(
    customer_id: int, bargain_id: int, *, total: int, key: str | None = None
) -> checkout.CheckoutResult:
    async with uow() as s:
        return await social.buy_bargain(
            s,
            customer_id=customer_id,
            bargain_id=bargain_id,
            data=social.BargainBuy(expected_total_amount=total),
            idempotency_key=key or f"bargain-test-{next(_keys)}",
        )


async def bargain_counts() -> tuple[int, int, int]:
    """Rows of bargains, helps and recorded status moves."""
    from sqlalchemy import func  # noqa: PLC0415

    from mercato.social.models import Bargain, BargainHelp, StatusChange  # noqa: PLC0415

    async with uow(write=False) as s:
        return tuple(  # type: ignore[return-value]
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (Bargain, BargainHelp, StatusChange)
            ]
        )


async def offer_sold(offer_id: int) -> int:
    async with uow(write=False) as s:
        return (await social.get_bargain_offer(s, offer_id=offer_id)).sold


# -- sharing and invites ------------------------------------------------------------------------


async def invite_templates(*, per_customer_limit: int = 10) -> tuple[int, int]:
    """Active coupon templates issued on invites: (the inviter's, the invitee's)."""
    from mercato import promotions  # noqa: PLC0415
    from tests.factories.promotions import make_coupon_template  # noqa: PLC0415

    inviter = await make_coupon_template(
        issue_on=str(promotions.IssueTrigger.invite_inviter),
        claimable=False,
        amount_off=500,
        per_customer_limit=per_customer_limit,
    )
    invitee = await make_coupon_template(
        issue_on=str(promotions.IssueTrigger.invite_invitee),
        claimable=False,
        amount_off=1000,
        per_customer_limit=per_customer_limit,
    )
    return inviter, invitee


async def wallet_templates(customer_id: int) -> list[int]:
    """The template of each coupon the customer holds, sorted."""
    from mercato import promotions  # noqa: PLC0415

    async with uow(write=False) as s:
        return sorted(c.template_id for c in await promotions.list_wallet(s, customer_id=customer_id))


async def code_of(customer_id: int) -> str:
    async with uow() as s:
        return await social.invite_code_of(s, customer_id=customer_id)


async def invite(invitee_id: int, code: str, *, device: str | None = None) -> social.InvitationRead:
    async with uow() as s:
        return await social.record_invitation(s, invitee_id=invitee_id, code=code, device=device)


async def invitation_rows() -> list[tuple[int, int, str, bool]]:
    """(invitee, inviter, code, has first_paid_at) of every invitation, by invitee."""
    from mercato.social.models import Invitation  # noqa: PLC0415

    async with uow(write=False) as s:
        rows = (await s.execute(select(Invitation).order_by(Invitation.invitee_id))).scalars()
        return [(r.invitee_id, r.inviter_id, r.code, r.first_paid_at is not None) for r in rows]


async def paid_order(customer_id: int, sku_id: int) -> int:
    """An order of one unit of ``sku_id`` placed and paid; its id (deliver() runs the handlers)."""
    from mercato import orders  # noqa: PLC0415
    from tests.factories.orders import place  # noqa: PLC0415

    order = await place(customer_id, (sku_id, 1))
    async with uow() as s:
        await orders.mark_order_paid(
            s, reference=f"order:{order.id}", payment_id=order.id, amount=order.total_amount, currency="CNY"
        )
    return order.id


async def shared_product(*, price: int = 8900, picture: bool = True) -> catalog.ProductRead:
    """A product on sale (two SKUs at ``price``) with, unless told otherwise, a 800×800 picture
    (use the ``empty_media`` fixture)."""
    from tests.factories.catalog import add_image, make_listed_product  # noqa: PLC0415

    product = await make_listed_product(price_amount=price, title="小米手环9 NFC版")
    if picture:
        await add_image(product.id, "front", size=(800, 800))
    return product
