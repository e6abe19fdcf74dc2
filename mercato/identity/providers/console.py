"""The console SMS provider: writes each message to the log (embedded mode and tests).

It keeps the last messages in memory so a developer (or a test) can read the code without a
phone; it never leaves the machine.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import structlog

log = structlog.get_logger("mercato.sms.console")


@dataclass(frozen=True)
class SentMessage:
    id: str
    phone: str
    text: str


class ConsoleSms:
    name = "console"

    def __init__(self, keep: int = 200) -> None:
        self.sent: deque[SentMessage] = deque(maxlen=keep)
        self._ids = itertools.count(1)

    async def send(self, *, phone: str, text: str) -> str:
        message = SentMessage(id=f"console-{next(self._ids)}", phone=phone, text=text)
        self.sent.append(message)
        log.info("sms.console", phone=phone, sms_text=text, message_id=message.id)
        return message.id

    def last_to(self, phone: str) -> SentMessage | None:
        return next((m for m in reversed(self.sent) if m.phone == phone), None)
