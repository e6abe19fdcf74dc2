"""Public content DTOs and inputs."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from mercato.core.schemas import InputModel, ReadModel
from mercato.core.settings import get_settings

#: A path of this shop: starts with one ``/``, then URL characters only (no scheme, no host,
#: no backslash, no spaces or control characters).
LINK_PATTERN = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#]*")


class BannerStatus(StrEnum):
    """Whether a banner shows on the home page now."""

    live = "live"  # enabled and inside its time window
    scheduled = "scheduled"  # enabled, its window has not started
    ended = "ended"  # enabled, its window is over
    disabled = "disabled"  # switched off by staff


def _link(value: str) -> str:
    if not LINK_PATTERN.fullmatch(value):
        raise ValueError("link must be a path of this shop, such as /c/phones")
    return value


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=get_settings().tz)
    return value


class BannerWrite(InputModel):
    """A banner's text, link, order and window (the image is uploaded beside it).

    Times without a zone are the shop's local time (``MERCATO_TIMEZONE``).
    """

    title: Annotated[str, Field(min_length=1, max_length=80)]
    title_en: Annotated[str, Field(max_length=80)] = ""
    subtitle: Annotated[str, Field(max_length=160)] = ""
    subtitle_en: Annotated[str, Field(max_length=160)] = ""
    link: Annotated[str, Field(min_length=1, max_length=300)]
    position: Annotated[int, Field(ge=0, le=9999)] = 0
    active_from: dt.datetime | None = None
    active_until: dt.datetime | None = None
    is_enabled: bool = True

    @field_validator("link")
    @classmethod
    def _relative_link(cls, value: str) -> str:
        return _link(value)

    @field_validator("active_from")
    @classmethod
    def _aware_start(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _aware(value)

    @field_validator("active_until")
    @classmethod
    def _aware_end_after_start(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        value = _aware(value)
        start = info.data.get("active_from")
        if value is not None and isinstance(start, dt.datetime) and value <= start:
            raise ValueError("active_until must be after active_from")
        return value


class BannerRead(ReadModel):
    id: int
    title: str
    title_en: str
    subtitle: str
    subtitle_en: str
    link: str
    image_url: str
    image_width: int
    image_height: int
    position: int
    active_from: dt.datetime | None
    active_until: dt.datetime | None
    is_enabled: bool
    status: BannerStatus  # at the time of reading
    created_at: dt.datetime
    updated_at: dt.datetime
