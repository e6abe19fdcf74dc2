"""Signing in with WeChat through the web app and a local server speaking WeChat's OAuth: the QR
login on a computer and the official account inside WeChat, a new shopper linking a proven
mobile number (a new account or an existing one), a returning shopper known by openid or
unionid, forged and replayed states, WeChat's error codes, linking from the account page and
unlinking."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import identity
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.identity.models import AuthToken, Customer, WeChatAccount
from tests.factories.identity import make_customer
from tests.providers.fake_wechat_oauth import (
    MP_APPID,
    MP_SECRET,
    OPEN_APPID,
    OPEN_SECRET,
    FakeWeChatOAuth,
    Shopper,
    running_fake_wechat_oauth,
)
from tests.web.pages import (
    EN,
    alert_of,
    csrf_of,
    customer_count,
    field_error_of,
    sign_in,
    sms_code,
    token_count,
)

IN_WECHAT = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
}
SHOP = "http://127.0.0.1:8000"  # MERCATO_BASE_URL unset: the address `mercato run` listens on


def configure(
    monkeypatch: pytest.MonkeyPatch, fake: FakeWeChatOAuth, *, open_app: bool = True, mp: bool = True
) -> None:
    settings = {"CONNECT_URL": fake.base_url, "API_URL": fake.base_url}
    if open_app:
        settings |= {"OPEN_APPID": OPEN_APPID, "OPEN_SECRET": OPEN_SECRET}
    if mp:
        settings |= {"MP_APPID": MP_APPID, "MP_SECRET": MP_SECRET}
    for name, value in settings.items():
        monkeypatch.setenv(f"MERCATO_WECHAT_{name}", value)
    get_settings.cache_clear()


@pytest.fixture
async def wechat(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeWeChatOAuth]:
    async with running_fake_wechat_oauth() as fake:
        configure(monkeypatch, fake)
        yield fake


async def to_wechat(client: AsyncClient, start: str = "/account/wechat/login", **kwargs: object) -> str:
    """Follow the app to WeChat's authorisation page; its URL."""
    response = await client.get(start, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def back_from_wechat(
    client: AsyncClient, authorize_url: str, headers: dict[str, str] | None = None
) -> Response:
    """WeChat's page (the shopper scans or allows), then its redirect to our callback."""
    async with httpx.AsyncClient() as browser:
        at_wechat = await browser.get(authorize_url)
    assert at_wechat.status_code == 302, at_wechat.text
    back = at_wechat.headers["location"]
    assert back.startswith(f"{SHOP}/account/wechat/callback?")
    return await client.get(back.removeprefix(SHOP), headers=headers)


async def through_wechat(client: AsyncClient, headers: dict[str, str] | None = None) -> Response:
    return await back_from_wechat(client, await to_wechat(client, headers=headers), headers)


async def link_by_phone(client: AsyncClient, sms: identity.ConsoleSms, phone: str) -> Response:
    page = await client.get("/account/wechat/bind")
    assert page.status_code == 200
    sent = await client.post(
        "/account/wechat/bind/code/send", data={"phone": phone, "csrf_token": csrf_of(page)}
    )
    assert sent.status_code == 200
    return await client.post(
        "/account/wechat/bind",
        data={
            "phone": phone,
            "code": sms_code(sms, f"+86{phone}"),
            "accept_privacy_policy": "yes",
            "csrf_token": csrf_of(sent),
        },
    )


async def add_link(
    *, customer_id: int, app_kind: str, appid: str, openid: str, unionid: str | None = "union-alice"
) -> int:
    """A WeChat link made directly (Alice's unionid unless told otherwise); its id."""
    async with uow() as s:
        row = WeChatAccount(
            customer_id=customer_id,
            app_kind=app_kind,
            appid=appid,
            openid=openid,
            unionid=unionid,
            nickname="阿丽",
            linked_at=clock.now(),
        )
        s.add(row)
        await s.flush()
        return row.id


async def links() -> list[tuple[int, str, str, str | None, str]]:
    async with uow(write=False) as s:
        rows = (await s.execute(select(WeChatAccount).order_by(WeChatAccount.id))).scalars()
        return [(r.customer_id, r.app_kind, r.openid, r.unionid, r.nickname) for r in rows]


async def signed_in_as(client: AsyncClient) -> int | None:
    async with uow(write=False) as s:
        token = client.cookies.get("mercato_session")
        resolved = await identity.resolve_token(s, token=token, subject_kind="customer") if token else None
        return resolved.subject_id if resolved else None


async def test_the_button_shows_only_where_a_wechat_app_serves_the_browser(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_fake_wechat_oauth() as fake:
        bare = await client.get("/account/login", headers=EN)
        configure(monkeypatch, fake, open_app=False)
        mp_on_a_computer = await client.get("/account/login", headers=EN)
        mp_in_wechat = await client.get("/account/login", headers={**EN, **IN_WECHAT})
        configure(monkeypatch, fake)
        registering = await client.get("/account/register?next=/cart", headers=EN)

    assert "Sign in with WeChat" not in bare.text
    assert "Sign in with WeChat" not in mp_on_a_computer.text
    assert "Sign in with WeChat" in mp_in_wechat.text
    assert 'href="/account/wechat/login?next=/cart"' in registering.text


async def test_on_a_computer_the_qr_login_goes_to_wechats_qrconnect(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    response = await client.get("/account/wechat/login?next=/cart")

    assert response.status_code == 303
    url = urlsplit(response.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{wechat.base_url}/connect/qrconnect"
    assert url.fragment == "wechat_redirect"
    query = parse_qsl(url.query)
    assert [name for name, _ in query] == ["appid", "redirect_uri", "response_type", "scope", "state"]
    assert dict(query) | {"state": "-"} == {
        "appid": OPEN_APPID,
        "redirect_uri": f"{SHOP}/account/wechat/callback",
        "response_type": "code",
        "scope": "snsapi_login",
        "state": "-",
    }
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("mercato_wechat_state="))
    assert cookie.startswith(f"mercato_wechat_state={dict(query)['state']};")
    assert "HttpOnly" in cookie
    assert "Path=/account/wechat" in cookie
    assert "Max-Age=600" in cookie


async def test_inside_wechat_the_official_account_asks_for_the_profile(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    url = urlsplit(await to_wechat(client, headers=IN_WECHAT))

    assert url.path == "/connect/oauth2/authorize"
    assert dict(parse_qsl(url.query))["appid"] == MP_APPID
    assert dict(parse_qsl(url.query))["scope"] == "snsapi_userinfo"


async def test_a_new_shopper_proves_a_mobile_number_and_gets_an_account(
    client: AsyncClient, wechat: FakeWeChatOAuth, sms: identity.ConsoleSms
) -> None:
    wechat.approving = Shopper("carol", "小卡", "union-carol")

    back = await through_wechat(client)

    assert back.status_code == 303
    assert back.headers["location"] == "/account/wechat/bind"
    assert await customer_count() == 0
    page = await client.get("/account/wechat/bind", headers=EN)
    assert "WeChat says you are 小卡." in page.text
    linked = await link_by_phone(client, sms, "13800138123")
    assert linked.status_code == 303
    assert linked.headers["location"] == "/account"
    async with uow(write=False) as s:
        customer = (await s.execute(select(Customer))).scalar_one()
    assert (customer.phone, customer.name, customer.last_login_at is not None) == (
        "+8613800138123",
        "小卡",
        True,
    )
    assert await links() == [
        (customer.id, "open", wechat.approving.openid(OPEN_APPID), "union-carol", "小卡")
    ]
    assert await signed_in_as(client) == customer.id
    account = await client.get("/account", headers=EN)
    assert "小卡" in account.text
    assert "Website QR login" in account.text


async def test_a_new_shopper_links_the_account_their_number_already_has(
    client: AsyncClient, wechat: FakeWeChatOAuth, sms: identity.ConsoleSms
) -> None:
    owner = await make_customer(phone="+8613800138000", name="Alice")

    await through_wechat(client)
    linked = await link_by_phone(client, sms, "13800138000")

    assert linked.status_code == 303
    assert await customer_count() == 1
    assert await links() == [(owner.id, "open", wechat.approving.openid(OPEN_APPID), "union-alice", "阿丽")]
    assert await signed_in_as(client) == owner.id


async def test_a_returning_shopper_signs_in_by_openid_or_by_unionid_under_the_other_app(
    client: AsyncClient, wechat: FakeWeChatOAuth, sms: identity.ConsoleSms
) -> None:
    await through_wechat(client)
    await link_by_phone(client, sms, "13800138000")
    owner = await signed_in_as(client)
    client.cookies.clear()

    again = await through_wechat(client)
    first = await signed_in_as(client)
    client.cookies.clear()
    in_wechat = await through_wechat(client, headers=IN_WECHAT)

    assert (again.status_code, again.headers["location"]) == (303, "/account")
    assert first == owner
    assert (in_wechat.status_code, in_wechat.headers["location"]) == (303, "/account")
    assert await signed_in_as(client) == owner
    assert await customer_count() == 1
    assert await links() == [
        (owner, "open", wechat.approving.openid(OPEN_APPID), "union-alice", "阿丽"),
        (owner, "mp", wechat.approving.openid(MP_APPID), "union-alice", "阿丽"),
    ]


async def test_a_replayed_callback_is_refused_and_changes_nothing(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    owner = await make_customer(phone="+8613800138000")
    await add_link(
        customer_id=owner.id, app_kind="open", appid=OPEN_APPID, openid=wechat.approving.openid(OPEN_APPID)
    )
    authorize_url = await to_wechat(client)
    state_cookie = client.cookies.get("mercato_wechat_state")
    async with httpx.AsyncClient() as browser:
        callback = (await browser.get(authorize_url)).headers["location"].removeprefix(SHOP)
    first = await client.get(callback)
    assert first.status_code == 303
    assert await token_count() == 1
    client.cookies.set("mercato_wechat_state", state_cookie or "", path="/account/wechat")

    replayed = await client.get(callback, headers=EN)

    assert replayed.status_code == 422
    assert alert_of(replayed) == "This WeChat sign-in has expired or was already used. Start again."
    assert len(wechat.token_requests) == 1
    assert await token_count() == 1


@pytest.mark.parametrize("_case", ["another state in the cookie", "no cookie", "expired"])
async def test_a_forged_missing_or_expired_state_is_refused_before_wechat_is_asked(
    client: AsyncClient, wechat: FakeWeChatOAuth, _case: str
) -> None:
    authorize_url = await to_wechat(client)
    if _case == "another state in the cookie":
        client.cookies.set("mercato_wechat_state", "forged", path="/account/wechat")
    elif _case == "no cookie":
        client.cookies.clear()
    else:
        clock.advance(identity.WECHAT_AUTHORIZATION_TTL + dt.timedelta(seconds=1))

    back = await back_from_wechat(client, authorize_url, headers=EN)

    assert back.status_code == 422
    assert alert_of(back) == "This WeChat sign-in has expired or was already used. Start again."
    assert wechat.token_requests == []
    assert await customer_count() == 0
    assert await token_count() == 0


@pytest.mark.parametrize(
    ("_case", "errcode", "status", "message"),
    [
        ("invalid code", 40029, 422, "WeChat did not confirm the sign-in (error 40029). Start again."),
        ("code already used", 40163, 422, "WeChat did not confirm the sign-in (error 40163). Start again."),
        ("system busy", -1, 503, "WeChat is not answering. Try again shortly."),
        ("wrong secret", 40125, 503, "WeChat is not answering. Try again shortly."),
    ],
)
async def test_wechat_error_codes_end_on_a_clear_page(
    client: AsyncClient, wechat: FakeWeChatOAuth, _case: str, errcode: int, status: int, message: str
) -> None:
    wechat.token_errcode = errcode

    back = await through_wechat(client, headers=EN)

    assert back.status_code == status
    assert alert_of(back) == message
    assert "Sign in another way" in back.text
    assert "mercato_wechat_state=" in back.headers["set-cookie"]  # dropped
    assert await customer_count() == 0
    assert await token_count() == 0
    assert await links() == []


async def test_declining_in_wechat_says_so(client: AsyncClient, wechat: FakeWeChatOAuth) -> None:
    wechat.declining = True

    back = await through_wechat(client, headers=EN)

    assert back.status_code == 422
    assert alert_of(back) == "WeChat sign-in was not allowed. Start again, or sign in another way."
    assert wechat.token_requests == []


async def test_a_wrong_code_or_no_consent_shows_the_form_again_and_links_nothing(
    client: AsyncClient, wechat: FakeWeChatOAuth, sms: identity.ConsoleSms
) -> None:
    await through_wechat(client)
    page = await client.get("/account/wechat/bind")
    sent = await client.post(
        "/account/wechat/bind/code/send", data={"phone": "13800138000", "csrf_token": csrf_of(page)}
    )
    code = sms_code(sms, "+8613800138000")
    wrong = "000000" if code != "000000" else "111111"

    bad_code = await client.post(
        "/account/wechat/bind",
        data={
            "phone": "13800138000",
            "code": wrong,
            "accept_privacy_policy": "yes",
            "csrf_token": csrf_of(sent),
        },
        headers=EN,
    )
    no_consent = await client.post(
        "/account/wechat/bind",
        data={"phone": "13800138000", "code": code, "csrf_token": csrf_of(sent)},
        headers=EN,
    )

    assert bad_code.status_code == 422
    assert alert_of(bad_code) == "The verification code is incorrect."
    assert no_consent.status_code == 422
    assert (
        field_error_of(no_consent, "wechat-bind-consent") == "Accept the privacy policy to create an account."
    )
    assert await customer_count() == 0
    assert await links() == []
    assert await token_count() == 0


async def test_the_bind_page_without_a_ticket_is_refused(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    page = await client.get("/account/wechat/bind", headers=EN)

    assert page.status_code == 422
    assert alert_of(page) == "This WeChat sign-in has expired or was already used. Start again."


async def test_a_signed_in_customer_links_and_unlinks_wechat(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    owner = await make_customer(phone="+8613800138000")
    await sign_in(client, "13800138000", "correct-horse-42")
    account = await client.get("/account", headers=EN)
    assert "Link WeChat" in account.text

    start = await client.post("/account/wechat/link", data={"csrf_token": csrf_of(account)})
    back = await back_from_wechat(client, start.headers["location"])

    assert (back.status_code, back.headers["location"]) == (303, "/account")
    assert await links() == [(owner.id, "open", wechat.approving.openid(OPEN_APPID), "union-alice", "阿丽")]
    account = await client.get("/account", headers=EN)
    assert "Link WeChat" not in account.text
    async with uow(write=False) as s:
        account_id = (await s.execute(select(WeChatAccount.id))).scalar_one()

    unlinked = await client.post(
        f"/account/wechat/{account_id}/unlink", data={"csrf_token": csrf_of(account)}
    )

    assert (unlinked.status_code, unlinked.headers["location"]) == (303, "/account")
    assert await links() == []


async def test_linking_a_wechat_that_belongs_to_someone_else_is_refused(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    other = await make_customer(phone="+8613900139000")
    await add_link(
        customer_id=other.id, app_kind="mp", appid=MP_APPID, openid=wechat.approving.openid(MP_APPID)
    )
    await make_customer(phone="+8613800138000")
    await sign_in(client, "13800138000", "correct-horse-42")
    account = await client.get("/account")
    before = await links()

    start = await client.post("/account/wechat/link", data={"csrf_token": csrf_of(account)})
    back = await back_from_wechat(client, start.headers["location"], headers=EN)

    assert back.status_code == 409
    assert alert_of(back) == "This WeChat account is linked to another account."
    assert await links() == before


async def test_unlinking_another_customers_wechat_is_a_404_and_changes_nothing(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    other = await make_customer(phone="+8613900139000")
    other_link = await add_link(
        customer_id=other.id, app_kind="open", appid=OPEN_APPID, openid="o-other", unionid=None
    )
    await make_customer(phone="+8613800138000")
    await sign_in(client, "13800138000", "correct-horse-42")
    account = await client.get("/account")

    response = await client.post(
        f"/account/wechat/{other_link}/unlink", data={"csrf_token": csrf_of(account)}
    )

    assert response.status_code == 404
    assert len(await links()) == 1


async def test_a_deleted_accounts_wechat_links_go_with_it(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    owner = await make_customer(phone="+8613800138000")
    await add_link(
        customer_id=owner.id, app_kind="open", appid=OPEN_APPID, openid=wechat.approving.openid(OPEN_APPID)
    )
    async with uow() as s:
        await identity.delete_customer(
            s, customer_id=owner.id, data=identity.DeleteAccount(password="correct-horse-42")
        )

    back = await through_wechat(client)

    assert back.headers["location"] == "/account/wechat/bind"
    assert await links() == []
    async with uow(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(AuthToken))).scalar_one() == 0


async def test_inside_wechat_paying_fetches_the_official_account_openid_silently(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    owner = await make_customer(phone="+8613800138000")
    await sign_in(client, "13800138000", "correct-horse-42")

    authorize_url = await to_wechat(
        client, "/account/wechat/authorize-payment?next=/pay/7", headers=IN_WECHAT
    )
    back = await back_from_wechat(client, authorize_url, headers=IN_WECHAT)

    query = dict(parse_qsl(urlsplit(authorize_url).query))
    assert (query["appid"], query["scope"]) == (MP_APPID, "snsapi_base")
    assert (back.status_code, back.headers["location"]) == (303, "/pay/7")
    async with uow(write=False) as s:
        openid = await identity.find_payer_openid(s, customer_id=owner.id, appid=MP_APPID)
    assert openid == wechat.approving.openid(MP_APPID)
    assert await links() == [(owner.id, "mp", openid, "union-alice", "")]


async def test_authorising_payment_needs_a_signed_in_customer(
    client: AsyncClient, wechat: FakeWeChatOAuth
) -> None:
    response = await client.get("/account/wechat/authorize-payment?next=/pay/7", headers=IN_WECHAT)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login?next=")
    assert await links() == []
