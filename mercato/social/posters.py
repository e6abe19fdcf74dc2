"""Share posters: the 750×1334 PNG a sharer posts to WeChat Moments for a product, group or bargain.

Moments shows images, not links, so a share is a picture: the product photo, its title and
price, the sharer, and a QR code a friend long-presses to open the share link. Rendering is a
pure function of ``PosterContent`` (no database, no network), deterministic byte for byte, so a
poster can be cached by its content and regenerated identically.

Chinese text needs a CJK font. It is searched for in ``MERCATO_POSTER_FONT``, then in the Noto
Sans CJK and WenQuanYi files Debian installs (``FONT_CANDIDATES``); without one,
``PosterFontMissing`` names the packages to install. Product and avatar images come from users:
anything Pillow cannot read, or larger than ``Image.MAX_IMAGE_PIXELS``, becomes a placeholder
instead of failing the share.
"""

from __future__ import annotations

import functools
import io
import os
import re
from dataclasses import dataclass
from typing import Protocol

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

WIDTH, HEIGHT = 750, 1334
MARGIN = 40
TITLE_BOX = (MARGIN, 780, WIDTH - 2 * MARGIN, 100)
"""Where the title's (at most two) lines go: x, y, width, height."""
QR_BOX = (WIDTH - MARGIN - 260, HEIGHT - MARGIN - 260, 260)
"""The white square the QR code is centred in: x, y, size. The code is drawn at the largest
whole number of pixels per module that fits, with ``QR_BORDER``: 231 px for a 40-byte link,
at least 200 px for links up to about 400 bytes (QR version 16)."""
QR_BORDER = 2
"""Quiet-zone modules drawn around the code; the white footer around the box adds the rest."""
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
"""Font files searched after ``MERCATO_POSTER_FONT``, with the face index (2: Noto's SC face)."""
ELLIPSIS = "…"

_WHITE, _INK, _GREY, _RED = (255, 255, 255), (34, 34, 34), (136, 136, 136), (228, 57, 60)
_PLACEHOLDER, _DIVIDER, _AVATAR_FILL = (238, 238, 238), (235, 235, 235), (255, 138, 61)
_AVATAR = (MARGIN, 1060, 96)
_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+(?:[.'’-][0-9A-Za-z\u00c0-\u024f]+)*|\s+|.", re.DOTALL)

__all__ = [
    "FONT_CANDIDATES",
    "QR_BORDER",
    "QR_BOX",
    "TITLE_BOX",
    "PosterContent",
    "PosterFontMissing",
    "get_font_file",
    "load_font",
    "render_poster",
    "wrap_title",
]


class PosterFontMissing(RuntimeError):
    """No CJK font is installed, so Chinese text cannot be drawn."""


@dataclass(frozen=True)
class PosterContent:
    """What a poster shows; every text is already formatted and masked by the caller."""

    title: str  # product title, wrapped to at most 2 lines with "…"
    price_text: str  # e.g. "¥89.00"
    badge: str  # e.g. "秒杀价", "3人团", "砍价", or "" for none; drawn as a small red pill
    sharer_name: str  # masked, e.g. "张*"
    caption: str  # e.g. "长按识别二维码"
    url: str  # the share link the QR code encodes
    image: bytes | None  # product image in any Pillow-readable format; None: grey placeholder
    avatar: bytes | None  # sharer avatar; None: a circle with the name's first character


class TextMeasure(Protocol):
    """Anything that measures a string's advance width in pixels, like ``FreeTypeFont``."""

    def getlength(self, text: str) -> float: ...


def get_font_file() -> tuple[str, int]:
    """Return the first CJK font file found and its face index.

    Raises:
        PosterFontMissing: neither ``MERCATO_POSTER_FONT`` nor any ``FONT_CANDIDATES`` exists.
    """
    override = os.environ.get("MERCATO_POSTER_FONT", "")
    candidates = ((override, 0), *FONT_CANDIDATES) if override else FONT_CANDIDATES
    for path, index in candidates:
        if os.path.isfile(path):
            return path, index
    searched = ", ".join(path for path, _ in candidates)
    raise PosterFontMissing(
        "share posters need a CJK font: install the Debian package fonts-noto-cjk or "
        f"fonts-wqy-microhei, or set MERCATO_POSTER_FONT to a font file (searched: {searched})"
    )


@functools.lru_cache(maxsize=16)
def load_font(size: int) -> ImageFont.FreeTypeFont:
    """Load the CJK font at ``size`` px, once per size for the life of the process.

    Raises:
        PosterFontMissing: no CJK font is installed (see ``get_font_file``).
    """
    path, index = get_font_file()
    return ImageFont.truetype(path, size, index=index)


def wrap_title(text: str, font: TextMeasure, width: int, max_lines: int = 2) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` px, ending the last kept line in "…".

    Widths are measured with ``font``, not counted in characters, because a CJK character is
    about twice as wide as a Latin one. A CJK text may break between any two characters; a
    Latin word or number (``iPhone``, ``89.00``) stays whole unless it is wider than a line.
    Runs of whitespace count as one space and vanish at line breaks.

    Raises:
        ValueError: ``max_lines`` is below 1.
    """
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")
    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(" ".join(text.split())):
        pieces = [token] if token.isspace() or font.getlength(token) <= width else list(token)
        for piece in pieces:
            if not line and piece.isspace():
                continue
            if not line or font.getlength((line + piece).rstrip()) <= width:
                line += piece
            else:
                lines.append(line.rstrip())
                line = "" if piece.isspace() else piece
    if line:
        lines.append(line.rstrip())
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and font.getlength(last + ELLIPSIS) > width:
        last = last[:-1].rstrip()
    return [*lines[: max_lines - 1], last + ELLIPSIS]


def render_poster(content: PosterContent) -> bytes:
    """Draw the share poster and return it as PNG bytes, 750×1334 px.

    Raises:
        PosterFontMissing: no CJK font is installed.
        segno.DataOverflowError: the URL is too long for any QR code (about 2,300 bytes).
    """
    title_font, price_font, badge_font = load_font(34), load_font(60), load_font(26)
    name_font, caption_font, initial_font = load_font(30), load_font(26), load_font(44)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), _WHITE)
    product = _open_image(content.image, WIDTH)
    if product is None:
        product = Image.new("RGB", (WIDTH, WIDTH), _PLACEHOLDER)
    canvas.paste(ImageOps.fit(product, (WIDTH, WIDTH), Image.Resampling.LANCZOS), (0, 0))
    draw = ImageDraw.Draw(canvas)

    x, y, width, _ = TITLE_BOX
    for number, line in enumerate(wrap_title(content.title, title_font, width)):
        draw.text((x, y + 38 + 50 * number), line, font=title_font, fill=_INK, anchor="ls")
    price_end = MARGIN
    if content.price_text:
        draw.text((MARGIN, 960), content.price_text, font=price_font, fill=_RED, anchor="ls")
        price_end += round(price_font.getlength(content.price_text)) + 16
    if content.badge:
        pill_width = round(badge_font.getlength(content.badge)) + 28
        draw.rounded_rectangle((price_end, 918, price_end + pill_width, 958), radius=20, fill=_RED)
        draw.text((price_end + pill_width / 2, 938), content.badge, font=badge_font, fill=_WHITE, anchor="mm")
    draw.line((MARGIN, 1000, WIDTH - MARGIN, 1000), fill=_DIVIDER, width=2)

    _paste_avatar(canvas, content, initial_font)
    left = _AVATAR[0] + _AVATAR[2] + 20
    name = wrap_title(content.sharer_name, name_font, QR_BOX[0] - 20 - left, max_lines=1)
    draw.text((left, 1120), "".join(name), font=name_font, fill=_INK, anchor="ls")
    caption_lines = wrap_title(content.caption, caption_font, QR_BOX[0] - 20 - MARGIN)
    for number, line in enumerate(caption_lines):
        draw.text((MARGIN, 1220 + 38 * number), line, font=caption_font, fill=_GREY, anchor="ls")
    _paste_qr(canvas, content.url)

    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _open_image(data: bytes | None, size: int) -> Image.Image | None:
    """Decode an untrusted image upright in RGB, or return None when it cannot be used."""
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and opened.width * opened.height > limit:
                return None
            opened.draft("RGB", (size, size))  # JPEG: decode at a reduced scale still >= size
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                backdrop = Image.new("RGBA", image.size, _WHITE)
                backdrop.alpha_composite(image.convert("RGBA"))
                return backdrop.convert("RGB")
            return image.convert("RGB")
    # Pillow's decoders raise many exception types on hostile input (OSError, SyntaxError,
    # ValueError, struct.error, DecompressionBombError, ...); a share must never fail on one.
    except Exception:
        return None


def _paste_avatar(canvas: Image.Image, content: PosterContent, font: ImageFont.FreeTypeFont) -> None:
    """Paste the sharer's avatar as a circle, or a coloured circle with the name's first character."""
    x, y, size = _AVATAR
    photo = _open_image(content.avatar, size)
    if photo is None:
        face = Image.new("RGB", (size, size), _AVATAR_FILL)
        if initial := content.sharer_name.strip()[:1]:
            ImageDraw.Draw(face).text((size / 2, size / 2), initial, font=font, fill=_WHITE, anchor="mm")
    else:
        face = ImageOps.fit(photo, (size, size), Image.Resampling.LANCZOS)
    mask = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    canvas.paste(face, (x, y), mask.resize((size, size), Image.Resampling.LANCZOS))


def _paste_qr(canvas: Image.Image, url: str) -> None:
    """Paste the QR code for ``url``, at the largest whole scale, centred in ``QR_BOX``."""
    x, y, box = QR_BOX
    code = segno.make(url, error="m", micro=False)
    scale = max(1, box // code.symbol_size(border=QR_BORDER)[0])
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=QR_BORDER)
    with Image.open(io.BytesIO(buffer.getvalue())) as png:
        image = png.convert("RGB")
    offset = (box - image.width) // 2
    canvas.paste(image, (x + offset, y + offset))
