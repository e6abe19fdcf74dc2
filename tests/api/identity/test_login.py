"""Sign-in by password and by SMS code; lockout; tokens; sign-out; password change and reset."""

from __future__ import annotations

import datetime as dt

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from mercato import identity
from mercato.core import clock
from mercato.core.db import uow
from mercato.identity.models import AuthToken
from tests.factories.identity import PASSWORD, customer_token, make_customer, signed_in_customer


def _code(sms: identity.ConsoleSms, phone: str) -> str:
    message = sms.last_to(phone)
    assert message is not None
    return "".join(ch for ch in message.text if ch.isdigit())[:6]


async def _token_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(AuthToken))).scalar_one()


@pytest.mark.parametrize(("_case", "identifier"), [("mobile", "13900000777"), ("email", "BOB@example.com")])
async def test_signs_in_with_password(client: AsyncClient, _case: str, identifier: str) -> None:
    customer = await make_customer(phone="+8613900000777", email="bob@example.com")

    response = await client.post(
        "/api/v1/auth/login/password", json={"identifier": identifier, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert response.json()["customer"]["id"] == customer.id
    assert response.json()["customer"]["last_login_at"] is not None
    token = response.json()["token"]["token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == "bob@example.com"


async def test_unknown_account_and_wrong_password_get_the_same_answer(client: AsyncClient) -> None:
    await make_customer(phone="+8613900000778")

    wrong = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "13900000778", "password": "nope-1234"}
    )
    unknown = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "13900000779", "password": "nope-1234"}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert {k: v for k, v in wrong.json().items() if k != "request_id"} == {
        k: v for k, v in unknown.json().items() if k != "request_id"
    }
    assert wrong.json()["code"] == "identity.invalid_credentials"
    assert await _token_count() == 0


async def test_locks_the_account_after_five_failures(client: AsyncClient) -> None:
    await make_customer(phone="+8613900000780")
    body = {"identifier": "13900000780", "password": "wrong-pass-1"}

    failures = [await client.post("/api/v1/auth/login/password", json=body) for _ in range(5)]
    locked = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "13900000780", "password": PASSWORD}
    )

    assert [r.status_code for r in failures] == [401] * 5
    assert locked.status_code == 429
    assert locked.json()["code"] == "identity.account_locked"
    assert 1 <= int(locked.headers["retry-after"]) <= 900
    assert await _token_count() == 0


async def test_unknown_accounts_lock_the_same_way(client: AsyncClient) -> None:
    body = {"identifier": "13900000781", "password": "wrong-pass-1"}

    statuses = [(await client.post("/api/v1/auth/login/password", json=body)).status_code for _ in range(6)]

    assert statuses == [401] * 5 + [429]


async def test_blocks_an_ip_after_thirty_failures_across_accounts(client: AsyncClient) -> None:
    statuses = [
        (
            await client.post(
                "/api/v1/auth/login/password",
                json={"identifier": f"1390000{i:04d}", "password": "wrong-pass-1"},
            )
        ).status_code
        for i in range(31)
    ]

    assert statuses == [401] * 30 + [429]
    last = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "13900009999", "password": "x"}
    )
    assert last.json()["code"] == "identity.ip_blocked"


async def test_signs_in_with_sms_code(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    customer = await make_customer(phone="+8613900000782")
    sent = await client.post("/api/v1/auth/codes", json={"phone": "+86 139 0000 0782", "purpose": "login"})
    assert sent.status_code == 202

    response = await client.post(
        "/api/v1/auth/login/code", json={"phone": "13900000782", "code": _code(sms, "+8613900000782")}
    )
    reused = await client.post(
        "/api/v1/auth/login/code", json={"phone": "13900000782", "code": _code(sms, "+8613900000782")}
    )

    assert response.status_code == 200
    assert response.json()["customer"]["id"] == customer.id
    assert reused.status_code == 422
    assert reused.json()["code"] == "identity.code_expired"


async def test_code_expires_after_five_minutes(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    await make_customer(phone="+8613900000783")
    await client.post("/api/v1/auth/codes", json={"phone": "13900000783", "purpose": "login"})
    clock.advance(dt.timedelta(minutes=5, seconds=1))

    response = await client.post(
        "/api/v1/auth/login/code", json={"phone": "13900000783", "code": _code(sms, "+8613900000783")}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "identity.code_expired"
    assert await _token_count() == 0


async def test_code_for_another_purpose_does_not_sign_in(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await make_customer(phone="+8613900000784")
    await client.post("/api/v1/auth/codes", json={"phone": "13900000784", "purpose": "reset_password"})

    response = await client.post(
        "/api/v1/auth/login/code", json={"phone": "13900000784", "code": _code(sms, "+8613900000784")}
    )

    assert response.json()["code"] == "identity.code_expired"


async def test_codes_are_rate_limited_per_number(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    first = await client.post("/api/v1/auth/codes", json={"phone": "13900000785", "purpose": "login"})
    second = await client.post("/api/v1/auth/codes", json={"phone": "13900000785", "purpose": "login"})

    assert first.status_code == 202
    assert second.status_code == 429
    assert second.json()["code"] == "identity.code_rate_limited"
    assert int(second.headers["retry-after"]) <= 60
    assert [m.phone for m in sms.sent] == ["+8613900000785"]


async def test_codes_are_rate_limited_per_ip(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    statuses = [
        (
            await client.post("/api/v1/auth/codes", json={"phone": f"1390001{i:04d}", "purpose": "login"})
        ).status_code
        for i in range(21)
    ]

    assert statuses == [202] * 20 + [429]
    assert len(sms.sent) == 20


async def test_revoked_token_stops_working(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)

    out = await client.post("/api/v1/auth/logout", headers=headers)
    after = await client.get("/api/v1/me", headers=headers)

    assert out.status_code == 204
    assert after.status_code == 401
    assert after.json()["code"] == "identity.session_invalid"


async def test_sign_out_everywhere_revokes_every_token(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client)
    other = {"Authorization": f"Bearer {await customer_token(customer.id)}"}
    bystander, bystander_headers = await signed_in_customer(client)

    response = await client.post("/api/v1/auth/logout-all", headers=headers)

    assert response.status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await client.get("/api/v1/me", headers=other)).status_code == 401
    assert (await client.get("/api/v1/me", headers=bystander_headers)).json()["id"] == bystander.id


async def test_expired_token_is_refused(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)
    clock.advance(dt.timedelta(days=91))

    response = await client.get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "identity.session_invalid"


async def test_missing_and_garbage_credentials_are_401(client: AsyncClient) -> None:
    missing = await client.get("/api/v1/me")
    garbage = await client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    scheme = await client.get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})

    assert (missing.status_code, missing.json()["code"]) == (401, "core.unauthenticated")
    assert (garbage.status_code, garbage.json()["code"]) == (401, "identity.session_invalid")
    assert (scheme.status_code, scheme.json()["code"]) == (401, "core.unauthenticated")


async def test_change_password_keeps_this_session_and_ends_the_others(client: AsyncClient) -> None:
    customer, headers = await signed_in_customer(client, email="carol@example.com")
    other = {"Authorization": f"Bearer {await customer_token(customer.id)}"}

    response = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "brand-new-77"},
    )

    assert response.status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=other)).status_code == 401
    old = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "carol@example.com", "password": PASSWORD}
    )
    new = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "carol@example.com", "password": "brand-new-77"}
    )
    assert (old.status_code, new.status_code) == (401, 200)


async def test_change_password_refuses_wrong_current_or_weak_new(client: AsyncClient) -> None:
    _customer, headers = await signed_in_customer(client)

    wrong = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": "nope-1234", "new_password": "brand-new-77"},
    )
    weak = await client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "12345678"},
    )

    assert (wrong.status_code, wrong.json()["code"]) == (401, "identity.password_incorrect")
    assert (weak.status_code, weak.json()["code"]) == (422, "identity.weak_password")
    assert weak.json()["errors"][0]["loc"] == ["body", "new_password"]
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200


async def test_reset_password_with_code_revokes_all_sessions(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    customer, headers = await signed_in_customer(client, phone="+8613900000786")
    await client.post("/api/v1/auth/codes", json={"phone": "13900000786", "purpose": "reset_password"})

    response = await client.post(
        "/api/v1/auth/password-reset",
        json={"phone": "13900000786", "code": _code(sms, "+8613900000786"), "new_password": "reset-pass-99"},
    )

    assert response.status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    login = await client.post(
        "/api/v1/auth/login/password", json={"identifier": "13900000786", "password": "reset-pass-99"}
    )
    assert login.json()["customer"]["id"] == customer.id


async def test_cookie_session_writes_need_the_csrf_header(client: AsyncClient) -> None:
    customer = await make_customer()
    async with uow() as s:
        issued = await identity.issue_token(
            s, subject_kind="customer", subject_id=customer.id, kind="session", meta=identity.RequestMeta()
        )
    client.cookies.set("mercato_session", issued.token)
    csrf = (await client.get("/api/v1/auth/csrf")).json()["csrf_token"]

    read = await client.get("/api/v1/me")
    refused = await client.patch("/api/v1/me", json={"name": "新名字"})
    accepted = await client.patch("/api/v1/me", json={"name": "新名字"}, headers={"X-CSRF-Token": csrf})

    assert read.status_code == 200
    assert (refused.status_code, refused.json()["code"]) == (403, "identity.csrf_failed")
    assert accepted.status_code == 200
    assert accepted.json()["name"] == "新名字"


async def test_a_lock_from_one_address_does_not_refuse_the_right_password_from_another(
    app: object, client: AsyncClient
) -> None:
    customer = await make_customer(phone="+8613900000787")
    body = {"identifier": "13900000787", "password": "wrong-pass-1"}
    failures = [await client.post("/api/v1/auth/login/password", json=body) for _ in range(5)]
    right = {"identifier": "13900000787", "password": PASSWORD}

    locked = await client.post("/api/v1/auth/login/password", json=right)
    transport = ASGITransport(app=app, client=("198.51.100.30", 50000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        other = await elsewhere.post("/api/v1/auth/login/password", json=right)

    assert [r.status_code for r in failures] == [401] * 5
    assert (locked.status_code, locked.json()["code"]) == (429, "identity.account_locked")
    assert other.status_code == 200
    assert other.json()["customer"]["id"] == customer.id
    assert await _token_count() == 1
