"""The email transport interface and the MIME message every transport sends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from mercato.core.errors import Unavailable


class EmailDeliveryFailed(Unavailable):
    """The server refused the email or could not be reached.

    ``permanent`` when trying again cannot help (a 5xx reply to the recipient or the content);
    ``reason`` is the server's reply or the connection error, with addresses masked.
    """

    code = "notify.email_delivery_failed"
    message = "The email could not be sent."

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__()
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingEmail:
    """One email, fully rendered: plain text and HTML alternatives of the same content."""

    sender: str  # the address in From
    sender_name: str  # the display name in From (encoded if not ASCII)
    recipient: str
    subject: str
    text: str
    html: str
    message_id: str  # "<...@...>", the same on every attempt
    date: dt.datetime  # aware


def build_mime(email: OutgoingEmail) -> EmailMessage:
    """The RFC 5322 message: From, To, Subject (RFC 2047-encoded when not ASCII), Date,
    Message-ID, Auto-Submitted (RFC 3834, so auto-responders stay quiet) and a
    multipart/alternative body, text/plain first and text/html last (the preferred part), both
    UTF-8 in base64."""
    message = EmailMessage()
    message["From"] = Address(display_name=email.sender_name, addr_spec=email.sender)
    message["To"] = Address(addr_spec=email.recipient)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    # base64 keeps the message 7-bit clean (servers without 8BITMIME) and every line ending as written
    message.set_content(email.text, cte="base64")
    message.add_alternative(email.html, subtype="html", cte="base64")
    return message


class EmailTransport(Protocol):
    """Sends one email.

    Raises:
        EmailDeliveryFailed: refused (``permanent`` for good) or the server was unreachable.
    """

    name: str

    async def send(self, email: OutgoingEmail) -> None: ...
