"""Product images and brand logos are refused by their header's pixel count
(``MERCATO_MAX_IMAGE_PIXELS``) without decoding, and decoded with no transaction or database
connection held (the decoder is held by the test: ``tests.factories.media.Decoder``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from httpx import AsyncClient, Response

from mercato.core.settings import get_settings
from tests.factories.identity import make_staff, staff_headers
from tests.factories.media import (
    Decoder,
    audit_actions,
    connections_in_use,
    image_bytes,
    image_rows,
    make_brand,
    make_product,
    stored_files,
)

Send = Callable[[AsyncClient, bytes, dict[str, str]], Coroutine[Any, Any, Response]]


async def editor() -> dict[str, str]:
    staff = await make_staff(email="editor@example.com", permissions=["catalog.read", "catalog.write"])
    return await staff_headers(staff.id) | {"Accept-Language": "en"}


async def product_image(client: AsyncClient, data: bytes, headers: dict[str, str]) -> Response:
    product_id = await make_product()
    return await client.post(
        f"/api/v1/admin/catalog/products/{product_id}/images",
        files={"file": ("a.png", data, "image/png")},
        headers=headers,
    )


async def brand_logo(client: AsyncClient, data: bytes, headers: dict[str, str]) -> Response:
    brand_id = await make_brand()
    return await client.put(
        f"/api/v1/admin/catalog/brands/{brand_id}/logo",
        files={"file": ("a.png", data, "image/png")},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("_case", "send", "status"), [("product image", product_image, 201), ("brand logo", brand_logo, 200)]
)
async def test_a_slow_decode_holds_no_database_connection(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, _case: str, send: Send, status: int
) -> None:
    headers = await editor()
    decoder = Decoder(monkeypatch, held=True)

    upload = asyncio.create_task(send(client, image_bytes(), headers))
    try:
        await decoder.wait_started()
        connections_while_decoding = connections_in_use()
    finally:
        decoder.let_go()
    response = await upload

    assert connections_while_decoding == 0
    assert response.status_code == status, response.text
    assert decoder.calls == 1
    assert len(stored_files()) == (2 if send is product_image else 1)


@pytest.mark.parametrize(("_case", "send"), [("product image", product_image), ("brand logo", brand_logo)])
async def test_an_image_over_the_pixel_cap_is_refused_without_decoding(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, _case: str, send: Send
) -> None:
    headers = await editor()
    monkeypatch.setenv("MERCATO_MAX_IMAGE_PIXELS", "1000000")
    get_settings.cache_clear()
    decoder = Decoder(monkeypatch, held=False)

    response = await send(client, image_bytes("PNG", (1001, 1000)), headers)

    assert response.status_code == 422
    assert response.json()["code"] == "catalog.image_invalid"
    assert response.json()["detail"] == "The image has too many pixels: at most 1 megapixels."
    assert decoder.calls == 0
    assert await image_rows() == 0
    assert stored_files() == []
    assert await audit_actions() == []
