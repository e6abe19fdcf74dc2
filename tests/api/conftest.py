"""API tests double as a contract test of the OpenAPI document: every response a test receives
from an API operation must be documented there (its status, and for a problem its stable code).
A test that gets an undocumented answer errors at teardown, naming the route and what to add
(``raises(...)`` on the route, see ``mercato/web/openapi.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Answer:
    method: str
    path: str  # the operation's path template, as in the OpenAPI document
    status: int
    code: str | None  # the problem's stable code


class Recorder:
    """ASGI wrapper that notes what each API operation answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answers: list[Answer] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        problem = False
        body = bytearray()

        async def recording_send(message: Message) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers") or [])
                problem = headers.get(b"content-type", b"").startswith(b"application/problem+json")
            elif message["type"] == "http.response.body" and problem:
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, recording_send)
        route = scope.get("route")
        path = getattr(route, "path_format", None)
        if path is None or not getattr(route, "include_in_schema", False):
            return  # a page, a mount, or no route matched
        code = json.loads(body).get("code") if problem and body else None
        self.answers.append(Answer(scope["method"].lower(), path, status, code))


def undocumented(document: dict[str, Any], answers: list[Answer]) -> list[str]:
    """Each answer the document does not describe, as a line naming the operation."""
    found: list[str] = []
    for answer in answers:
        operation = document["paths"].get(answer.path, {}).get(answer.method)
        where = f"{answer.method.upper()} {answer.path}"
        if operation is None:
            continue  # not an operation of the document (a route hidden from it)
        response = operation["responses"].get(str(answer.status))
        if response is None:
            found.append(f"{where} answered {answer.status} {answer.code or ''}: status not documented")
            continue
        if answer.code is None:
            continue
        schema = response.get("content", {}).get("application/problem+json", {}).get("schema", {})
        if answer.code not in schema.get("properties", {}).get("code", {}).get("enum", []):
            found.append(f"{where} answered {answer.status} {answer.code}: code not documented")
    return sorted(set(found))


@pytest.fixture
async def client(app: Any) -> AsyncIterator[AsyncClient]:
    """The test client, recording each API answer; the teardown checks they are all documented."""
    recorder = Recorder(app)
    transport = ASGITransport(app=recorder, client=("203.0.113.7", 50000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    problems = undocumented(app.openapi(), recorder.answers)
    assert not problems, "answers missing from the OpenAPI document:\n" + "\n".join(problems)
