"""The account pages: sign-in by password and SMS code, registration (by mobile or email, each
with a code), password reset (by SMS or email code), the account overview, sign-out, sign-out
everywhere and the data download, with CSRF on every form."""

from __future__ import annotations

import html
import json
import re

import pytest
from httpx import ASGITransport, AsyncClient, Response

from mercato import identity, notify
from tests.factories.identity import (
    PASSWORD,
    customer_token,
    deliver_emails,
    emailed_code,
    emails_to,
    make_customer,
)
from tests.web.pages import (
    EN,
    alert_of,
    csrf_of,
    customer_count,
    field_error_of,
    post_form,
    set_cookie_header,
    sign_in,
    sms_code,
    token_count,
)


async def test_password_sign_in_sets_a_session_cookie_and_shows_the_masked_account(
    client: AsyncClient,
) -> None:
    await make_customer(phone="+8613800138000", email="alice@example.com", name="Alice")

    response = await sign_in(client, "138 0013 8000", PASSWORD)

    assert response.headers["location"] == "/account"
    cookie = set_cookie_header(response, "mercato_session")
    assert cookie.startswith("mercato_session=mcs_")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/;" in cookie
    assert "Max-Age=1209600" in cookie or "Max-Age=1209599" in cookie
    assert "Secure" not in cookie
    page = await client.get("/account")
    assert page.status_code == 200
    assert "Alice" in page.text
    assert "+86138****8000" in page.text
    assert "a***@example.com" in page.text
    assert "13800138000" not in page.text
    assert "alice@example.com" not in page.text
    assert await token_count() == 1


async def test_signing_in_by_email_works_too(client: AsyncClient) -> None:
    await make_customer(email="bob@example.com")

    response = await sign_in(client, "BOB@example.com", PASSWORD)

    assert response.headers["location"] == "/account"
    assert (await client.get("/account")).status_code == 200


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("/account/login", {"identifier": "13800138000", "password": PASSWORD}),
        ("/account/login/code/send", {"phone": "13800138000"}),
        ("/account/register", {"channel": "email", "email": "new@example.com", "password": "s3cret-pass"}),
    ],
)
@pytest.mark.parametrize("token", [None, "forged"])
async def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    client: AsyncClient, sms: identity.ConsoleSms, action: str, data: dict[str, str], token: str | None
) -> None:
    await make_customer(phone="+8613800138000")
    await client.get("/account/login")  # the browser holds a CSRF cookie, but not the form's token
    body = {**data, "accept_privacy_policy": "yes"}
    if token is not None:
        body["csrf_token"] = token

    response = await client.post(action, data=body, headers=EN)

    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "The form has expired or did not come from this site." in response.text
    assert "mercato_session" not in response.headers.get("set-cookie", "")
    assert await token_count() == 0
    assert await customer_count() == 1
    assert list(sms.sent) == []


async def test_a_post_without_the_csrf_cookie_is_refused(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000")
    page = await client.get("/account/login")
    token = csrf_of(page)
    client.cookies.clear()

    response = await client.post(
        "/account/login", data={"identifier": "13800138000", "password": PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 403
    assert await token_count() == 0


async def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000")

    wrong = await post_form(
        client, "/account/login", "/account/login", {"identifier": "13800138000", "password": "nope-1234"}
    )
    unknown = await post_form(
        client, "/account/login", "/account/login", {"identifier": "13800138009", "password": "nope-1234"}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert alert_of(wrong) == alert_of(unknown) == "账号或密码错误。"
    assert 'value="13800138000"' in wrong.text
    assert "nope-1234" not in wrong.text
    assert "mercato_session" not in wrong.headers.get("set-cookie", "")
    assert await token_count() == 0


async def test_blank_fields_are_reported_next_to_them(client: AsyncClient) -> None:
    response = await post_form(
        client, "/account/login", "/account/login", {"identifier": " ", "password": ""}
    )

    assert response.status_code == 422
    assert alert_of(response) == "部分字段无效。"
    assert response.text.count('<p class="field-error"') == 2
    assert 'id="password-identifier-error">此项为必填。</p>' in response.text
    assert 'aria-invalid="true"' in response.text


async def test_the_account_locks_after_five_failures(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000")
    body = {"identifier": "13800138000", "password": "wrong-pass-1"}

    failures = [await post_form(client, "/account/login", "/account/login", body) for _ in range(5)]
    locked = await post_form(
        client, "/account/login", "/account/login", {"identifier": "13800138000", "password": PASSWORD}
    )

    assert [r.status_code for r in failures] == [401] * 5
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 900
    assert alert_of(locked).startswith("登录失败次数过多")
    assert await token_count() == 0


async def test_signs_in_with_an_sms_code(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    customer = await make_customer(phone="+8613800138000")

    sent = await post_form(client, "/account/login", "/account/login/code/send", {"phone": "13800138000"})

    assert sent.status_code == 200
    assert 'action="/account/login/code"' in sent.text
    assert "138****8000" in sent.text
    assert "13800138000" in sent.text  # kept in the form the customer typed it into
    code = sms_code(sms, "+8613800138000")
    response = await client.post(
        "/account/login/code",
        data={"phone": "+8613800138000", "code": code, "csrf_token": csrf_of(sent), "next": "/account"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    assert set_cookie_header(response, "mercato_session").startswith("mercato_session=mcs_")
    page = await client.get("/account")
    assert page.status_code == 200
    assert (await token_count()) == 1
    assert customer.id == json.loads((await client.get("/account/export.json")).text)["customer"]["id"]


async def test_wrong_sms_codes_are_counted_even_though_the_form_is_refused(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await make_customer(phone="+8613800138000")
    sent = await post_form(client, "/account/login", "/account/login/code/send", {"phone": "13800138000"})
    code = sms_code(sms, "+8613800138000")
    wrong = "000000" if code != "000000" else "111111"
    form = {"phone": "+8613800138000", "csrf_token": csrf_of(sent)}

    failures = [await client.post("/account/login/code", data={**form, "code": wrong}) for _ in range(5)]
    right = await client.post("/account/login/code", data={**form, "code": code})

    assert [r.status_code for r in failures] == [422] * 5
    assert alert_of(failures[0]) == "验证码错误。"
    assert right.status_code == 422
    assert alert_of(right) == "验证码错误次数过多，请重新获取。"
    assert await token_count() == 0


async def test_an_invalid_number_is_refused_before_any_text_is_sent(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    response = await post_form(client, "/account/login", "/account/login/code/send", {"phone": "12345"})

    assert response.status_code == 422
    assert alert_of(response) == "手机号码无效。"
    assert list(sms.sent) == []


async def test_registration_by_email_needs_the_emailed_code_and_consent(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    sent = await post_form(
        client, "/account/register", "/account/register/email-code/send", {"email": "carol@example.com"}
    )

    assert sent.status_code == 200
    assert 'id="email-code"' in sent.text
    assert "我们已向 c***@example.com 发送邮件。" in sent.text
    assert 'value="carol@example.com"' in sent.text
    code = await emailed_code(mail, "carol@example.com")
    form = {
        "channel": "email",
        "email": "carol@example.com",
        "password": "s3cret-pass",
        "name": "Carol",
        "csrf_token": csrf_of(sent),
    }
    without_code = await client.post("/account/register", data={**form, "accept_privacy_policy": "yes"})
    assert without_code.status_code == 422
    assert 'id="email-code-error">此项为必填。</p>' in without_code.text
    refused = await client.post("/account/register", data={**form, "code": code})

    assert refused.status_code == 422
    assert alert_of(refused) == "注册前请先同意隐私政策。"
    assert 'id="email-consent-error">注册前请先同意隐私政策。</p>' in refused.text
    assert 'value="carol@example.com"' in refused.text
    assert await customer_count() == 0
    assert await token_count() == 0

    accepted = await client.post(
        "/account/register", data={**form, "code": code, "accept_privacy_policy": "yes"}
    )

    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/account"
    assert set_cookie_header(accepted, "mercato_session").startswith("mercato_session=mcs_")
    page = await client.get("/account")
    assert "c***@example.com" in page.text
    assert "Carol" in page.text
    assert await customer_count() == 1


async def test_registration_by_mobile_with_an_sms_code(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    sent = await post_form(
        client, "/account/register", "/account/register/code/send", {"phone": "13800138001"}
    )

    assert sent.status_code == 200
    assert 'name="code"' in sent.text
    code = sms_code(sms, "+8613800138001")
    form = {"channel": "phone", "phone": "+8613800138001", "code": code, "csrf_token": csrf_of(sent)}
    refused = await client.post("/account/register", data=form)
    assert refused.status_code == 422
    assert alert_of(refused) == "注册前请先同意隐私政策。"
    assert await customer_count() == 0

    response = await client.post("/account/register", data={**form, "accept_privacy_policy": "yes"})

    assert response.status_code == 303
    page = await client.get("/account")
    assert "+86138****8001" in page.text
    assert await customer_count() == 1


async def test_a_taken_email_gets_the_same_page_and_its_owner_an_email(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    await make_customer(email="dave@example.com")

    taken = await post_form(
        client, "/account/register", "/account/register/email-code/send", {"email": "dave@example.com"}
    )
    fresh = await post_form(
        client, "/account/register", "/account/register/email-code/send", {"email": "dora@example.com"}
    )
    await deliver_emails()
    guess = await client.post(
        "/account/register",
        data=by_email(
            "dave@example.com", code="123456", accept_privacy_policy="1", csrf_token=csrf_of(taken)
        ),
    )

    assert taken.status_code == fresh.status_code == 200
    assert alert_ok_of(taken) == (
        "我们已向 d***@example.com 发送邮件。请输入邮件中的验证码（15 分钟内有效）。"
        "如果该邮箱已有账号，邮件会告知您如何登录。"
    )
    assert alert_ok_of(fresh) == alert_ok_of(taken)
    assert [m.subject for m in emails_to(mail, "dave@example.com")] == ["【Mercato】您已经有账号了"]
    assert len(emails_to(mail, "dora@example.com")) == 1
    assert guess.status_code == 422
    assert alert_of(guess) == "验证码错误。"
    assert await customer_count() == 1


async def test_the_account_needs_a_session(client: AsyncClient) -> None:
    response = await client.get("/account")
    export = await client.get("/account/export.json")

    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=/account"
    assert export.status_code == 303
    assert export.headers["location"] == "/account/login?next=/account/export.json"


async def test_a_bearer_token_in_the_cookie_is_not_a_session(client: AsyncClient) -> None:
    customer = await make_customer()
    client.cookies.set("mercato_session", await customer_token(customer.id))

    response = await client.get("/account")

    assert response.status_code == 303
    assert 'mercato_session=""' in response.headers["set-cookie"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account?tab=sessions", "/account?tab=sessions"),
        ("//evil.example", "/account"),
        ("https://evil.example/", "/account"),
        ("/\\evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
    ],
)
async def test_only_local_next_paths_are_followed(client: AsyncClient, target: str, expected: str) -> None:
    await make_customer(phone="+8613800138000")
    page = await client.get("/account/login", params={"next": target})

    response = await client.post(
        "/account/login",
        data={"identifier": "13800138000", "password": PASSWORD, "next": target, "csrf_token": csrf_of(page)},
    )

    assert response.status_code == 303
    assert response.headers["location"] == expected


async def test_sign_out_revokes_the_session(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000")
    signed_in = await sign_in(client, "13800138000", PASSWORD)
    cookie = signed_in.cookies["mercato_session"]
    page = await client.get("/account")

    response = await client.post("/account/logout", data={"csrf_token": csrf_of(page)})

    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?notice=signed_out"
    assert 'mercato_session=""' in response.headers["set-cookie"]
    assert await token_count(revoked=True) == 1
    assert await token_count(revoked=False) == 0
    client.cookies.set("mercato_session", cookie)  # a copy of the old cookie no longer works
    assert (await client.get("/account")).status_code == 303
    notice = await client.get("/account/login?notice=signed_out", headers=EN)
    assert "You have signed out." in notice.text


async def test_sign_out_needs_the_csrf_token(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000")
    await sign_in(client, "13800138000", PASSWORD)

    response = await client.post("/account/logout")

    assert response.status_code == 403
    assert await token_count(revoked=False) == 1
    assert (await client.get("/account")).status_code == 200


async def test_sign_out_everywhere_revokes_every_session_and_token(app: object, client: AsyncClient) -> None:
    customer = await make_customer(phone="+8613800138000")
    other = await make_customer(phone="+8613800138002")
    await customer_token(customer.id)
    await customer_token(other.id)
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as phone_browser:
        await sign_in(phone_browser, "13800138000", PASSWORD)
        await sign_in(client, "13800138000", PASSWORD)
        page = await client.get("/account")
        assert page.text.count("<tr>") == 1 + 3

        response = await client.post("/account/logout-all", data={"csrf_token": csrf_of(page)})

        assert response.status_code == 303
        assert response.headers["location"] == "/account/login?notice=signed_out_everywhere"
        assert await token_count(revoked=True) == 3
        assert await token_count(revoked=False) == 1  # the other customer's token
        assert (await client.get("/account")).status_code == 303
        assert (await phone_browser.get("/account")).status_code == 303


async def test_export_downloads_only_the_signed_in_customers_data(client: AsyncClient) -> None:
    customer = await make_customer(phone="+8613800138000", email="erin@example.com", name="Erin")
    await make_customer(phone="+8613800138003", email="frank@example.com", name="Frank")
    await sign_in(client, "13800138000", PASSWORD)

    response = await client.get("/account/export.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == 'attachment; filename="mercato-my-data.json"'
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["customer"]["id"] == customer.id
    assert body["customer"]["phone"] == "+8613800138000"
    assert body["customer"]["email"] == "erin@example.com"
    assert [c["policy"] for c in body["consents"]] == ["privacy_policy"]
    assert len(body["sessions"]) == 1
    assert "frank" not in response.text.lower()
    assert "+8613800138003" not in response.text


async def test_customer_text_is_escaped(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138000", name='<script>alert("x")</script>')
    await sign_in(client, "13800138000", PASSWORD)

    page = await client.get("/account")

    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def by_email(email: str, **fields: str) -> dict[str, str]:
    """A registration with an email address and a good password (``fields`` add to it)."""
    return {"channel": "email", "email": email, "password": "s3cret-pass", **fields}


def alert_ok_of(page: Response) -> str:
    """The confirmation a page shows (unescaped, its whitespace collapsed)."""
    match = re.search(r'<div class="alert alert-ok" role="status">\s*<p>(.*?)</p>', page.text, re.DOTALL)
    assert match is not None, "the page shows no confirmation"
    return " ".join(html.unescape(match.group(1)).split())


async def test_sign_in_and_registration_link_to_each_other_and_keep_next(client: AsyncClient) -> None:
    login = await client.get("/account/login", params={"next": "/account/orders?tab=to_pay"})
    register = await client.get("/account/register", params={"next": "/account/orders?tab=to_pay"})

    assert 'href="/account/register?next=/account/orders%3Ftab%3Dto_pay"' in login.text
    assert 'href="/account/login?next=/account/orders%3Ftab%3Dto_pay"' in register.text
    assert register.text.count('<input type="hidden" name="next" value="/account/orders?tab=to_pay">') == 2


@pytest.mark.parametrize(
    ("next_page", "location"),
    [("/account/orders", "/account/orders"), ("//evil.example", "/account")],
    ids=["inside the shop", "elsewhere: the account instead"],
)
async def test_registration_goes_on_to_next(
    client: AsyncClient, mail: notify.ConsoleEmail, next_page: str, location: str
) -> None:
    register = await client.get("/account/register", params={"next": next_page})
    sent = await client.post(
        "/account/register/email-code/send",
        data={"email": "hank@example.com", "next": next_page, "csrf_token": csrf_of(register)},
    )
    assert sent.text.count(f'<input type="hidden" name="next" value="{location}">') == 3

    response = await client.post(
        "/account/register",
        data=by_email(
            "hank@example.com",
            code=await emailed_code(mail, "hank@example.com"),
            accept_privacy_policy="yes",
            next=next_page,
            csrf_token=csrf_of(register),
        ),
    )

    assert response.status_code == 303
    assert response.headers["location"] == location


async def test_a_forgotten_password_is_reset_with_an_emailed_code(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    customer = await make_customer(email="ivy@example.com", name="Ivy")
    await customer_token(customer.id)
    login = await client.get("/account/login", params={"next": "/account/orders"})
    assert 'href="/account/password-reset?next=/account/orders"' in login.text

    sent = await post_form(
        client,
        "/account/password-reset?next=/account/orders",
        "/account/password-reset/code/send",
        {"channel": "email", "email": "ivy@example.com", "next": "/account/orders"},
    )
    code = await emailed_code(mail, "ivy@example.com")
    form = {
        "channel": "email",
        "email": "ivy@example.com",
        "next": "/account/orders",
        "csrf_token": csrf_of(sent),
    }
    weak = await client.post(
        "/account/password-reset", data={**form, "code": code, "new_password": "password"}
    )
    response = await client.post(
        "/account/password-reset", data={**form, "code": code, "new_password": "fresh-horse-77"}
    )

    assert sent.status_code == 200
    assert (
        alert_ok_of(sent) == "如果有账号使用 i***@example.com，我们已向其发送验证码。验证码 15 分钟内有效。"
    )
    assert 'id="reset-email-new_password"' in sent.text
    assert weak.status_code == 422
    assert (
        field_error_of(weak, "reset-email-new_password")
        == "密码需为 8 到 128 位，同时包含字母和数字，且不能是常见密码。"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?notice=password_reset&next=%2Faccount%2Forders"
    assert await token_count(revoked=False) == 0
    notice = await client.get(response.headers["location"], headers=EN)
    assert "Your password has been reset. Sign in with the new one." in notice.text
    signed_in = await sign_in(client, "ivy@example.com", "fresh-horse-77")
    assert signed_in.headers["location"] == "/account"


async def test_a_reset_code_for_an_unknown_email_gets_the_same_page_and_sends_nothing(
    client: AsyncClient, mail: notify.ConsoleEmail
) -> None:
    await make_customer(email="jade@example.com")

    known = await post_form(
        client,
        "/account/password-reset",
        "/account/password-reset/code/send",
        {"channel": "email", "email": "jade@example.com"},
    )
    unknown = await post_form(
        client,
        "/account/password-reset",
        "/account/password-reset/code/send",
        {"channel": "email", "email": "jane@example.com"},
    )
    await deliver_emails()

    assert known.status_code == unknown.status_code == 200
    assert (
        alert_ok_of(known)
        == alert_ok_of(unknown)
        == ("如果有账号使用 j***@example.com，我们已向其发送验证码。验证码 15 分钟内有效。")
    )
    assert [m.recipient for m in mail.sent] == ["jade@example.com"]


async def test_a_password_is_reset_with_an_sms_code_too(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await make_customer(phone="+8613800138055")

    sent = await post_form(
        client,
        "/account/password-reset",
        "/account/password-reset/code/send",
        {"channel": "phone", "phone": "13800138055"},
    )
    response = await client.post(
        "/account/password-reset",
        data={
            "channel": "phone",
            "phone": "13800138055",
            "code": sms_code(sms, "+8613800138055"),
            "new_password": "fresh-horse-77",
            "csrf_token": csrf_of(sent),
        },
    )

    assert sent.status_code == 200
    assert 'id="reset-phone-code"' in sent.text
    assert response.status_code == 303
    await sign_in(client, "13800138055", "fresh-horse-77")
