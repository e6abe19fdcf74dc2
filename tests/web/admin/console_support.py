"""Support for the console page tests: staff sign-in through the login page (``client.cookies.clear()``
signs out, to sign in as someone else)."""

from __future__ import annotations

from httpx import AsyncClient

from tests.factories.identity import PASSWORD, make_staff
from tests.web.pages import post_form

EN = {"Accept-Language": "en"}


async def staff_sign_in(client: AsyncClient, email: str, *permissions: str, superuser: bool = False) -> int:
    """Create a staff member holding exactly ``permissions`` and sign in as them; their id."""
    member = await make_staff(email=email, permissions=list(permissions), is_superuser=superuser)
    response = await post_form(client, "/admin/login", "/admin/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return member.id
