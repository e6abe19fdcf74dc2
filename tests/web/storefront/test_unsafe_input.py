"""Shop pages never answer a 500 to what a URL or form carries: a cursor that is not ours shows the
list's first page, a NUL or a text-direction override in a form or a URL is the 422 page and
changes nothing, and ids past BIGINT (or digits ``int`` refuses, like ``²``) are ignored or not
found."""

from __future__ import annotations

import base64

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato.core.db import uow
from mercato.core.pagination import encode_cursor
from mercato.identity.models import Address
from mercato.notify.models import Message
from mercato.orders.models import Order
from mercato.payments.models import Payment
from tests.factories.checkout import ADDRESS
from tests.web.pages import EN, csrf_of
from tests.web.storefront.shopping import signed_in_shopper
from tests.web.storefront.test_checkout import ready_to_check_out

#: A cursor holding deeply nested JSON (json.loads recursed into a 500) and one of a wrong shape.
NESTED = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()
BAD_CURSORS = [NESTED, encode_cursor({"id": 1}), "!!!"]
FORM = {k: str(v) for k, v in ADDRESS.items() if k != "is_default"}


def is_page(response: Response, status: int) -> bool:
    return response.status_code == status and response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize(
    ("path", "kept"),
    [("/account/orders", ""), ("/account/messages", "?unread=1"), ("/account/aftersales", "")],
)
async def test_an_account_list_with_a_bad_cursor_shows_its_first_page(
    client: AsyncClient, path: str, kept: str, cursor: str
) -> None:
    await signed_in_shopper(client)
    params = {"unread": "1"} if kept else {}

    response = await client.get(path, params={**params, "cursor": cursor}, headers=EN)
    first = await client.get(response.headers["location"], headers=EN)

    assert (response.status_code, response.headers["location"]) == (303, f"{path}{kept}")
    assert first.status_code == 200


async def count(model: type) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


@pytest.mark.parametrize(
    ("_case", "field", "value"),
    [
        ("NUL in the detail", "detail", "1 栋\u0000101"),
        ("override in the recipient", "recipient", "韩\u202e梅梅"),
        ("line break in the recipient", "recipient", "韩\n梅梅"),
    ],
)
async def test_the_address_form_refuses_unsafe_text_and_adds_nothing(
    client: AsyncClient, _case: str, field: str, value: str
) -> None:
    await signed_in_shopper(client)
    page = await client.get("/account/addresses", headers=EN)

    response = await client.post(
        "/account/addresses", data={**FORM, field: value, "csrf_token": csrf_of(page)}, headers=EN
    )

    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert await count(Address) == 0


@pytest.mark.parametrize(
    ("_case", "url"),
    [
        ("NUL in a product slug", "/p/a%00b"),
        ("NUL in a category slug", "/c/a%00b"),
        ("NUL in a search", "/search?q=a%00b"),
        ("NUL in an order list filter", "/account/orders?status=%00"),
    ],
)
async def test_a_nul_in_a_url_is_the_422_page(client: AsyncClient, _case: str, url: str) -> None:
    await signed_in_shopper(client)

    response = await client.get(url, headers=EN)

    assert is_page(response, 422)
    assert "Some fields are not valid." in response.text


@pytest.mark.parametrize("address_id", [str(2**63), "9" * 30, "²"])
async def test_checkout_with_an_address_id_the_database_cannot_hold_is_not_found(
    client: AsyncClient, address_id: str
) -> None:
    red, real_address = await ready_to_check_out(client)
    review = await client.get(
        "/checkout/review", params={"address_id": real_address, "delivery": "standard"}, headers=EN
    )
    assert review.status_code == 200

    reviewed = await client.get(
        "/checkout/review", params={"address_id": address_id, "delivery": "standard"}, headers=EN
    )
    delivery = await client.get("/checkout/delivery", params={"address_id": address_id}, headers=EN)
    placed = await client.post(
        "/checkout/place",
        data={
            "address_id": address_id,
            "delivery": "standard",
            "expected_total_amount": "1",
            "idempotency_key": "k" * 32,
            "csrf_token": csrf_of(review),
        },
        headers=EN,
    )

    assert is_page(reviewed, 404)
    assert (delivery.status_code, delivery.headers["location"]) == (303, "/checkout")
    assert is_page(placed, 404)
    assert (await count(Order), await count(Payment)) == (0, 0)
    assert red > 0


async def test_marking_messages_read_up_to_an_id_past_bigint_marks_all(client: AsyncClient) -> None:
    await signed_in_shopper(client)
    page = await client.get("/account/messages", headers=EN)

    response = await client.post(
        "/account/messages/read-all", data={"up_to_id": "9" * 30, "csrf_token": csrf_of(page)}, headers=EN
    )

    assert (response.status_code, response.headers["location"]) == (303, "/account/messages")
    assert await count(Message) == 0


@pytest.mark.parametrize("params", [{"brand": "²"}, {"page": "²"}, {"brand": "9" * 30}])
async def test_the_catalog_ignores_numbers_it_cannot_use(client: AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/search", params={"q": "x", **params}, headers=EN)

    assert response.status_code == 200
