"""A campaign's landing page (618, 双11, 店庆: ``/campaigns/{slug}``): its banners, its product
lists as cards with their promotion prices and tags, and its coupons to claim. In preheat (预热)
the page counts down to the start and shows each product's coming price; buying is at today's
price. A campaign that is not live (a draft, ended, unknown) is a 404 page."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mercato import catalog, promotions
from mercato.core.db import uow
from mercato.core.i18n import gettext
from mercato.storefront.routes.home import shopper_frame
from mercato.storefront.routes.offers import (
    channel_of,
    clock_text,
    offers_of,
    seconds_until,
    template_card,
)
from mercato.storefront.routes.seo import absolute
from mercato.web.forms import locale_of
from mercato.web.html_errors import error_page
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


@router.get("/campaigns/{slug}")
async def campaign_page(request: Request, slug: str) -> Response:
    if not SLUG.fullmatch(slug):
        raise HTTPException(status_code=404)
    locale = locale_of(request)
    async with uow(write=False) as session:
        try:
            campaign = await promotions.get_live_campaign(session, slug=slug)
        except promotions.CampaignNotFound:
            return error_page(request, 404, gettext("This campaign has ended or has not begun yet.", locale))
        frame = await shopper_frame(request, session)
        customer_id = frame["customer"].id if frame["customer"] else None
        blocks: list[tuple[promotions.LandingBlock, list[catalog.ProductCard]]] = []
        cards: list[catalog.ProductCard] = []
        for block in campaign.blocks:
            shelf = (
                await catalog.list_storefront_cards(session, product_ids=block.product_ids)
                if isinstance(block, promotions.ProductsBlock)
                else []
            )
            blocks.append((block, shelf))
            cards.extend(shelf)
        tags = await promotions.card_tags(
            session, cards=cards, customer_id=customer_id, channel=channel_of(request)
        )
        claimable = await promotions.list_claimable(session, customer_id=customer_id)
    coupons = [template_card(t, locale) for t in claimable if t.campaign_id == campaign.id]
    starts_in, ends_in = seconds_until(campaign.starts_at), seconds_until(campaign.ends_at)
    return render(
        request,
        "storefront/campaigns/campaign.html",
        **frame,
        campaign=campaign,
        blocks=blocks,
        offers=offers_of(tags, locale),
        coupons=coupons,
        preheat=campaign.phase == promotions.Phase.preheat,
        starts_in=starts_in,
        starts_text=clock_text(starts_in, locale),
        ends_in=ends_in,
        ends_text=clock_text(ends_in, locale),
        next_url=f"/campaigns/{campaign.slug}",
        canonical=absolute(f"/campaigns/{campaign.slug}"),
    )
