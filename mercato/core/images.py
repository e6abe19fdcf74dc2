"""Uploaded images: proved to be images, cleaned and re-encoded; their files kept in step with
the transaction that records them.

An upload is trusted for nothing it claims: Pillow decides its format from its content (only
JPEG, PNG and WebP plugins may open it), its header dimensions are checked before any pixel is
decoded (so a decompression bomb is refused whatever ``Image.MAX_IMAGE_PIXELS`` holds), and it
is re-encoded from its pixels, which drops EXIF, XMP, ICC, text chunks and anything else riding
along. Decoding runs in a worker thread, at most two at a time per process (an 8000 × 8000 RGBA
image is 256 MB of pixels). The domains check the upload's size first and turn the plain
exceptions below into their own errors.

Files are written before the row that points at them. ``save_files`` writes all or none;
``delete_if_rolled_back`` deletes them if the transaction rolls back; ``delete_after_commit``
deletes replaced files only once the change is committed.

Exceptions::

    ImageRejected
    ├── NotAnImage           (any other format, or a damaged file)
    └── ImageTooManyPixels   (wider or taller than ``max_side``, or a decompression bomb)
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from PIL import Image, ImageOps
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from mercato.core.db import after_commit
from mercato.core.storage import MediaStorage, get_storage

log = structlog.get_logger(__name__)

#: The largest width and height accepted, in pixels.
MAX_SIDE = 8000
#: Thumbnails fit in a square of this side, keeping the aspect ratio.
THUMBNAIL_SIDE = 400
#: Decoded format -> (file extension, content type).
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
_DECODE_SLOTS = threading.BoundedSemaphore(2)
_WRITTEN = "core.images_written"  # session.info key: files to delete if the transaction rolls back


class ImageRejected(Exception):
    """The upload is not an image this shop accepts."""


class NotAnImage(ImageRejected):
    """Not a JPEG, PNG or WebP image by its content, or a damaged one."""


class ImageTooManyPixels(ImageRejected):
    """Wider or taller than ``max_side`` pixels (decompression bombs included)."""

    def __init__(self, max_side: int) -> None:
        self.max_side = max_side
        super().__init__(f"at most {max_side} x {max_side} pixels")


@dataclass(frozen=True)
class EncodedImage:
    """An upload proved, cleaned and re-encoded (plus its thumbnail, when one was asked for)."""

    extension: str
    content_type: str
    data: bytes
    width: int
    height: int
    thumbnail: bytes | None


def _check_dimensions(size: tuple[int, int], max_side: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise NotAnImage()
    if width > max_side or height > max_side:
        raise ImageTooManyPixels(max_side)


def _open(data: bytes, max_side: int) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    _check_dimensions(image.size, max_side)  # from the header, before a single pixel is decoded
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "RGBa", "LA", "La", "PA"} or "transparency" in image.info


def _pixels_only(image: Image.Image) -> Image.Image:
    """A copy holding the pixels, upright, in RGB or RGBA, with no metadata at all."""
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block: keep the image as it is, the block is dropped anyway
        upright = image.copy()
    clean = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
    clean.info = {}
    return clean


def _save(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    if image_format == "JPEG":
        image.save(out, "JPEG", quality=90)
    elif image_format == "PNG":
        image.save(out, "PNG")
    else:
        image.save(out, "WEBP", quality=90)
    return out.getvalue()


def encode_image(
    data: bytes, *, with_thumbnail: bool, max_side: int = MAX_SIDE, thumbnail_side: int = THUMBNAIL_SIDE
) -> EncodedImage:
    """Prove ``data`` is a JPEG, PNG or WebP image and re-encode it (CPU-bound: run in a thread).

    Raises:
        ImageTooManyPixels: wider or taller than ``max_side``.
        NotAnImage: any other format, or a damaged file.
    """
    with _DECODE_SLOTS:
        try:
            with _open(data, max_side) as probe:
                probe.verify()  # checksums and structure; the image cannot be used afterwards
            with _open(data, max_side) as image:
                image_format = str(image.format)
                image.load()
                clean = _pixels_only(image)
            thumbnail = None
            if with_thumbnail:
                small = clean.copy()
                small.thumbnail((thumbnail_side, thumbnail_side))
                thumbnail = _save(small, image_format)
            encoded = _save(clean, image_format)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooManyPixels(max_side) from exc
        except Exception as exc:  # whatever a decoder raises on hostile input, the file is not an image
            raise NotAnImage() from exc
    extension, content_type = FORMATS[image_format]
    return EncodedImage(extension, content_type, encoded, clean.width, clean.height, thumbnail)


# --- Files and the transaction ------------------------------------------------------------


async def delete_files(storage: MediaStorage, keys: Sequence[str]) -> None:
    """Delete ``keys``, best effort (a failure is logged, never raised)."""
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:  # best effort: never hide the error that made us clean up
            log.warning("media.delete_failed", key=key, exc_info=True)


async def save_files(storage: MediaStorage, files: Sequence[tuple[str, bytes, str]]) -> None:
    """Write every ``(key, data, content_type)`` or none: a failure deletes those already written."""
    written: list[str] = []
    try:
        for key, data, content_type in files:
            await storage.save(key, data, content_type)
            written.append(key)
    except BaseException:
        await delete_files(storage, written)
        raise


def delete_if_rolled_back(session: AsyncSession, keys: Sequence[str]) -> None:
    """Delete ``keys`` if this transaction rolls back instead of committing."""
    written: list[str] | None = session.info.get(_WRITTEN)
    if written is None:
        written = session.info[_WRITTEN] = []
        event.listen(session.sync_session, "after_commit", _forget_written)
        event.listen(session.sync_session, "after_rollback", _delete_written)
    written.extend(keys)


def _forget_written(sync_session: Session) -> None:
    sync_session.info.get(_WRITTEN, []).clear()


def _delete_written(sync_session: Session) -> None:
    written: list[str] = sync_session.info.get(_WRITTEN, [])
    keys = list(written)
    written.clear()
    if keys:
        # The AsyncSession runs this hook inside its greenlet, where awaiting is allowed.
        await_only(delete_files(get_storage(), keys))


def delete_after_commit(session: AsyncSession, keys: Sequence[str]) -> None:
    """Delete ``keys`` once the transaction has committed (files of a removed or replaced row)."""
    storage = get_storage()

    async def delete() -> None:
        await delete_files(storage, keys)

    after_commit(session, delete)
