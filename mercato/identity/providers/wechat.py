"""WeChat sign-in over WeChat's OAuth 2.0 (微信网页授权 and 网站应用微信登录), with authlib's httpx client.

The protocol, as WeChat documents it:

- authorise: the browser goes to ``{connect}/connect/qrconnect`` (website app: a QR code scanned
  with WeChat, scope ``snsapi_login``) or ``{connect}/connect/oauth2/authorize`` (inside WeChat,
  official account: ``snsapi_userinfo``, or the silent ``snsapi_base`` that yields only the
  openid) with ``appid``, ``redirect_uri``, ``response_type=code``, ``scope``, ``state`` in that
  order and the fragment ``#wechat_redirect``; WeChat comes back to ``redirect_uri`` with ``code``
  and ``state`` (only ``state`` when the shopper declines);
- token: ``GET {api}/sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code``
  answers ``{access_token, expires_in, refresh_token, openid, scope, unionid?}``;
- user info: ``GET {api}/sns/userinfo?access_token&openid&lang=zh_CN`` answers ``{openid,
  nickname, headimgurl, unionid?, ...}``;
- errors come back as HTTP 200 with ``{"errcode": 40029, "errmsg": "invalid code"}``.

authlib's ``AsyncOAuth2Client`` builds the authorisation URL and does the token request; three
compliance fixes make it speak WeChat: the client id travels as ``appid`` (with the fragment), the
client authenticates with ``appid`` and ``secret`` in the query of a GET, and an ``errcode``
answer becomes an OAuth error. The token is then placed in the user-info URL (``uri``).

Errors: an ``errcode`` about the code (40029 invalid, 40163 used, 41008 missing, 42003 expired)
→ ``WeChatRefused``; anything else WeChat refuses (bad appid or secret 40013/40125/40001, IP
not allowed 40164 — the operator's to fix, logged), a 5xx, system busy (-1), an unreadable
answer, a timeout or an unreachable host → ``WeChatUnavailable``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import structlog
from authlib.common.urls import add_params_to_uri
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib 1.9 prefers the httpx2 package and warns when it falls back to httpx, which it still
    # supports: Mercato's HTTP client is httpx (ADR 0028)
    warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from mercato.identity.errors import WeChatRefused, WeChatUnavailable
from mercato.identity.schemas import WeChatAppKind, WeChatIdentity

log = structlog.get_logger("mercato.identity.wechat")

#: errcodes that mean "this authorisation code is no good": start again.
CODE_ERRORS = frozenset({40029, 40163, 41008, 42003})
_AUTHORIZE_PATHS = {WeChatAppKind.open: "/connect/qrconnect", WeChatAppKind.mp: "/connect/oauth2/authorize"}
_AUTHORIZE_ORDER = ("appid", "redirect_uri", "response_type", "scope", "state")


@dataclass(frozen=True)
class WeChatApp:
    kind: WeChatAppKind
    appid: str
    secret: str


def _wechat_client_auth(
    client: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    """WeChat's client authentication: ``appid`` and ``secret`` in the token request's query."""
    query = [("appid", client.client_id), ("secret", client.client_secret)]
    return add_params_to_uri(uri, query), headers, body


def _errcode_as_oauth_error(response: httpx.Response) -> httpx.Response:
    """WeChat answers errors with HTTP 200 and ``errcode``; authlib expects ``error``."""
    try:
        data = response.json()
    except ValueError:
        return response
    if isinstance(data, dict) and data.get("errcode"):
        fixed = {"error": str(data["errcode"]), "error_description": str(data.get("errmsg", ""))}
        response.json = lambda **_: fixed  # type: ignore[method-assign]
    return response


def _wechat_authorize_url(url: str) -> str:
    """authlib's URL in WeChat's shape: ``appid`` for ``client_id``, the documented parameter
    order, and the ``#wechat_redirect`` fragment."""
    parts = urlsplit(url)
    params = {("appid" if k == "client_id" else k): v for k, v in parse_qsl(parts.query)}
    ordered = [(k, params[k]) for k in _AUTHORIZE_ORDER if k in params]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(ordered), "wechat_redirect"))


def _errcode(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


class WeChatOAuth:
    """One WeChat app's OAuth client (a new authlib client per sign-in: tokens are per shopper)."""

    def __init__(
        self,
        app: WeChatApp,
        *,
        connect_url: str = "https://open.weixin.qq.com",
        api_url: str = "https://api.weixin.qq.com",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.app = app
        self._connect = connect_url.rstrip("/")
        self._api = api_url.rstrip("/")
        self._timeout = timeout
        self._transport = transport

    def _client(self) -> AsyncOAuth2Client:
        client = AsyncOAuth2Client(
            client_id=self.app.appid,
            client_secret=self.app.secret,
            token_endpoint_auth_method="wechat",  # noqa: S106 - a method name, not a password
            token_placement="uri",  # noqa: S106
            timeout=self._timeout,
            transport=self._transport,
        )
        client.register_client_auth_method(("wechat", _wechat_client_auth))
        client.register_compliance_hook("access_token_response", _errcode_as_oauth_error)
        return client

    def authorize_url(self, *, redirect_uri: str, state: str, scope: str) -> str:
        client = self._client()
        endpoint = self._connect + _AUTHORIZE_PATHS[self.app.kind]
        url, _ = client.create_authorization_url(
            endpoint, state=state, redirect_uri=redirect_uri, scope=scope
        )
        return _wechat_authorize_url(url)

    async def identify(self, *, code: str, with_profile: bool) -> WeChatIdentity:
        """Exchange ``code`` for the shopper's openid (and unionid), then with ``with_profile``
        read their nickname (and unionid) from the user info.

        Raises:
            WeChatRefused: the code is invalid, used or expired.
            WeChatUnavailable: WeChat refused us, failed or could not be reached.
        """
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    self._api + "/sns/oauth2/access_token",
                    method="GET",
                    code=code,
                    grant_type="authorization_code",
                )
            except OAuthError as exc:
                errcode = int(exc.error) if exc.error.lstrip("-").isdigit() else -1
                raise self._refusal(errcode, "token") from exc
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("wechat.token_failed", appid=self.app.appid, error=repr(exc)[:300])
                raise WeChatUnavailable() from exc
            openid = str(token.get("openid") or "")
            if not openid:
                log.warning("wechat.token_without_openid", appid=self.app.appid)
                raise WeChatUnavailable()
            identity = WeChatIdentity(openid=openid, unionid=token.get("unionid") or None)
            if not with_profile:
                return identity
            try:
                response = await client.get(
                    self._api + "/sns/userinfo", params={"openid": openid, "lang": "zh_CN"}
                )
                info = response.json()
            except (httpx.HTTPError, ValueError, OAuthError) as exc:
                log.warning("wechat.userinfo_failed", appid=self.app.appid, error=repr(exc)[:300])
                raise WeChatUnavailable() from exc
        if response.status_code != 200 or not isinstance(info, dict) or _errcode(info):
            raise self._refusal(_errcode(info) if isinstance(info, dict) else -1, "userinfo")
        if info.get("openid") != openid:
            log.warning("wechat.userinfo_mismatch", appid=self.app.appid)
            raise WeChatUnavailable()
        return WeChatIdentity(
            openid=openid,
            unionid=info.get("unionid") or identity.unionid,
            nickname=str(info.get("nickname") or "")[:100],
        )

    def _refusal(self, errcode: int, step: str) -> WeChatRefused | WeChatUnavailable:
        log.warning("wechat.refused", appid=self.app.appid, step=step, errcode=errcode)
        if errcode in CODE_ERRORS:
            return WeChatRefused(errcode=errcode)
        return WeChatUnavailable()
