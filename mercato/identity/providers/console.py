"""The console SMS provider: writes each message to the terminal and the log (embedded mode and
tests).

Each message is printed as one plain line on standard error, where `make run` shows it whatever
the log format (``SMS to +86138****8000: ... (development: no SMS was sent)``), so a developer
reads the code without a phone; the last messages are also kept in memory for tests. Nothing
leaves the machine.
"""

from __future__ import annotations

import itertools
import sys
from collections import deque
from dataclasses import dataclass
from typing import TextIO

import structlog

from mercato.core.security import mask_phone

log = structlog.get_logger("mercato.sms.console")


@dataclass(frozen=True)
class SentMessage:
    id: str
    phone: str
    text: str


class ConsoleSms:
    name = "console"

    def __init__(self, keep: int = 200, terminal: TextIO | None = None) -> None:
        self.sent: deque[SentMessage] = deque(maxlen=keep)
        self._ids = itertools.count(1)
        self._terminal = terminal

    async def send(self, *, phone: str, text: str, code: str = "", sign_name: str = "") -> str:
        message = SentMessage(id=f"console-{next(self._ids)}", phone=phone, text=text)
        self.sent.append(message)
        terminal = self._terminal or sys.stderr
        terminal.write(f"SMS to {mask_phone(phone)}: {text} (development: no SMS was sent)\n")
        terminal.flush()
        log.info("sms.console", phone=phone, sms_text=text, message_id=message.id)
        return message.id

    def last_to(self, phone: str) -> SentMessage | None:
        return next((m for m in reversed(self.sent) if m.phone == phone), None)
