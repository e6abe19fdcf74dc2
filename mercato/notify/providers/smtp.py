"""Email over SMTP (RFC 5321) with aiosmtplib: one connection per email, STARTTLS or implicit
TLS, optional AUTH, and a timeout on every network step.

Replies are sorted into permanent and transient failures: a 5xx reply to the recipient or to
the message content (RFC 5321 §4.2.1, "permanent negative completion") will not change on a
retry, so the email is given up at once; 4xx replies, refused or dropped connections, timeouts
and everything else are retried later.
"""

from __future__ import annotations

import ssl
from typing import Literal

import aiosmtplib
import structlog

from mercato.core.security import mask_email, mask_free_text
from mercato.notify.providers.base import EmailDeliveryFailed, OutgoingEmail, build_mime

log = structlog.get_logger("mercato.email.smtp")

Security = Literal["none", "starttls", "tls"]


class SmtpEmail:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        security: Security = "starttls",
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._security = security
        self._timeout = timeout
        self._tls_context = tls_context

    async def send(self, email: OutgoingEmail) -> None:
        try:
            await aiosmtplib.send(
                build_mime(email),
                sender=email.sender,
                recipients=[email.recipient],
                hostname=self._host,
                port=self._port,
                username=self._username or None,
                password=self._password or None,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                timeout=self._timeout,
                tls_context=self._tls_context,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise self._failed(reason, permanent=all(code >= 500 for code in codes)) from exc
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
            raise self._failed(f"{exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise self._failed(f"{exc.code} {exc.message}", permanent=False) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise self._failed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        log.info("email.smtp_sent", to=mask_email(email.recipient), message_id=email.message_id)

    def _failed(self, reason: str, *, permanent: bool) -> EmailDeliveryFailed:
        reason = mask_free_text(" ".join(reason.split()))[:480]
        log.warning("email.smtp_failed", host=self._host, reason=reason, permanent=permanent)
        return EmailDeliveryFailed(reason, permanent=permanent)
