"""Photos of the goods on a request: proved to be images, cleaned, stored, counted.

An upload is trusted for nothing it claims: its size is checked before decoding, then
``core.images`` proves it (Pillow decides the format from the content, only JPEG, PNG and WebP;
the header's dimensions are checked before any pixel is decoded) and re-encodes its pixels,
which drops EXIF (a phone photo's GPS position), XMP, ICC and anything riding along. Decoding
runs in a worker thread. The file is written before its row; if the transaction rolls back it is
deleted again (``core.images.delete_if_rolled_back``), so no orphan is left.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.aftersales.errors import PhotoInvalid, PhotosClosed, PhotoTooLarge, TooManyPhotos
from mercato.aftersales.models import AftersalesPhoto, AftersalesRequest
from mercato.aftersales.schemas import PhotoRead
from mercato.aftersales.service.common import load
from mercato.aftersales.states import AftersalesStatus
from mercato.core import clock, images
from mercato.core.settings import get_settings
from mercato.core.storage import get_storage

MAX_SIDE = images.MAX_SIDE
#: Photos may be added until the request is decided, and again as evidence for a dispute.
OPEN_FOR_PHOTOS = (AftersalesStatus.requested, AftersalesStatus.rejected, AftersalesStatus.disputed)


async def _encode(data: bytes) -> images.EncodedImage:
    """Prove ``data`` is a JPEG, PNG or WebP image and re-encode its pixels (in a thread).

    Raises:
        PhotoInvalid (422): any other format, a damaged file, or too many pixels.
    """
    try:
        return await asyncio.to_thread(images.encode_image, data, with_thumbnail=False, max_side=MAX_SIDE)
    except images.ImageRejected as exc:
        raise PhotoInvalid(max_side=MAX_SIDE) from exc


async def add_photo(session: AsyncSession, *, request_id: int, customer_id: int, data: bytes) -> PhotoRead:
    """Attach a photo to one of the customer's requests (at most ``aftersales_max_photos``).

    Raises:
        PhotoTooLarge (422): over ``max_image_bytes`` (not decoded).
        RequestNotFound (404): none, or another customer's.
        PhotoInvalid (422): not a JPEG, PNG or WebP image, damaged, or over 8000 pixels a side.
        PhotosClosed (409): the request was decided (and is not disputed).
        TooManyPhotos (409): it has its maximum already.
    """
    settings = get_settings()
    if len(data) > settings.max_image_bytes:
        raise PhotoTooLarge(max_megabytes=f"{settings.max_image_bytes / (1024 * 1024):g}")
    await load(session, request_id, customer_id=customer_id)
    encoded = await _encode(data)
    maximum = settings.aftersales_max_photos
    counted = await session.execute(
        update(AftersalesRequest)
        .where(
            AftersalesRequest.id == request_id,
            AftersalesRequest.status.in_([str(s) for s in OPEN_FOR_PHOTOS]),
            AftersalesRequest.photo_count < maximum,
        )
        .values(photo_count=AftersalesRequest.photo_count + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(counted, "rowcount", 0) != 1:
        status = (
            await session.execute(select(AftersalesRequest.status).where(AftersalesRequest.id == request_id))
        ).scalar_one()
        if AftersalesStatus(status) not in OPEN_FOR_PHOTOS:
            raise PhotosClosed()
        raise TooManyPhotos(maximum=maximum)
    storage = get_storage()
    key = f"aftersales/{request_id}/{uuid.uuid4().hex}.{encoded.extension}"
    await images.save_files(storage, [(key, encoded.data, encoded.content_type)])
    images.delete_if_rolled_back(session, [key])
    row = AftersalesPhoto(
        request_id=request_id,
        storage_key=key,
        content_type=encoded.content_type,
        size_bytes=len(encoded.data),
        width=encoded.width,
        height=encoded.height,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    return PhotoRead(
        id=row.id,
        url=storage.url(key),
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        width=row.width,
        height=row.height,
        created_at=row.created_at,
    )
