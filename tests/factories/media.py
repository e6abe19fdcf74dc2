"""Media factories: a product or brand to hang images on (minimal catalog rows written directly:
the catalog services are not under test here), images made in memory, and what storage holds."""

from __future__ import annotations

import asyncio
import io
import itertools
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.pool import QueuePool

from mercato.catalog.models import Brand, Category, Product, ProductImage, ProductType
from mercato.core import clock, images
from mercato.core.db import get_database, uow
from mercato.core.settings import get_settings
from mercato.identity.models import AuditEntry

_numbers = itertools.count(1)


async def make_product() -> int:
    """A draft product (with its own category and product type); returns its id."""
    n = next(_numbers)
    now = clock.now()
    async with uow() as s:
        category = Category(
            name=f"媒体类目{n}", slug=f"media-c-{n}", path="/", created_at=now, updated_at=now
        )
        product_type = ProductType(name=f"media type {n}", created_at=now)
        s.add_all([category, product_type])
        await s.flush()
        category.path = f"/{category.id}/"
        product = Product(
            product_type_id=product_type.id,
            category_id=category.id,
            slug=f"media-p-{n}",
            title=f"商品{n}",
            currency="CNY",
            created_at=now,
            updated_at=now,
        )
        s.add(product)
        await s.flush()
        return product.id


async def make_brand() -> int:
    n = next(_numbers)
    now = clock.now()
    async with uow() as s:
        brand = Brand(name=f"品牌{n}", slug=f"media-b-{n}", created_at=now, updated_at=now)
        s.add(brand)
        await s.flush()
        return brand.id


def image_bytes(
    image_format: str = "PNG",
    size: tuple[int, int] = (640, 480),
    *,
    mode: str = "RGB",
    exif: Image.Exif | None = None,
    **options: object,
) -> bytes:
    """An image made in memory: a gradient, so encoders have something to compress."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    image.save(out, image_format, **options)
    return out.getvalue()


def camera_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF a phone would write: who made the camera, who took the photo, and where."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x013B] = "Jane Doe"  # Artist
    exif[0x010E] = "Home, 1 Secret Road"  # ImageDescription
    if orientation is not None:
        exif[0x0112] = orientation
    return exif


def decoded(data: bytes | None = None, *, thumbnail: bool = True) -> images.EncodedImage:
    """An upload proved and re-encoded as ``core.images.decode`` does, for set-up (a gradient PNG
    unless ``data`` is given; with a thumbnail, as product images need)."""
    return images.encode_image(data if data is not None else image_bytes(), with_thumbnail=thumbnail)


class Decoder:
    """Stands in for ``core.images.encode_image`` (the decode run on the decoder threads): counts
    each call and, when ``held``, blocks it until the test calls ``let_go`` (no sleeps, no
    timings: the test decides when a decode ends)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, held: bool) -> None:
        self.calls = 0
        self.started = threading.Event()
        self._released = threading.Event()
        if not held:
            self._released.set()
        self._real = images.encode_image
        monkeypatch.setattr(images, "encode_image", self._decode)

    def _decode(self, data: bytes, **options: Any) -> images.EncodedImage:
        self.calls += 1
        self.started.set()
        if not self._released.wait(timeout=60):
            raise TimeoutError("the test never let the decode go")
        return self._real(data, **options)

    async def wait_started(self) -> None:
        """Until a decode has begun on its thread (at most 10 s)."""
        assert await asyncio.to_thread(self.started.wait, 10), "no decode started"

    def let_go(self) -> None:
        self._released.set()


def connections_in_use() -> int:
    """Database connections checked out of this process's pool right now."""
    pool = get_database().engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def big_but_small_png(width: int, height: int) -> bytes:
    """A real PNG of ``width`` × ``height`` one-bit pixels, all white: a few kilobytes on disk."""
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG", optimize=True)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` (a decompression bomb's calling card)."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def media_root() -> Path:
    return get_settings().media_root


def stored_files() -> list[str]:
    """Every file in the media storage, as sorted keys."""
    root = media_root()
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def stored(url: str) -> Path:
    """The file behind a ``/media/...`` URL."""
    assert url.startswith("/media/")
    return media_root() / url.removeprefix("/media/")


async def image_rows() -> int:
    async with uow(write=False) as s:
        return int(await s.scalar(select(func.count()).select_from(ProductImage)) or 0)


async def audit_actions() -> list[str]:
    """The audit log's product and brand actions, oldest first (staff set-up is left out)."""
    async with uow(write=False) as s:
        return list(
            await s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type.in_(["product", "brand"]))
                .order_by(AuditEntry.id)
            )
        )
