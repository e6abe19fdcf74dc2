"""The console's image forms (product image, brand logo, a banner's new image) decode the upload
with no transaction or database connection held (the decoder is held by the test:
``tests.factories.media.Decoder``)."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient

from mercato import content
from mercato.core.db import uow
from tests.factories.identity import SYSTEM
from tests.factories.media import (
    Decoder,
    connections_in_use,
    decoded,
    image_bytes,
    make_brand,
    make_product,
    stored_files,
)
from tests.web.pages import EN, csrf_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("empty_media")


Form = tuple[str, dict[str, str], dict[str, tuple[str, bytes, str]]]


async def image_form(client: AsyncClient, page: str, action: str, field: str, fields: dict[str, str]) -> Form:
    """What posting an image to ``action`` from ``page`` sends: the action, the fields with the
    page's CSRF token, and the image in ``field``."""
    token = csrf_of(await client.get(page, headers=EN))
    return (
        action,
        {**fields, "csrf_token": token},
        {field: ("a.png", image_bytes("PNG", (900, 300)), "image/png")},
    )


async def banner() -> int:
    async with uow() as session:
        created = await content.create_banner(
            session,
            data=content.BannerWrite.model_validate({"title": "旧横幅", "link": "/"}),
            image=decoded(thumbnail=False),
            actor=SYSTEM,
        )
    return created.id


@pytest.mark.parametrize("_case", ["product image", "brand logo", "banner"])
async def test_a_slow_decode_holds_no_database_connection(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, _case: str
) -> None:
    await staff_sign_in(client, "editor@example.com", "catalog.read", "catalog.write", "content.write")
    if _case == "product image":
        page = f"/admin/catalog/products/{await make_product()}"
        action, data, files = await image_form(client, page, f"{page}/images", "file", {"alt": "正面"})
    elif _case == "brand logo":
        page = f"/admin/catalog/brands/{await make_brand()}"
        action, data, files = await image_form(client, page, f"{page}/logo", "file", {})
    else:
        page = f"/admin/content/banners/{await banner()}"
        fields = {"title": "双十二", "link": "/c/phones", "position": "1", "is_enabled": "1"}
        action, data, files = await image_form(client, f"{page}/edit", page, "image", fields)
    decoder = Decoder(monkeypatch, held=True)

    posted = asyncio.create_task(client.post(action, data=data, files=files, headers=EN))
    try:
        await decoder.wait_started()
        connections_while_decoding = connections_in_use()
    finally:
        decoder.let_go()
    response = await posted

    assert connections_while_decoding == 0
    assert response.status_code == 303, response.text
    assert decoder.calls == 1
    # a product image has its thumbnail; a banner's old image is deleted once the update commits
    assert len(stored_files()) == (2 if _case == "product image" else 1)
