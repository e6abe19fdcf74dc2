"""How an order reaches the shopper, checked before it is priced or placed.

- ``scheduled`` (定时达): the shopper picks one of the slots ``offered_slots`` lists — the
  configured daily windows in shop time, from today to ``delivery_slot_days`` ahead, each closing
  ``delivery_slot_lead_minutes`` before it starts. A slot is named by its start; anything else is
  refused.
- ``pickup`` (到店自提): the shopper names an active store (a warehouse of kind ``store``); the
  goods are reserved at that store only and there is no shipping fee.
- ``standard`` / ``express``: neither a slot nor a store may be given.

Pure apart from the store lookup; ``clock.now`` is passed in so the rules are easy to test.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import inventory
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.core.settings import get_settings
from mercato.orders.errors import InvalidDelivery
from mercato.orders.schemas import DeliveryChoice, DeliverySlot
from mercato.pricing import Delivery


def _refused(field: str, code: str, message: str) -> InvalidDelivery:
    return InvalidDelivery(fields=[FieldError(loc=("body", field), code=code, message=message)])


def offered_slots(now: dt.datetime) -> list[DeliverySlot]:
    """The scheduled-delivery slots a shopper may choose at ``now``, earliest first."""
    settings = get_settings()
    tz = settings.tz
    today = now.astimezone(tz).date()
    closes = now + dt.timedelta(minutes=settings.delivery_slot_lead_minutes)
    windows = sorted(
        (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
        for start, _sep, end in (slot.partition("-") for slot in settings.delivery_slots)
    )
    slots: list[DeliverySlot] = []
    for day in range(settings.delivery_slot_days + 1):
        date = today + dt.timedelta(days=day)
        for start, end in windows:
            starts_at = dt.datetime.combine(date, start, tzinfo=tz)
            if starts_at >= closes:
                slots.append(
                    DeliverySlot(
                        starts_at=starts_at.astimezone(dt.UTC),
                        ends_at=dt.datetime.combine(date, end, tzinfo=tz).astimezone(dt.UTC),
                    )
                )
    return slots


async def check_delivery(
    session: AsyncSession,
    *,
    delivery: Delivery,
    slot_starts_at: dt.datetime | None,
    pickup_store_id: int | None,
    now: dt.datetime,
) -> DeliveryChoice:
    """The delivery as it will be recorded on the order, or a refusal naming the field.

    Raises:
        InvalidDelivery (422 ``orders.invalid_delivery``).
    """
    if delivery is not Delivery.scheduled and slot_starts_at is not None:
        raise _refused(
            "slot_starts_at", "orders.slot_not_scheduled", N_("Only scheduled delivery has a time slot.")
        )
    if delivery is not Delivery.pickup and pickup_store_id is not None:
        raise _refused("pickup_store_id", "orders.store_not_pickup", N_("Only store pickup has a store."))
    if delivery is Delivery.scheduled:
        if slot_starts_at is None:
            raise _refused("slot_starts_at", "orders.slot_required", N_("Choose a delivery time slot."))
        if slot_starts_at.tzinfo is None:
            raise _refused("slot_starts_at", "orders.slot_unavailable", N_("This time slot is not offered."))
        chosen = next((s for s in offered_slots(now) if s.starts_at == slot_starts_at), None)
        if chosen is None:
            raise _refused("slot_starts_at", "orders.slot_unavailable", N_("This time slot is not offered."))
        return DeliveryChoice(delivery=delivery, slot=chosen)
    if delivery is Delivery.pickup:
        if pickup_store_id is None:
            raise _refused("pickup_store_id", "orders.store_required", N_("Choose a store to pick up from."))
        try:
            store = await inventory.get_warehouse(session, warehouse_id=pickup_store_id)
        except inventory.WarehouseNotFound:
            store = None
        if store is None or not store.is_active or store.kind is not inventory.WarehouseKind.store:
            raise _refused(
                "pickup_store_id", "orders.store_unavailable", N_("This store does not offer pickup.")
            )
        return DeliveryChoice(delivery=delivery, pickup_store_id=store.id)
    return DeliveryChoice(delivery=delivery)
