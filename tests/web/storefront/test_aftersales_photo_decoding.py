"""The new after-sales request form: its photos are counted before any is decoded, and decoded
before the request is created, with no transaction or database connection held (the decoder is
held by the test: ``tests.factories.media.Decoder``)."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient

from mercato import aftersales
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.media import Decoder, connections_in_use, stored_files
from tests.service.aftersales.support import png, rows
from tests.web.pages import EN, csrf_of
from tests.web.storefront.shopping import delivered_order, shopper_with_order

pytestmark = pytest.mark.usefixtures("handlers", "empty_media")

NEW = "/account/aftersales/new"


async def form(client: AsyncClient) -> tuple[dict[str, str], str]:
    """The fields of a return request for a delivered order's first line, and the form's URL."""
    _customer, order = await shopper_with_order(client, delivered_order)
    url = f"{NEW}?order={order.number}&line={order.lines[0].id}"
    page = await client.get(url, headers=EN)
    fields = {
        "csrf_token": csrf_of(page),
        "order": order.number,
        "line": str(order.lines[0].id),
        "kind": "return_refund",
        "quantity": "1",
        "reason_code": "size_fit",
    }
    return fields, url


def photos(count: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (f"{n}.png", png(), "image/png")) for n in range(count)]


async def test_photos_are_decoded_holding_no_connection_before_the_request_is_created(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields, _url = await form(client)
    decoder = Decoder(monkeypatch, held=True)
    before = await rows()

    posted = asyncio.create_task(client.post(NEW, data=fields, files=photos(2), headers=EN))
    try:
        await decoder.wait_started()
        connections_while_decoding = connections_in_use()
        while_decoding = await rows()
    finally:
        decoder.let_go()
    response = await posted

    assert connections_while_decoding == 0
    assert while_decoding == before
    assert response.status_code == 303, response.text
    async with uow(write=False) as s:
        [summary] = (await aftersales.list_requests(s)).items
        created = await aftersales.get_request(s, request_id=summary.id)
    assert len(created.photos) == 2
    assert decoder.calls == 2


async def test_more_photos_than_allowed_are_refused_before_any_is_decoded(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields, _url = await form(client)
    monkeypatch.setenv("MERCATO_AFTERSALES_MAX_PHOTOS", "1")
    get_settings.cache_clear()
    decoder = Decoder(monkeypatch, held=False)
    before = await rows()

    response = await client.post(NEW, data=fields, files=photos(2), headers=EN)

    assert response.status_code == 409
    assert '<p class="field-error" id="aftersales-photos-error">' in response.text
    assert "A request can have at most 1 photos." in response.text
    assert decoder.calls == 0
    assert await rows() == before
    assert stored_files() == []


async def test_a_request_the_order_cannot_take_is_refused_before_any_photo_is_decoded(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields, _url = await form(client)
    decoder = Decoder(monkeypatch, held=False)
    before = await rows()

    response = await client.post(NEW, data={**fields, "quantity": "99"}, files=photos(2), headers=EN)

    assert response.status_code == 422
    assert decoder.calls == 0
    assert await rows() == before
    assert stored_files() == []
