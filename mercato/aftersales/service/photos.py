"""Photos of the goods on a request: proved to be images, cleaned, stored, counted.

An upload takes three steps (``core.images``), the edge owning the transactions.
``check_photo`` refuses what it can before any decoding (its size; the request exists, is the
customer's, is open for photos and has room for one more) in the request's transaction;
``check_new_photos`` does the same for photos sent with a request still to be created. The route
ends the transaction and ``core.images.decode`` proves the upload (Pillow decides the format from
the content, only JPEG, PNG and WebP; the header's sides and pixel count are checked before any
pixel is decoded) and re-encodes its pixels, which drops EXIF (a phone photo's GPS position),
XMP, ICC and anything riding along. ``add_photo`` then counts it with one conditional UPDATE
(still open, still room: two uploads racing for the last place cannot both win) and records it,
in a new transaction. The file is written before its row; if the transaction rolls back it is
deleted again (``core.images.delete_if_rolled_back``), so no orphan is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.aftersales.errors import (
    PhotoInvalid,
    PhotoPixelsTooMany,
    PhotosClosed,
    PhotoTooLarge,
    TooManyPhotos,
)
from mercato.aftersales.models import AftersalesPhoto, AftersalesRequest
from mercato.aftersales.schemas import PhotoRead
from mercato.aftersales.service.common import load
from mercato.aftersales.states import AftersalesStatus
from mercato.core import clock, images
from mercato.core.errors import DomainError
from mercato.core.settings import get_settings
from mercato.core.storage import get_storage

MAX_SIDE = images.MAX_SIDE
#: Photos may be added until the request is decided, and again as evidence for a dispute.
OPEN_FOR_PHOTOS = (AftersalesStatus.requested, AftersalesStatus.rejected, AftersalesStatus.disputed)


def _refused(exc: images.ImageRejected) -> DomainError:
    """The after-sales error for a photo ``core.images`` refused."""
    if isinstance(exc, images.ImageOverPixelLimit):
        return PhotoPixelsTooMany(max_megapixels=exc.megapixels)
    return PhotoInvalid(max_side=MAX_SIDE)


def _upload(data: bytes, customer_id: int) -> images.Upload:
    """A photo to decode; raises PhotoTooLarge (422) over ``max_image_bytes``."""
    limit = get_settings().max_image_bytes
    if len(data) > limit:
        raise PhotoTooLarge(max_megabytes=f"{limit / (1024 * 1024):g}")
    return images.Upload(data=data, uploader=f"customer:{customer_id}", refused=_refused, max_side=MAX_SIDE)


def _check_room(status: str, photo_count: int) -> None:
    """Raises PhotosClosed (409) or TooManyPhotos (409) unless one more photo may be added."""
    if AftersalesStatus(status) not in OPEN_FOR_PHOTOS:
        raise PhotosClosed()
    maximum = get_settings().aftersales_max_photos
    if photo_count >= maximum:
        raise TooManyPhotos(maximum=maximum)


async def check_photo(
    session: AsyncSession, *, request_id: int, customer_id: int, data: bytes
) -> images.Upload:
    """Check a photo for one of the customer's requests before it is decoded (no decoding, no
    writes). Decode the returned upload with ``core.images.decode`` once the transaction is
    ended, then record it with :func:`add_photo`.

    Raises:
        PhotoTooLarge (422): over ``max_image_bytes``.
        RequestNotFound (404): none, or another customer's.
        PhotosClosed (409): the request was decided (and is not disputed).
        TooManyPhotos (409): it has its maximum (``aftersales_max_photos``) already.
    """
    upload = _upload(data, customer_id)
    row = await load(session, request_id, customer_id=customer_id)
    _check_room(row.status, row.photo_count)
    return upload


def check_new_photos(*, customer_id: int, photos: Sequence[bytes]) -> list[images.Upload]:
    """Check the photos sent with a request still to be created (their number and sizes), before
    any is decoded; record them with :func:`add_photo` once the request is created.

    Raises:
        TooManyPhotos (409): more than ``aftersales_max_photos``.
        PhotoTooLarge (422): one is over ``max_image_bytes``.
    """
    maximum = get_settings().aftersales_max_photos
    if len(photos) > maximum:
        raise TooManyPhotos(maximum=maximum)
    return [_upload(data, customer_id) for data in photos]


async def add_photo(
    session: AsyncSession, *, request_id: int, customer_id: int, image: images.EncodedImage
) -> PhotoRead:
    """Attach a decoded photo (see :func:`check_photo`) to one of the customer's requests.

    Raises:
        RequestNotFound (404): none, or another customer's.
        PhotosClosed (409): decided (and not disputed) since it was checked.
        TooManyPhotos (409): its last place was taken since it was checked.
    """
    maximum = get_settings().aftersales_max_photos
    counted = await session.execute(
        update(AftersalesRequest)
        .where(
            AftersalesRequest.id == request_id,
            AftersalesRequest.customer_id == customer_id,
            AftersalesRequest.status.in_([str(s) for s in OPEN_FOR_PHOTOS]),
            AftersalesRequest.photo_count < maximum,
        )
        .values(photo_count=AftersalesRequest.photo_count + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(counted, "rowcount", 0) != 1:
        current = await load(session, request_id, customer_id=customer_id)
        _check_room(current.status, current.photo_count)
        raise TooManyPhotos(maximum=maximum)  # a place came free since the UPDATE: refuse anyway
    encoded = image
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
