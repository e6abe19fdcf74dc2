"""A local server that speaks WeChat's OAuth 2.0 for websites and official accounts, for tests.

- ``GET /connect/qrconnect`` (website app, scope ``snsapi_login``) and
  ``GET /connect/oauth2/authorize`` (official account, ``snsapi_base`` or ``snsapi_userinfo``)
  with ``appid``, ``redirect_uri``, ``response_type=code``, ``scope``, ``state``: the shopper set
  in ``approving`` "scans and allows", and the browser is sent (302) to ``redirect_uri`` with
  ``code`` and ``state``; with ``declining`` set, with ``state`` only, as WeChat does. A wrong
  appid, response type or scope gets WeChat's error page (400).
- ``GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`` →
  ``{access_token, expires_in, refresh_token, openid, scope, unionid}`` (unionid only for a
  shopper who has one); errors as HTTP 200 ``{"errcode", "errmsg"}``: 40013 invalid appid,
  40125 invalid appsecret, 40002 invalid grant_type, 41008 missing code, 40029 invalid code,
  40163 code been used, 42003 code expired (after 5 minutes); ``token_errcode`` forces one.
- ``GET /sns/userinfo?access_token&openid&lang`` → the profile; 40001 invalid access_token,
  40003 invalid openid, 48001 api unauthorized (a ``snsapi_base`` token).

A shopper's openid differs per appid; the unionid is the same under every app (one Open Platform
account binds them).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.providers.local_server import serving

OPEN_APPID = "wxopen0000000000001"
OPEN_SECRET = "open-app-secret-0000000000000001"
MP_APPID = "wxmp00000000000000001"
MP_SECRET = "mp-app-secret-00000000000000001"
SCOPES = {
    "/connect/qrconnect": {"snsapi_login"},
    "/connect/oauth2/authorize": {"snsapi_base", "snsapi_userinfo"},
}
CODE_LIFETIME = 300


@dataclass(frozen=True)
class Shopper:
    """A WeChat user: ``key`` makes their openid under each app; ``unionid`` may be absent."""

    key: str
    nickname: str = "微信用户"
    unionid: str | None = None

    def openid(self, appid: str) -> str:
        return "o" + hashlib.sha256(f"{appid}:{self.key}".encode()).hexdigest()[:27]


@dataclass
class _Grant:
    appid: str
    shopper: Shopper
    scope: str
    issued: float
    used: bool = False


@dataclass
class FakeWeChatOAuth:
    apps: dict[str, str] = field(default_factory=lambda: {OPEN_APPID: OPEN_SECRET, MP_APPID: MP_SECRET})
    approving: Shopper = field(default_factory=lambda: Shopper("alice", "阿丽", "union-alice"))
    declining: bool = False
    token_errcode: int | None = None
    base_url: str = ""
    #: What the authorisation endpoints were asked (the query, in order).
    authorize_requests: list[list[tuple[str, str]]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, Shopper, str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def _error(errcode: int, errmsg: str) -> JSONResponse:
        return JSONResponse({"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(4)}"})

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        self.authorize_requests.append(list(query.multi_items()))
        appid, scope = query.get("appid", ""), query.get("scope", "")
        if (
            appid not in self.apps
            or query.get("response_type") != "code"
            or scope not in SCOPES[request.url.path]
            or not query.get("redirect_uri")
        ):
            return PlainTextResponse("参数错误", status_code=400)
        state = query.get("state", "")
        if self.declining:
            return RedirectResponse(f"{query['redirect_uri']}?{urlencode({'state': state})}", status_code=302)
        code = f"code{next(self._ids):04d}{secrets.token_hex(8)}"
        self._grants[code] = _Grant(appid=appid, shopper=self.approving, scope=scope, issued=time.monotonic())
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': state})}"
        return RedirectResponse(target, status_code=302)

    async def access_token(self, request: Request) -> JSONResponse:
        query = dict(request.query_params)
        self.token_requests.append(query)
        appid = query.get("appid", "")
        if appid not in self.apps:
            return self._error(40013, "invalid appid")
        if query.get("secret") != self.apps[appid]:
            return self._error(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return self._error(40002, "invalid grant_type")
        if not query.get("code"):
            return self._error(41008, "missing code")
        if self.token_errcode is not None:
            return self._error(self.token_errcode, "forced")
        grant = self._grants.get(query["code"])
        if grant is None or grant.appid != appid:
            return self._error(40029, "invalid code")
        if grant.used:
            return self._error(40163, "code been used")
        if time.monotonic() - grant.issued > CODE_LIFETIME:
            return self._error(42003, "code expired")
        grant.used = True
        token = secrets.token_urlsafe(24)
        openid = grant.shopper.openid(appid)
        self._tokens[token] = (openid, grant.shopper, grant.scope)
        body: dict[str, object] = {
            "access_token": token,
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(24),
            "openid": openid,
            "scope": grant.scope,
        }
        if grant.shopper.unionid:
            body["unionid"] = grant.shopper.unionid
        return JSONResponse(body)

    async def userinfo(self, request: Request) -> JSONResponse:
        query = request.query_params
        found = self._tokens.get(query.get("access_token", ""))
        if found is None:
            return self._error(40001, "invalid credential, access_token is invalid or not latest")
        openid, shopper, scope = found
        if query.get("openid") != openid:
            return self._error(40003, "invalid openid")
        if scope == "snsapi_base":
            return self._error(48001, "api unauthorized")
        body: dict[str, object] = {
            "openid": openid,
            "nickname": shopper.nickname,
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": "https://thirdwx.qlogo.cn/mmopen/fake/132",
            "privilege": [],
        }
        if shopper.unionid:
            body["unionid"] = shopper.unionid
        return JSONResponse(body)


@asynccontextmanager
async def running_fake_wechat_oauth() -> AsyncIterator[FakeWeChatOAuth]:
    fake = FakeWeChatOAuth()
    app = Starlette(
        routes=[
            Route("/connect/qrconnect", fake.authorize),
            Route("/connect/oauth2/authorize", fake.authorize),
            Route("/sns/oauth2/access_token", fake.access_token),
            Route("/sns/userinfo", fake.userinfo),
        ]
    )
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake
