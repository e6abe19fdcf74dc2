"""Sharing and invites in the shop: the share poster of a product or play
(``/share/poster.png?kind=product|flash|group|bargain|invite&id=N``: the product's picture, title
and price, the signed-in sharer's masked name or the shop's name for a guest, and the share link
carrying the sharer's invite code as a QR code), and the "invite friends" page
(``/account/invite``: the code, the link, the invitation's poster and the counts).

The product and flash-sale pages offer "save poster" and "copy link" (``shareControl`` in
mercato.js, which asks ``/api/v1/share`` for the link). Registering with the ``mercato_ref``
cookie records the invitation (``web/referral.py``, called from the registration route).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from mercato import social
from mercato.core.db import uow
from mercato.storefront.routes.account import account_nav, to_login
from mercato.web.forms import locale_of
from mercato.web.referral import ensure_device, sharer_code
from mercato.web.session import current_customer
from mercato.web.templates import render, shop_of

router = APIRouter(include_in_schema=False)

INVITE_PAGE = "storefront/account/invite.html"
POSTER_CACHE = "private, max-age=300"
Kind = Annotated[social.ShareKind, Query()]
TargetId = Annotated[int, Query(alias="id", ge=0, le=2**63 - 1)]


@router.get("/share/poster.png")
async def poster(request: Request, kind: Kind, target_id: TargetId = 0) -> Response:
    """The share poster (PNG, 750×1334), kept by the browser for 5 minutes. An unknown id, a play
    that is over, or ``invite`` for a guest is a 404."""
    locale = locale_of(request)
    shop = shop_of(request)
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
    code = await sharer_code(auth.customer.id) if auth is not None else None
    if kind is social.ShareKind.invite:
        if code is None:
            raise social.ShareTargetNotFound()
        card = social.invite_card(code=code, shop_name=shop.display_name(locale), image_url=shop.logo_url)
    else:
        async with uow(write=False) as session:
            card = await social.share_card(session, kind=kind, target_id=target_id, code=code)
    customer = auth.customer if auth is not None else None
    name = social.sharer_label(customer, locale=locale) or shop.display_name(locale)
    png = await social.render_share_poster(card, sharer_name=name, locale=locale)
    response = Response(
        png,
        media_type="image/png",
        headers={
            "Cache-Control": POSTER_CACHE,
            "Content-Disposition": f'inline; filename="poster-{kind}-{target_id}.png"',
        },
    )
    if customer is not None:
        device = ensure_device(request, response)
        await social.remember_sharer_device(customer_id=customer.id, device=device)
    return response


@router.get("/account/invite")
async def invite_page(request: Request) -> Response:
    """邀请好友: the shopper's code and link (made on first visit), the invitation's poster, and
    how many registered and ordered through it, with the coupons it earned them."""
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        if auth is None:
            return to_login(request)
    code = await sharer_code(auth.customer.id)
    async with uow(write=False) as session:
        nav = await account_nav(session, auth, "invite")
        summary = await social.invite_summary(session, customer_id=auth.customer.id)
    response = render(request, INVITE_PAGE, **nav, summary=summary, code=code, link=social.invite_link(code))
    await social.remember_sharer_device(customer_id=auth.customer.id, device=ensure_device(request, response))
    return response
