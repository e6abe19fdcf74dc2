"""Uploaded images: proved to be images, cleaned and re-encoded outside any transaction and within
limits; their files kept in step with the transaction that records them.

An upload is trusted for nothing it claims: Pillow decides its format from its content (only
JPEG, PNG and WebP plugins may open it), its header dimensions are checked before any pixel is
decoded (each side against ``max_side``, the whole against ``max_image_pixels``, so a
decompression bomb is refused whatever ``Image.MAX_IMAGE_PIXELS`` holds), and it is re-encoded
from its pixels, which drops EXIF, XMP, ICC, text chunks and anything else riding along.

Decoding costs seconds of CPU and hundreds of megabytes (an 8000 × 8000 RGBA image is 256 MB of
pixels), so it never runs inside a transaction (on SQLite a writing one holds the database's
only write lock; on PostgreSQL it holds a pooled connection) and never parks the event loop or a
thread on a lock. Every upload takes three steps, and the edge owns the transactions::

    upload = await aftersales.check_photo(session, request_id=..., customer_id=..., data=data)
    await end_transaction(session)                  # core.db: nothing held while decoding
    image = await images.decode(upload)
    return await aftersales.add_photo(session, request_id=..., customer_id=..., image=image)

1. The domain's cheap check (``check_…``), in the request's unit of work: size in bytes, the
   object exists and is the caller's, its state and counters allow one more image. It returns an
   :class:`Upload` naming the uploader and the domain's error for a refused image.
2. :func:`decode`, with no transaction open: the header is checked at once (no slot taken), then
   the upload is admitted to this process's decoder threads, or refused at once: 429
   ``core.too_many_image_uploads`` when the uploader already has ``image_decodes_per_uploader``
   decodes in flight, 503 ``core.image_decoders_busy`` when ``image_decode_workers`` are busy and
   ``image_decode_queue`` more are waiting (both with Retry-After). A slot is given back when its
   decode ends, even if the request was abandoned meanwhile.
3. The domain's write (``add_…``, ``set_…``), in a new transaction: it re-checks atomically (a
   conditional UPDATE, a foreign key) and records the row.

Files are written before the row that points at them. ``save_files`` writes all or none;
``delete_if_rolled_back`` deletes them if the transaction rolls back; ``delete_after_commit``
deletes replaced files only once the change is committed.

Exceptions::

    ImageRejected                 (plain exceptions: the domains turn them into their errors)
    ├── NotAnImage                any other format, or a damaged file
    └── ImageTooManyPixels        wider or taller than ``max_side``, or a decompression bomb
        └── ImageOverPixelLimit   each side allowed, but over ``max_image_pixels`` in all
    TooManyImageUploads           429 core.too_many_image_uploads (a RateLimited)
    ImageDecodersBusy             503 core.image_decoders_busy (an Unavailable)
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from PIL import Image, ImageOps
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from mercato.core.db import after_commit
from mercato.core.errors import DomainError, RateLimited, Unavailable
from mercato.core.settings import get_settings
from mercato.core.storage import MediaStorage, get_storage

log = structlog.get_logger(__name__)

#: The largest width and height accepted, in pixels.
MAX_SIDE = 8000
#: Thumbnails fit in a square of this side, keeping the aspect ratio.
THUMBNAIL_SIDE = 400
#: Decoded format -> (file extension, content type).
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
#: Retry-After (seconds) of a refused admission: about one large decode.
RETRY_AFTER_SECONDS = 5
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


class ImageOverPixelLimit(ImageTooManyPixels):
    """Each side is allowed, but width × height is over ``max_pixels``."""

    def __init__(self, max_side: int, max_pixels: int) -> None:
        super().__init__(max_side)
        self.max_pixels = max_pixels
        self.args = (f"at most {max_pixels} pixels",)

    @property
    def megapixels(self) -> str:
        """The limit in megapixels, as shown to people (``25``, ``0.5``)."""
        return f"{self.max_pixels / 1_000_000:g}"


class TooManyImageUploads(RateLimited):
    """The uploader already has ``image_decodes_per_uploader`` images being decoded."""

    code = "core.too_many_image_uploads"
    message = "Your other images are still being processed. Try again when they are done."


class ImageDecodersBusy(Unavailable):
    """Every decoder thread of this process is busy and its queue is full."""

    code = "core.image_decoders_busy"
    message = "The shop is busy processing images. Try again in a few seconds."


@dataclass(frozen=True)
class EncodedImage:
    """An upload proved, cleaned and re-encoded (plus its thumbnail, when one was asked for)."""

    extension: str
    content_type: str
    data: bytes
    width: int
    height: int
    thumbnail: bytes | None


@dataclass(frozen=True)
class Upload:
    """An upload its domain has checked (size, target, state): decode it with :func:`decode`,
    outside any transaction, then hand the result to the domain's write."""

    data: bytes = field(repr=False)
    #: Whose decodes are counted together: ``customer:<id>``, ``staff:<id>``.
    uploader: str
    #: The domain's error for an image ``encode_image`` refused.
    refused: Callable[[ImageRejected], DomainError]
    max_side: int = MAX_SIDE
    with_thumbnail: bool = False
    thumbnail_side: int = THUMBNAIL_SIDE


def _check_dimensions(size: tuple[int, int], max_side: int, max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise NotAnImage()
    if width > max_side or height > max_side:
        raise ImageTooManyPixels(max_side)
    if width * height > max_pixels:
        raise ImageOverPixelLimit(max_side, max_pixels)


def _open(data: bytes, max_side: int, max_pixels: int) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    try:
        _check_dimensions(image.size, max_side, max_pixels)  # from the header, before any pixel
    except BaseException:
        image.close()
        raise
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


def check_header(data: bytes, *, max_side: int = MAX_SIDE, max_pixels: int | None = None) -> None:
    """Check what the header claims (format, each side, pixels in all) without decoding a pixel.

    Raises:
        ImageOverPixelLimit: more than ``max_pixels`` (default ``max_image_pixels``) in all.
        ImageTooManyPixels: wider or taller than ``max_side``.
        NotAnImage: any other format, or a damaged header.
    """
    limit = get_settings().max_image_pixels if max_pixels is None else max_pixels
    try:
        with _open(data, max_side, limit):
            pass
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooManyPixels(max_side) from exc
    except Exception as exc:  # whatever a parser raises on hostile input, the file is not an image
        raise NotAnImage() from exc


def encode_image(
    data: bytes,
    *,
    with_thumbnail: bool,
    max_side: int = MAX_SIDE,
    max_pixels: int | None = None,
    thumbnail_side: int = THUMBNAIL_SIDE,
) -> EncodedImage:
    """Prove ``data`` is a JPEG, PNG or WebP image and re-encode it.

    CPU-bound and unlimited: call :func:`decode`, which runs this on the decoder threads.

    Raises:
        ImageOverPixelLimit: more than ``max_pixels`` (default ``max_image_pixels``) in all.
        ImageTooManyPixels: wider or taller than ``max_side``.
        NotAnImage: any other format, or a damaged file.
    """
    limit = get_settings().max_image_pixels if max_pixels is None else max_pixels
    try:
        with _open(data, max_side, limit) as probe:
            probe.verify()  # checksums and structure; the image cannot be used afterwards
        with _open(data, max_side, limit) as image:
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


# --- Admission to the decoder threads -------------------------------------------------------


class _Decoders:
    """This process's decoder threads and who is using them (counted under a lock held for a
    few instructions, never while decoding)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._by_uploader: dict[str, int] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._workers = 0

    def submit(self, upload: Upload, max_pixels: int) -> Future[EncodedImage]:
        """Start (or queue) ``upload``'s decode, or refuse it at once.

        Raises:
            TooManyImageUploads (429): the uploader has its maximum in flight.
            ImageDecodersBusy (503): every thread busy and the queue full.
        """
        settings = get_settings()
        workers = settings.image_decode_workers
        with self._lock:
            if self._by_uploader.get(upload.uploader, 0) >= settings.image_decodes_per_uploader:
                raise TooManyImageUploads(retry_after=RETRY_AFTER_SECONDS)
            if self._in_flight >= workers + settings.image_decode_queue:
                raise ImageDecodersBusy(retry_after=RETRY_AFTER_SECONDS)
            if self._pool is None or self._workers != workers:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)  # what it holds still runs, and is counted
                self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mercato-image")
                self._workers = workers
            job = self._pool.submit(
                encode_image,
                upload.data,
                with_thumbnail=upload.with_thumbnail,
                max_side=upload.max_side,
                max_pixels=max_pixels,
                thumbnail_side=upload.thumbnail_side,
            )
            self._in_flight += 1
            self._by_uploader[upload.uploader] = self._by_uploader.get(upload.uploader, 0) + 1
        job.add_done_callback(lambda _job: self._leave(upload.uploader))
        return job

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def _leave(self, uploader: str) -> None:
        with self._lock:
            self._in_flight -= 1
            left = self._by_uploader.pop(uploader) - 1
            if left:
                self._by_uploader[uploader] = left


_DECODERS = _Decoders()


def decodes_in_flight() -> int:
    """How many decodes this process is running or has queued (for health checks and tests)."""
    return _DECODERS.in_flight


async def decode(upload: Upload) -> EncodedImage:
    """Prove, clean and re-encode ``upload`` on this process's decoder threads.

    Call it with no transaction open (``core.db.end_transaction`` first). The header is checked
    before the upload takes a slot; a refused image becomes ``upload.refused(...)``.

    Raises:
        TooManyImageUploads (429 core.too_many_image_uploads): the uploader has
            ``image_decodes_per_uploader`` decodes in flight.
        ImageDecodersBusy (503 core.image_decoders_busy): ``image_decode_workers`` busy and
            ``image_decode_queue`` waiting.
        DomainError: the domain's error for a refused image (``upload.refused``).
    """
    max_pixels = get_settings().max_image_pixels
    try:
        check_header(upload.data, max_side=upload.max_side, max_pixels=max_pixels)
    except ImageRejected as exc:
        raise upload.refused(exc) from exc
    job = _DECODERS.submit(upload, max_pixels)
    try:
        # Cancelled (the client went away), a queued job is dropped and a running one finishes
        # on its thread; either way its slot is given back only when it is done.
        return await asyncio.wrap_future(job)
    except ImageRejected as exc:
        raise upload.refused(exc) from exc


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
