"""A photo is checked (the request's state, its photo count) before it is decoded, decoded with no
transaction or database connection held, refused by its header's pixel count before any pixel is
decoded, and decoded within a per-customer and a per-process limit.

The decoder is held by the test (``tests.factories.media.Decoder``): a decode lasts exactly
until the test lets it go, so nothing here depends on timings."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient, Response

from mercato.core import images
from mercato.core.settings import get_settings
from tests.api.aftersales.support import Purchase, bought, staff
from tests.factories.identity import signed_in_customer
from tests.factories.media import Decoder, big_but_small_png, connections_in_use, stored_files
from tests.service.aftersales.support import png, rows

pytestmark = pytest.mark.usefixtures("handlers", "empty_media")


def settings(monkeypatch: pytest.MonkeyPatch, **values: int) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"MERCATO_{name.upper()}", str(value))
    get_settings.cache_clear()


async def open_request(client: AsyncClient) -> tuple[Purchase, str]:
    """A delivered purchase and the photos URL of a return request for it."""
    purchase = await bought(client)
    created = await client.post("/api/v1/aftersales", json=purchase.request(), headers=purchase.auth)
    assert created.status_code == 201, created.text
    return purchase, f"/api/v1/aftersales/{created.json()['id']}/photos"


async def send(client: AsyncClient, url: str, purchase: Purchase, data: bytes | None = None) -> Response:
    files = {"file": ("photo.png", data if data is not None else png(), "image/png")}
    return await client.post(url, files=files, headers=purchase.auth | {"Accept-Language": "en"})


async def test_a_slow_decode_holds_no_connection_and_another_customers_cart_write_goes_on(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    purchase, url = await open_request(client)
    _other, other_auth = await signed_in_customer(client)
    decoder = Decoder(monkeypatch, held=True)

    upload = asyncio.create_task(send(client, url, purchase))
    try:
        await decoder.wait_started()
        connections_while_decoding = connections_in_use()
        assert connections_while_decoding == 0  # no transaction, no SQLite write lock
        cart = await asyncio.wait_for(
            client.post(
                "/api/v1/cart/lines", json={"sku_id": purchase.red, "quantity": 1}, headers=other_auth
            ),
            timeout=20,
        )
        still_decoding = not upload.done()
    finally:
        decoder.let_go()
    added = await upload

    assert cart.status_code == 200, cart.text
    assert [line["quantity"] for line in cart.json()["lines"]] == [1]
    assert still_decoding
    assert added.status_code == 201, added.text
    assert decoder.calls == 1
    assert (await rows())["aftersales_photo"] == 1


async def test_past_the_limit_or_once_decided_a_photo_is_refused_without_decoding(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    purchase, url = await open_request(client)
    cs = await staff("cs@example.com", "aftersales.write")
    settings(monkeypatch, aftersales_max_photos=1)
    first = await send(client, url, purchase)
    files = stored_files()
    decoder = Decoder(monkeypatch, held=False)
    before = await rows()

    one_too_many = await send(client, url, purchase)
    after_refusal = await rows()
    request_id = url.split("/")[-2]
    await client.post(f"/api/v1/admin/aftersales/{request_id}/approve", json={}, headers=cs)
    settings(monkeypatch, aftersales_max_photos=6)  # room again, but the request is decided
    decided = await rows()
    after_decision = await send(client, url, purchase)

    assert first.status_code == 201
    assert [(r.status_code, r.json()["code"]) for r in (one_too_many, after_decision)] == [
        (409, "aftersales.too_many_photos"),
        (409, "aftersales.photos_closed"),
    ]
    assert decoder.calls == 0
    assert after_refusal == before
    assert await rows() == decided
    assert decided["aftersales_photo"] == 1
    assert stored_files() == files


async def test_a_photo_within_the_side_cap_but_over_the_pixel_cap_is_refused_without_decoding(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    purchase, url = await open_request(client)
    data = big_but_small_png(6000, 5000)  # 30 megapixels, each side under 8000, a few kilobytes
    decoder = Decoder(monkeypatch, held=False)
    before = await rows()

    response = await send(client, url, purchase, data)

    assert len(data) < 20_000
    assert response.status_code == 422
    assert response.json()["code"] == "aftersales.photo_invalid"
    assert response.json()["detail"] == "The photo has too many pixels: at most 25 megapixels."
    assert decoder.calls == 0
    assert await rows() == before
    assert stored_files() == []


async def test_a_second_photo_while_the_customers_first_decodes_is_refused_with_429(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    purchase, url = await open_request(client)
    settings(monkeypatch, image_decodes_per_uploader=1)
    decoder = Decoder(monkeypatch, held=True)
    before = await rows()

    first = asyncio.create_task(send(client, url, purchase))
    try:
        await decoder.wait_started()
        second = await asyncio.wait_for(send(client, url, purchase), timeout=20)
        while_decoding = await rows()
    finally:
        decoder.let_go()
    added = await first
    afterwards = await send(client, url, purchase)  # the customer's slot is free again

    assert second.status_code == 429
    assert second.headers["retry-after"] == "5"
    assert second.json()["code"] == "core.too_many_image_uploads"
    assert while_decoding == before
    assert (added.status_code, afterwards.status_code) == (201, 201)
    assert decoder.calls == 2
    assert (await rows())["aftersales_photo"] == 2


async def test_past_the_busy_decoders_and_their_queue_a_photo_is_refused_with_503(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    purchase, url = await open_request(client)
    settings(monkeypatch, image_decode_workers=1, image_decode_queue=1, image_decodes_per_uploader=5)
    decoder = Decoder(monkeypatch, held=True)
    before = await rows()

    decoding = asyncio.create_task(send(client, url, purchase))
    waiting: asyncio.Task[Response] | None = None
    try:
        await decoder.wait_started()
        waiting = asyncio.create_task(send(client, url, purchase))
        async with asyncio.timeout(20):
            # the second is queued behind the first (the decoders expose a count, not an event)
            while images.decodes_in_flight() < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        refused = await asyncio.wait_for(send(client, url, purchase), timeout=20)
        while_busy = await rows()
    finally:
        decoder.let_go()
    done = [await decoding] + ([await waiting] if waiting else [])

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["code"] == "core.image_decoders_busy"
    assert while_busy == before
    assert [r.status_code for r in done] == [201, 201]
    assert decoder.calls == 2
    assert images.decodes_in_flight() == 0
    assert (await rows())["aftersales_photo"] == 2
