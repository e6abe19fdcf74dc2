"""The flash-sale page (秒杀, ``/flash-sale``): session tabs (抢购中 / 即将开始) with countdowns
from the server's clock, each item's sale price, how much is taken and a sold-out state; "remind
me" for upcoming sessions; and buying: ``/flash-sale/items/{id}`` confirms the price to the
shopper's default address and places the order with a fresh idempotency key (then the pay page,
with the short payment window). The live tab refreshes its counts every few seconds, so sold out
shows as soon as the quota is gone; a sold-out or too-early attempt re-renders the page with the
reason and changes nothing."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from mercato import identity, social
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.settings import get_settings
from mercato.storefront.routes.checkout import KEY, LOGIN, offered_providers
from mercato.storefront.routes.home import shopper_frame
from mercato.storefront.routes.offers import channel_of, clock_text, seconds_until
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, parse_id, read_form, validate
from mercato.web.html_errors import error_page
from mercato.web.session import current_customer, login_redirect
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

PAGE = "storefront/flash/sale.html"
ITEM_PAGE = "storefront/flash/item.html"
GONE = N_("This flash sale has ended or does not exist.")
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SessionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _countdowns(view: social.FlashSessionView, locale: str) -> dict[str, Any]:
    """The tab's countdown: to the start of an upcoming session, to the end of a live one."""
    target = view.starts_at if view.phase is social.FlashPhase.upcoming else view.ends_at
    seconds = seconds_until(target)
    return {"seconds": seconds, "text": clock_text(seconds, locale)}


@router.get("/flash-sale")
async def flash_sale_page(request: Request) -> Response:
    locale = locale_of(request)
    wanted = parse_id(request.query_params.get("session", ""))
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        customer_id = frame["customer"].id if frame["customer"] else None
        views = await social.list_flash_sale(session, customer_id=customer_id)
    chosen = next((v for v in views if v.id == wanted), None) or next(
        (v for v in views if v.phase is social.FlashPhase.live), views[0] if views else None
    )
    return render(
        request,
        PAGE,
        **frame,
        views=views,
        chosen=chosen,
        clocks={v.id: _countdowns(v, locale) for v in views},
        next_url="/flash-sale",
    )


@router.get("/flash-sale/live.json")
async def flash_sale_counts(request: Request) -> Response:
    """What the live tab polls: units left per item (no personal data; not cached)."""
    async with uow(write=False) as session:
        views = await social.list_flash_sale(session)
    body = {str(o.item_id): o.left for v in views for o in v.offers}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/flash-sale/sessions/{session_id}/remind")
async def remind(request: Request, session_id: SessionId) -> Response:
    await read_form(request)
    async with uow() as session:
        auth = await current_customer(request, session)
        if auth is None:
            return RedirectResponse(f"{LOGIN}?next=/flash-sale%3Fsession%3D{session_id}", status_code=303)
        try:
            await social.remind_me(session, flash_session_id=session_id, customer_id=auth.customer.id)
        except FORM_ERRORS as exc:
            problem = form_problem(exc, locale_of(request))
            return error_page(request, problem.status, problem.message)
    return RedirectResponse(f"/flash-sale?session={session_id}", status_code=303)


async def _item_page(request: Request, item_id: int, values: dict[str, str], **context: Any) -> Response:
    """The confirm page: the offer, the price to the default address, the buy form."""
    locale = locale_of(request)
    status = context.pop("status_code", 200)
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return login_redirect(LOGIN, request)
        frame = await shopper_frame(request, session)
        views = await social.list_flash_sale(session, customer_id=auth.customer.id)
        found = next(((v, o) for v in views for o in v.offers if o.item_id == item_id), None)
        if found is None:
            return error_page(request, 404, gettext(GONE, locale))
        view, offer = found
        quantity = min(parse_id(values.get("quantity")) or 1, offer.per_customer)
        quote = problem = None
        try:
            quote = await social.confirm_flash(
                session,
                customer_id=auth.customer.id,
                item_id=item_id,
                quantity=quantity,
                channel=channel_of(request),
            )
        except FORM_ERRORS as exc:  # too early, sold out, no address: the page says so
            problem = form_problem(exc, locale)
        addresses = await identity.list_addresses(session, customer_id=auth.customer.id)
    return render(
        request,
        ITEM_PAGE,
        status,
        **frame,
        view=view,
        offer=offer,
        quote=quote,
        problem=context.pop("problem", None) or problem,
        providers=offered_providers(request),
        idempotency_key=secrets.token_urlsafe(18),
        clock=_countdowns(view, locale),
        quantity=quantity,
        address=addresses[0] if addresses else None,
        proof_bits=get_settings().flash_proof_bits,
        pay_minutes=get_settings().flash_pay_minutes,
        challenge=social.flash_challenge(item_id=item_id, customer_id=auth.customer.id)
        if view.human_check
        else "",
        next_url=f"/flash-sale/items/{item_id}",
        **context,
    )


@router.get("/flash-sale/items/{item_id}")
async def item_page(request: Request, item_id: ItemId) -> Response:
    return await _item_page(request, item_id, dict(request.query_params))


@router.post("/flash-sale/items/{item_id}/buy")
async def buy(request: Request, item_id: ItemId) -> Response:
    values = await read_form(request)
    key = values.get("idempotency_key", "")
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return RedirectResponse(f"{LOGIN}?next=/flash-sale/items/{item_id}", status_code=303)
            if not KEY.match(key):
                raise social.HumanCheckFailed()
            data = validate(
                social.FlashBuy, values, "quantity", "expected_total_amount", "provider", "note", "proof"
            )
            result = await social.buy_flash(
                session,
                customer_id=auth.customer.id,
                item_id=item_id,
                data=data,
                idempotency_key=key,
                channel=channel_of(request),
                ip=request.client.host if request.client else None,
            )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return await _item_page(request, item_id, values, problem=problem, status_code=problem.status)
    return RedirectResponse(f"/pay/{result.payment_id}", status_code=303)
