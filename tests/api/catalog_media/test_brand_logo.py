"""Brand logos over the API: the same checks as product images; a new logo replaces the old one."""

from __future__ import annotations

from httpx import AsyncClient, Response
from PIL import Image
from sqlalchemy import select

from mercato.catalog.models import Brand
from mercato.core.db import uow
from tests.factories.identity import make_staff, staff_headers
from tests.factories.media import audit_actions, camera_exif, image_bytes, make_brand, stored, stored_files


async def editor() -> dict[str, str]:
    staff = await make_staff(email="editor@example.com", permissions=["catalog.write"])
    return await staff_headers(staff.id) | {"Accept-Language": "en"}


async def put_logo(
    client: AsyncClient, brand_id: int, data: bytes, headers: dict[str, str], filename: str = "logo.png"
) -> Response:
    return await client.put(
        f"/api/v1/admin/catalog/brands/{brand_id}/logo",
        files={"file": (filename, data, "image/png")},
        headers=headers,
    )


async def logo_key(brand_id: int) -> str | None:
    async with uow(write=False) as s:
        return await s.scalar(select(Brand.logo_key).where(Brand.id == brand_id))


async def test_stores_the_logo_without_metadata(client: AsyncClient) -> None:
    headers = await editor()
    brand_id = await make_brand()

    response = await put_logo(client, brand_id, image_bytes("JPEG", (300, 120), exif=camera_exif()), headers)

    assert response.status_code == 200, response.text
    body = response.json()
    key = body["url"].removeprefix("/media/")
    assert body == {
        "brand_id": brand_id,
        "url": f"/media/{key}",
        "content_type": "image/jpeg",
        "size_bytes": stored(body["url"]).stat().st_size,
        "width": 300,
        "height": 120,
    }
    assert key.startswith(f"brands/{brand_id}/")
    assert key.endswith(".jpg")
    assert await logo_key(brand_id) == key
    assert stored_files() == [key]
    with Image.open(stored(body["url"])) as logo:
        assert dict(logo.getexif()) == {}
    assert await audit_actions() == ["brand.logo_set"]


async def test_a_new_logo_replaces_and_deletes_the_old_one(client: AsyncClient) -> None:
    headers = await editor()
    brand_id = await make_brand()
    first = (await put_logo(client, brand_id, image_bytes("PNG"), headers)).json()

    second = await put_logo(client, brand_id, image_bytes("WEBP"), headers)

    assert second.status_code == 200
    key = second.json()["url"].removeprefix("/media/")
    assert key != first["url"].removeprefix("/media/")
    assert key.endswith(".webp")
    assert await logo_key(brand_id) == key
    assert stored_files() == [key]
    assert await audit_actions() == ["brand.logo_set", "brand.logo_set"]


async def test_refuses_a_text_file_and_keeps_the_current_logo(client: AsyncClient) -> None:
    headers = await editor()
    brand_id = await make_brand()
    current = (await put_logo(client, brand_id, image_bytes(), headers)).json()

    response = await put_logo(client, brand_id, b"GIF89a? no, just text", headers, filename="logo.gif")

    assert response.status_code == 422
    assert response.json()["code"] == "catalog.image_invalid"
    assert await logo_key(brand_id) == current["url"].removeprefix("/media/")
    assert stored_files() == [current["url"].removeprefix("/media/")]
    assert await audit_actions() == ["brand.logo_set"]


async def test_refuses_an_unknown_brand_and_stores_nothing(client: AsyncClient) -> None:
    headers = await editor()

    response = await put_logo(client, 999_999, image_bytes(), headers)

    assert response.status_code == 404
    assert response.json()["code"] == "catalog.brand_not_found"
    assert stored_files() == []
    assert await audit_actions() == []
