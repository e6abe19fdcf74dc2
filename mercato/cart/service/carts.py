"""Carts: guest and customer carts, lines, ticking, merging at sign-in, and the priced view.

Every line write starts with one conditional UPDATE that touches the cart only while it is
``active`` (``_lock_active``): on PostgreSQL it holds the cart row until commit, so a checkout
freezing the cart and a line change cannot interleave; a frozen cart answers ``cart.frozen``.
Prices and stock are never stored as truth here: every read re-prices through ``promotions``
(the live promotions and the customer's best coupon, each discount by name, and 凑单 hints) and
re-checks stock through ``inventory``, with notices for what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, inventory, pricing, promotions
from mercato.cart.errors import (
    CartFrozen,
    CartFull,
    CartLineNotFound,
    CurrencyNotSupported,
    NotEnoughStock,
    NotSellable,
    QuantityTooHigh,
)
from mercato.cart.models import Cart, CartLine
from mercato.cart.schemas import (
    MAX_LINES,
    MAX_QUANTITY,
    AddLine,
    CartLineView,
    CartRef,
    CartView,
    ChangeLine,
    Notice,
    NoticeCode,
    SelectLines,
)
from mercato.cart.states import CART, CartStatus
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.i18n import N_, gettext
from mercato.core.money import Money
from mercato.core.settings import get_settings

GUEST_CART_DAYS = 30
LOW_STOCK = 10  # "only N left" below this many
COUPON_CODE = "coupon:"  # the adjustment code of a coupon: "coupon:<coupon id>"


def new_guest_token() -> str:
    return "mct_" + secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _customer_cart_id(customer_id: int) -> Select[int]:
    return (
        select(Cart.id)
        .where(
            Cart.customer_id == customer_id,
            Cart.status.in_([CartStatus.active, CartStatus.checking_out]),
        )
        .order_by(Cart.id.desc())
        .limit(1)
    )


def _guest_cart_id(token: str) -> Select[int]:
    return select(Cart.id).where(
        Cart.token_hash == _digest(token),
        Cart.customer_id.is_(None),
        Cart.status.in_([CartStatus.active, CartStatus.checking_out]),
        (Cart.expires_at.is_(None)) | (Cart.expires_at > clock.now()),
    )


async def _customer_cart(session: AsyncSession, customer_id: int) -> Cart | None:
    return (
        await session.execute(select(Cart).where(Cart.id == _customer_cart_id(customer_id).scalar_subquery()))
    ).scalar_one_or_none()


async def _guest_cart(session: AsyncSession, token: str) -> Cart | None:
    return (
        await session.execute(select(Cart).where(Cart.id == _guest_cart_id(token).scalar_subquery()))
    ).scalar_one_or_none()


async def count_units(session: AsyncSession, *, customer_id: int | None, guest_token: str | None) -> int:
    """How many units the shopper's cart holds (the badge of the shop's cart tab): the signed-in
    customer's cart, else the guest's; 0 without one. One query, no write (``find_cart`` merges
    a guest cart into the customer's, not this)."""
    if customer_id is not None:
        cart_id = _customer_cart_id(customer_id)
    elif guest_token:
        cart_id = _guest_cart_id(guest_token)
    else:
        return 0
    total = await session.execute(
        select(func.coalesce(func.sum(CartLine.quantity), 0)).where(
            CartLine.cart_id == cart_id.scalar_subquery()
        )
    )
    return int(total.scalar_one())


async def _create(session: AsyncSession, *, customer_id: int | None, token: str | None) -> Cart:
    now = clock.now()
    values = {
        "customer_id": customer_id,
        "token_hash": _digest(token) if token else None,
        "status": str(CartStatus.active),
        "currency": get_settings().currency,
        "created_at": now,
        "updated_at": now,
        "expires_at": None if customer_id else now + dt.timedelta(days=GUEST_CART_DAYS),
    }
    await insert_ignore(session, Cart.__table__, values)  # a concurrent first add may win
    found = await (_customer_cart(session, customer_id) if customer_id else _guest_cart(session, token or ""))
    assert found is not None
    return found


async def _merge(session: AsyncSession, guest: Cart, into: Cart) -> None:
    """Pour a guest cart's lines into the customer's cart (quantities add up, capped)."""
    now = clock.now()
    for line in (await session.execute(select(CartLine).where(CartLine.cart_id == guest.id))).scalars():
        added = await insert_ignore(
            session,
            CartLine.__table__,
            {
                "cart_id": into.id,
                "sku_id": line.sku_id,
                "quantity": line.quantity,
                "is_selected": line.is_selected,
                "added_unit_price_amount": line.added_unit_price_amount,
                "created_at": now,
                "updated_at": now,
            },
        )
        if not added:
            await session.execute(
                update(CartLine)
                .where(CartLine.cart_id == into.id, CartLine.sku_id == line.sku_id)
                .values(
                    quantity=func.min(CartLine.quantity + line.quantity, MAX_QUANTITY)
                    if session.get_bind().dialect.name == "sqlite"
                    else func.least(CartLine.quantity + line.quantity, MAX_QUANTITY),
                    updated_at=now,
                )
            )
    await session.execute(
        update(Cart)
        .where(Cart.id == guest.id, Cart.status.in_(CART.sources(CartStatus.merged)))
        .values(status=str(CartStatus.merged), updated_at=now)
    )


async def find_cart(
    session: AsyncSession, *, customer_id: int | None, guest_token: str | None
) -> CartRef | None:
    """The caller's current cart, merging a guest cart into the customer's one at sign-in."""
    row = await _find_row(session, customer_id=customer_id, guest_token=guest_token)
    return CartRef.model_validate(row) if row is not None else None


async def _find_row(
    session: AsyncSession, *, customer_id: int | None, guest_token: str | None
) -> Cart | None:
    guest = await _guest_cart(session, guest_token) if guest_token else None
    if customer_id is None:
        return guest
    cart = await _customer_cart(session, customer_id)
    if guest is not None and guest.status == CartStatus.active:
        if cart is None:
            cart = await _create(session, customer_id=customer_id, token=None)
        if cart.status == CartStatus.active:
            await _merge(session, guest, cart)
    return cart


async def _lock_active(session: AsyncSession, cart_id: int) -> None:
    """Touch the cart only if it is active (and hold its row on PostgreSQL). Raises: CartFrozen."""
    touched = (
        await session.execute(
            update(Cart)
            .where(Cart.id == cart_id, Cart.status == CartStatus.active)
            .values(updated_at=clock.now())
            .returning(Cart.id)
        )
    ).scalar_one_or_none()
    if touched is None:
        raise CartFrozen()


async def add_line(
    session: AsyncSession, *, customer_id: int | None, guest_token: str | None, data: AddLine
) -> tuple[int, str | None]:
    """Add units of a SKU (to the line already holding it, if any).

    Returns the cart id and, when a guest cart was created, its new token (to set as a cookie).

    Raises:
        NotSellable (409): unknown SKU, product not on sale or SKU disabled.
        NotEnoughStock (409): the line would hold more units than are available; nothing changes.
        CurrencyNotSupported, CartFrozen (409), CartFull (409), QuantityTooHigh (422).
    """
    sku = (await catalog.get_sellable_skus(session, sku_ids=[data.sku_id])).get(data.sku_id)
    if sku is None or not sku.is_sellable:
        raise NotSellable()
    if sku.currency != get_settings().currency:
        raise CurrencyNotSupported()
    cart = await _find_row(session, customer_id=customer_id, guest_token=guest_token)
    new_token = None
    if cart is None:
        new_token = None if customer_id else new_guest_token()
        cart = await _create(session, customer_id=customer_id, token=new_token)
    await _lock_active(session, cart.id)
    available = (await inventory.available_units(session, sku_ids=[data.sku_id]))[data.sku_id]
    now = clock.now()
    lines = (await session.execute(select(func.count()).where(CartLine.cart_id == cart.id))).scalar_one()
    inserted = False
    if lines < MAX_LINES and data.quantity <= available:
        inserted = await insert_ignore(
            session,
            CartLine.__table__,
            {
                "cart_id": cart.id,
                "sku_id": data.sku_id,
                "quantity": data.quantity,
                "is_selected": True,
                "added_unit_price_amount": sku.price_amount,
                "created_at": now,
                "updated_at": now,
            },
        )
    if not inserted:
        grown = (
            await session.execute(
                update(CartLine)
                .where(
                    CartLine.cart_id == cart.id,
                    CartLine.sku_id == data.sku_id,
                    CartLine.quantity + data.quantity <= MAX_QUANTITY,
                    CartLine.quantity + data.quantity <= available,
                )
                .values(quantity=CartLine.quantity + data.quantity, is_selected=True, updated_at=now)
                .returning(CartLine.id)
            )
        ).scalar_one_or_none()
        if grown is None:
            held = (
                await session.execute(
                    select(CartLine.quantity).where(
                        CartLine.cart_id == cart.id, CartLine.sku_id == data.sku_id
                    )
                )
            ).scalar_one_or_none()
            if held is None and lines >= MAX_LINES:
                raise CartFull(max_lines=MAX_LINES)
            if (held or 0) + data.quantity > MAX_QUANTITY:
                raise QuantityTooHigh(max_quantity=MAX_QUANTITY)
            raise NotEnoughStock(available=available)
    return cart.id, new_token


async def _line(session: AsyncSession, cart_id: int, line_id: int) -> CartLine:
    row = (
        await session.execute(select(CartLine).where(CartLine.id == line_id, CartLine.cart_id == cart_id))
    ).scalar_one_or_none()
    if row is None:
        raise CartLineNotFound()  # also another shopper's line: never say it exists
    return row


async def change_line(session: AsyncSession, *, cart_id: int, line_id: int, data: ChangeLine) -> None:
    """Set a line's quantity or tick.

    A quantity above the units available is refused unless it lowers the line (a line left above
    the stock by a sale elsewhere can always come down).

    Raises:
        CartLineNotFound (404), CartFrozen (409),
        NotEnoughStock (409): more than available and not lower than now; nothing changes.
    """
    line = await _line(session, cart_id, line_id)
    await _lock_active(session, cart_id)
    values: dict[str, object] = {"updated_at": clock.now()}
    stmt = update(CartLine).where(CartLine.id == line_id, CartLine.cart_id == cart_id)
    available = None
    if data.quantity is not None:
        values["quantity"] = data.quantity
        available = (await inventory.available_units(session, sku_ids=[line.sku_id]))[line.sku_id]
        if data.quantity > available:
            stmt = stmt.where(CartLine.quantity >= data.quantity)
    if data.selected is not None:
        values["is_selected"] = data.selected
    changed = (await session.execute(stmt.values(**values).returning(CartLine.id))).scalar_one_or_none()
    if changed is None:
        raise NotEnoughStock(available=available)


async def remove_line(session: AsyncSession, *, cart_id: int, line_id: int) -> None:
    """Raises: CartLineNotFound (404), CartFrozen (409)."""
    await _line(session, cart_id, line_id)
    await _lock_active(session, cart_id)
    await session.execute(delete(CartLine).where(CartLine.id == line_id, CartLine.cart_id == cart_id))


async def select_lines(session: AsyncSession, *, cart_id: int, data: SelectLines) -> None:
    """Tick or untick lines (all of them when no ids are given). Raises: CartFrozen."""
    await _lock_active(session, cart_id)
    stmt = update(CartLine).where(CartLine.cart_id == cart_id)
    if data.line_ids is not None:
        stmt = stmt.where(CartLine.id.in_(data.line_ids))
    await session.execute(stmt.values(is_selected=data.selected, updated_at=clock.now()))


def _money(amount: int, currency: str, locale: str) -> str:
    return Money(amount, currency).format(locale)


def _notices(
    *, sku: catalog.SellableSku | None, line: CartLine, unit: int, available: int, locale: str
) -> tuple[list[Notice], bool]:
    notices: list[Notice] = []

    def notice(code: NoticeCode, message: str, **params: int | str) -> None:
        notices.append(Notice(code=code, message=gettext(message, locale, **params), params=params))

    if sku is None or not sku.is_sellable or available == 0:
        notice(NoticeCode.sold_out, N_("Sold out or no longer on sale."))
        return notices, False
    can_buy = True
    if unit != line.added_unit_price_amount:
        notice(
            NoticeCode.price_changed,
            N_("The price changed from {old} to {new}."),
            old=_money(line.added_unit_price_amount, sku.currency, locale),
            new=_money(unit, sku.currency, locale),
        )
    if available < line.quantity:
        notice(
            NoticeCode.quantity_reduced, N_("Only {available} left; lower the quantity."), available=available
        )
        can_buy = False
    elif available < LOW_STOCK:
        notice(NoticeCode.low_stock, N_("Only {available} left."), available=available)
    if line.quantity < sku.min_order_quantity:
        notice(NoticeCode.below_minimum, N_("Buy at least {minimum}."), minimum=sku.min_order_quantity)
        can_buy = False
    return notices, can_buy


def empty_view() -> CartView:
    settings = get_settings()
    return CartView(
        id=None,
        status=CartStatus.active,
        currency=settings.currency,
        lines=[],
        selected_quantity=0,
        subtotal_amount=0,
        discount_amount=0,
        shipping_amount=0,
        total_amount=0,
        free_shipping_gap_amount=None,
        can_checkout=False,
    )


async def view_cart(
    session: AsyncSession,
    *,
    cart_id: int | None,
    locale: str,
    channel: promotions.Channel = promotions.Channel.web,
) -> CartView:
    """The cart re-priced and re-checked now, newest lines first: with the live promotions and,
    for a customer's cart, their best usable coupon (what checkout picks by default)."""
    if cart_id is None:
        return empty_view()
    cart = await session.get(Cart, cart_id)
    if cart is None:
        return empty_view()
    lines = list(
        (
            await session.execute(
                select(CartLine).where(CartLine.cart_id == cart_id).order_by(CartLine.id.desc())
            )
        ).scalars()
    )
    sku_ids = [line.sku_id for line in lines]
    skus = await catalog.get_sellable_skus(session, sku_ids=sku_ids)
    stock = await inventory.available_units(session, sku_ids=sku_ids)
    priced_in: list[pricing.LineIn] = []
    prepared = []
    for line in lines:
        sku = skus.get(line.sku_id)
        price_in = None
        unit = line.added_unit_price_amount
        if sku is not None:
            price_in = pricing.LineIn.for_sku(sku, key=str(line.id), quantity=line.quantity)
            unit = pricing.unit_price(price_in)
        notices, can_buy = _notices(
            sku=sku, line=line, unit=unit, available=stock.get(line.sku_id, 0), locale=locale
        )
        if price_in is not None and can_buy and line.is_selected:
            priced_in.append(price_in)
        prepared.append((line, sku, unit, notices, can_buy))
    template = await pricing.get_default_shipping_template(session)
    quote = await promotions.quote(
        session,
        lines=priced_in,
        context=pricing.PricingContext(currency=cart.currency, customer_id=cart.customer_id),
        shipping=template.template() if template is not None else None,
        customer_id=cart.customer_id,
        channel=channel,
    )
    result = quote.result
    priced = {out.key: out for out in result.lines}
    views = []
    for line, sku, unit, notices, can_buy in prepared:
        out = priced.get(str(line.id))
        views.append(
            CartLineView(
                id=line.id,
                sku_id=line.sku_id,
                product_id=sku.product_id if sku else 0,
                product_slug=sku.product_slug if sku else "",
                title=(sku.title_en or sku.title if locale == "en" else sku.title) if sku else "",
                spec=sku.spec if sku else {},
                image_url=sku.image_url if sku else None,
                quantity=line.quantity,
                selected=line.is_selected,
                can_buy=can_buy,
                unit_price_amount=unit,
                added_unit_price_amount=line.added_unit_price_amount,
                market_price_amount=sku.market_price_amount if sku else None,
                subtotal_amount=out.subtotal_amount if out else unit * line.quantity,
                discount_amount=out.discount_amount if out else 0,
                total_amount=out.total_amount if out else unit * line.quantity,
                available=stock.get(line.sku_id, 0),
                notices=notices,
                discounts=promotions.Discount.of_line(quote, str(line.id)) if out else [],
            )
        )
    discounts = promotions.AppliedDiscount.of_quote(quote)
    return CartView(
        id=cart.id,
        status=CartStatus(cart.status),
        currency=cart.currency,
        lines=views,
        selected_quantity=sum(v.quantity for v in views if v.selected and v.can_buy),
        subtotal_amount=result.subtotal_amount,
        discount_amount=result.discount_amount,
        shipping_amount=result.shipping_amount,
        total_amount=result.total_amount,
        free_shipping_gap_amount=result.free_shipping_gap_amount,
        can_checkout=cart.status == CartStatus.active and bool(priced_in),
        discounts=discounts,
        coupon_saving_amount=sum(d.amount for d in discounts if d.code.startswith(COUPON_CODE)),
        hints=list(quote.hints),
    )


async def checkout_items(session: AsyncSession, *, cart_id: int) -> list[tuple[int, int]]:
    """The ticked lines to order, as (sku_id, quantity), oldest first."""
    rows = await session.execute(
        select(CartLine.sku_id, CartLine.quantity)
        .where(CartLine.cart_id == cart_id, CartLine.is_selected.is_(True))
        .order_by(CartLine.id)
    )
    return [(sku_id, quantity) for sku_id, quantity in rows]


async def freeze_cart(session: AsyncSession, *, cart_id: int, reference: str) -> None:
    """The cart's ticked lines are being paid for under ``reference``: no line may change.

    Raises:
        CartFrozen (409): it is already being checked out.
    """
    frozen = (
        await session.execute(
            update(Cart)
            .where(Cart.id == cart_id, Cart.status.in_(CART.sources(CartStatus.checking_out)))
            .values(status=str(CartStatus.checking_out), checkout_reference=reference, updated_at=clock.now())
            .returning(Cart.id)
        )
    ).scalar_one_or_none()
    if frozen is None:
        raise CartFrozen()


async def finish_checkout(session: AsyncSession, *, reference: str, purchased: bool) -> bool:
    """Unfreeze the cart checked out under ``reference``; when it was paid for, the ticked lines
    (the ones ordered: they could not change while frozen) leave the cart. Idempotent."""
    cart_id = (
        await session.execute(
            update(Cart)
            .where(Cart.checkout_reference == reference, Cart.status.in_(CART.sources(CartStatus.active)))
            .values(status=str(CartStatus.active), checkout_reference=None, updated_at=clock.now())
            .returning(Cart.id)
        )
    ).scalar_one_or_none()
    if cart_id is None:
        return False
    if purchased:
        await session.execute(
            delete(CartLine).where(CartLine.cart_id == cart_id, CartLine.is_selected.is_(True))
        )
    return True
