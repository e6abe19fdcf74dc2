"""The SMS provider interface."""

from __future__ import annotations

from typing import Protocol

from mercato.core.errors import Unavailable


class SmsDeliveryFailed(Unavailable):
    code = "identity.sms_delivery_failed"
    message = "The text message could not be sent. Try again shortly."


class SmsSender(Protocol):
    """Sends one text message; returns the provider's message id.

    ``text`` is the whole message; ``code`` the verification code in it, for providers that
    send only approved templates (Alibaba Cloud fills its template's ``${code}``); ``sign_name``
    the shop's approved SMS signature (签名), empty for the provider's configured one.

    Raises:
        SmsDeliveryFailed: the provider refused or could not be reached.
        PhoneInvalid, CodeRateLimited: the provider refused the number, or its own limits for
            the number were reached (Alibaba Cloud).
    """

    name: str

    async def send(self, *, phone: str, text: str, code: str = "", sign_name: str = "") -> str: ...
