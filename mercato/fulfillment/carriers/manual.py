"""The ``manual`` tracker: nobody follows the parcel for us; staff record its steps by hand
(``add_tracking_event``, ``mark_shipment_delivered``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mercato.fulfillment.carriers.base import Parcel, TrackingUpdate
from mercato.fulfillment.errors import TrackerNotEnabled

NAME = "manual"


class ManualTracker:
    name = NAME

    async def subscribe(self, parcel: Parcel) -> None:
        return None

    async def query(self, parcel: Parcel) -> TrackingUpdate:
        return TrackingUpdate(carrier=parcel.carrier, tracking_number=parcel.tracking_number, status=None)

    def parse_push(self, form: Mapping[str, str]) -> TrackingUpdate:
        raise TrackerNotEnabled(tracker=NAME)  # nothing pushes to a manual tracker

    def push_answer(self) -> dict[str, Any]:
        return {}
