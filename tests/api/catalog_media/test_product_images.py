"""Product images over the API: uploads proved by content, cleaned, thumbnailed, stored, listed,
reordered and deleted; every refusal leaves no row, no file and no audit entry."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response
from PIL import Image

from tests.factories.identity import make_staff, staff_headers
from tests.factories.media import (
    audit_actions,
    camera_exif,
    image_bytes,
    image_rows,
    make_product,
    png_claiming,
    stored,
    stored_files,
)

MiB = 1024 * 1024


async def editor() -> dict[str, str]:
    staff = await make_staff(email="editor@example.com", permissions=["catalog.read", "catalog.write"])
    return await staff_headers(staff.id) | {"Accept-Language": "en"}


async def upload(
    client: AsyncClient,
    product_id: int,
    data: bytes,
    headers: dict[str, str],
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
    alt: str = "",
) -> Response:
    return await client.post(
        f"/api/v1/admin/catalog/products/{product_id}/images",
        files={"file": (filename, data, content_type)},
        data={"alt": alt},
        headers=headers,
    )


def opened(url: str) -> Image.Image:
    """The stored image, decoded (read from bytes: no file is left open)."""
    image = Image.open(io.BytesIO(stored(url).read_bytes()))
    image.load()
    return image


@pytest.mark.parametrize(
    ("_case", "image_format", "filename", "declared", "content_type", "extension"),
    [
        ("png", "PNG", "a.png", "image/png", "image/png", "png"),
        ("jpeg", "JPEG", "a.jpg", "image/jpeg", "image/jpeg", "jpg"),
        ("webp", "WEBP", "a.webp", "image/webp", "image/webp", "webp"),
        ("png named and declared as jpeg", "PNG", "a.jpg", "image/jpeg", "image/png", "png"),
    ],
)
async def test_stores_the_image_and_a_thumbnail(
    client: AsyncClient,
    _case: str,
    image_format: str,
    filename: str,
    declared: str,
    content_type: str,
    extension: str,
) -> None:
    headers = await editor()
    product_id = await make_product()

    response = await upload(
        client,
        product_id,
        image_bytes(image_format, (1200, 900)),
        headers,
        filename=filename,
        content_type=declared,
        alt="正面",
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert {
        k: v for k, v in body.items() if k not in {"id", "url", "thumbnail_url", "created_at", "size_bytes"}
    } == {
        "product_id": product_id,
        "content_type": content_type,
        "width": 1200,
        "height": 900,
        "alt": "正面",
        "position": 0,
    }
    key = body["url"].removeprefix("/media/")
    assert key.startswith(f"products/{product_id}/")
    assert key.endswith(f".{extension}")
    assert body["thumbnail_url"] == body["url"].removesuffix(f".{extension}") + f"-thumb.{extension}"
    original, thumbnail = opened(body["url"]), opened(body["thumbnail_url"])
    assert (original.format, original.size) == (image_format, (1200, 900))
    assert (thumbnail.format, thumbnail.size) == (image_format, (400, 300))
    assert body["size_bytes"] == stored(body["url"]).stat().st_size
    assert stored_files() == sorted([key, body["thumbnail_url"].removeprefix("/media/")])
    assert await image_rows() == 1
    assert await audit_actions() == ["product.image_add"]


@pytest.mark.parametrize(("_case", "image_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
async def test_strips_exif_and_applies_its_orientation(
    client: AsyncClient, _case: str, image_format: str
) -> None:
    headers = await editor()
    product_id = await make_product()
    data = image_bytes(image_format, (640, 480), exif=camera_exif(orientation=6))  # rotate 90° clockwise
    assert Image.open(io.BytesIO(data)).getexif()[0x010F] == "SecretCam"

    response = await upload(client, product_id, data, headers)

    assert response.status_code == 201
    body = response.json()
    assert (body["width"], body["height"]) == (480, 640)
    for url in (body["url"], body["thumbnail_url"]):
        image = opened(url)
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
        assert b"SecretCam" not in stored(url).read_bytes()
    assert opened(body["thumbnail_url"]).size == (300, 400)


async def test_strips_png_text_chunks(client: AsyncClient) -> None:
    from PIL.PngImagePlugin import PngInfo  # noqa: PLC0415

    headers = await editor()
    product_id = await make_product()
    text = PngInfo()
    text.add_text("Author", "Jane Doe at 1 Secret Road")

    response = await upload(client, product_id, image_bytes("PNG", (50, 40), pnginfo=text), headers)

    assert response.status_code == 201
    assert b"Secret Road" not in stored(response.json()["url"]).read_bytes()
    assert opened(response.json()["url"]).info == {}


async def test_keeps_transparency_and_small_images_whole(client: AsyncClient) -> None:
    headers = await editor()
    product_id = await make_product()

    response = await upload(client, product_id, image_bytes("PNG", (120, 80), mode="RGBA"), headers)

    assert response.status_code == 201
    original, thumbnail = opened(response.json()["url"]), opened(response.json()["thumbnail_url"])
    assert (original.mode, original.size) == ("RGBA", (120, 80))
    assert (thumbnail.mode, thumbnail.size) == ("RGBA", (120, 80))


async def test_appends_images_in_upload_order(client: AsyncClient) -> None:
    headers = await editor()
    product_id = await make_product()
    other_id = await make_product()
    ids = [(await upload(client, product_id, image_bytes(), headers)).json()["id"] for _ in range(3)]
    await upload(client, other_id, image_bytes(), headers)

    response = await client.get(f"/api/v1/admin/catalog/products/{product_id}/images", headers=headers)

    assert response.status_code == 200
    assert [(image["id"], image["position"]) for image in response.json()] == [
        (ids[0], 0),
        (ids[1], 1),
        (ids[2], 2),
    ]


@pytest.mark.parametrize(
    ("_case", "data", "filename", "content_type"),
    [
        ("text named photo.jpg", b"just some text, not a picture\n" * 10, "photo.jpg", "image/jpeg"),
        ("empty file", b"", "photo.png", "image/png"),
        ("gif", image_bytes("GIF", (20, 20)), "photo.gif", "image/gif"),
        ("bmp declared as png", image_bytes("BMP", (20, 20)), "photo.png", "image/png"),
        ("truncated png", image_bytes("PNG", (300, 300))[:400], "photo.png", "image/png"),
        (
            "svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "a.svg",
            "image/svg+xml",
        ),
    ],
)
async def test_refuses_what_is_not_a_jpeg_png_or_webp_image(
    client: AsyncClient, _case: str, data: bytes, filename: str, content_type: str
) -> None:
    headers = await editor()
    product_id = await make_product()

    response = await upload(client, product_id, data, headers, filename=filename, content_type=content_type)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "catalog.image_invalid"
    assert response.json()["detail"] == "The file is not a valid JPEG, PNG or WebP image."
    assert await image_rows() == 0
    assert stored_files() == []
    assert await audit_actions() == []


@pytest.mark.parametrize(
    ("_case", "data"),
    [
        ("decompression bomb: a png claiming 20000 × 20000", png_claiming(20000, 20000)),
        ("claims one side over 8000", png_claiming(8001, 10)),
        ("really 8001 pixels wide", image_bytes("PNG", (8001, 1))),
    ],
)
async def test_refuses_images_with_too_many_pixels(client: AsyncClient, _case: str, data: bytes) -> None:
    headers = await editor()
    product_id = await make_product()

    response = await upload(client, product_id, data, headers)

    assert response.status_code == 422
    assert response.json()["code"] == "catalog.image_invalid"
    assert response.json()["detail"] == "The image is too large: at most 8000 × 8000 pixels."
    assert await image_rows() == 0
    assert stored_files() == []


async def test_accepts_a_five_megabyte_upload(client: AsyncClient) -> None:
    """Over the 2 MiB global body limit, under the upload limit."""
    headers = await editor()
    product_id = await make_product()
    data = image_bytes("PNG", (1500, 1500), mode="RGB")
    data = data + b"\0" * (5 * MiB - len(data))  # trailing bytes after IEND are ignored by decoders

    response = await upload(client, product_id, data, headers)

    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (1500, 1500)


async def test_refuses_a_thirty_megabyte_body_before_reading_it(client: AsyncClient) -> None:
    headers = await editor()
    product_id = await make_product()

    response = await upload(client, product_id, b"\xff\xd8" + b"\0" * (30 * MiB), headers)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "core.body_too_large"
    assert await image_rows() == 0
    assert stored_files() == []


async def test_refuses_a_streamed_body_once_it_passes_the_limit(client: AsyncClient) -> None:
    """No Content-Length (chunked): the body is cut off while it is read."""
    headers = await editor()
    product_id = await make_product()
    boundary = "media-boundary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        for _ in range(30):
            yield b"\0" * MiB

    response = await client.post(
        f"/api/v1/admin/catalog/products/{product_id}/images",
        content=body(),
        headers=headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 413
    assert response.json()["code"] == "core.body_too_large"
    assert await image_rows() == 0


async def test_refuses_an_upload_over_the_image_limit_without_decoding_it(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mercato.core.settings import get_settings  # noqa: PLC0415

    monkeypatch.setenv("MERCATO_MAX_IMAGE_BYTES", str(100 * 1024))
    get_settings.cache_clear()
    headers = await editor()
    product_id = await make_product()

    response = await upload(client, product_id, b"not an image" * 10_000, headers)

    assert response.status_code == 422
    assert response.json()["code"] == "catalog.image_too_large"
    assert response.json()["detail"] == "The image is too large: at most 0.0976562 MB."
    assert await image_rows() == 0
    assert stored_files() == []


async def test_refuses_an_unknown_product_and_stores_nothing(client: AsyncClient) -> None:
    headers = await editor()

    response = await upload(client, 999_999, image_bytes(), headers)
    listing = await client.get("/api/v1/admin/catalog/products/999999/images", headers=headers)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.product_not_found"
    assert listing.status_code == 404
    assert listing.json()["code"] == "catalog.product_not_found"
    assert await image_rows() == 0
    assert stored_files() == []
    assert await audit_actions() == []


async def test_refuses_alt_text_over_200_characters(client: AsyncClient) -> None:
    headers = await editor()
    product_id = await make_product()

    response = await upload(client, product_id, image_bytes(), headers, alt="图" * 201)

    assert response.status_code == 422
    assert response.json()["code"] == "core.validation_failed"
    assert response.json()["errors"][0]["loc"] == ["body", "alt"]
    assert await image_rows() == 0
    assert stored_files() == []


async def test_delete_removes_the_row_and_both_files(client: AsyncClient) -> None:
    headers = await editor()
    product_id = await make_product()
    kept = (await upload(client, product_id, image_bytes(), headers)).json()
    gone = (await upload(client, product_id, image_bytes("JPEG"), headers)).json()

    response = await client.delete(
        f"/api/v1/admin/catalog/products/{product_id}/images/{gone['id']}", headers=headers
    )
    again = await client.delete(
        f"/api/v1/admin/catalog/products/{product_id}/images/{gone['id']}", headers=headers
    )

    assert response.status_code == 204
    assert again.status_code == 404
    assert again.json()["code"] == "catalog.product_image_not_found"
    assert stored_files() == sorted(
        [kept["url"].removeprefix("/media/"), kept["thumbnail_url"].removeprefix("/media/")]
    )
    listing = await client.get(f"/api/v1/admin/catalog/products/{product_id}/images", headers=headers)
    assert [image["id"] for image in listing.json()] == [kept["id"]]
    assert await audit_actions() == ["product.image_add", "product.image_add", "product.image_remove"]


async def test_delete_refuses_an_image_of_another_product(client: AsyncClient) -> None:
    headers = await editor()
    product_id, other_id = await make_product(), await make_product()
    image = (await upload(client, product_id, image_bytes(), headers)).json()

    response = await client.delete(
        f"/api/v1/admin/catalog/products/{other_id}/images/{image['id']}", headers=headers
    )

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.product_image_not_found"
    assert await image_rows() == 1
    assert len(stored_files()) == 2


async def test_reorder_sets_the_display_order(client: AsyncClient) -> None:
    headers = await editor()
    product_id = await make_product()
    a, b, c = [(await upload(client, product_id, image_bytes(), headers)).json()["id"] for _ in range(3)]

    response = await client.put(
        f"/api/v1/admin/catalog/products/{product_id}/images/order",
        json={"image_ids": [c, a, b]},
        headers=headers,
    )

    assert response.status_code == 200
    assert [(image["id"], image["position"]) for image in response.json()] == [(c, 0), (a, 1), (b, 2)]
    listing = await client.get(f"/api/v1/admin/catalog/products/{product_id}/images", headers=headers)
    assert [image["id"] for image in listing.json()] == [c, a, b]
    assert (await audit_actions())[-1] == "product.image_reorder"


@pytest.mark.parametrize("_case", ["one missing", "one twice", "one of another product", "empty"])
async def test_reorder_refuses_anything_but_every_image_once(client: AsyncClient, _case: str) -> None:
    headers = await editor()
    product_id, other_id = await make_product(), await make_product()
    a, b = [(await upload(client, product_id, image_bytes(), headers)).json()["id"] for _ in range(2)]
    foreign = (await upload(client, other_id, image_bytes(), headers)).json()["id"]
    image_ids = {
        "one missing": [b],
        "one twice": [b, a, b],
        "one of another product": [b, a, foreign],
        "empty": [],
    }[_case]

    response = await client.put(
        f"/api/v1/admin/catalog/products/{product_id}/images/order",
        json={"image_ids": image_ids},
        headers=headers,
    )

    assert response.status_code == 422
    assert response.json()["code"] == "catalog.image_order_mismatch"
    listing = await client.get(f"/api/v1/admin/catalog/products/{product_id}/images", headers=headers)
    assert [(image["id"], image["position"]) for image in listing.json()] == [(a, 0), (b, 1)]
    assert "product.image_reorder" not in await audit_actions()


async def test_reorder_refuses_an_unknown_product(client: AsyncClient) -> None:
    headers = await editor()

    response = await client.put(
        "/api/v1/admin/catalog/products/999999/images/order", json={"image_ids": []}, headers=headers
    )

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.product_not_found"
