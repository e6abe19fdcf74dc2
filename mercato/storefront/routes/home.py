"""The home page and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from mercato.core.db import uow
from mercato.core.i18n import SUPPORTED
from mercato.core.settings import get_settings
from mercato.web.middleware import LOCALE_COOKIE
from mercato.web.session import current_customer, safe_next
from mercato.web.templates import render

router = APIRouter(include_in_schema=False)
LOCALE_MAX_AGE = 60 * 60 * 24 * 365


@router.get("/")
async def home(request: Request) -> Response:
    async with uow(write=False) as session:
        auth = await current_customer(request, session)
    return render(request, "storefront/home.html", customer=auth.customer if auth else None)


@router.get("/locale/{code}")
async def switch_locale(request: Request, code: str) -> Response:
    """Remember the chosen language in a cookie (it wins over Accept-Language), then go back."""
    if code not in SUPPORTED:
        raise HTTPException(status_code=404)
    response = RedirectResponse(safe_next(request.query_params.get("next"), "/"), status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        code,
        max_age=LOCALE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
    )
    return response
