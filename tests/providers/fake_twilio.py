"""A local server that speaks Twilio's Messages API (the parts we use), for provider tests.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth (AccountSid:AuthToken),
form fields To, From, Body. 201 with the message resource; 401 error 20003 for bad
credentials; 400 error 21211 for an invalid To number; 400 error 21602 without a Body.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.providers.local_server import serving

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"


@dataclass
class FakeTwilio:
    messages: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None
    base_url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def create_message(self, request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if auth != expected or request.path_params["sid"] != ACCOUNT_SID:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        if self.fail_with is not None:
            return JSONResponse(
                {"code": 30001, "message": "Queue overflow", "status": self.fail_with},
                status_code=self.fail_with,
            )
        form = await request.form()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        if not to.startswith("+") or not to[1:].isdigit():
            return JSONResponse(
                {
                    "code": 21211,
                    "message": f"The 'To' number {to} is not a valid phone number.",
                    "status": 400,
                },
                status_code=400,
            )
        if not body:
            return JSONResponse(
                {"code": 21602, "message": "Message body is required.", "status": 400}, status_code=400
            )
        sid = f"SM{next(self._ids):032d}"
        self.messages.append({"sid": sid, "to": to, "from": str(form.get("From", "")), "body": body})
        return JSONResponse(
            {"sid": sid, "status": "queued", "to": to, "body": body, "account_sid": ACCOUNT_SID},
            status_code=201,
        )


@asynccontextmanager
async def running_fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    app = Starlette(
        routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", fake.create_message, methods=["POST"])]
    )
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake
