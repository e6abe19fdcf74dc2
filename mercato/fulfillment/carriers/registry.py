"""The courier companies a shop ships with, and the tracking provider that follows each parcel.

Carrier codes are Kuaidi100's company codes (lower case), the de facto standard names in China,
so a parcel's code goes to the provider as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.settings import get_settings
from mercato.fulfillment.carriers import kuaidi100, manual
from mercato.fulfillment.carriers.base import Tracker
from mercato.fulfillment.errors import TrackerNotEnabled


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    trackable: bool = True  # False: no provider follows it (the shop's own van); staff track by hand


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier("shunfeng", "顺丰速运"),
        Carrier("jd", "京东物流"),
        Carrier("ems", "EMS"),
        Carrier("youzhengguonei", "邮政快递包裹"),
        Carrier("zhongtong", "中通快递"),
        Carrier("yuantong", "圆通速递"),
        Carrier("shentong", "申通快递"),
        Carrier("yunda", "韵达快递"),
        Carrier("jtexpress", "极兔速递"),
        Carrier("debangkuaidi", "德邦快递"),
        Carrier("shop", "商家配送", trackable=False),
    )
}

_overrides: dict[str, Tracker] = {}


def enabled_trackers() -> list[str]:
    """``manual`` always; ``kuaidi100`` when ``MERCATO_TRACKING_PROVIDER=kuaidi100``."""
    if get_settings().tracking_provider == kuaidi100.NAME:
        return [manual.NAME, kuaidi100.NAME]
    return [manual.NAME]


def tracker_for(carrier: str) -> str:
    """The tracker that follows a new parcel of ``carrier``."""
    if CARRIERS[carrier].trackable and get_settings().tracking_provider == kuaidi100.NAME:
        return kuaidi100.NAME
    return manual.NAME


def get_tracker(name: str) -> Tracker:
    """Raises: TrackerNotEnabled (400) when ``name`` is not switched on."""
    if name not in enabled_trackers():
        raise TrackerNotEnabled(tracker=name)
    if name in _overrides:
        return _overrides[name]
    if name == kuaidi100.NAME:
        settings = get_settings()
        return kuaidi100.Kuaidi100Tracker(
            customer=settings.kuaidi100_customer,
            key=settings.kuaidi100_key.get_secret_value(),
            salt=settings.kuaidi100_salt.get_secret_value(),
            base_url=settings.kuaidi100_base_url,
            callback_url=settings.public_base_url + kuaidi100.NOTIFY_PATH,
        )
    return manual.ManualTracker()


def set_tracker(name: str, tracker: Tracker | None) -> None:
    """Replace a tracker's client (tests: a provider that fails)."""
    if tracker is None:
        _overrides.pop(name, None)
    else:
        _overrides[name] = tracker
