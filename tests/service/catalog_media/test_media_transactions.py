"""Media files follow the transaction: a rollback deletes what it wrote, and files of removed
images or replaced logos go only once the removal is committed."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import images
from mercato.core.db import uow
from tests.factories.media import (
    audit_actions,
    decoded,
    image_bytes,
    image_rows,
    make_brand,
    make_product,
    media_root,
    stored_files,
)

ACTOR = identity.Actor(staff_id=None, label="tests")


async def add(session: AsyncSession, product_id: int, data: bytes | None = None) -> catalog.ProductImageRead:
    upload = await catalog.check_product_image(
        session, product_id=product_id, data=data if data is not None else image_bytes(), alt="", actor=ACTOR
    )
    return await catalog.add_product_image(
        session,
        product_id=product_id,
        image=await images.decode(upload),
        filename="a.png",
        declared_type="image/png",
        alt="",
        actor=ACTOR,
    )


def keys(image: catalog.ProductImageRead) -> list[str]:
    return sorted(url.removeprefix("/media/") for url in (image.url, image.thumbnail_url))


@pytest.mark.parametrize(
    ("_case", "error"),
    [("a bug", RuntimeError("boom")), ("a domain error", catalog.ProductNotFound())],
)
async def test_a_rollback_deletes_the_files_it_wrote(_case: str, error: Exception) -> None:
    product_id = await make_product()

    written: list[str] = []

    async def add_two_then_fail() -> None:
        async with uow() as session:
            first = await add(session, product_id)
            second = await add(session, product_id)
            written.extend(stored_files())
            assert written == sorted(keys(first) + keys(second))
            raise error

    with pytest.raises(type(error)):
        await add_two_then_fail()

    assert len(written) == 4

    assert stored_files() == []
    assert await image_rows() == 0
    assert await audit_actions() == []


async def test_a_commit_keeps_every_file() -> None:
    product_id = await make_product()

    async with uow() as session:
        first = await add(session, product_id)
        second = await add(session, product_id)

    assert stored_files() == sorted(keys(first) + keys(second))
    assert (first.position, second.position) == (0, 1)
    async with uow() as session:
        third = await add(session, product_id)  # a fresh session after a committed one
    assert third.position == 2
    assert len(stored_files()) == 6


async def test_removed_files_stay_until_the_removal_commits() -> None:
    product_id = await make_product()
    async with uow() as session:
        image = await add(session, product_id)

    async def remove_then_fail() -> None:
        async with uow() as session:
            await catalog.remove_product_image(session, product_id=product_id, image_id=image.id, actor=ACTOR)
            assert stored_files() == keys(image)
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await remove_then_fail()
    assert stored_files() == keys(image)
    assert await image_rows() == 1

    async with uow() as session:
        await catalog.remove_product_image(session, product_id=product_id, image_id=image.id, actor=ACTOR)
    assert stored_files() == []
    assert await image_rows() == 0


async def test_a_rolled_back_logo_leaves_the_current_one_in_place() -> None:
    brand_id = await make_brand()
    async with uow() as session:
        current = await catalog.set_brand_logo(
            session, brand_id=brand_id, image=decoded(), filename="a.png", declared_type=None, actor=ACTOR
        )

    async def replace_then_fail() -> None:
        async with uow() as session:
            await catalog.set_brand_logo(
                session,
                brand_id=brand_id,
                image=decoded(image_bytes("WEBP"), thumbnail=False),
                filename="b",
                declared_type=None,
                actor=ACTOR,
            )
            assert len(stored_files()) == 2
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await replace_then_fail()

    assert stored_files() == [current.url.removeprefix("/media/")]


def half_transparent(image_format: str, **options: object) -> bytes:
    image = Image.new("RGBA", (40, 30), (200, 30, 30, 255))
    image.paste((0, 0, 0, 0), (0, 0, 20, 30))
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("_case", "data", "mode"),
    [
        ("palette png with transparency", image_bytes("PNG", (40, 30), mode="P", transparency=0), "RGBA"),
        ("greyscale jpeg", image_bytes("JPEG", (40, 30), mode="L"), "RGB"),
        ("cmyk jpeg", image_bytes("JPEG", (40, 30), mode="CMYK"), "RGB"),
        ("16-bit greyscale png", image_bytes("PNG", (40, 30), mode="I;16"), "RGB"),
        ("greyscale png with alpha", image_bytes("PNG", (40, 30), mode="LA"), "RGBA"),
        ("lossless webp with alpha", half_transparent("WEBP", lossless=True), "RGBA"),
        ("png with alpha", half_transparent("PNG"), "RGBA"),
    ],
)
async def test_stores_every_colour_mode_as_rgb_or_rgba(_case: str, data: bytes, mode: str) -> None:
    product_id = await make_product()

    async with uow() as session:
        image = await add(session, product_id, data)

    assert (image.width, image.height) == (40, 30)
    for key in keys(image):
        with Image.open(io.BytesIO((media_root() / key).read_bytes())) as stored:
            assert stored.mode == mode
