"""The WeChat OAuth client (authlib with WeChat's compliance fixes) against a local server speaking
WeChat's protocol: the authorisation URLs, the code exchange and user info, errcodes, timeouts, and
the settings it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from mercato import identity
from mercato.core.errors import DomainError
from mercato.core.settings import Settings
from mercato.identity.providers.wechat import WeChatApp, WeChatOAuth
from tests.providers.fake_wechat_oauth import (
    MP_APPID,
    MP_SECRET,
    OPEN_APPID,
    OPEN_SECRET,
    FakeWeChatOAuth,
    Shopper,
    running_fake_wechat_oauth,
)
from tests.providers.local_server import free_port

OPEN = WeChatApp(kind=identity.WeChatAppKind.open, appid=OPEN_APPID, secret=OPEN_SECRET)
MP = WeChatApp(kind=identity.WeChatAppKind.mp, appid=MP_APPID, secret=MP_SECRET)
CALLBACK = "https://shop.example.com/account/wechat/callback"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChatOAuth]:
    async with running_fake_wechat_oauth() as server:
        yield server


def oauth(fake_url: str, app: WeChatApp = OPEN, timeout: float = 10.0) -> WeChatOAuth:
    return WeChatOAuth(app, connect_url=fake_url, api_url=fake_url, timeout=timeout)


async def authorized_code(fake: FakeWeChatOAuth, app: WeChatApp = OPEN, scope: str = "snsapi_login") -> str:
    """Go through the fake's authorisation page; the code it sends back."""
    url = oauth(fake.base_url, app).authorize_url(redirect_uri=CALLBACK, state="st4te", scope=scope)
    async with httpx.AsyncClient() as browser:
        back = (await browser.get(url)).headers["location"]
    query = dict(parse_qsl(urlsplit(back).query))
    assert query["state"] == "st4te"
    return query["code"]


def test_the_authorisation_url_is_wechats_shape() -> None:
    url = oauth("https://open.weixin.qq.com", MP).authorize_url(
        redirect_uri=CALLBACK, state="abc", scope="snsapi_base"
    )

    assert url == (
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxmp00000000000000001"
        "&redirect_uri=https%3A%2F%2Fshop.example.com%2Faccount%2Fwechat%2Fcallback"
        "&response_type=code&scope=snsapi_base&state=abc#wechat_redirect"
    )


async def test_a_code_becomes_the_shoppers_identity_with_the_profile(fake: FakeWeChatOAuth) -> None:
    code = await authorized_code(fake)

    found = await oauth(fake.base_url).identify(code=code, with_profile=True)

    assert found == identity.WeChatIdentity(
        openid=fake.approving.openid(OPEN_APPID), unionid="union-alice", nickname="阿丽"
    )
    assert fake.token_requests == [
        {"grant_type": "authorization_code", "code": code, "appid": OPEN_APPID, "secret": OPEN_SECRET}
    ]


async def test_the_silent_scope_gives_the_openid_only(fake: FakeWeChatOAuth) -> None:
    fake.approving = Shopper("bob", "Bob")  # no unionid: the app is bound to no Open Platform account
    code = await authorized_code(fake, MP, "snsapi_base")

    found = await oauth(fake.base_url, MP).identify(code=code, with_profile=False)

    assert found == identity.WeChatIdentity(openid=fake.approving.openid(MP_APPID))


async def test_the_profile_of_a_silent_authorisation_is_refused_by_wechat(fake: FakeWeChatOAuth) -> None:
    code = await authorized_code(fake, MP, "snsapi_base")

    with pytest.raises(identity.WeChatUnavailable):  # 48001 api unauthorized
        await oauth(fake.base_url, MP).identify(code=code, with_profile=True)


async def test_a_code_is_used_once(fake: FakeWeChatOAuth) -> None:
    code = await authorized_code(fake)
    await oauth(fake.base_url).identify(code=code, with_profile=False)

    with pytest.raises(identity.WeChatRefused) as raised:
        await oauth(fake.base_url).identify(code=code, with_profile=False)

    assert raised.value.params == {"errcode": 40163}


@pytest.mark.parametrize(
    ("_case", "app", "code", "error", "errcode"),
    [
        ("unknown code", OPEN, "nope", identity.WeChatRefused, 40029),
        (
            "another app's secret",
            WeChatApp(identity.WeChatAppKind.open, OPEN_APPID, MP_SECRET),
            "x",
            identity.WeChatUnavailable,
            None,
        ),
        (
            "unknown appid",
            WeChatApp(identity.WeChatAppKind.open, "wxunknown", OPEN_SECRET),
            "x",
            identity.WeChatUnavailable,
            None,
        ),
    ],
)
async def test_errcodes_map_to_refusals(
    fake: FakeWeChatOAuth,
    _case: str,
    app: WeChatApp,
    code: str,
    error: type[DomainError],
    errcode: int | None,
) -> None:
    with pytest.raises(error) as raised:
        await oauth(fake.base_url, app).identify(code=code, with_profile=True)

    assert raised.value.params == ({"errcode": errcode} if errcode else {})


async def test_system_busy_is_unavailable(fake: FakeWeChatOAuth) -> None:
    fake.token_errcode = -1

    with pytest.raises(identity.WeChatUnavailable):
        await oauth(fake.base_url).identify(code="x", with_profile=True)


def _times_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


async def test_a_slow_or_unreachable_wechat_is_unavailable(fake: FakeWeChatOAuth) -> None:
    slow = httpx.MockTransport(_times_out)
    timing_out = WeChatOAuth(OPEN, connect_url=fake.base_url, api_url=fake.base_url, transport=slow)

    with pytest.raises(identity.WeChatUnavailable):
        await timing_out.identify(code="x", with_profile=True)
    with pytest.raises(identity.WeChatUnavailable):
        await oauth(f"http://127.0.0.1:{free_port()}").identify(code="x", with_profile=True)


def test_half_configured_apps_are_named() -> None:
    half = Settings(
        _env_file=None,  # type: ignore[call-arg]
        wechat_open_appid=OPEN_APPID,
        wechat_mp_secret=SecretStr(MP_SECRET),
    )
    full = Settings(
        _env_file=None,  # type: ignore[call-arg]
        wechat_open_appid=OPEN_APPID,
        wechat_open_secret=SecretStr(OPEN_SECRET),
        wechat_api_url="api.weixin.qq.com",
    )

    assert half.problems() == [
        "MERCATO_WECHAT_OPEN_SECRET: required with MERCATO_WECHAT_OPEN_APPID",
        "MERCATO_WECHAT_MP_APPID: required with MERCATO_WECHAT_MP_SECRET",
    ]
    assert half.wechat_app("open") is None
    assert full.problems() == ["MERCATO_WECHAT_API_URL: must start with https://"]
    assert full.wechat_app("open") == (OPEN_APPID, OPEN_SECRET)
