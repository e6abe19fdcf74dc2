"""The SMS provider interface."""

from __future__ import annotations

from typing import Protocol

from mercato.core.errors import Unavailable


class SmsDeliveryFailed(Unavailable):
    code = "identity.sms_delivery_failed"
    message = "The text message could not be sent. Try again shortly."


class SmsSender(Protocol):
    """Sends one text message; returns the provider's message id.

    Raises:
        SmsDeliveryFailed: the provider refused or could not be reached.
    """

    name: str

    async def send(self, *, phone: str, text: str) -> str: ...
