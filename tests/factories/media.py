"""Media factories: a product or brand to hang images on (minimal catalog rows written directly:
the catalog services are not under test here), images made in memory, and what storage holds."""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from mercato.catalog.models import Brand, Category, Product, ProductImage, ProductType
from mercato.core import clock
from mercato.core.db import uow
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
