"""The console email transport: one masked log line per email (embedded mode, development).

It keeps the last emails in memory so a developer (or a test) can read them; nothing leaves
the machine.
"""

from __future__ import annotations

from collections import deque

import structlog

from mercato.core.security import mask_email
from mercato.notify.providers.base import OutgoingEmail

log = structlog.get_logger("mercato.email.console")


class ConsoleEmail:
    name = "console"

    def __init__(self, keep: int = 200) -> None:
        self.sent: deque[OutgoingEmail] = deque(maxlen=keep)

    async def send(self, email: OutgoingEmail) -> None:
        self.sent.append(email)
        log.info(
            "email.console",
            to=mask_email(email.recipient),
            subject=email.subject,
            message_id=email.message_id,
        )
