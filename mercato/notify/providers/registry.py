"""Chooses the email transport named by MERCATO_EMAIL_TRANSPORT (tests may put their own)."""

from __future__ import annotations

from mercato.core.settings import get_settings
from mercato.notify.providers.base import EmailTransport
from mercato.notify.providers.console import ConsoleEmail
from mercato.notify.providers.smtp import SmtpEmail

_console = ConsoleEmail()
_override: EmailTransport | None = None


def get_email_transport() -> EmailTransport:
    """The transport to send with now: the override if set, else one built from the settings
    (cheap: the SMTP transport opens a connection per email, so settings changes apply at once)."""
    if _override is not None:
        return _override
    settings = get_settings()
    if settings.email_transport == "smtp":
        return SmtpEmail(
            host=settings.email_smtp_host,
            port=settings.email_smtp_port,
            username=settings.email_smtp_username,
            password=settings.email_smtp_password.get_secret_value(),
            security=settings.email_smtp_security,
            timeout=float(settings.email_smtp_timeout_seconds),
        )
    return _console


def use_email_transport(transport: EmailTransport | None) -> None:
    """Send with ``transport`` from now on (``None``: back to the settings)."""
    global _override
    _override = transport
