"""A local SMTP server (aiosmtpd, RFC 5321) in the test's event loop, for email tests.

It records every accepted message (envelope and raw content) and can be told to answer RCPT
or DATA with a refusal (e.g. ``451 4.3.0 Try again later``), to require STARTTLS and AUTH
(with a self-signed certificate the client is given to trust), or to speak implicit TLS.
``stop()`` and ``start()`` on the same port make a server that is down, then back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.providers.local_server import free_port

USERNAME = "mailer"
PASSWORD = "smtp-test-password"


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        content = body.get_content()
        assert isinstance(content, str)
        return content


def self_signed() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain reads files only: the in-memory pair goes through a temporary file
    with tempfile.NamedTemporaryFile(suffix=".pem") as handle:
        handle.write(cert_pem + key_pem)
        handle.flush()
        server.load_cert_chain(handle.name)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


@dataclass
class SmtpServer:
    """The server's state; tests read ``received`` and set ``refuse_rcpt`` / ``refuse_data``."""

    port: int
    tls: ssl.SSLContext | None = None  # STARTTLS required (with AUTH) when set
    implicit_tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None  # what a client must trust
    received: list[Received] = field(default_factory=list)
    refuse_rcpt: str | None = None
    refuse_data: str | None = None
    logins: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_rcpt is not None:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.refuse_data is not None:
            return self.refuse_data
        content = envelope.original_content or b""
        assert isinstance(content, bytes)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 2.0.0 Message accepted for delivery"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USERNAME.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=True would leave the reply to us

    def _protocol(self) -> SMTP:
        if self.tls is not None:
            return SMTP(
                self,
                hostname="mx.test",
                tls_context=self.tls,
                require_starttls=True,
                auth_required=True,
                authenticator=self._authenticate,
            )
        return SMTP(self, hostname="mx.test")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, "127.0.0.1", self.port, ssl=self.implicit_tls, reuse_address=True
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


@asynccontextmanager
async def running_smtp_server(
    *, starttls: bool = False, implicit_tls: bool = False
) -> AsyncIterator[SmtpServer]:
    """Start a server on a free port; with ``starttls`` it requires STARTTLS then AUTH
    (``USERNAME``/``PASSWORD``), with ``implicit_tls`` it speaks TLS from the first byte."""
    server_tls, client_tls = self_signed() if (starttls or implicit_tls) else (None, None)
    server = SmtpServer(
        port=free_port(),
        tls=server_tls if starttls else None,
        implicit_tls=server_tls if implicit_tls else None,
        client_tls=client_tls,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
