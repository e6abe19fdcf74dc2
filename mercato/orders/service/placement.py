"""Placing an order: one short transaction that prices, reserves and freezes.

1. A retry with the same ``source_key`` returns the order already placed (unique key).
2. The SKUs are re-read from the catalog; anything no longer sellable is refused.
3. The delivery choice is checked (``delivery.py``: an offered slot for scheduled delivery, an
   active store for pickup); ``promotions.quote`` prices the items for the destination and
   delivery with the default shipping template, the live promotions and the coupon chosen (the
   best usable one by default); if the shopper confirmed a different total, the order is refused.
   The customer's placements are serialised (``limits.lock_customer_placements``) and the caps on
   unpaid orders are checked (``limits.check_unpaid_limits``: unpaid orders per customer, units
   of a SKU across them), so one account cannot hoard stock with orders it never pays.
4. ``inventory.allocate`` picks warehouses (only the store for pickup) before anything is
   written, so a sold-out item is refused after reads only (a flash sale's many losers). The
   gifts of a 满赠 promotion reached are allocated with the goods; when they cannot be (out of
   stock here), the order goes through without them and says so (``gift_unavailable``).
5. The order row, one sub-order per warehouse and the lines are inserted; lines carry frozen
   titles, specs and prices, with the priced discounts (by promotion and coupon: ``discounts``)
   and tax shared to the fen over the warehouses a line was split across; gifts are lines at zero
   price. ``promotions.commit_to_order`` then locks the coupon for the order and records the
   redemptions (a coupon taken meanwhile by another checkout refuses the whole placement).
6. Last, ``inventory.reserve_allocations`` holds the units with one conditional UPDATE per line
   (last, so a hot stock row stays locked only for the end of the transaction): if any line
   cannot be held the whole transaction rolls back (no order, no holds).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, inventory, pricing, promotions, shop
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.events import record_event
from mercato.core.i18n import N_
from mercato.core.money import allocate
from mercato.core.settings import get_settings
from mercato.orders.delivery import check_delivery
from mercato.orders.errors import ItemUnavailable, NothingToOrder, PriceChanged
from mercato.orders.events import OrderPlaced
from mercato.orders.limits import check_unpaid_limits, lock_customer_placements
from mercato.orders.models import Order, OrderLine, OrderStatusChange, SubOrder
from mercato.orders.schemas import Deal, OrderItem, OrderRead, PlaceOrder
from mercato.orders.service.notes import PLACED
from mercato.orders.service.reads import read_order
from mercato.orders.states import OrderStatus

HOLD_MARGIN = dt.timedelta(minutes=10)  # holds outlive the payment window; the cancel job frees them first


class _Piece(NamedTuple):
    """The part of an order line shipped from one warehouse (``line`` None: a gift)."""

    warehouse_id: int
    sku_id: int
    line: pricing.LineOut | None
    quantity: int
    total: int
    discount: int
    tax: int
    discounts: list[promotions.Discount]


async def _existing(session: AsyncSession, source_key: str, customer_id: int) -> OrderRead | None:
    order_id = (
        await session.execute(
            select(Order.id).where(Order.source_key == source_key, Order.customer_id == customer_id)
        )
    ).scalar_one_or_none()
    return await read_order(session, order_id=order_id) if order_id is not None else None


async def _price(
    session: AsyncSession,
    *,
    items: list[OrderItem],
    province: str,
    delivery: pricing.Delivery,
    customer_id: int | None,
    channel: promotions.Channel,
    coupon: promotions.CouponChoice,
    deal: Deal | None = None,
) -> tuple[dict[int, int], dict[int, catalog.SellableSku], promotions.Quote]:
    quantities: dict[int, int] = {}
    for item in items:
        quantities[item.sku_id] = quantities.get(item.sku_id, 0) + item.quantity
    if not quantities:
        raise NothingToOrder()
    if deal is not None and (
        set(quantities) != {deal.price.sku_id} or quantities[deal.price.sku_id] > deal.max_quantity
    ):
        raise ValueError("a deal orders its own SKU only, at most max_quantity units")
    skus = await catalog.get_sellable_skus(session, sku_ids=list(quantities))
    for sku_id in quantities:
        sku = skus.get(sku_id)
        if sku is None or not sku.is_sellable or quantities[sku_id] < sku.min_order_quantity:
            raise ItemUnavailable(title=sku.title if sku else str(sku_id))
    settings = get_settings()
    template = await pricing.get_default_shipping_template(session)
    quote = await promotions.quote(
        session,
        lines=[
            pricing.LineIn.for_sku(skus[sku_id], key=str(sku_id), quantity=quantity)
            for sku_id, quantity in sorted(quantities.items())
        ],
        context=pricing.PricingContext(
            currency=settings.currency, province=province, delivery=delivery, customer_id=customer_id
        ),
        shipping=template.template() if template is not None else None,
        customer_id=customer_id,
        channel=channel,
        coupon=coupon,
        deal=deal.price if deal is not None else None,
    )
    return quantities, skus, quote


#: Said to the shopper instead of inventory's wording, which can only name the SKU by its id.
#: The English text names the item in English (``title_en``), the translations in Chinese.
NOT_DELIVERABLE = N_("{title_en} cannot be delivered to {province}.")
NOT_AT_STORE = N_("{title_en} cannot be picked up at this store.")


def _named(sku: catalog.SellableSku | None, sku_id: int) -> str:
    if sku is None:
        return str(sku_id)
    return " ".join([sku.title, *sku.spec.values()])


async def _names(session: AsyncSession, sku: catalog.SellableSku | None, sku_id: int) -> tuple[str, str]:
    """The item as a refusal names it: (``title``) in Chinese, (``title_en``) in English where the
    catalogue has English names (the product page's), else as in Chinese."""
    if sku is None:
        return str(sku_id), str(sku_id)
    specs = (await catalog.name_specs(session, specs={sku_id: sku.spec}))[sku_id]
    return (
        " ".join([sku.title, *(spec.value for spec in specs)]),
        " ".join([sku.title_en or sku.title, *(spec.value_en or spec.value for spec in specs)]),
    )


async def _allocate(
    session: AsyncSession,
    *,
    quantities: dict[int, int],
    skus: dict[int, catalog.SellableSku],
    province: str,
    pickup_at: int | None,
) -> list[inventory.Allocation]:
    """``inventory.allocate`` for these quantities; its refusals name the product and spec.

    Raises:
        inventory.NotDeliverable / NotAtStore / InsufficientStock (409), codes unchanged.
    """
    try:
        return await inventory.allocate(
            session,
            lines=[inventory.DemandLine(sku_id=s, quantity=q) for s, q in sorted(quantities.items())],
            province=province,
            pickup_at=pickup_at,
        )
    except inventory.NotDeliverable as exc:
        sku_id = int(str(exc.params["sku_id"]))
        title, title_en = await _names(session, skus.get(sku_id), sku_id)
        raise inventory.NotDeliverable(
            message=NOT_DELIVERABLE, title=title, title_en=title_en, province=province, sku_id=sku_id
        ) from exc
    except inventory.NotAtStore as exc:
        sku_id = int(str(exc.params["sku_id"]))
        title, title_en = await _names(session, skus.get(sku_id), sku_id)
        raise inventory.NotAtStore(
            message=NOT_AT_STORE, title=title, title_en=title_en, sku_id=sku_id
        ) from exc


async def quote_order(
    session: AsyncSession,
    *,
    items: list[OrderItem],
    province: str,
    delivery: pricing.Delivery,
    pickup_store_id: int | None = None,
    customer_id: int | None = None,
    coupon: promotions.CouponChoice = "best",
    channel: promotions.Channel = promotions.Channel.web,
    deal: Deal | None = None,
) -> promotions.Quote:
    """What ``place_order`` would charge for these items, destination and delivery, with the
    live promotions and ``coupon`` for ``customer_id``, now (the delivery details themselves are
    checked by ``check_delivery``), once a warehouse that serves ``province`` (or the pickup
    store) has the units: the shopper hears that an item cannot reach them when confirming, not
    only when placing. Nothing is held; placing checks again. The quote carries the customer's
    coupons (``coupon_options``), the gifts reached and the 凑单 hints.

    Raises:
        NothingToOrder (422), ItemUnavailable (409),
        inventory.NotDeliverable / NotAtStore / InsufficientStock (409),
        promotions.CouponNotFound (404), promotions.CouponUnavailable / CouponExpired /
        CouponNotYetValid / CouponNotApplicable / CouponsNotCombinable (409): a coupon id that
        cannot be used for this order.
    """
    quantities, skus, quote = await _price(
        session,
        items=items,
        province=province,
        delivery=delivery,
        customer_id=customer_id,
        channel=channel,
        coupon=coupon,
        deal=deal,
    )
    if deal is not None and deal.stock_from is not None:
        for sku_id, units in quantities.items():
            await inventory.plan_from_hold(
                session, source=deal.stock_from, sku_id=sku_id, quantity=units, province=province
            )
        return quote
    await _allocate(session, quantities=quantities, skus=skus, province=province, pickup_at=pickup_store_id)
    return quote


async def _gifts(
    session: AsyncSession, quote: promotions.Quote
) -> tuple[dict[int, int], dict[int, catalog.SellableSku]]:
    """The gift units reached (SKU id -> units) and their SKUs; a gift no longer in the catalogue
    is left out."""
    units: dict[int, int] = {}
    for gift in quote.gifts:
        units[gift.sku_id] = units.get(gift.sku_id, 0) + gift.quantity
    if not units:
        return {}, {}
    skus = await catalog.get_sellable_skus(session, sku_ids=list(units))
    return {s: q for s, q in units.items() if s in skus}, skus


def _take(pool: dict[int, list[list[int]]], sku_id: int, quantity: int) -> list[tuple[int, int]]:
    """Take ``quantity`` units of ``sku_id`` from the allocated ``pool`` ([warehouse, units] per
    SKU), first warehouses first: the (warehouse, units) parts a line ships from."""
    parts: list[tuple[int, int]] = []
    for part in pool[sku_id]:
        taken = min(part[1], quantity - sum(q for _w, q in parts))
        if taken:
            parts.append((part[0], taken))
            part[1] -= taken
    return parts


async def place_order(
    session: AsyncSession, *, customer_id: int, data: PlaceOrder, deal: Deal | None = None
) -> OrderRead:
    """Place an order for ``customer_id`` (see the module docstring). With a ``deal`` (a social
    play's order: its one SKU at the play's price), the units come from the play's quota hold
    when it has one (``inventory.take_from_hold``, last, like any reservation) and the order has
    the play's payment window.

    Raises:
        InvalidDelivery (422), NothingToOrder (422), ItemUnavailable (409), PriceChanged (409),
        UnpaidOrdersLimit / UnpaidUnitsLimit (409): the customer has too much waiting for payment,
        inventory.NotDeliverable / NotAtStore / InsufficientStock (409),
        promotions.CouponNotFound (404), promotions.CouponUnavailable (409: used, expired, or
        taken by another checkout meanwhile) / CouponExpired / CouponNotYetValid /
        CouponNotApplicable / CouponsNotCombinable (409).
    """
    existing = await _existing(session, data.source_key, customer_id)
    if existing is not None:
        return existing
    now = clock.now()
    choice = await check_delivery(
        session,
        delivery=data.delivery,
        slot_starts_at=data.slot_starts_at,
        pickup_store_id=data.pickup_store_id,
        now=now,
    )
    quantities, skus, quote = await _price(
        session,
        items=data.items,
        province=data.address.province,
        delivery=data.delivery,
        customer_id=customer_id,
        channel=data.channel,
        coupon=data.coupon,
        deal=deal,
    )
    priced = quote.result
    if data.expected_total_amount is not None and data.expected_total_amount != priced.total_amount:
        raise PriceChanged()
    await lock_customer_placements(session, customer_id=customer_id)
    again = await _existing(session, data.source_key, customer_id)
    if again is not None:  # a concurrent retry of this very checkout placed it while we waited
        return again
    await check_unpaid_limits(
        session,
        customer_id=customer_id,
        quantities=quantities,
        titles={sku_id: _named(skus.get(sku_id), sku_id) for sku_id in quantities},
    )

    # Where the units come from, before any write: a sold-out item (the many losers of a flash
    # sale) is refused after a few reads. Reserving below still decides, atomically. Gifts come
    # along when the stock here has them; otherwise the order goes without (and says so).
    gifts, gift_skus = await _gifts(session, quote)
    allocations: list[inventory.Allocation] | None = None
    if deal is not None and deal.stock_from is not None:
        sku_id, units = next(iter(quantities.items()))
        allocations = [
            await inventory.plan_from_hold(
                session, source=deal.stock_from, sku_id=sku_id, quantity=units, province=data.address.province
            )
        ]
    if gifts:
        demand = dict(quantities)
        for sku_id, units in gifts.items():
            demand[sku_id] = demand.get(sku_id, 0) + units
        try:
            allocations = await inventory.allocate(
                session,
                lines=[inventory.DemandLine(sku_id=s, quantity=q) for s, q in sorted(demand.items())],
                province=data.address.province,
                pickup_at=choice.pickup_store_id,
            )
        except (inventory.InsufficientStock, inventory.NotDeliverable, inventory.NotAtStore):
            gifts = {}  # not here for this destination: the goods go alone, the shopper is told
    if allocations is None:
        try:
            allocations = await _allocate(
                session,
                quantities=quantities,
                skus=skus,
                province=data.address.province,
                pickup_at=choice.pickup_store_id,
            )
        except inventory.InsufficientStock:
            again = await _existing(session, data.source_key, customer_id)
            if again is not None:  # a concurrent retry of this very checkout took the last units
                return again
            raise
    pay_minutes = deal.pay_minutes if deal is not None else None
    if pay_minutes is None:
        pay_minutes = (await shop.get_settings(session)).order_pay_minutes
    pay_window = dt.timedelta(minutes=pay_minutes)
    pay_by = now + pay_window
    inserted = await insert_ignore(
        session,
        Order.__table__,
        {
            "number": f"pending-{data.source_key}"[:32],
            "source_key": data.source_key,
            "customer_id": customer_id,
            "status": str(OrderStatus.pending_payment),
            "currency": priced.currency,
            "subtotal_amount": priced.subtotal_amount,
            "discount_amount": priced.discount_amount,
            "shipping_amount": priced.shipping_amount,
            "tax_amount": priced.tax_amount,
            "total_amount": priced.total_amount,
            "address": data.address.model_dump(mode="json"),
            "delivery": str(data.delivery),
            "slot_starts_at": choice.slot.starts_at if choice.slot else None,
            "slot_ends_at": choice.slot.ends_at if choice.slot else None,
            "pickup_store_id": choice.pickup_store_id,
            "invoice": data.invoice.model_dump(mode="json") if data.invoice else None,
            "note": data.note,
            "pay_by": pay_by,
            "placed_at": now,
            "updated_at": now,
            "adjustments": [a.model_dump(mode="json") for a in promotions.AppliedDiscount.of_quote(quote)],
            "coupon_id": quote.coupon_id,
            "gift_unavailable": len(gifts) < len({g.sku_id for g in quote.gifts}),
            "deal": deal.price.code if deal is not None else "",
            "ship_hold": deal is not None and deal.hold_shipping,
        },
    )
    if not inserted:  # the same checkout was placed by a concurrent retry
        again = await _existing(session, data.source_key, customer_id)
        if again is None:
            raise ItemUnavailable(title=data.source_key)  # the key belongs to someone else
        return again
    order_id = (
        await session.execute(select(Order.id).where(Order.source_key == data.source_key))
    ).scalar_one()
    await session.execute(
        update(Order).where(Order.id == order_id).values(number=f"{now:%Y%m%d}{order_id:08d}")
    )

    by_line = {out.key: out for out in priced.lines}
    warehouses = sorted({a.warehouse_id for a in allocations})
    goods_by_warehouse = dict.fromkeys(warehouses, 0)
    pool: dict[int, list[list[int]]] = {}
    for a in allocations:
        pool.setdefault(a.sku_id, []).append([a.warehouse_id, a.quantity])
    pieces: list[_Piece] = []
    for sku_id in sorted(quantities):
        out = by_line[str(sku_id)]
        parts = _take(pool, sku_id, quantities[sku_id])
        weights = [q for _w, q in parts]
        shares = [(d, allocate(d.amount, weights)) for d in promotions.Discount.of_line(quote, out.key)]
        taxes = allocate(out.tax_amount, weights)
        for i, ((warehouse_id, quantity), tax) in enumerate(zip(parts, taxes, strict=True)):
            discounts = [d.model_copy(update={"amount": split[i]}) for d, split in shares if split[i]]
            discount = sum(d.amount for d in discounts)
            total = out.unit_price_amount * quantity - discount
            pieces.append(_Piece(warehouse_id, out.sku_id, out, quantity, total, discount, tax, discounts))
            goods_by_warehouse[warehouse_id] += total
    for sku_id in sorted(gifts):
        for warehouse_id, quantity in _take(pool, sku_id, gifts[sku_id]):
            pieces.append(_Piece(warehouse_id, sku_id, None, quantity, 0, 0, 0, []))
    shipping_parts = allocate(priced.shipping_amount, [goods_by_warehouse[w] for w in warehouses])
    sub_ids: dict[int, int] = {}
    for warehouse_id, shipping in zip(warehouses, shipping_parts, strict=True):
        sub = SubOrder(
            order_id=order_id,
            warehouse_id=warehouse_id,
            status=str(OrderStatus.pending_payment),
            goods_amount=goods_by_warehouse[warehouse_id],
            shipping_amount=shipping,
        )
        session.add(sub)
        await session.flush()
        sub_ids[warehouse_id] = sub.id
    for piece in pieces:
        sku = skus[piece.sku_id] if piece.line is not None else gift_skus[piece.sku_id]
        session.add(
            OrderLine(
                order_id=order_id,
                sub_order_id=sub_ids[piece.warehouse_id],
                sku_id=piece.sku_id,
                product_id=sku.product_id,
                sku_code=sku.code,
                title=sku.title,
                spec=sku.spec,
                image_url=sku.image_url,
                quantity=piece.quantity,
                list_unit_price_amount=piece.line.list_unit_price_amount if piece.line else 0,
                unit_price_amount=piece.line.unit_price_amount if piece.line else 0,
                discount_amount=piece.discount,
                total_amount=piece.total,
                tax_amount=piece.tax,
                discounts=[d.model_dump(mode="json") for d in piece.discounts],
                is_gift=piece.line is None,
            )
        )
    session.add(
        OrderStatusChange(
            order_id=order_id,
            from_status="",
            to_status=str(OrderStatus.pending_payment),
            actor_id=None,
            actor_label=f"customer:{customer_id}",
            reason=PLACED,
            created_at=now,
        )
    )
    await session.flush()
    # The coupon is locked for this order here, in its transaction: taken meanwhile by another
    # checkout, it refuses (CouponUnavailable) and everything above rolls back.
    await promotions.commit_to_order(
        session, order_id=order_id, customer_id=customer_id, quote=quote, now=now
    )
    await record_event(
        session,
        OrderPlaced(
            order_id=order_id,
            customer_id=customer_id,
            total_amount=priced.total_amount,
            currency=priced.currency,
        ),
    )
    order = await read_order(session, order_id=order_id)
    # Last, so the stock rows stay locked for the shortest time: under a flash sale every buyer
    # updates the same row (the quota hold), and each holds it until its transaction commits.
    if deal is not None and deal.stock_from is not None:
        (planned,) = allocations
        await inventory.take_from_hold(
            session,
            source=deal.stock_from,
            reference=f"order:{order_id}",
            sku_id=planned.sku_id,
            quantity=planned.quantity,
            province=data.address.province,
            hold_for=pay_window + HOLD_MARGIN,
            warehouse_id=planned.warehouse_id,
        )
        return order
    await inventory.reserve_allocations(
        session,
        reference=f"order:{order_id}",
        allocations=allocations,
        hold_for=pay_window + HOLD_MARGIN,
    )
    return order
