"""Helpers for page tests: read the CSRF token of a rendered form, post forms, sign in (a customer
or a staff member), count rows."""

from __future__ import annotations

import html
import re

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import identity
from mercato.core.db import uow
from mercato.identity.models import AuthToken, Customer
from tests.factories.identity import PASSWORD, make_staff

EN = {"Accept-Language": "en"}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ALERT = re.compile(r'<div class="alert alert-error" role="alert"[^>]*>\s*<p>(.*?)</p>', re.DOTALL)


def csrf_of(page: Response) -> str:
    match = _CSRF.search(page.text)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)


def hx_csrf_of(page: Response) -> str:
    """The CSRF token every page hands to htmx (in its ``hx-headers``), even one without a form."""
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


def alert_of(page: Response) -> str:
    """The error summary of a re-rendered form (unescaped)."""
    match = _ALERT.search(page.text)
    assert match is not None, "the page shows no error"
    return html.unescape(match.group(1).strip())


def field_error_of(page: Response, field_id: str) -> str:
    """The error shown next to the field ``field_id`` (unescaped)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page.text)
    assert match is not None, f"no error next to {field_id}"
    return html.unescape(match.group(1))


async def post_form(client: AsyncClient, form_page: str, action: str, data: dict[str, str]) -> Response:
    """Open ``form_page`` (which sets the CSRF cookie), then post ``data`` with its token."""
    page = await client.get(form_page)
    assert page.status_code == 200
    return await client.post(action, data={**data, "csrf_token": csrf_of(page)})


async def sign_in(client: AsyncClient, identifier: str, password: str) -> Response:
    response = await post_form(
        client, "/account/login", "/account/login", {"identifier": identifier, "password": password}
    )
    assert response.status_code == 303, response.text
    return response


async def staff_login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    """Sign an existing staff member in through the console's login page (``client.cookies.clear()``
    signs out, to sign in as someone else)."""
    response = await post_form(client, "/admin/login", "/admin/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    return response


async def staff_sign_in(client: AsyncClient, email: str, *permissions: str, superuser: bool = False) -> int:
    """Create a staff member holding exactly ``permissions`` (through one role; none without them)
    and sign in as them; their id."""
    member = await make_staff(email=email, permissions=list(permissions) or None, is_superuser=superuser)
    await staff_login(client, email)
    return member.id


def set_cookie_header(response: Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, headers
    return headers[0]


def sms_code(sms: identity.ConsoleSms, phone: str) -> str:
    message = sms.last_to(phone)
    assert message is not None
    return "".join(ch for ch in message.text if ch.isdigit())[:6]


async def token_count(*, revoked: bool | None = None) -> int:
    stmt = select(func.count()).select_from(AuthToken)
    if revoked is not None:
        stmt = stmt.where(AuthToken.revoked_at.is_not(None) if revoked else AuthToken.revoked_at.is_(None))
    async with uow(write=False) as s:
        return (await s.execute(stmt)).scalar_one()


async def customer_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Customer))).scalar_one()
