"""Share posters: a 750×1334 PNG whose QR code is the share link, wrapped titles, robust images."""

from __future__ import annotations

import dataclasses
import io
import re
import warnings
from pathlib import Path

import pytest
import segno
from PIL import Image

from mercato.social import posters
from mercato.social.posters import (
    QR_BORDER,
    QR_BOX,
    TITLE_BOX,
    PosterContent,
    PosterFontMissing,
    get_font_file,
    load_font,
    render_poster,
    wrap_title,
)

CONTENT = PosterContent(
    title="小米手环9 NFC版 智能运动手环",
    price_text="¥89.00",
    badge="秒杀价",
    sharer_name="张*",
    caption="长按识别二维码",
    url="https://mercato.example.cn/s/b/8f3k2q9x",
    image=None,
    avatar=None,
)
WHITE_EXTREMA = ((255, 255), (255, 255), (255, 255))
TEN_CJK = "一二三四五六七八九十"


class MonospaceFont:
    """Measures every ASCII character as 5 px and any other (CJK, "…") as 10 px."""

    def getlength(self, text: str) -> float:
        return float(sum(5 if char.isascii() else 10 for char in text))


def _image_bytes(mode: str, colour: tuple[int, ...], size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _open(poster: bytes) -> Image.Image:
    return Image.open(io.BytesIO(poster))


def test_renders_a_png_the_size_of_a_phone_screen() -> None:
    poster = render_poster(CONTENT)

    assert poster[:8] == b"\x89PNG\r\n\x1a\n"
    image = _open(poster)
    assert (image.format, image.size, image.mode) == ("PNG", (750, 1334), "RGB")


def test_qr_code_is_the_share_link_pixel_for_pixel() -> None:
    poster = _open(render_poster(CONTENT)).convert("RGB")
    code = segno.make(CONTENT.url, error="m", micro=False)
    scale = QR_BOX[2] // code.symbol_size(border=QR_BORDER)[0]
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=QR_BORDER)
    expected = Image.open(buffer).convert("RGB")
    x, y, box = QR_BOX
    offset = (box - expected.width) // 2

    pasted = poster.crop((x + offset, y + offset, x + offset + expected.width, y + offset + expected.height))

    assert (scale, expected.size) == (7, (231, 231))
    assert pasted.tobytes() == expected.tobytes()
    assert poster.crop((x, y, x + box, y + offset)).getextrema() == WHITE_EXTREMA


def test_qr_code_differs_for_another_link() -> None:
    x, y, box = QR_BOX
    region = (x, y, x + box, y + box)

    one = _open(render_poster(CONTENT)).crop(region)
    other = _open(render_poster(dataclasses.replace(CONTENT, url="https://mercato.example.cn/s/g/2"))).crop(
        region
    )

    assert one.tobytes() != other.tobytes()


def test_chinese_title_is_drawn_in_the_title_box() -> None:
    x, y, width, height = TITLE_BOX
    region = (x, y, x + width, y + height)

    drawn = _open(render_poster(CONTENT)).crop(region)
    blank = _open(render_poster(dataclasses.replace(CONTENT, title=""))).crop(region)

    assert blank.getextrema() == WHITE_EXTREMA
    assert min(drawn.convert("L").tobytes()) < 100


def test_long_chinese_title_is_cut_to_two_lines_that_fit() -> None:
    title = "官方旗舰店正品保障小米手环九代智能运动手环心率血氧睡眠监测超长续航防水" * 2
    font = load_font(34)

    lines = wrap_title(title, font, TITLE_BOX[2])

    assert len(lines) == 2
    assert lines[1].endswith("…")
    assert "".join(lines)[:-1] == title[: len("".join(lines)) - 1]
    assert all(font.getlength(line) <= TITLE_BOX[2] for line in lines)


@pytest.mark.parametrize(
    ("_case", "text", "width", "max_lines", "expected"),
    [
        ("fits", "小米手环", 100, 2, ["小米手环"]),
        ("empty", "", 100, 2, []),
        ("cjk breaks anywhere", TEN_CJK * 2, 100, 2, [TEN_CJK, TEN_CJK]),
        ("cut with ellipsis", TEN_CJK * 3, 100, 2, [TEN_CJK, "一二三四五六七八九…"]),
        ("latin words stay whole", "Apple iPhone 15 Pro 全网", 60, 2, ["Apple iPhone", "15 Pro 全网"]),
        ("latin words then cut", "Apple iPhone 15 Pro 全网通", 60, 2, ["Apple iPhone", "15 Pro 全…"]),
        ("long word breaks", "Supercalifragilistic", 50, 3, ["Supercalif", "ragilistic"]),
        ("whitespace collapses", "  小米\n\t手环  ", 100, 2, ["小米 手环"]),
        ("one line for a name", "张三丰的徒弟们", 40, 1, ["张三丰…"]),
        ("space before the cut goes", "一二三四五六七八 Hello", 100, 1, ["一二三四五六七八…"]),
    ],
)
def test_wraps_by_measured_width(
    _case: str, text: str, width: int, max_lines: int, expected: list[str]
) -> None:
    assert wrap_title(text, MonospaceFont(), width, max_lines) == expected


def test_wrap_rejects_zero_lines() -> None:
    with pytest.raises(ValueError, match="^max_lines must be at least 1, got 0$"):
        wrap_title("小米手环", MonospaceFont(), 100, max_lines=0)


@pytest.mark.parametrize(
    ("_case", "content"),
    [
        ("garbage image", dataclasses.replace(CONTENT, image=b"not an image")),
        ("truncated image", dataclasses.replace(CONTENT, image=_image_bytes("RGB", (255, 0, 0))[:60])),
        ("empty image", dataclasses.replace(CONTENT, image=b"")),
        ("garbage avatar", dataclasses.replace(CONTENT, avatar=b"\x89PNG\r\n\x1a\nnope")),
    ],
)
def test_unreadable_image_renders_the_placeholder(_case: str, content: PosterContent) -> None:
    assert render_poster(content) == render_poster(CONTENT)


@pytest.mark.parametrize(
    ("_case", "size"),
    [("over the limit: Pillow only warns", (400, 300)), ("over twice the limit: Pillow raises", (500, 500))],
)
def test_image_over_the_pixel_limit_renders_the_placeholder(
    monkeypatch: pytest.MonkeyPatch, _case: str, size: tuple[int, int]
) -> None:
    huge = dataclasses.replace(CONTENT, image=_image_bytes("RGB", (255, 0, 0), size))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # still above the text and QR images

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        poster = render_poster(huge)

    assert poster == render_poster(CONTENT)


def test_product_image_fills_the_top_square() -> None:
    poster = _open(render_poster(dataclasses.replace(CONTENT, image=_image_bytes("RGB", (255, 0, 0)))))

    assert poster.crop((0, 0, 750, 750)).getextrema() == ((255, 255), (0, 0), (0, 0))


def test_transparent_image_is_shown_on_white() -> None:
    poster = _open(render_poster(dataclasses.replace(CONTENT, image=_image_bytes("RGBA", (0, 0, 0, 0)))))

    assert poster.crop((0, 0, 750, 750)).getextrema() == WHITE_EXTREMA


def test_same_content_gives_identical_bytes() -> None:
    content = dataclasses.replace(
        CONTENT, image=_image_bytes("RGB", (10, 120, 200)), avatar=_image_bytes("L", (90,))
    )

    assert render_poster(content) == render_poster(content)


def test_font_override_is_searched_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "override.ttf").touch()
    (tmp_path / "present.ttc").touch()
    candidates = ((str(tmp_path / "missing.ttc"), 2), (str(tmp_path / "present.ttc"), 0))
    monkeypatch.setattr(posters, "FONT_CANDIDATES", candidates)

    monkeypatch.setenv("MERCATO_POSTER_FONT", str(tmp_path / "override.ttf"))
    assert get_font_file() == (str(tmp_path / "override.ttf"), 0)

    monkeypatch.setenv("MERCATO_POSTER_FONT", str(tmp_path / "gone.ttf"))
    assert get_font_file() == (str(tmp_path / "present.ttc"), 0)


def test_missing_font_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posters, "FONT_CANDIDATES", (("/nonexistent/cjk.ttc", 0),))
    monkeypatch.setenv("MERCATO_POSTER_FONT", "/nonexistent/override.ttf")
    message = (
        "share posters need a CJK font: install the Debian package fonts-noto-cjk or fonts-wqy-microhei,"
        " or set MERCATO_POSTER_FONT to a font file"
        " (searched: /nonexistent/override.ttf, /nonexistent/cjk.ttc)"
    )

    with pytest.raises(PosterFontMissing, match=f"^{re.escape(message)}$"):
        get_font_file()
