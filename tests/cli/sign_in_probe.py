"""Signs in as the demo staff member and customer through the real app (used by the CLI test)."""
# ruff: noqa: T201 - this probe reports through stdout

from __future__ import annotations

import asyncio

from httpx import ASGITransport, AsyncClient

from mercato.app import create_app
from mercato.demo import (
    DEMO_CUSTOMER_EMAIL,
    DEMO_CUSTOMER_PASSWORD,
    DEMO_CUSTOMER_PHONE,
    DEMO_STAFF_EMAIL,
    DEMO_STAFF_PASSWORD,
)


async def main() -> None:
    app = create_app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://probe") as client:
        staff = await client.post(
            "/api/v1/staff/auth/login", json={"email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD}
        )
        by_phone = await client.post(
            "/api/v1/auth/login/password",
            json={"identifier": DEMO_CUSTOMER_PHONE, "password": DEMO_CUSTOMER_PASSWORD},
        )
        by_email = await client.post(
            "/api/v1/auth/login/password",
            json={"identifier": DEMO_CUSTOMER_EMAIL, "password": DEMO_CUSTOMER_PASSWORD},
        )
        addresses = await client.get(
            "/api/v1/me/addresses", headers={"Authorization": f"Bearer {by_phone.json()['token']['token']}"}
        )
    print(f"staff={staff.status_code}")
    print(f"customer_phone={by_phone.status_code}")
    print(f"customer_email={by_email.status_code}")
    print(f"customers={len(addresses.json())}")


asyncio.run(main())
