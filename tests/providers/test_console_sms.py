"""The console SMS provider of `make run`: every code is printed plainly on standard error (the
terminal), whatever the log format, with the number masked; nothing leaves the machine."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import identity


async def test_a_code_is_printed_in_the_terminal(
    client: AsyncClient, sms: identity.ConsoleSms, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await client.post("/api/v1/auth/codes", json={"phone": "13800138000", "purpose": "login"})

    assert response.status_code == 202
    text = sms.sent[-1].text
    assert capsys.readouterr().err.splitlines() == [
        f"SMS to +86138****8000: {text} (development: no SMS was sent)"
    ]
