"""Photos on a request: proved to be images by their content, re-encoded without metadata,
stored, capped per request, and only while the request is undecided or disputed."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import AsyncClient
from PIL import Image

from mercato.core import events
from mercato.core.settings import get_settings
from mercato.core.storage import set_storage
from mercato.worker import register
from tests.api.aftersales.support import bought, staff
from tests.service.aftersales.support import png, rows


@pytest.fixture(autouse=True)
def handlers() -> Iterator[None]:
    register()
    set_storage(None)
    yield
    events.unsubscribe_all()
    shutil.rmtree(get_settings().media_root / "aftersales", ignore_errors=True)
    set_storage(None)


def stored(url: str) -> Path:
    return get_settings().media_root / url.removeprefix("/media/")


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0132] = "2026:11:27 10:00:00"  # DateTime
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 10)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_a_photo_is_cleaned_stored_and_shown_on_the_request(client: AsyncClient) -> None:
    purchase = await bought(client)
    request_id = (
        await client.post("/api/v1/aftersales", json=purchase.request(), headers=purchase.auth)
    ).json()["id"]
    assert Image.open(io.BytesIO(jpeg_with_exif())).getexif()[0x010F] == "SpyCam"

    added = await client.post(
        f"/api/v1/aftersales/{request_id}/photos",
        files={"file": ("IMG_0001.png", jpeg_with_exif(), "image/png")},  # the declared type is ignored
        headers=purchase.auth,
    )
    view = (await client.get(f"/api/v1/aftersales/{request_id}", headers=purchase.auth)).json()

    assert added.status_code == 201, added.text
    photo = added.json()
    assert (photo["content_type"], photo["width"], photo["height"]) == ("image/jpeg", 64, 48)
    assert re.fullmatch(rf"/media/aftersales/{request_id}/[0-9a-f]{{32}}\.jpg", photo["url"])
    with Image.open(stored(photo["url"])) as saved:
        assert (saved.format, dict(saved.getexif())) == ("JPEG", {})
    assert [p["id"] for p in view["photos"]] == [photo["id"]]
    served = await client.get(photo["url"])
    assert (served.status_code, served.headers["content-type"]) == (200, "image/jpeg")


async def test_refused_photos_change_nothing(client: AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    purchase = await bought(client)
    cs = await staff("cs@example.com", "aftersales.write")
    request_id = (
        await client.post("/api/v1/aftersales", json=purchase.request(), headers=purchase.auth)
    ).json()["id"]
    monkeypatch.setenv("MERCATO_AFTERSALES_MAX_PHOTOS", "2")
    monkeypatch.setenv("MERCATO_MAX_IMAGE_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    url = f"/api/v1/aftersales/{request_id}/photos"
    first = await client.post(url, files={"file": ("a.png", png(), "image/png")}, headers=purchase.auth)
    before = await rows()

    not_an_image = await client.post(
        url, files={"file": ("b.png", b"GIF89a not really", "image/png")}, headers=purchase.auth
    )
    too_big = await client.post(
        url, files={"file": ("c.png", b"\0" * (64 * 1024 + 1), "image/png")}, headers=purchase.auth
    )
    refused = await rows()
    second = await client.post(url, files={"file": ("d.png", png(), "image/png")}, headers=purchase.auth)
    one_too_many = await client.post(
        url, files={"file": ("e.png", png(), "image/png")}, headers=purchase.auth
    )
    await client.post(f"/api/v1/admin/aftersales/{request_id}/approve", json={}, headers=cs)
    decided = await rows()
    after_decision = await client.post(
        url, files={"file": ("f.png", png(), "image/png")}, headers=purchase.auth
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert [
        (r.status_code, r.json()["code"]) for r in (not_an_image, too_big, one_too_many, after_decision)
    ] == [
        (422, "aftersales.photo_invalid"),
        (422, "aftersales.photo_too_large"),
        (409, "aftersales.too_many_photos"),
        (409, "aftersales.photos_closed"),
    ]
    assert refused == before
    assert await rows() == decided
    assert decided["aftersales_photo"] == 2
    assert len(list((get_settings().media_root / "aftersales" / str(request_id)).iterdir())) == 2
