"""Demo home-page banners: three wide images drawn with Pillow (colour bands and shapes, no
text), linking to demo categories. Idempotent: nothing is added once any banner exists."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import content, identity
from mercato.core import images

ACTOR = identity.Actor(staff_id=None, label="demo")
#: (title, English title, subtitle, English subtitle, link, colours)
BANNERS = (
    (
        "数码焕新季",
        "Digital upgrade season",
        "手机、耳机、智能手表 新品上架",
        "New phones, headphones and watches",
        "/c/digital",
        ((29, 53, 87), (69, 123, 157)),
    ),
    (
        "家电节 爆款直降",
        "Home appliance days",
        "厨房电器低至 8 折",
        "Kitchen appliances up to 20% off",
        "/c/appliances",
        ((230, 57, 70), (244, 162, 97)),
    ),
    (
        "生鲜到家",
        "Fresh to your door",
        "当日达，新鲜看得见",
        "Same-day delivery",
        "/c/fresh",
        ((42, 157, 143), (6, 214, 160)),
    ),
)


def banner_image(index: int, colours: tuple[tuple[int, int, int], tuple[int, int, int]]) -> bytes:
    """A 1200 x 400 JPEG: a horizontal gradient between two colours and a few soft circles."""
    start, end = colours
    image = Image.new("RGB", (1200, 400))
    draw = ImageDraw.Draw(image)
    for x in range(1200):
        t = x / 1199
        draw.line(
            [(x, 0), (x, 399)], fill=tuple(round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
        )
    for n in range(4):
        r = 60 + 30 * ((index + n) % 3)
        cx, cy = 700 + n * 130, 80 + (n * 97 + index * 53) % 260
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(min(255, c + 40) for c in end))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


async def seed_banners(session: AsyncSession) -> list[str]:
    """Create the demo banners unless the shop already has banners; return what was created."""
    if await content.list_banners(session):
        return []
    for index, (title, title_en, subtitle, subtitle_en, link, colours) in enumerate(BANNERS):
        upload = await content.check_banner_image(session, data=banner_image(index, colours), actor=ACTOR)
        await content.create_banner(
            session,
            data=content.BannerWrite(
                title=title,
                title_en=title_en,
                subtitle=subtitle,
                subtitle_en=subtitle_en,
                link=link,
                position=index,
            ),
            image=await images.decode(upload),  # the demo loader is the only writer
            filename=f"demo-banner-{index + 1}.jpg",
            declared_type="image/jpeg",
            actor=ACTOR,
        )
    return [f"{len(BANNERS)} home-page banners"]
