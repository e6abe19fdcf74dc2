"""Photos of the goods on a request: proved to be images, cleaned, stored, counted.

An upload is trusted for nothing it claims: its size is checked before decoding, Pillow decides
the format from the content (only its JPEG, PNG and WebP plugins may open it), the header's
dimensions are checked before any pixel is decoded, and the pixels are re-encoded, which drops
EXIF (a phone photo's GPS position), XMP, ICC and anything riding along. Decoding runs in a
worker thread. The file is written before its row; if the transaction rolls back, an
``after_rollback`` hook deletes it, so no orphan is left.

This mirrors ``catalog/service/media.py`` (private to catalog); a shared ``core`` image helper
would serve both.
"""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from PIL import Image, ImageOps
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from mercato.aftersales.errors import PhotoInvalid, PhotosClosed, PhotoTooLarge, TooManyPhotos
from mercato.aftersales.models import AftersalesPhoto, AftersalesRequest
from mercato.aftersales.schemas import PhotoRead
from mercato.aftersales.service.common import load
from mercato.aftersales.states import AftersalesStatus
from mercato.core import clock
from mercato.core.settings import get_settings
from mercato.core.storage import MediaStorage, get_storage

log = structlog.get_logger(__name__)

MAX_SIDE = 8000
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
#: Photos may be added until the request is decided, and again as evidence for a dispute.
OPEN_FOR_PHOTOS = (AftersalesStatus.requested, AftersalesStatus.rejected, AftersalesStatus.disputed)
_DECODE_SLOTS = threading.BoundedSemaphore(2)
_WRITTEN = "aftersales.photos_written"


@dataclass(frozen=True)
class _Encoded:
    extension: str
    content_type: str
    data: bytes
    width: int
    height: int


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    width, height = image.size
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise PhotoInvalid(max_side=MAX_SIDE)
    return image


def _encode(data: bytes) -> _Encoded:
    """Prove ``data`` is a JPEG, PNG or WebP image and re-encode its pixels (CPU-bound: a thread).

    Raises:
        PhotoInvalid (422): any other format, a damaged file, or too many pixels.
    """
    with _DECODE_SLOTS:
        try:
            with _open(data) as probe:
                probe.verify()
            with _open(data) as image:
                image_format = str(image.format)
                image.load()
                try:
                    upright = ImageOps.exif_transpose(image)
                except Exception:  # a broken EXIF block: keep the pixels as they are
                    upright = image.copy()
            has_alpha = upright.mode in {"RGBA", "LA", "PA"} or "transparency" in upright.info
            clean = upright.convert("RGBA" if has_alpha and image_format != "JPEG" else "RGB")
            clean.info = {}
            out = io.BytesIO()
            if image_format == "JPEG":
                clean.save(out, "JPEG", quality=88)
            elif image_format == "PNG":
                clean.save(out, "PNG")
            else:
                clean.save(out, "WEBP", quality=88)
        except PhotoInvalid:
            raise
        except Exception as exc:  # whatever a decoder raises on hostile input, it is not a photo
            raise PhotoInvalid(max_side=MAX_SIDE) from exc
    extension, content_type = FORMATS[image_format]
    return _Encoded(extension, content_type, out.getvalue(), clean.width, clean.height)


async def _delete_files(storage: MediaStorage, keys: Sequence[str]) -> None:
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:  # best effort: never hide the error that made us clean up
            log.warning("aftersales.photo_delete_failed", key=key, exc_info=True)


def _forget_written(sync_session: Session) -> None:
    sync_session.info.get(_WRITTEN, []).clear()


def _delete_written(sync_session: Session) -> None:
    written: list[str] = sync_session.info.get(_WRITTEN, [])
    keys = list(written)
    written.clear()
    if keys:
        # The AsyncSession runs this hook inside its greenlet, where awaiting is allowed.
        await_only(_delete_files(get_storage(), keys))


def _delete_if_rolled_back(session: AsyncSession, key: str) -> None:
    written: list[str] | None = session.info.get(_WRITTEN)
    if written is None:
        written = session.info[_WRITTEN] = []
        event.listen(session.sync_session, "after_commit", _forget_written)
        event.listen(session.sync_session, "after_rollback", _delete_written)
    written.append(key)


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
    encoded = await asyncio.to_thread(_encode, data)
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
    await storage.save(key, encoded.data, encoded.content_type)
    _delete_if_rolled_back(session, key)
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
