"""What every console route shares: the staff check, the next-page link of a list, and the form
page shown again with its problem.

The staff check: signed out (or with a stale staff cookie), a page redirects to
``/admin/login?next=…`` (``to_login``); signed in without the permission, ``staff_for`` raises
``MissingPermission``, rendered as the 403 page. No business rules here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mercato import identity
from mercato.admin import navigation  # noqa: F401  (registers ``console_menu`` for the shell)
from mercato.core.db import uow
from mercato.core.i18n import N_, gettext
from mercato.core.money import exponent
from mercato.web.forms import FORM_ERRORS, FormProblem, form_problem, locale_of
from mercato.web.session import (
    STAFF_COOKIE,
    STAFF_COOKIE_PATH,
    StaffSession,
    clear_session_cookie,
    current_staff,
    login_redirect,
)
from mercato.web.templates import render

LOGIN = "/admin/login"


def to_login(request: Request) -> RedirectResponse:
    """To the sign-in page and back here afterwards (a stale staff cookie is cleared)."""
    response = login_redirect(LOGIN, request)
    if STAFF_COOKIE in request.cookies:
        clear_session_cookie(response, STAFF_COOKIE, path=STAFF_COOKIE_PATH)
    return response


async def staff_for(request: Request, session: AsyncSession, permission: str | None) -> StaffSession | None:
    """The signed-in staff member once ``permission`` is checked (None: not signed in).

    Raises:
        MissingPermission (403 page): signed in without ``permission``.
    """
    auth = await current_staff(request, session)
    if auth is not None and permission is not None:
        identity.require_permission(auth.staff, permission)
    return auth


async def signed_in(request: Request, permission: str) -> StaffSession | None:
    """``staff_for`` in a reading unit of work of its own (for pages that open theirs later).

    Raises:
        MissingPermission (403 page).
    """
    async with uow(write=False) as session:
        return await staff_for(request, session, permission)


def next_page(path: str, filters: Mapping[str, str], cursor: str | None) -> str | None:
    """The link to a list's next page: its non-blank filters and the cursor (None: last page)."""
    if not cursor:
        return None
    kept = {name: value for name, value in filters.items() if value}
    return f"{path}?{urlencode({**kept, 'cursor': cursor})}"


def notice_of(request: Request, known: Collection[str]) -> str | None:
    """The ``?notice=`` key a redirect asked the page to show, if it is one of ``known``."""
    notice = request.query_params.get("notice")
    return notice if notice in known else None


def problem_of(request: Request, exc: Exception) -> FormProblem:
    """The refusal of a form (a ``FORM_ERRORS`` exception) in the request's language."""
    assert isinstance(exc, FORM_ERRORS)
    return form_problem(exc, locale_of(request))


def invalid(request: Request, fields: dict[str, str]) -> FormProblem:
    """A 422 "Some fields are not valid." with these (already translated) field messages."""
    return FormProblem(422, gettext("Some fields are not valid.", locale_of(request)), fields)


def download(content: bytes, media_type: str, filename: str) -> Response:
    """A file to save (an export), never cached."""
    return Response(
        content=content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
    )


def form_page(request: Request, template: str, problem: FormProblem | None, **context: Any) -> Response:
    """A form page: 200, or the problem's status and headers with the problem on the page."""
    return render(
        request,
        template,
        problem.status if problem else 200,
        headers=problem.headers if problem else None,
        problem=problem,
        **context,
    )


# -- amounts typed in major units --------------------------------------------------------------

_AMOUNT = re.compile(r"^(\d{1,12})(?:\.(\d+))?$")


class AmountInvalid(ValueError):
    """A typed amount that is not a non-negative number with at most the currency's decimals;
    ``message`` is a msgid for the field error."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def parse_amount(text: str, currency: str) -> int:
    """Minor units of an amount typed in major units ("12.34" -> 1234), exactly (Decimal).

    Raises:
        AmountInvalid: negative, not a number, or more decimals than the currency has.
    """
    value = text.strip()
    if value.startswith("-"):
        raise AmountInvalid(N_("The amount cannot be negative."))
    match = _AMOUNT.match(value)
    if match is None:
        raise AmountInvalid(N_("Enter an amount such as 12.34."))
    digits = exponent(currency)
    if match.group(2) is not None and len(match.group(2)) > digits:
        raise AmountInvalid(N_("Use at most {digits} digits after the decimal point."), digits=digits)
    return int(Decimal(value).scaleb(digits))


def major_units(amount: int | None, currency: str) -> str:
    """Minor units as the text of an amount field ("1234" -> "12.34"); blank for None."""
    if amount is None:
        return ""
    return str(Decimal(amount).scaleb(-exponent(currency)))
