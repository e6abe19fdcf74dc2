"""Identity factories: customers, staff and signed-in clients, made through the real services;
and the code in an email the app sent (``mail`` fixture)."""

from __future__ import annotations

import itertools
import re

from httpx import AsyncClient

from mercato import identity, notify
from mercato.core import events
from mercato.core.db import uow
from mercato.core.jobs import broker

PASSWORD = "correct-horse-42"
_numbers = itertools.count(13900000001)


def next_phone() -> str:
    """A fresh valid Chinese mobile number in E.164."""
    return f"+86{next(_numbers)}"


async def make_customer(
    *, phone: str | None = None, email: str | None = None, password: str | None = PASSWORD, name: str = "测试"
) -> identity.CustomerRead:
    async with uow() as session:
        return await identity.create_customer(
            session,
            phone=phone if phone is not None or email is not None else next_phone(),
            email=email,
            password=password,
            name=name,
            meta=identity.RequestMeta(ip="198.51.100.1"),
        )


async def customer_token(customer_id: int) -> str:
    async with uow() as session:
        issued = await identity.issue_token(
            session,
            subject_kind="customer",
            subject_id=customer_id,
            kind="bearer",
            meta=identity.RequestMeta(),
        )
    return issued.token


async def signed_in_customer(
    client: AsyncClient, **kwargs: object
) -> tuple[identity.CustomerRead, dict[str, str]]:
    """A customer plus the Authorization header of a live bearer token."""
    customer = await make_customer(**kwargs)  # type: ignore[arg-type]
    return customer, {"Authorization": f"Bearer {await customer_token(customer.id)}"}


async def make_staff(
    *,
    email: str = "staff@example.com",
    password: str = PASSWORD,
    is_superuser: bool = False,
    permissions: list[str] | None = None,
) -> identity.StaffRead:
    """A staff member; with ``permissions``, also a role granting exactly those, given to them."""
    async with uow() as session:
        role_ids = []
        if permissions is not None:
            role = await identity.create_role(
                session, name=f"role of {email}", permissions=permissions, actor=SYSTEM
            )
            role_ids.append(role.id)
        return await identity.create_staff(
            session, email=email, password=password, is_superuser=is_superuser, role_ids=role_ids
        )


SYSTEM = identity.Actor(staff_id=None, label="tests")


async def staff_headers(staff_id: int) -> dict[str, str]:
    async with uow() as session:
        issued = await identity.issue_token(
            session, subject_kind="staff", subject_id=staff_id, kind="bearer", meta=identity.RequestMeta()
        )
    return {"Authorization": f"Bearer {issued.token}"}


async def deliver_emails() -> None:
    """Hand the due events to their handlers (notify writes the emails), then run the send job
    they kicked; with the ``mail`` fixture (which subscribes the handlers)."""
    for _ in range(2):
        await events.deliver_pending()
    await broker.wait_all()


def emails_to(mail: notify.ConsoleEmail, address: str) -> list[notify.OutgoingEmail]:
    return [email for email in mail.sent if email.recipient == address]


async def emailed_code(mail: notify.ConsoleEmail, address: str) -> str:
    """The code in the last email sent to ``address`` (delivering the outbox first)."""
    await deliver_emails()
    sent = emails_to(mail, address)
    assert sent, f"no email to {address}"
    match = re.search(r"\b\d{6}\b", sent[-1].subject)
    assert match is not None, sent[-1].subject
    return match.group()
