"""Sharing and invites for shoppers: the share link and poster of a product or play (carrying the
caller's invite code when signed in), the caller's invite summary, and entering a friend's invite
code shortly after registering (apps; the storefront records it at registration itself).

Apps send their device id as ``X-Device-Id`` (8 to 100 letters, digits, ``_.:-``): a share
remembers it for the inviter, and an invitation from the inviter's own device is refused
(``social.self_invite``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from mercato import social
from mercato.api.deps import CurrentCustomer, DbSession, MaybeCustomer
from mercato.api.v1 import PREFIX
from mercato.core.db import end_transaction
from mercato.core.settings import get_settings
from mercato.web.forms import locale_of
from mercato.web.openapi import raises
from mercato.web.referral import device_of, ensure_device, sharer_code
from mercato.web.templates import shop_of

router = APIRouter(prefix=PREFIX, tags=["sharing and invites"])

Kind = Annotated[social.ShareKind, Query(description="What is shared (``invite``: the caller's invitation)")]
TargetId = Annotated[
    int, Query(alias="id", ge=0, le=2**63 - 1, description="The product or play (0 for invite)")
]
POSTER_CACHE = "private, max-age=300"


class ShareRead(BaseModel):
    """A share: the link (with the caller's invite code when signed in) and its poster."""

    kind: social.ShareKind
    id: int
    title: str
    url: str  # the share link, absolute; what the poster's QR code holds
    poster_url: str  # the 750×1334 PNG (this API's, so a bearer token names the sharer)
    code: str | None  # the caller's invite code; None for a guest


async def _card(
    request: Request, session: DbSession, auth: MaybeCustomer, kind: social.ShareKind, target_id: int
) -> social.ShareCard:
    code = await sharer_code(auth.customer.id) if auth is not None else None
    if kind is social.ShareKind.invite:
        if code is None:
            raise social.ShareTargetNotFound()
        shop = shop_of(request)
        return social.invite_card(
            code=code, shop_name=shop.display_name(locale_of(request)), image_url=shop.logo_url
        )
    return await social.share_card(session, kind=kind, target_id=target_id, code=code)


async def _remember(request: Request, response: Response, auth: MaybeCustomer) -> None:
    """Remember the device a signed-in customer shares from (a browser gets a device cookie)."""
    if auth is None:
        return
    by_browser = "authorization" not in request.headers
    device = ensure_device(request, response) if by_browser else device_of(request)
    await social.remember_sharer_device(customer_id=auth.customer.id, device=device)


@router.get("/share")
@raises(social.ShareTargetNotFound)
async def share(
    request: Request,
    response: Response,
    kind: Kind,
    auth: MaybeCustomer,
    session: DbSession,
    target_id: TargetId = 0,
) -> ShareRead:
    """The share link and poster of a product on sale, a live flash-sale item, a forming group,
    an active bargain, or (signed in) the caller's invitation; the link carries the caller's
    invite code (made on first use) when signed in."""
    card = await _card(request, session, auth, kind, target_id)
    await _remember(request, response, auth)
    base = get_settings().public_base_url
    return ShareRead(
        kind=kind,
        id=target_id,
        title=card.title,
        url=card.url,
        poster_url=f"{base}{PREFIX}/share/poster.png?kind={kind}&id={target_id}",
        code=card.code,
    )


@router.get(
    "/share/poster.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The poster, 750×1334 PNG"}},
)
@raises(social.ShareTargetNotFound, social.PosterUnavailable)
async def share_poster(
    request: Request, kind: Kind, auth: MaybeCustomer, session: DbSession, target_id: TargetId = 0
) -> Response:
    """The share poster: the product's picture, title and price (the play's price for a play),
    the sharer's masked name (the shop's name for a guest) and the link's QR code; kept by the
    browser for 5 minutes."""
    locale = locale_of(request)
    card = await _card(request, session, auth, kind, target_id)
    await end_transaction(session)  # drawing takes a while and needs no database
    name = social.sharer_label(auth.customer if auth else None, locale=locale) or shop_of(
        request
    ).display_name(locale)
    png = await social.render_share_poster(card, sharer_name=name, locale=locale)
    response = Response(png, media_type="image/png", headers={"Cache-Control": POSTER_CACHE})
    await _remember(request, response, auth)
    return response


@router.get("/me/invite")
async def my_invite(
    request: Request, response: Response, auth: CurrentCustomer, session: DbSession
) -> social.InviteSummary:
    """The caller's invite code and link (made on first use), how many registered through it,
    how many of those paid an order, and the coupons received for inviting (used or not)."""
    code = await sharer_code(auth.customer.id)
    summary = await social.invite_summary(session, customer_id=auth.customer.id)
    await _remember(request, response, auth)
    return summary.model_copy(update={"code": code, "link": social.invite_link(code)})


@router.post("/me/invitation", status_code=status.HTTP_201_CREATED)
@raises(
    social.InviteCodeInvalid,
    social.SelfInvite,
    social.AlreadyInvited,
    social.InvitationTooLate,
)
async def enter_invitation(
    request: Request, data: social.InvitationCode, auth: CurrentCustomer, session: DbSession
) -> social.InvitationRead:
    """Enter the invite code of the friend who invited you, within an hour of registering and
    before a first paid order: both of you get the invite coupons the shop offers. Entering the
    same code again changes nothing; every refusal changes nothing."""
    return await social.record_invitation(
        session, invitee_id=auth.customer.id, code=data.code, device=device_of(request)
    )
