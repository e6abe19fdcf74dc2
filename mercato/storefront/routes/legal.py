"""The shop's legal pages (/legal/privacy, /legal/terms, /legal/after-sales) and its brand-colour
stylesheet (/shop-theme.css): public, the same for every visitor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mercato import shop
from mercato.core.db import uow
from mercato.web.forms import locale_of
from mercato.web.session import current_customer
from mercato.web.templates import render, shop_of

router = APIRouter(include_in_schema=False)

#: A versioned theme URL never changes its content: browsers may keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/legal/{kind}")
async def legal_page(request: Request, kind: str) -> Response:
    try:
        legal_kind = shop.LegalKind(kind)
    except ValueError:
        raise HTTPException(status_code=404) from None
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
        page = await shop.find_legal_page(session, kind=legal_kind)
    blocks = shop.legal_blocks(page.text(locale_of(request))) if page else []
    return render(
        request,
        "storefront/legal.html",
        customer=auth.customer if auth else None,
        kind=legal_kind,
        page=page,
        blocks=blocks,
    )


@router.get("/shop-theme.css")
async def theme(request: Request) -> Response:
    """The brand colour as CSS custom properties (a stylesheet, since the pages' CSP forbids
    inline styles); linked with the settings' version, so a saved colour is a new URL."""
    current = shop_of(request)
    css = ""
    if current.brand_color:
        css = f":root {{ --brand: {current.brand_color}; }}\n"
    fresh = request.query_params.get("v") == str(current.version)
    return Response(
        css,
        media_type="text/css",
        headers={"cache-control": IMMUTABLE if fresh else "public, max-age=60"},
    )
