"""A local server that speaks Kuaidi100's query and subscription API (the parts we use), and
writes pushes the way Kuaidi100 signs them, for provider and end-to-end tests.

POST /poll/query.do  form ``customer``, ``sign`` (upper MD5 of param + key + customer), ``param``
                     JSON {com, num, phone?, resultv2}: the tracking result, or ``{"result":
                     false, "returnCode": ...}`` (503 bad signature, 400 incomplete, 500 no record).
POST /poll           form ``schema=json``, ``param`` JSON {company, number, key, parameters
                     {callbackurl, salt, resultv2, phone?}}: 200 accepted, 501 already followed,
                     600 wrong key, 700 incomplete.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mercato.core.settings import get_settings
from tests.providers.local_server import serving

CUSTOMER = "FAKECUSTOMER0001"
KEY = "fake-kuaidi100-key"
SALT = "fake-push-salt-0123456789"


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - Kuaidi100's documented scheme


def step(time: str, context: str, status: str = "在途", area: str | None = None) -> dict[str, Any]:
    """One ``data`` item as Kuaidi100 writes it with resultv2=1 (Beijing time)."""
    return {
        "time": time,
        "ftime": time,
        "context": context,
        "status": status,
        "areaCode": None,
        "areaName": area,
    }


@dataclass
class FakeKuaidi100:
    base_url: str = ""
    #: (com, num) → {"state": ..., "data": [...]} answered by the real-time query
    parcels: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)  # accepted subscription params
    queries: list[dict[str, Any]] = field(default_factory=list)  # accepted query params
    refused: list[str] = field(default_factory=list)  # why requests were refused
    fail_with: int | None = None  # answer every request with this HTTP status

    def _answer(self, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(body)

    async def query(self, request: Request) -> JSONResponse:
        if self.fail_with is not None:
            return JSONResponse({"message": "server error"}, status_code=self.fail_with)
        form = await request.form()
        customer, sign, param = (str(form.get(k, "")) for k in ("customer", "sign", "param"))
        if customer != CUSTOMER or sign != md5_upper(param + KEY + customer):
            self.refused.append("query: bad signature")
            return self._answer({"result": False, "returnCode": "503", "message": "验证签名失败"})
        try:
            fields = json.loads(param)
        except ValueError:
            fields = None
        if not isinstance(fields, dict) or not fields.get("com") or not fields.get("num"):
            self.refused.append("query: incomplete")
            return self._answer({"result": False, "returnCode": "400", "message": "提交的数据不完整"})
        self.queries.append(fields)
        parcel = self.parcels.get((fields["com"], fields["num"]))
        if parcel is None:
            return self._answer(
                {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
            )
        return self._answer(self.result(fields["com"], fields["num"], **parcel))

    async def subscribe(self, request: Request) -> JSONResponse:
        if self.fail_with is not None:
            return JSONResponse({"message": "server error"}, status_code=self.fail_with)
        form = await request.form()
        try:
            fields = json.loads(str(form.get("param", "")))
        except ValueError:
            fields = None
        if form.get("schema") != "json" or not isinstance(fields, dict):
            self.refused.append("subscribe: incomplete")
            return self._answer({"result": False, "returnCode": "700", "message": "订阅数据存在错误"})
        if fields.get("key") != KEY:
            self.refused.append("subscribe: bad key")
            return self._answer({"result": False, "returnCode": "600", "message": "您不是合法的订阅者"})
        parameters = fields.get("parameters") or {}
        if not fields.get("company") or not fields.get("number") or not parameters.get("callbackurl"):
            self.refused.append("subscribe: incomplete")
            return self._answer({"result": False, "returnCode": "700", "message": "订阅数据存在错误"})
        if any(
            (s["company"], s["number"]) == (fields["company"], fields["number"]) for s in self.subscriptions
        ):
            return self._answer({"result": False, "returnCode": "501", "message": "重复订阅"})
        self.subscriptions.append(fields)
        return self._answer({"result": True, "returnCode": "200", "message": "提交成功"})

    @staticmethod
    def result(com: str, num: str, *, state: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "message": "ok",
            "nu": num,
            "ischeck": "1" if state == "3" else "0",
            "condition": "00",
            "com": com,
            "status": "200",
            "state": state,
            "data": data,
        }

    def salt_for(self, com: str, num: str) -> str:
        """The salt the shop sent when it subscribed the parcel (what Kuaidi100 signs pushes with)."""
        for s in self.subscriptions:
            if (s["company"], s["number"]) == (com, num):
                return str(s["parameters"].get("salt") or "")
        raise AssertionError(f"{com} {num} was never subscribed")

    def push_form(
        self,
        com: str,
        num: str,
        *,
        state: str,
        data: list[dict[str, Any]],
        status: str = "polling",
        message: str = "",
        salt: str | None = None,
    ) -> dict[str, str]:
        """The form Kuaidi100 posts to the callback URL: ``param`` and ``sign`` = MD5(param + salt)."""
        param = json.dumps(
            {
                "status": "shutdown" if state == "3" and status == "polling" else status,
                "billstatus": "",
                "message": message,
                "autoCheck": "0",
                "comOld": "",
                "comNew": "",
                "lastResult": self.result(com, num, state=state, data=data),
            },
            ensure_ascii=False,
        )
        return {
            "param": param,
            "sign": md5_upper(param + (salt if salt is not None else self.salt_for(com, num))),
        }


def use_fake(monkeypatch: pytest.MonkeyPatch, fake: FakeKuaidi100, *, salt: str = SALT) -> None:
    """Point the app at ``fake``: Kuaidi100 as the tracking provider, with the fake's credentials."""
    for name, value in {
        "MERCATO_TRACKING_PROVIDER": "kuaidi100",
        "MERCATO_KUAIDI100_CUSTOMER": CUSTOMER,
        "MERCATO_KUAIDI100_KEY": KEY,
        "MERCATO_KUAIDI100_SALT": salt,
        "MERCATO_KUAIDI100_BASE_URL": fake.base_url,
        "MERCATO_BASE_URL": "https://shop.example.com",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@asynccontextmanager
async def running_fake_kuaidi100() -> AsyncIterator[FakeKuaidi100]:
    fake = FakeKuaidi100()
    app = Starlette(
        routes=[
            Route("/poll/query.do", fake.query, methods=["POST"]),
            Route("/poll", fake.subscribe, methods=["POST"]),
        ]
    )
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake
