"""/media serves what the local storage holds, read-only, with its content type and nosniff."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato.core.storage import get_storage
from tests.factories.identity import make_staff, staff_headers
from tests.factories.media import image_bytes, make_product, media_root, stored


async def uploaded(client: AsyncClient, image_format: str, extension: str) -> dict[str, str]:
    staff = await make_staff(email="editor@example.com", permissions=["catalog.write"])
    response = await client.post(
        f"/api/v1/admin/catalog/products/{await make_product()}/images",
        files={"file": (f"a.{extension}", image_bytes(image_format, (30, 20)), "application/octet-stream")},
        headers=await staff_headers(staff.id),
    )
    assert response.status_code == 201
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("_case", "image_format", "extension", "content_type"),
    [
        ("png", "PNG", "png", "image/png"),
        ("jpeg", "JPEG", "jpg", "image/jpeg"),
        ("webp", "WEBP", "webp", "image/webp"),
    ],
)
async def test_serves_images_with_their_content_type(
    client: AsyncClient, _case: str, image_format: str, extension: str, content_type: str
) -> None:
    image = await uploaded(client, image_format, extension)

    original = await client.get(image["url"])
    thumbnail = await client.get(image["thumbnail_url"])

    for response, url in ((original, image["url"]), (thumbnail, image["thumbnail_url"])):
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == stored(url).read_bytes()


async def test_is_read_only(client: AsyncClient) -> None:
    image = await uploaded(client, "PNG", "png")

    response = await client.delete(image["url"])
    overwrite = await client.put(image["url"], content=b"evil")

    assert response.status_code == 405
    assert overwrite.status_code == 405
    assert stored(image["url"]).read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("_case", "path"),
    [
        ("missing file", "/media/products/1/0123456789abcdef.png"),
        ("encoded traversal", "/media/products/%2e%2e/%2e%2e/secret.png"),
        ("double-encoded traversal", "/media/..%252f..%252fsecret.png"),
        ("not a media type", "/media/secret.txt"),
        ("hidden file", "/media/.secret.png"),
        ("directory", "/media/products"),
    ],
)
async def test_serves_nothing_else(client: AsyncClient, _case: str, path: str) -> None:
    root = media_root()
    root.mkdir(parents=True, exist_ok=True)
    (root / "secret.txt").write_text("not for you")
    (root / ".secret.png").write_bytes(image_bytes())
    (root.parent / "secret.png").write_bytes(image_bytes())

    response = await client.get(path)

    assert response.status_code == 404
    (root.parent / "secret.png").unlink()


async def test_storage_urls_point_at_media(client: AsyncClient) -> None:
    assert get_storage().url("products/1/a.png") == "/media/products/1/a.png"
