"""砍价 pages: ``/bargains`` (the offers open now, each with "start bargaining", and the signed-in
shopper's own bargains) and a bargain's shared page (``/bargains/{id}``: the price now against
the floor, a progress bar, the helps done and needed, "only ¥x to go", every cut with its helper's
masked name, the countdown from the server's clock, "help cut" for signed-in visitors, "buy now at
¥x" and sharing for the initiator); buying goes through ``/bargains/{id}/buy``, which confirms the
price to the default address and places the order with a fresh idempotency key (then the pay
page). The pages give the browser the first-party device cookie (``web/referral.py``) that the
same-device check compares; a refusal re-renders the page with the reason and changes nothing.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import identity, social
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.idempotency import IdempotencyKeyInvalid
from mercato.storefront.routes.checkout import KEY, LOGIN, offered_providers
from mercato.storefront.routes.home import shopper_frame
from mercato.storefront.routes.offers import channel_of, clock_text, seconds_until
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of, read_form, validate
from mercato.web.html_errors import error_page
from mercato.web.referral import device_of, ensure_device
from mercato.web.session import current_customer, login_redirect
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

LIST_PAGE = "storefront/bargains/list.html"
PAGE = "storefront/bargains/bargain.html"
BUY_PAGE = "storefront/bargains/buy.html"
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
B = social.BargainStatus

#: What each status says on the page (msgids).
STATUSES = {
    B.active.value: N_("Cutting"),
    B.floor_reached.value: N_("Floor price reached"),
    B.ordered.value: N_("Ordered, waiting for payment"),
    B.bought.value: N_("Bought"),
    B.expired.value: N_("Ended"),
}
NOTICES = {
    "started": N_("Your bargain has started: share it so friends help cut the price."),
    "helped": N_("Thank you for helping!"),
}


def _clock(bargain: social.BargainRead, locale: str) -> dict[str, Any]:
    seconds = seconds_until(bargain.expires_at)
    return {"seconds": seconds, "text": clock_text(seconds, locale)}


def _device(request: Request) -> str:
    return device_of(request) or ""


async def _list_page(request: Request, problem: FormProblem | None = None) -> Response:
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        offers = await social.list_bargain_offers(session)
        mine = (
            await social.list_my_bargains(session, customer_id=frame["customer"].id)
            if frame["customer"]
            else []
        )
    response = render(
        request,
        LIST_PAGE,
        problem.status if problem else 200,
        **frame,
        offers=offers,
        mine=mine,
        statuses=STATUSES,
        problem=problem,
        next_url="/bargains",
    )
    ensure_device(request, response)
    return response


@router.get("/bargains")
async def bargains_page(request: Request) -> Response:
    return await _list_page(request)


@router.post("/bargains/offers/{offer_id}/start")
async def start(request: Request, offer_id: Id) -> Response:
    await read_form(request)
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return RedirectResponse(f"{LOGIN}?next=/bargains", status_code=303)
            started = await social.start_bargain(
                session, offer_id=offer_id, customer_id=auth.customer.id, device=_device(request)
            )
    except FORM_ERRORS as exc:
        return await _list_page(request, form_problem(exc, locale_of(request)))
    return RedirectResponse(f"/bargains/{started.id}?notice=started", status_code=303)


async def _bargain_page(request: Request, bargain_id: int, problem: FormProblem | None = None) -> Response:
    locale = locale_of(request)
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        viewer = frame["customer"].id if frame["customer"] else None
        try:
            bargain = await social.get_bargain(session, bargain_id=bargain_id, viewer_id=viewer)
        except social.BargainNotFound as exc:
            return error_page(request, 404, form_problem(exc, locale).message)
    notice = NOTICES.get(request.query_params.get("notice", "")) if problem is None else None
    response = render(
        request,
        PAGE,
        problem.status if problem else 200,
        **frame,
        bargain=bargain,
        clock=_clock(bargain, locale),
        statuses=STATUSES,
        notice=notice,
        problem=problem,
        next_url=f"/bargains/{bargain_id}",
    )
    ensure_device(request, response)
    return response


@router.get("/bargains/{bargain_id}")
async def bargain_page(request: Request, bargain_id: Id) -> Response:
    return await _bargain_page(request, bargain_id)


@router.post("/bargains/{bargain_id}/help")
async def help_cut(request: Request, bargain_id: Id) -> Response:
    """帮砍一刀: one signed-in account, once; a refusal is the page with its reason."""
    await read_form(request)
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return RedirectResponse(f"{LOGIN}?next=/bargains/{bargain_id}", status_code=303)
            await social.help_bargain(
                session, bargain_id=bargain_id, helper_id=auth.customer.id, device=_device(request)
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, social.BargainNotFound):
            raise
        return await _bargain_page(request, bargain_id, form_problem(exc, locale_of(request)))
    return RedirectResponse(f"/bargains/{bargain_id}?notice=helped", status_code=303)


async def _buy_page(
    request: Request, bargain_id: int, problem: FormProblem | None = None, status_code: int = 200
) -> Response:
    """The confirm page: the bargain's price now to the default address, and the buy form."""
    locale = locale_of(request)
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return login_redirect(LOGIN, request)
        frame = await shopper_frame(request, session)
        try:
            bargain = await social.get_bargain(session, bargain_id=bargain_id, viewer_id=auth.customer.id)
        except social.BargainNotFound as exc:
            return error_page(request, 404, form_problem(exc, locale).message)
        if not bargain.is_mine:
            return error_page(request, 403, gettext(social.BargainNotYours.message, locale))
        quote = refused = None
        try:
            quote = await social.confirm_bargain(
                session, customer_id=auth.customer.id, bargain_id=bargain_id, channel=channel_of(request)
            )
        except FORM_ERRORS as exc:  # ended, bought, sold out, no address: the page says so
            refused = form_problem(exc, locale)
        addresses = await identity.list_addresses(session, customer_id=auth.customer.id)
    return render(
        request,
        BUY_PAGE,
        status_code,
        **frame,
        bargain=bargain,
        quote=quote,
        problem=problem or refused,
        providers=offered_providers(request),
        idempotency_key=secrets.token_urlsafe(18),
        clock=_clock(bargain, locale),
        address=addresses[0] if addresses else None,
        next_url=f"/bargains/{bargain_id}/buy",
    )


@router.get("/bargains/{bargain_id}/buy")
async def buy_page(request: Request, bargain_id: Id) -> Response:
    return await _buy_page(request, bargain_id)


@router.post("/bargains/{bargain_id}/buy")
async def buy(request: Request, bargain_id: Id) -> Response:
    values = await read_form(request)
    key = values.get("idempotency_key", "")
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return RedirectResponse(f"{LOGIN}?next=/bargains/{bargain_id}/buy", status_code=303)
            if not KEY.match(key):
                raise IdempotencyKeyInvalid()
            data = validate(social.BargainBuy, values, "expected_total_amount", "provider", "note")
            result = await social.buy_bargain(
                session,
                customer_id=auth.customer.id,
                bargain_id=bargain_id,
                data=data,
                idempotency_key=key,
                channel=channel_of(request),
            )
    except FORM_ERRORS as exc:
        if isinstance(exc, social.BargainNotFound):
            raise
        problem = form_problem(exc, locale_of(request))
        return await _buy_page(request, bargain_id, problem, problem.status)
    return RedirectResponse(f"/pay/{result.payment_id}", status_code=303)
