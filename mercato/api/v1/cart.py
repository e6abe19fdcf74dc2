"""The shopping cart, for guests and customers.

A guest's cart is identified by its token: the ``mercato_cart`` cookie (browsers; writes then
need the X-CSRF-Token header like every cookie-authenticated write) or the ``X-Cart-Token``
header (apps). A signed-in customer's guest cart is merged into their own on the next call.
Every answer is the whole cart, re-priced and re-checked: with the live promotions and a
customer's best usable coupon, each discount by name (the cart's and each line's), and 凑单
``hints`` (what is missing for a promotion's next tier).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from mercato import cart, promotions
from mercato.api.deps import DbSession, MaybeCustomer
from mercato.api.v1 import PREFIX
from mercato.core.settings import get_settings
from mercato.web.csrf import HEADER, SAFE_METHODS, verify_csrf
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/cart", tags=["cart"])

CART_COOKIE = "mercato_cart"
TOKEN_HEADER = "x-cart-token"  # noqa: S105 - a header name, not a secret
LineId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _guest_token(request: Request) -> str | None:
    header = request.headers.get(TOKEN_HEADER)
    if header:
        return header[:200]
    cookie = request.cookies.get(CART_COOKIE)
    if cookie and request.method not in SAFE_METHODS:
        verify_csrf(request, request.headers.get(HEADER))
    return cookie[:200] if cookie else None


def _locale(request: Request) -> str:
    return str(getattr(request.state, "locale", get_settings().locale))


async def _answer(
    request: Request,
    response: Response,
    session: DbSession,
    customer: MaybeCustomer,
    token: str | None,
    cart_id: int | None = None,
) -> cart.CartView:
    """The whole cart; ``cart_id`` when the write already found it (saves looking it up again)."""
    if cart_id is None:
        found = await cart.find_cart(
            session, customer_id=customer.customer.id if customer else None, guest_token=token
        )
        cart_id = found.id if found else None
    if customer is not None and request.cookies.get(CART_COOKIE):
        response.delete_cookie(CART_COOKIE)  # merged into the customer's cart
    return await cart.view_cart(
        session, cart_id=cart_id, locale=_locale(request), channel=promotions.Channel.app
    )


async def _current_id(session: DbSession, customer: MaybeCustomer, token: str | None) -> int:
    found = await cart.find_cart(
        session, customer_id=customer.customer.id if customer else None, guest_token=token
    )
    if found is None:
        raise cart.CartLineNotFound()
    return found.id


@router.get("")
async def get_cart(
    request: Request, response: Response, session: DbSession, customer: MaybeCustomer
) -> cart.CartView:
    """The cart with current prices, stock notices and the totals of the ticked lines."""
    return await _answer(request, response, session, customer, _guest_token(request))


@router.post("/lines")
@raises(
    cart.NotSellable,
    cart.CurrencyNotSupported,
    cart.CartFrozen,
    cart.CartFull,
    cart.QuantityTooHigh,
    cart.NotEnoughStock,
)
async def add_line(
    data: cart.AddLine, request: Request, response: Response, session: DbSession, customer: MaybeCustomer
) -> cart.CartView:
    """Add units of a SKU; a guest's first add creates the cart and sets its cookie."""
    token = _guest_token(request)
    cart_id, new_token = await cart.add_line(
        session, customer_id=customer.customer.id if customer else None, guest_token=token, data=data
    )
    if new_token is not None:
        response.set_cookie(
            CART_COOKIE,
            new_token,
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
            max_age=60 * 60 * 24 * 30,
        )
        response.headers["X-Cart-Token"] = new_token
        token = new_token
    return await _answer(request, response, session, customer, token, cart_id)


@router.patch("/lines/{line_id}")
@raises(cart.CartLineNotFound, cart.CartFrozen, cart.QuantityTooHigh, cart.NotEnoughStock)
async def change_line(
    line_id: LineId,
    data: cart.ChangeLine,
    request: Request,
    response: Response,
    session: DbSession,
    customer: MaybeCustomer,
) -> cart.CartView:
    """Change a line's quantity or tick it for checkout; a quantity above the available stock is
    refused (409 ``cart.not_enough_stock``) unless it lowers the line."""
    token = _guest_token(request)
    cart_id = await _current_id(session, customer, token)
    await cart.change_line(session, cart_id=cart_id, line_id=line_id, data=data)
    return await _answer(request, response, session, customer, token, cart_id)


@router.delete("/lines/{line_id}")
@raises(cart.CartLineNotFound, cart.CartFrozen)
async def remove_line(
    line_id: LineId, request: Request, response: Response, session: DbSession, customer: MaybeCustomer
) -> cart.CartView:
    token = _guest_token(request)
    cart_id = await _current_id(session, customer, token)
    await cart.remove_line(session, cart_id=cart_id, line_id=line_id)
    return await _answer(request, response, session, customer, token, cart_id)


@router.post("/select")
@raises(cart.CartLineNotFound, cart.CartFrozen)
async def select_lines(
    data: cart.SelectLines, request: Request, response: Response, session: DbSession, customer: MaybeCustomer
) -> cart.CartView:
    """Tick or untick lines for checkout (all lines when no ids are given)."""
    token = _guest_token(request)
    cart_id = await _current_id(session, customer, token)
    await cart.select_lines(session, cart_id=cart_id, data=data)
    return await _answer(request, response, session, customer, token, cart_id)
