"""The tracking provider interface every tracking client implements.

``subscribe`` and ``query`` talk to the provider over the network, so the services call them only
outside a database transaction (after the commit that recorded the shipment, or in a job);
``parse_push`` only checks and reads what the provider posted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mercato.fulfillment.errors import CarrierUnavailable, InvalidPush, InvalidPushSignature
from mercato.fulfillment.states import TrackingStatus

__all__ = [
    "CarrierUnavailable",
    "InvalidPush",
    "InvalidPushSignature",
    "Parcel",
    "TrackPoint",
    "Tracker",
    "TrackerRefused",
    "TrackingUpdate",
]


@dataclass(frozen=True)
class Parcel:
    """What a provider needs to follow a parcel. ``phone_tail`` is the last four digits of the
    recipient's phone, which some carriers (SF Express) require before they answer."""

    carrier: str
    tracking_number: str
    phone_tail: str = ""


@dataclass(frozen=True)
class TrackPoint:
    """One step of the timeline as the provider reported it."""

    occurred_at: dt.datetime
    context: str
    status: TrackingStatus
    carrier_status: str = ""
    location: str = ""


@dataclass(frozen=True)
class TrackingUpdate:
    """What a provider knows about a parcel: its status (None: nothing yet) and its timeline.

    ``stopped`` means the provider gave up following it (Kuaidi100 ``abort``: no record after
    three days, or no change in sixty); the shop subscribes again later.
    """

    carrier: str
    tracking_number: str
    status: TrackingStatus | None
    carrier_state: str = ""
    events: tuple[TrackPoint, ...] = ()
    stopped: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class TrackerRefused(Exception):
    """The provider refused a subscription for good (bad key, unsupported carrier): retrying the
    same request cannot help, so the shipment is left for staff to track by hand."""


class Tracker(Protocol):
    """A tracking provider client.

    Raises (``subscribe``, ``query``):
        CarrierUnavailable: the provider could not be reached or answered with an error.
    """

    name: str

    async def subscribe(self, parcel: Parcel) -> None:
        """Ask the provider to push this parcel's progress (idempotent per parcel).

        Raises: CarrierUnavailable (try again later), TrackerRefused (do not).
        """
        ...

    async def query(self, parcel: Parcel) -> TrackingUpdate:
        """Ask the provider for the parcel's status and timeline now."""
        ...

    def parse_push(self, form: Mapping[str, str]) -> TrackingUpdate:
        """Check and read one push; raises InvalidPushSignature or InvalidPush (no network)."""
        ...

    def push_answer(self) -> dict[str, Any]:
        """The body the provider expects back after a push was taken."""
        ...
