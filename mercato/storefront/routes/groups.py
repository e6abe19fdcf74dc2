"""拼团 pages: an offer (``/group-offers/{id}``: the price, the rules, the groups close to complete
to join, and opening a group), a group's shared page (``/groups/{id}``: members with masked names,
seats and time left, joining), and the confirm-and-pay step for both (the price to the shopper's
default address, a fresh idempotency key; then the pay page). The seat is taken when the order is
paid; a refusal (full, over, one's own group, 老带新) re-renders the page with the reason."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mercato import identity, social
from mercato.core.db import uow
from mercato.storefront.routes.checkout import KEY, LOGIN, offered_providers
from mercato.storefront.routes.home import shopper_frame
from mercato.storefront.routes.offers import channel_of, clock_text, seconds_until
from mercato.web.forms import FORM_ERRORS, form_problem, locale_of, read_form, validate
from mercato.web.html_errors import error_page
from mercato.web.session import current_customer, login_redirect
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _clock(group: social.GroupView, locale: str) -> dict[str, Any]:
    seconds = seconds_until(group.expires_at)
    return {"seconds": seconds, "text": clock_text(seconds, locale)}


@router.get("/group-offers/{offer_id}")
async def offer_page(request: Request, offer_id: Id) -> Response:
    locale = locale_of(request)
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        try:
            view = await social.get_offer_view(session, offer_id=offer_id)
        except social.GroupOfferNotFound as exc:
            return error_page(request, 404, form_problem(exc, locale).message)
    return render(
        request,
        "storefront/groups/offer.html",
        **frame,
        view=view,
        clocks={g.id: _clock(g, locale) for g in view.groups},
        next_url=f"/group-offers/{offer_id}",
    )


@router.get("/groups/{group_id}")
async def group_page(request: Request, group_id: Id) -> Response:
    locale = locale_of(request)
    async with uow(write=False) as session:
        frame = await shopper_frame(request, session)
        try:
            group = await social.get_group(session, group_id=group_id)
            offer = await social.get_group_offer(session, offer_id=group.offer_id)
        except social.GroupNotFound as exc:
            return error_page(request, 404, form_problem(exc, locale).message)
    return render(
        request,
        "storefront/groups/group.html",
        **frame,
        group=group,
        offer=offer,
        clock=_clock(group, locale),
        next_url=f"/groups/{group_id}",
    )


async def _confirm_page(
    request: Request, *, offer_id: int | None, group_id: int | None, problem: Any = None, status: int = 200
) -> Response:
    """Confirm and pay: opening a group of ``offer_id`` or joining ``group_id``."""
    locale = locale_of(request)
    here = f"/groups/{group_id}/join" if group_id else f"/group-offers/{offer_id}/open"
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return login_redirect(LOGIN, request)
        frame = await shopper_frame(request, session)
        quote = None
        try:
            quote = await social.confirm_group(
                session,
                customer_id=auth.customer.id,
                offer_id=offer_id,
                group_id=group_id,
                channel=channel_of(request),
            )
        except FORM_ERRORS as exc:
            problem = problem or form_problem(exc, locale)
            status = max(status, problem.status)
        addresses = await identity.list_addresses(session, customer_id=auth.customer.id)
        if group_id is not None:
            try:
                group = await social.get_group(session, group_id=group_id)
            except social.GroupNotFound as exc:
                return error_page(request, 404, form_problem(exc, locale).message)
            offer_id = group.offer_id
        offer = await social.get_group_offer(session, offer_id=offer_id or 0)
    return render(
        request,
        "storefront/groups/confirm.html",
        status,
        **frame,
        offer=offer,
        group_id=group_id,
        quote=quote,
        problem=problem,
        address=addresses[0] if addresses else None,
        providers=offered_providers(request),
        idempotency_key=secrets.token_urlsafe(18),
        action=here,
        next_url=here,
    )


@router.get("/group-offers/{offer_id}/open")
async def open_page(request: Request, offer_id: Id) -> Response:
    try:
        return await _confirm_page(request, offer_id=offer_id, group_id=None)
    except social.GroupOfferNotFound as exc:
        return error_page(request, 404, form_problem(exc, locale_of(request)).message)


@router.get("/groups/{group_id}/join")
async def join_page(request: Request, group_id: Id) -> Response:
    return await _confirm_page(request, offer_id=None, group_id=group_id)


async def _place(request: Request, *, offer_id: int | None, group_id: int | None) -> Response:
    values = await read_form(request)
    key = values.get("idempotency_key", "")
    here = f"/groups/{group_id}/join" if group_id else f"/group-offers/{offer_id}/open"
    try:
        async with uow() as session:
            auth = await current_customer(request, session)
            if auth is None:
                return RedirectResponse(f"{LOGIN}?next={here}", status_code=303)
            if not KEY.match(key):
                raise social.GroupClosed()
            data = validate(social.GroupBuy, values, "expected_total_amount", "provider", "note")
            if group_id is not None:
                placed = await social.join_group(
                    session,
                    customer_id=auth.customer.id,
                    group_id=group_id,
                    data=data,
                    idempotency_key=key,
                    channel=channel_of(request),
                )
            else:
                placed = await social.open_group(
                    session,
                    customer_id=auth.customer.id,
                    offer_id=offer_id or 0,
                    data=data,
                    idempotency_key=key,
                    channel=channel_of(request),
                )
    except FORM_ERRORS as exc:
        problem = form_problem(exc, locale_of(request))
        return await _confirm_page(
            request, offer_id=offer_id, group_id=group_id, problem=problem, status=problem.status
        )
    return RedirectResponse(f"/pay/{placed.payment_id}", status_code=303)


@router.post("/group-offers/{offer_id}/open")
async def open_group(request: Request, offer_id: Id) -> Response:
    return await _place(request, offer_id=offer_id, group_id=None)


@router.post("/groups/{group_id}/join")
async def join_group(request: Request, group_id: Id) -> Response:
    return await _place(request, offer_id=None, group_id=group_id)
