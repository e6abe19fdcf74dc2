"""Buying in a flash sale: the human check, admission, then placement refereed by the database.

``buy_flash`` in order:

1. The item and its session (cached per process for a second: under a rush every request asks
   for the same few items), refused before its start (``FlashNotStarted``) or after its end.
2. The human check when the session asks for one: a proof-of-work puzzle bound to the item, the
   customer and a two-minute window (``flash_challenge``), solved by the storefront in a Web
   Worker; no third-party service.
3. Admission (``admission.py``): a sold-out or over-the-limit answer without SQL in production.
4. Placement in the request's transaction: ``checkout.buy_now`` with the item's ``orders.Deal``
   (its sale price, combined with nothing; its units from the quota hold by one conditional
   UPDATE; the short payment window ``MERCATO_FLASH_PAY_MINUTES``), then the purchase row and
   the customer's units against the per-customer limit (one conditional UPDATE). A retry with the
   same Idempotency-Key returns the same order. Any refusal gives the admission back.

The order's fate comes back through the order events (``on_order_*``): paid; or cancelled / not
paid in time (its units went back to the quota with its hold, ``inventory.take_from_hold``), and
the customer's limit is freed; admission's count is set to the database's after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import checkout, identity, inventory, orders, promotions
from mercato.core import clock
from mercato.core.cache import Limit, get_rate_limiter
from mercato.core.db import after_commit, insert_ignore
from mercato.core.settings import get_settings
from mercato.social.errors import (
    FlashEnded,
    FlashItemNotFound,
    FlashLimitReached,
    FlashNotStarted,
    FlashSoldOut,
    FlashTooFast,
    HumanCheckFailed,
)
from mercato.social.models import FlashBuyer, FlashItem, FlashPurchase, FlashSession
from mercato.social.plays.admission import get_admission
from mercato.social.plays.flash import deal_code, quota_reference
from mercato.social.schemas import AdmissionVerdict, FlashBuy, FlashSessionStatus, PurchaseStatus
from mercato.social.states import PURCHASE

#: The name a flash-sale line's discount carries on the order.
DEAL_NAME = "秒杀价"
#: Admission's keys outlive the session by a day (then Redis forgets them by itself).
KEY_TTL = dt.timedelta(days=1)
_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class _ItemContext:
    item_id: int
    sku_id: int
    price_amount: int
    per_customer: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    human_check: bool


_items: dict[int, tuple[float, _ItemContext]] = {}


async def _context(session: AsyncSession, item_id: int) -> _ItemContext:
    cached = _items.get(item_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = (
        await session.execute(
            select(
                FlashItem.id,
                FlashItem.sku_id,
                FlashItem.price_amount,
                FlashItem.per_customer,
                FlashSession.starts_at,
                FlashSession.ends_at,
                FlashSession.status,
                FlashSession.human_check,
            )
            .join(FlashSession, FlashSession.id == FlashItem.session_id)
            .where(FlashItem.id == item_id)
        )
    ).one_or_none()
    if row is None or row.status == str(FlashSessionStatus.draft):
        raise FlashItemNotFound()
    context = _ItemContext(*row)
    if len(_items) > 10_000:
        _items.clear()
    _items[item_id] = (time.monotonic() + _CACHE_SECONDS, context)
    return context


def forget_cached_items() -> None:
    """Drop the per-process item cache (tests; a cancelled session is seen within a second anyway)."""
    _items.clear()


def flash_challenge(*, item_id: int, customer_id: int, at: float | None = None) -> str:
    """The human check's puzzle for this customer and item, valid in the current two-minute
    window and the one before: find ``proof`` such that SHA-256(challenge + ":" + proof) starts
    with ``MERCATO_FLASH_PROOF_BITS`` zero bits."""
    window = int((time.time() if at is None else at) // 120)
    return _challenge(item_id, customer_id, window)


def _challenge(item_id: int, customer_id: int, window: int) -> str:
    key = get_settings().effective_secret_key().encode()
    return hmac.new(key, f"flash:{item_id}:{customer_id}:{window}".encode(), hashlib.sha256).hexdigest()[:32]


def _zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def check_proof(*, item_id: int, customer_id: int, proof: str) -> bool:
    """Whether ``proof`` solves this or the previous window's puzzle."""
    if not proof or len(proof) > 64:
        return False
    window = int(time.time() // 120)
    needed = get_settings().flash_proof_bits
    for w in (window, window - 1):
        digest = hashlib.sha256(f"{_challenge(item_id, customer_id, w)}:{proof}".encode()).digest()
        if _zero_bits(digest) >= needed:
            return True
    return False


def _ttl(context: _ItemContext) -> int:
    return max(60, int((context.ends_at + KEY_TTL - clock.now()).total_seconds()))


def _deal(context: _ItemContext) -> orders.Deal:
    return orders.Deal(
        price=promotions.DealPrice(
            code=deal_code(context.item_id),
            name=DEAL_NAME,
            sku_id=context.sku_id,
            unit_price_amount=context.price_amount,
        ),
        max_quantity=context.per_customer,
        stock_from=quota_reference(context.item_id),
        pay_minutes=get_settings().flash_pay_minutes,
    )


def _check_open(context: _ItemContext) -> None:
    now = clock.now()
    if context.status != str(FlashSessionStatus.published) or now >= context.ends_at:
        raise FlashEnded()
    if now < context.starts_at:
        raise FlashNotStarted()


async def confirm_flash(
    session: AsyncSession,
    *,
    customer_id: int,
    item_id: int,
    quantity: int = 1,
    address_id: int | None = None,
    channel: promotions.Channel = promotions.Channel.web,
) -> checkout.CheckoutQuote:
    """The price of a flash-sale order to the customer's address (the default one unless given),
    shipping included, holding nothing: what ``buy_flash`` expects as ``expected_total_amount``.

    Raises:
        FlashItemNotFound (404), FlashNotStarted / FlashEnded (409), FlashLimitReached (409: more
        than one customer may buy), checkout.NoAddress (409), identity.AddressNotFound (404),
        FlashSoldOut (409), inventory.NotDeliverable (409).
    """
    context = await _context(session, item_id)
    _check_open(context)
    if quantity > context.per_customer:
        raise FlashLimitReached(limit=context.per_customer)
    if address_id is None:
        addresses = await identity.list_addresses(session, customer_id=customer_id)
        if not addresses:
            raise checkout.NoAddress()
        address_id = addresses[0].id
    try:
        return await checkout.confirm_buy_now(
            session,
            customer_id=customer_id,
            sku_id=context.sku_id,
            quantity=quantity,
            data=checkout.ConfirmCheckout(address_id=address_id, coupon="none"),
            channel=channel,
            deal=_deal(context),
        )
    except inventory.InsufficientStock as exc:
        raise FlashSoldOut() from exc


async def buy_flash(
    session: AsyncSession,
    *,
    customer_id: int,
    item_id: int,
    data: FlashBuy,
    idempotency_key: str,
    channel: promotions.Channel = promotions.Channel.web,
    ip: str | None = None,
) -> checkout.CheckoutResult:
    """Order a flash-sale item (see the module docstring) and open its payment.

    Raises:
        FlashTooFast (429): too many attempts from this account or IP address
        (``MERCATO_FLASH_RATE_PER_CUSTOMER``, ``MERCATO_FLASH_RATE_PER_IP``),
        FlashItemNotFound (404), FlashNotStarted / FlashEnded (409), HumanCheckFailed (422),
        FlashSoldOut (409), FlashLimitReached (409), checkout.NoAddress (409),
        identity.AddressNotFound (404), orders.PriceChanged / UnpaidOrdersLimit / UnpaidUnitsLimit /
        ItemUnavailable (409), inventory.NotDeliverable (409), payments.UnknownProvider (422),
        IdempotencyKeyReused (409).
    """
    settings = get_settings()
    limiter = get_rate_limiter()
    await limiter.hit(
        Limit("flash.per_customer", settings.flash_rate_per_customer), str(customer_id), error=FlashTooFast
    )
    if ip:
        await limiter.hit(Limit("flash.per_ip", settings.flash_rate_per_ip), ip, error=FlashTooFast)
    context = await _context(session, item_id)
    _check_open(context)
    if context.human_check and not check_proof(item_id=item_id, customer_id=customer_id, proof=data.proof):
        raise HumanCheckFailed()
    if data.quantity > context.per_customer:
        raise FlashLimitReached(limit=context.per_customer)
    admission = get_admission()

    async def load() -> int:
        return (await inventory.held_units(session, references=[quota_reference(item_id)]))[
            quota_reference(item_id)
        ]

    async def bought() -> int:
        units = await session.execute(
            select(FlashBuyer.units).where(
                FlashBuyer.item_id == item_id, FlashBuyer.customer_id == customer_id
            )
        )
        return int(units.scalar_one_or_none() or 0)

    verdict = await admission.admit(
        item_id=item_id,
        customer_id=customer_id,
        quantity=data.quantity,
        limit=context.per_customer,
        ttl=_ttl(context),
        load=load,
        bought=bought,
    )
    if verdict is AdmissionVerdict.sold_out:
        raise FlashSoldOut()
    admitted = verdict is AdmissionVerdict.admitted
    # over the limit by admission's count: the database decides (a retry of a placed order with
    # its Idempotency-Key returns that order; anything else is refused below)
    try:
        return await _place(
            session,
            context=context,
            customer_id=customer_id,
            data=data,
            idempotency_key=idempotency_key,
            channel=channel,
        )
    except inventory.InsufficientStock as exc:
        if admitted:
            await admission.give_back(item_id=item_id, customer_id=customer_id, quantity=data.quantity)
        raise FlashSoldOut() from exc
    except BaseException:
        if admitted:
            await admission.give_back(item_id=item_id, customer_id=customer_id, quantity=data.quantity)
        raise


async def _place(
    session: AsyncSession,
    *,
    context: _ItemContext,
    customer_id: int,
    data: FlashBuy,
    idempotency_key: str,
    channel: promotions.Channel,
) -> checkout.CheckoutResult:
    result = await checkout.buy_now(
        session,
        customer_id=customer_id,
        data=checkout.BuyNow(
            sku_id=context.sku_id,
            quantity=data.quantity,
            address_id=data.address_id,
            expected_total_amount=data.expected_total_amount,
            provider=data.provider,
            note=data.note,
            coupon="none",
        ),
        idempotency_key=idempotency_key,
        channel=channel,
        deal=_deal(context),
    )
    now = clock.now()
    placed = await insert_ignore(
        session,
        FlashPurchase.__table__,
        {
            "item_id": context.item_id,
            "customer_id": customer_id,
            "order_id": result.order_id,
            "quantity": data.quantity,
            "status": str(PurchaseStatus.pending),
            "created_at": now,
            "updated_at": now,
        },
    )
    if not placed:  # a retry of an order already placed: the same answer
        return result
    await insert_ignore(
        session, FlashBuyer.__table__, {"item_id": context.item_id, "customer_id": customer_id, "units": 0}
    )
    counted = (
        await session.execute(
            update(FlashBuyer)
            .where(
                FlashBuyer.item_id == context.item_id,
                FlashBuyer.customer_id == customer_id,
                FlashBuyer.units + data.quantity <= context.per_customer,
            )
            .values(units=FlashBuyer.units + data.quantity)
            .returning(FlashBuyer.units)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if counted is None:  # the order above rolls back with this refusal
        raise FlashLimitReached(limit=context.per_customer)
    return result


async def _purchase(session: AsyncSession, order_id: int) -> FlashPurchase | None:
    return (
        await session.execute(select(FlashPurchase).where(FlashPurchase.order_id == order_id))
    ).scalar_one_or_none()


async def _settle(session: AsyncSession, *, order_id: int, target: PurchaseStatus | None) -> None:
    """Move a flash-sale order's purchase to ``target`` (None: released when it was pending,
    refunded when it was paid) with one conditional UPDATE, so an event delivered twice moves it
    once; released or refunded, the customer's units are freed and admission's counts are set to
    the database's once this commits."""
    purchase = await _purchase(session, order_id)
    if purchase is None:
        return
    if target is None:
        paid = purchase.status == str(PurchaseStatus.paid)
        target = PurchaseStatus.refunded if paid else PurchaseStatus.released
    moved = (
        await session.execute(
            update(FlashPurchase)
            .where(FlashPurchase.id == purchase.id, FlashPurchase.status.in_(PURCHASE.sources(target)))
            .values(status=str(target), updated_at=clock.now())
            .returning(FlashPurchase.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None or target is PurchaseStatus.paid:
        return
    units = (
        await session.execute(
            update(FlashBuyer)
            .where(
                FlashBuyer.item_id == purchase.item_id,
                FlashBuyer.customer_id == purchase.customer_id,
                FlashBuyer.units >= purchase.quantity,
            )
            .values(units=FlashBuyer.units - purchase.quantity)
            .returning(FlashBuyer.units)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    reference = quota_reference(purchase.item_id)
    left = (await inventory.held_units(session, references=[reference]))[reference]
    item_id, customer_id = purchase.item_id, purchase.customer_id

    async def sync() -> None:
        await get_admission().sync(
            item_id=item_id,
            left=left,
            ttl=int(KEY_TTL.total_seconds()),
            customer_id=customer_id,
            units=units or 0,
        )

    after_commit(session, sync)


async def on_order_paid(session: AsyncSession, *, order_id: int) -> None:
    """A flash-sale order was paid (no-op for other orders)."""
    await _settle(session, order_id=order_id, target=PurchaseStatus.paid)


async def on_order_released(session: AsyncSession, *, order_id: int) -> None:
    """A flash-sale order was cancelled, not paid in time, or closed after a full refund: its
    units are back in the quota (or stock, once the session ended) and its buyer may buy again."""
    await _settle(session, order_id=order_id, target=None)


async def reconcile_admission(session: AsyncSession) -> int:
    """Set admission's count of every live item to the database's units left (the ``social-flash``
    job, every 30 seconds, and so after a Redis restart); returns the items synced."""
    now = clock.now()
    rows = (
        await session.execute(
            select(FlashItem.id, FlashSession.ends_at)
            .join(FlashSession, FlashSession.id == FlashItem.session_id)
            .where(
                FlashSession.status == str(FlashSessionStatus.published),
                FlashSession.ends_at > now,
                FlashSession.starts_at <= now + dt.timedelta(minutes=10),
            )
        )
    ).all()
    if not rows:
        return 0
    left = await inventory.held_units(session, references=[quota_reference(item_id) for item_id, _ in rows])
    admission = get_admission()
    for item_id, ends_at in rows:
        await admission.sync(
            item_id=item_id,
            left=left[quota_reference(item_id)],
            ttl=max(60, int((ends_at + KEY_TTL - now).total_seconds())),
        )
    return len(rows)
