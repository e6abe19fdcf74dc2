"""Coupons for shoppers: the claim centre (领券中心, ``/coupons``), the claim button wherever a
coupon is offered (product and campaign pages), and the wallet (``/account/coupons``: 未使用 /
已使用 / 已过期, with 去使用 links and the 兑换码 form).

A claim posts ``/coupons/{template_id}/claim`` with its CSRF token and the page to come back to.
With htmx the coupon is swapped for its claimed (or refused) state, always answered 200 (htmx 2
does not swap 4xx answers); without script the post comes back to the page (303), or a refusal
shows the claim centre with the message. A guest is sent to sign in and back.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mercato import catalog, promotions
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.storefront.routes.account import LOGIN, account_nav, to_login
from mercato.storefront.routes.cart import is_htmx
from mercato.storefront.routes.home import shopper_frame
from mercato.storefront.routes.offers import CouponCard, channel_of, template_card, wallet_card
from mercato.storefront.routes.seo import absolute
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form
from mercato.web.session import current_customer, safe_next
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

CENTRE = "/coupons"
WALLET = "/account/coupons"
CENTRE_PAGE = "storefront/coupons/centre.html"
WALLET_PAGE = "storefront/coupons/wallet.html"
COUPON_FRAGMENT = "storefront/coupons/partials/_coupon.html"
TemplateId = Annotated[int, Path(ge=1, le=2**63 - 1)]
S = promotions.CouponStatus
#: The wallet's tabs and the coupon statuses each shows (a coupon held by an unpaid order is
#: still the shopper's: it shows as unused, marked locked).
WALLET_TABS: dict[str, tuple[promotions.CouponStatus, ...]] = {
    "unused": (S.unused, S.locked),
    "used": (S.used,),
    "expired": (S.expired, S.void),
}
CODE_LENGTH = 64


# -- the claim centre and claiming -------------------------------------------------------------


async def claimable_cards(
    session: AsyncSession, *, customer_id: int | None, locale: str, product_id: int | None = None
) -> list[CouponCard]:
    """The coupons this shopper may claim now (on a product page: those for the product)."""
    templates = await promotions.list_claimable(session, customer_id=customer_id, product_id=product_id)
    return [template_card(t, locale) for t in templates]


async def _centre(request: Request, status_code: int = 200, problem: FormProblem | None = None) -> Response:
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        customer = frame["customer"]
        cards = await claimable_cards(
            session, customer_id=customer.id if customer else None, locale=locale_of(request)
        )
    return render(
        request,
        CENTRE_PAGE,
        status_code,
        headers=problem.headers if problem else None,
        **frame,
        coupons=cards,
        problem=problem,
        next_url=CENTRE,
        canonical=absolute(CENTRE),
    )


@router.get("/coupons")
async def claim_centre(request: Request) -> Response:
    return await _centre(request)


def _to_sign_in(request: Request, back: str) -> Response:
    """To the sign-in page, then back to the page the claim was made on."""
    location = f"{LOGIN}?next={quote(back, safe='/')}"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


@router.post("/coupons/{template_id}/claim")
async def claim(request: Request, template_id: TemplateId) -> Response:
    values = await read_form(request)
    back = safe_next(values.get("next"), CENTRE)
    locale = locale_of(request)
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return _to_sign_in(request, back)
            await promotions.claim_coupon(
                session, template_id=template_id, customer_id=auth.customer.id, channel=channel_of(request)
            )
            template = await promotions.get_coupon_template(session, template_id=template_id)
    except promotions.CouponTemplateNotFound:
        raise
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale)
        if not is_htmx(request):
            return await _centre(request, problem.status, problem)
        async with uow(write=False) as session:
            template = await promotions.get_coupon_template(session, template_id=template_id)
        card = template_card(template, locale, status="refused")
        return render(request, COUPON_FRAGMENT, coupon=card, problem=problem, next_url=back)
    if not is_htmx(request):
        return RedirectResponse(back, status_code=303)
    card = template_card(template, locale, status="claimed")
    return render(request, COUPON_FRAGMENT, coupon=card, problem=None, next_url=back)


# -- the wallet ---------------------------------------------------------------------------------


async def use_links(session: AsyncSession, coupons: list[promotions.CouponRead]) -> dict[int, str]:
    """去使用: per coupon id, a product list in its scope — its first category's page, its brand's
    search, its product's page — or the home page for a storewide coupon."""
    tree = await catalog.get_storefront_category_tree(session)
    slugs: dict[int, str] = {}
    stack = list(tree)
    while stack:
        node = stack.pop()
        slugs[node.id] = node.slug
        stack.extend(node.children)
    product_ids = {c.id: next(iter(c.scope.product_ids), None) for c in coupons if not c.scope.all_goods}
    cards = await catalog.list_storefront_cards(
        session, product_ids=[p for p in product_ids.values() if p is not None]
    )
    product_slugs = {card.id: card.slug for card in cards}
    links: dict[int, str] = {}
    for coupon in coupons:
        scope = coupon.scope
        category = next((slugs[c] for c in scope.category_ids if c in slugs), None)
        product = product_ids.get(coupon.id)
        if scope.all_goods:
            links[coupon.id] = "/"
        elif category:
            links[coupon.id] = f"/c/{category}"
        elif product in product_slugs:
            links[coupon.id] = f"/p/{product_slugs[product]}"
        elif scope.brand_ids:
            brand = await catalog.get_brand(session, brand_id=scope.brand_ids[0])
            links[coupon.id] = "/search?" + urlencode({"q": brand.name, "brand": brand.id})
        else:
            links[coupon.id] = "/"
    return links


def _tab(request: Request) -> str:
    tab = request.query_params.get("tab", "unused")
    return tab if tab in WALLET_TABS else "unused"


async def _wallet(
    request: Request, *, status_code: int = 200, problem: FormProblem | None = None, **extra: Any
) -> Response:
    tab = _tab(request)
    locale = locale_of(request)
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
        nav = await account_nav(session, auth, "coupons")
        everything = await promotions.list_wallet(session, customer_id=auth.customer.id)
        shown = [c for c in everything if c.status in WALLET_TABS[tab]]
        links = await use_links(session, shown) if tab == "unused" else {}
    counts = {name: sum(c.status in statuses for c in everything) for name, statuses in WALLET_TABS.items()}
    return render(
        request,
        WALLET_PAGE,
        status_code,
        headers=problem.headers if problem else None,
        **nav,
        tab=tab,
        counts=counts,
        coupons=[(wallet_card(c, locale), links.get(c.id)) for c in shown],
        problem=problem,
        **extra,
    )


@router.get("/account/coupons")
async def wallet(request: Request) -> Response:
    return await _wallet(request, redeemed=request.query_params.get("redeemed") == "1", values={})


@router.post("/account/coupons/redeem")
async def redeem(request: Request) -> Response:
    """兑换码: a code turns into a coupon in the wallet; a wrong code (or too many) is said plainly."""
    values = await read_form(request)
    code = values.get("code", "").strip()
    try:
        if not code or len(code) > CODE_LENGTH:
            raise promotions.CodeInvalid()
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return to_login(request)
            await promotions.redeem_code(session, code=code, customer_id=auth.customer.id)
    except (ValidationError, DomainError) as exc:
        problem = form_problem(exc, locale_of(request))
        problem = FormProblem(problem.status, problem.message, {"code": problem.message}, problem.retry_after)
        return await _wallet(
            request, status_code=problem.status, problem=problem, redeemed=False, values=values
        )
    return RedirectResponse(f"{WALLET}?redeemed=1", status_code=303)
