"""Product images and brand logos: uploads proved to be images, cleaned, stored, and recorded.

An upload is trusted for nothing it claims. It takes three steps (``core.images``), the edge
owning the transactions: ``check_product_image`` / ``check_brand_logo`` check its size, its
alternative text and that the product or brand exists, in the request's transaction; the route
ends that transaction and ``core.images.decode`` proves the upload (Pillow decides its format
from its content, only JPEG, PNG and WebP; its header's sides and pixel count are checked before
any pixel is decoded, so a decompression bomb is refused) and re-encodes it from its pixels,
which drops EXIF, XMP, ICC, text chunks and anything else riding along; then
``add_product_image`` / ``set_brand_logo`` store and record it in a new transaction, finding
out again whether the product or brand still exists.

Files are written before the row that points at them. If the row cannot be written the files
are deleted at once; if the transaction rolls back later, an ``after_rollback`` hook on the
session deletes them; files of a removed image or a replaced logo are deleted only after the
commit. So a failed request leaves no orphan and a committed row never points at nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import (
    BrandNotFound,
    ImageAltTooLong,
    ImageDimensionsTooLarge,
    ImageInvalid,
    ImageOrderMismatch,
    ImagePixelsTooMany,
    ImageTooLarge,
    ProductImageNotFound,
    ProductNotFound,
)
from mercato.catalog.models import Brand, Product, ProductImage
from mercato.catalog.schemas import BrandLogoRead, ProductImageRead
from mercato.catalog.service.caching import invalidate_products
from mercato.core import clock, images
from mercato.core.errors import DomainError
from mercato.core.settings import get_settings
from mercato.core.storage import MediaStorage, get_storage

#: The largest width and height accepted, in pixels.
MAX_SIDE = images.MAX_SIDE
#: Thumbnails fit in a square of this side, keeping the aspect ratio.
THUMBNAIL_SIDE = images.THUMBNAIL_SIDE
MAX_ALT_LENGTH = 200


# --- Checks before decoding (core.images) -------------------------------------------------


def _check_size(data: bytes) -> None:
    limit = get_settings().max_image_bytes
    if len(data) > limit:
        raise ImageTooLarge(max_megabytes=f"{limit / (1024 * 1024):g}")


def _refused(exc: images.ImageRejected) -> DomainError:
    """The catalog's error for an upload ``core.images`` refused."""
    if isinstance(exc, images.ImageOverPixelLimit):
        return ImagePixelsTooMany(max_megapixels=exc.megapixels)
    if isinstance(exc, images.ImageTooManyPixels):
        return ImageDimensionsTooLarge(max_side=exc.max_side)
    return ImageInvalid()


def _upload(data: bytes, actor: identity.Actor, *, with_thumbnail: bool) -> images.Upload:
    uploader = f"staff:{actor.staff_id}" if actor.staff_id is not None else f"actor:{actor.label}"
    return images.Upload(
        data=data,
        uploader=uploader,
        refused=_refused,
        max_side=MAX_SIDE,
        with_thumbnail=with_thumbnail,
        thumbnail_side=THUMBNAIL_SIDE,
    )


# --- Files and the transaction (core.images) ----------------------------------------------


def _printable(value: str | None, limit: int) -> str:
    return "".join(ch for ch in (value or "") if ch.isprintable()).strip()[:limit]


_delete_files = images.delete_files
_save_files = images.save_files
_delete_if_rolled_back = images.delete_if_rolled_back
_after_commit_delete = images.delete_after_commit


# --- Product images -----------------------------------------------------------------------


def _image_read(row: ProductImage, storage: MediaStorage) -> ProductImageRead:
    return ProductImageRead(
        id=row.id,
        product_id=row.product_id,
        url=storage.url(row.storage_key),
        thumbnail_url=storage.url(row.thumbnail_key),
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        width=row.width,
        height=row.height,
        alt=row.alt,
        position=row.position,
        created_at=row.created_at,
    )


def _image_view(row: ProductImage) -> dict[str, Any]:
    return {
        "image_id": row.id,
        "storage_key": row.storage_key,
        "thumbnail_key": row.thumbnail_key,
        "content_type": row.content_type,
        "size_bytes": row.size_bytes,
        "width": row.width,
        "height": row.height,
        "alt": row.alt,
        "position": row.position,
    }


async def _check_product(session: AsyncSession, product_id: int) -> None:
    found = await session.scalar(select(Product.id).where(Product.id == product_id))
    if found is None:
        raise ProductNotFound()


def _clean_alt(alt: str) -> str:
    """``alt`` without control characters.

    Raises:
        ImageAltTooLong (422 catalog.image_alt_too_long): over 200 characters.
    """
    alt = _printable(alt, MAX_ALT_LENGTH + 1)
    if len(alt) > MAX_ALT_LENGTH:
        raise ImageAltTooLong(max_length=MAX_ALT_LENGTH)
    return alt


async def check_product_image(
    session: AsyncSession, *, product_id: int, data: bytes, alt: str, actor: identity.Actor
) -> images.Upload:
    """Check an image upload for the product before it is decoded (no decoding, no writes).

    Decode the returned upload with ``core.images.decode`` once the transaction is ended, then
    record it with :func:`add_product_image`.

    Raises:
        ImageTooLarge (422 catalog.image_too_large): over ``max_image_bytes``.
        ImageAltTooLong (422 catalog.image_alt_too_long): ``alt`` over 200 characters.
        ProductNotFound (404 catalog.product_not_found).
    """
    _check_size(data)
    _clean_alt(alt)
    await _check_product(session, product_id)
    return _upload(data, actor, with_thumbnail=True)


async def add_product_image(
    session: AsyncSession,
    *,
    product_id: int,
    image: images.EncodedImage,
    filename: str,
    declared_type: str | None,
    alt: str,
    actor: identity.Actor,
) -> ProductImageRead:
    """Store a decoded upload (see :func:`check_product_image`) and its thumbnail as the
    product's last image.

    ``filename`` and ``declared_type`` are recorded in the audit log only: the format comes from
    the content, the storage key from a random id. Control characters are dropped from ``alt``.

    Raises:
        ImageAltTooLong (422 catalog.image_alt_too_long): ``alt`` over 200 characters.
        ProductNotFound (404 catalog.product_not_found): deleted since it was checked.
    """
    alt = _clean_alt(alt)
    encoded = image
    if encoded.thumbnail is None:
        raise ValueError("a product image is decoded with its thumbnail (check_product_image)")

    storage = get_storage()
    stem = f"products/{product_id}/{uuid.uuid4().hex}"
    key, thumbnail_key = f"{stem}.{encoded.extension}", f"{stem}-thumb.{encoded.extension}"
    await _save_files(
        storage,
        [(key, encoded.data, encoded.content_type), (thumbnail_key, encoded.thumbnail, encoded.content_type)],
    )
    next_position = (
        select(func.coalesce(func.max(ProductImage.position) + 1, 0))
        .where(ProductImage.product_id == product_id)
        .scalar_subquery()
    )
    try:
        row = (
            await session.scalars(
                insert(ProductImage)
                .values(
                    product_id=product_id,
                    storage_key=key,
                    thumbnail_key=thumbnail_key,
                    content_type=encoded.content_type,
                    size_bytes=len(encoded.data),
                    width=encoded.width,
                    height=encoded.height,
                    alt=alt,
                    position=next_position,
                    created_at=clock.now(),
                )
                .returning(ProductImage)
            )
        ).one()
    except BaseException as exc:
        await _delete_files(storage, [key, thumbnail_key])
        if isinstance(exc, IntegrityError):  # the product was deleted meanwhile
            raise ProductNotFound() from exc
        raise
    _delete_if_rolled_back(session, [key, thumbnail_key])
    await invalidate_products(session, [product_id])  # the product page lists its images
    await identity.record_audit(
        session,
        actor=actor,
        action="product.image_add",
        object_type="product",
        object_id=str(product_id),
        after=_image_view(row)
        | {"filename": _printable(filename, 200), "declared_type": _printable(declared_type, 100)},
    )
    return _image_read(row, storage)


async def list_product_images(session: AsyncSession, *, product_id: int) -> list[ProductImageRead]:
    """The product's images in display order.

    Raises:
        ProductNotFound (404 catalog.product_not_found).
    """
    await _check_product(session, product_id)
    rows = await session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    storage = get_storage()
    return [_image_read(row, storage) for row in rows]


async def remove_product_image(
    session: AsyncSession, *, product_id: int, image_id: int, actor: identity.Actor
) -> None:
    """Delete an image of the product; its files are deleted once the transaction commits.

    Raises:
        ProductImageNotFound (404 catalog.product_image_not_found): no such image on this product.
    """
    row = (
        await session.scalars(
            delete(ProductImage)
            .where(ProductImage.id == image_id, ProductImage.product_id == product_id)
            .returning(ProductImage)
        )
    ).one_or_none()
    if row is None:
        raise ProductImageNotFound()
    _after_commit_delete(session, [row.storage_key, row.thumbnail_key])
    await invalidate_products(session, [product_id])  # the product page lists its images
    await identity.record_audit(
        session,
        actor=actor,
        action="product.image_remove",
        object_type="product",
        object_id=str(product_id),
        before=_image_view(row),
    )


async def reorder_product_images(
    session: AsyncSession, *, product_id: int, image_ids: Sequence[int], actor: identity.Actor
) -> list[ProductImageRead]:
    """Show the product's images in the order of ``image_ids`` (positions 0, 1, 2, …).

    Raises:
        ProductNotFound (404 catalog.product_not_found).
        ImageOrderMismatch (422 catalog.image_order_mismatch): ``image_ids`` is not every image
            of the product exactly once.
    """
    await _check_product(session, product_id)
    current = list(
        await session.scalars(
            select(ProductImage.id)
            .where(ProductImage.product_id == product_id)
            .order_by(ProductImage.position, ProductImage.id)
        )
    )
    wanted = list(image_ids)
    if len(set(wanted)) != len(wanted) or set(wanted) != set(current):
        raise ImageOrderMismatch()
    if wanted:
        await session.execute(
            update(ProductImage)
            .where(ProductImage.product_id == product_id, ProductImage.id.in_(wanted))
            .values(
                position=case(
                    {image_id: index for index, image_id in enumerate(wanted)}, value=ProductImage.id
                )
            )
            .execution_options(synchronize_session=False)
        )
    await invalidate_products(session, [product_id])  # the product page lists its images
    await identity.record_audit(
        session,
        actor=actor,
        action="product.image_reorder",
        object_type="product",
        object_id=str(product_id),
        before={"image_ids": current},
        after={"image_ids": wanted},
    )
    return await list_product_images(session, product_id=product_id)


# --- Brand logos --------------------------------------------------------------------------


async def check_brand_logo(
    session: AsyncSession, *, brand_id: int, data: bytes, actor: identity.Actor
) -> images.Upload:
    """Check a logo upload for the brand before it is decoded (no decoding, no writes).

    Decode the returned upload with ``core.images.decode`` once the transaction is ended, then
    record it with :func:`set_brand_logo`.

    Raises:
        ImageTooLarge (422 catalog.image_too_large): over ``max_image_bytes``.
        BrandNotFound (404 catalog.brand_not_found).
    """
    _check_size(data)
    if await session.scalar(select(Brand.id).where(Brand.id == brand_id)) is None:
        raise BrandNotFound()
    return _upload(data, actor, with_thumbnail=False)


async def set_brand_logo(
    session: AsyncSession,
    *,
    brand_id: int,
    image: images.EncodedImage,
    filename: str,
    declared_type: str | None,
    actor: identity.Actor,
) -> BrandLogoRead:
    """Store a decoded logo (see :func:`check_brand_logo`) for the brand; the logo it replaces is
    deleted after the commit.

    Raises:
        BrandNotFound (404 catalog.brand_not_found): deleted since it was checked.
    """
    # Lock the brand (PostgreSQL; SQLite's write transaction already excludes other writers) so
    # two uploads cannot both replace the same old logo and orphan one of the new files.
    old = (
        await session.execute(select(Brand.id, Brand.logo_key).where(Brand.id == brand_id).with_for_update())
    ).one_or_none()
    if old is None:
        raise BrandNotFound()
    old_key = old.logo_key
    encoded = image

    storage = get_storage()
    key = f"brands/{brand_id}/{uuid.uuid4().hex}.{encoded.extension}"
    await _save_files(storage, [(key, encoded.data, encoded.content_type)])
    try:
        await session.execute(
            update(Brand).where(Brand.id == brand_id).values(logo_key=key, updated_at=clock.now())
        )
    except BaseException:
        await _delete_files(storage, [key])
        raise
    _delete_if_rolled_back(session, [key])
    if old_key:
        _after_commit_delete(session, [old_key])
    await identity.record_audit(
        session,
        actor=actor,
        action="brand.logo_set",
        object_type="brand",
        object_id=str(brand_id),
        before={"logo_key": old_key},
        after={
            "logo_key": key,
            "content_type": encoded.content_type,
            "size_bytes": len(encoded.data),
            "width": encoded.width,
            "height": encoded.height,
            "filename": _printable(filename, 200),
            "declared_type": _printable(declared_type, 100),
        },
    )
    return BrandLogoRead(
        brand_id=brand_id,
        url=storage.url(key),
        content_type=encoded.content_type,
        size_bytes=len(encoded.data),
        width=encoded.width,
        height=encoded.height,
    )
