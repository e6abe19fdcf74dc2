"""The cart page: add from a product page, change quantities, tick lines, remove, and go to
checkout — for guests (their cart is found by an HttpOnly cookie) and signed-in customers.

Every form works without JavaScript (post, then 303 back to ``/cart``). With htmx the same
endpoints answer the cart fragment instead, so a quantity changes without a reload; a refused
change then answers 200 with the error inside the fragment (htmx 2 does not swap 4xx answers).
A guest who signs in keeps their cart: the next cart read pours it into the customer's cart.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import cart, catalog, promotions
from mercato.core.db import uow
from mercato.core.i18n import gettext
from mercato.core.money import Money
from mercato.core.settings import get_settings
from mercato.storefront.routes.offers import channel_of, message_text
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.session import current_customer
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

#: The guest cart's token: the same cookie as the JSON API's, so both see one cart.
CART_COOKIE = "mercato_cart"
CART_COOKIE_DAYS = 30
CART_PAGE = "storefront/cart/cart.html"
CART_FRAGMENT = "storefront/cart/partials/_cart.html"
ADDED_FRAGMENT = "storefront/cart/partials/_added.html"
FILL_PAGE = "storefront/cart/fill.html"
LineId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PromotionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# -- helpers shared with checkout and sign-in ------------------------------------------------


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def guest_token(request: Request) -> str | None:
    token = request.cookies.get(CART_COOKIE)
    return token[:200] if token else None


def set_guest_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        CART_COOKIE,
        token,
        max_age=60 * 60 * 24 * CART_COOKIE_DAYS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )


def forget_guest_cart(request: Request, response: Response) -> None:
    """Drop the guest cart cookie once its cart has been merged into a customer's."""
    if CART_COOKIE in request.cookies:
        response.delete_cookie(
            CART_COOKIE, path="/", httponly=True, samesite="lax", secure=get_settings().secure_cookies
        )


async def merge_guest_cart(request: Request, session: AsyncSession, customer_id: int) -> None:
    """Pour the browser's guest cart into the customer's cart (call at sign-in, in its unit of
    work, then ``forget_guest_cart`` on the response)."""
    token = guest_token(request)
    if token:
        await cart.find_cart(session, customer_id=customer_id, guest_token=token)


async def current_cart(
    request: Request, session: AsyncSession, customer_id: int | None
) -> cart.CartRef | None:
    """The shopper's cart; a signed-in customer's guest cart is merged into theirs first."""
    return await cart.find_cart(session, customer_id=customer_id, guest_token=guest_token(request))


# -- pages -----------------------------------------------------------------------------------


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    template = CART_FRAGMENT if is_htmx(request) else CART_PAGE
    # a refused htmx change is still swapped in (200), with its error next to the line
    return render(request, template, 200 if is_htmx(request) else status_code, **context)


def hint_texts(hints: list[promotions.TierHint], currency: str, locale: str) -> dict[int, str]:
    """凑单 hints worded, by promotion: "再买 ¥23.00 可减 ¥30.00"."""
    return {
        hint.promotion_id: gettext(
            "Add {gap} more to {reward}",
            locale,
            gap=Money(hint.gap_amount, currency).format(locale),
            reward=message_text(hint.reward.message, hint.reward.params, locale),
        )
        for hint in hints
    }


async def _view(request: Request, session: AsyncSession) -> tuple[cart.CartView, Any, dict[str, Any]]:
    """The cart, the signed-in customer (or None), the lines' spec names and the 凑单 hints."""
    auth = await current_customer(request, session)
    customer_id = auth.customer.id if auth else None
    found = await current_cart(request, session, customer_id)
    locale = locale_of(request)
    view = await cart.view_cart(
        session, cart_id=found.id if found else None, locale=locale, channel=channel_of(request)
    )
    names = await catalog.name_specs(session, specs={line.sku_id: line.spec for line in view.lines})
    return view, auth, {"specs": names, "hints": hint_texts(view.hints, view.currency, locale)}


async def _refused(request: Request, problem: FormProblem, line_id: int | None = None) -> Response:
    async with uow() as session:
        view, auth, names = await _view(request, session)
    return _page(
        request,
        problem.status,
        headers=problem.headers,
        **names,
        cart=view,
        customer=auth.customer if auth else None,
        problem=problem,
        problem_line_id=line_id,
    )


@router.get("/cart")
async def cart_page(request: Request) -> Response:
    async with uow() as session:  # may merge a guest cart into the customer's: a write
        view, auth, names = await _view(request, session)
    response = _page(request, cart=view, customer=auth.customer if auth else None, problem=None, **names)
    if auth is not None:
        forget_guest_cart(request, response)
    return response


@router.post("/cart/add")
async def add_to_cart(request: Request) -> Response:
    """Add a SKU (from the product page); htmx gets a small "added" note with the cart's size."""
    values = await read_form(request)
    locale = locale_of(request)
    try:
        data = validate(cart.AddLine, values, "sku_id", "quantity")
        async with uow() as session:
            auth = await current_customer(request, session)
            customer_id = auth.customer.id if auth else None
            _cart_id, new_token = await cart.add_line(
                session, customer_id=customer_id, guest_token=guest_token(request), data=data
            )
            view = await cart.view_cart(session, cart_id=_cart_id, locale=locale, channel=channel_of(request))
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale)
        if is_htmx(request):
            return render(request, ADDED_FRAGMENT, problem=problem, count=None)
        return await _refused(request, problem)
    if is_htmx(request):
        count = sum(line.quantity for line in view.lines)
        response: Response = render(request, ADDED_FRAGMENT, problem=None, count=count)
    else:
        response = RedirectResponse("/cart", status_code=303)
    if new_token is not None:
        set_guest_cookie(response, new_token)
    return response


@router.get("/cart/fill/{promotion_id}")
async def fill_page(request: Request, promotion_id: PromotionId) -> Response:
    """去凑单: in-stock products in the promotion's scope whose price fits what the cart still
    lacks for its next tier, each added with one tap (a product with several specifications
    links to its page instead). The gap is the cart's own, read now, never the address's."""
    async with uow(write=False) as session:
        view, auth, extra = await _view(request, session)
        hint = next((h for h in view.hints if h.promotion_id == promotion_id), None)
        fillers = (
            await promotions.filler_products(
                session,
                promotion_id=promotion_id,
                gap_amount=hint.gap_amount,
                exclude_product_ids=[line.product_id for line in view.lines],
            )
            if hint is not None
            else []
        )
        one_tap: dict[int, int] = {}  # product id -> the one SKU a tap adds
        for card in fillers:
            buyable = [
                s
                for s in await catalog.list_skus(session, product_id=card.id)
                if s.status == catalog.SkuStatus.active and s.available_quantity > 0
            ]
            if len(buyable) == 1:
                one_tap[card.id] = buyable[0].id
    return render(
        request,
        FILL_PAGE,
        cart=view,
        customer=auth.customer if auth else None,
        hint=hint,
        hint_text=extra["hints"].get(promotion_id, ""),
        fillers=fillers,
        one_tap=one_tap,
    )


async def _cart_id(request: Request, session: AsyncSession) -> int:
    auth = await current_customer(request, session)
    found = await current_cart(request, session, auth.customer.id if auth else None)
    if found is None:
        raise cart.CartLineNotFound()
    return found.id


async def _changed(request: Request) -> Response:
    if not is_htmx(request):
        return RedirectResponse("/cart", status_code=303)
    async with uow(write=False) as session:
        view, auth, names = await _view(request, session)
    return render(
        request, CART_FRAGMENT, cart=view, customer=auth.customer if auth else None, problem=None, **names
    )


@router.post("/cart/lines/{line_id}")
async def change_line(request: Request, line_id: LineId) -> Response:
    """Set a line's quantity (``quantity``, or ``set_quantity`` from the − and + buttons) and/or
    tick it (``selected`` 1 or 0)."""
    values = await read_form(request)
    if values.get("set_quantity", "").strip():
        values["quantity"] = values["set_quantity"]
    try:
        data = validate(cart.ChangeLine, values, "quantity", "selected")
        async with uow() as session:
            await cart.change_line(
                session, cart_id=await _cart_id(request, session), line_id=line_id, data=data
            )
    except FORM_ERRORS as exc:
        return await _refused(request, form_problem(exc, locale_of(request)), line_id)
    return await _changed(request)


@router.post("/cart/lines/{line_id}/remove")
async def remove_line(request: Request, line_id: LineId) -> Response:
    await read_form(request)
    try:
        async with uow() as session:
            await cart.remove_line(session, cart_id=await _cart_id(request, session), line_id=line_id)
    except FORM_ERRORS as exc:
        return await _refused(request, form_problem(exc, locale_of(request)), line_id)
    return await _changed(request)


@router.post("/cart/select")
async def select_all(request: Request) -> Response:
    """Tick (``selected=1``) or untick (``selected=0``) every line."""
    values = await read_form(request)
    try:
        data = validate(cart.SelectLines, values, "selected")
        async with uow() as session:
            await cart.select_lines(session, cart_id=await _cart_id(request, session), data=data)
    except FORM_ERRORS as exc:
        return await _refused(request, form_problem(exc, locale_of(request)))
    return await _changed(request)
