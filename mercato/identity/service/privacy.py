"""Privacy rights (PIPL art. 44-47, GDPR art. 15-20): consents, data export, account deletion.

Deleting an account erases the personal data Mercato holds (mobile, email, name, password,
addresses, sessions, the IP addresses of consents, staff notes and tags) and keeps the customer row only as an
anonymous id that orders and ledgers may still reference; other domains erase their own
personal data on ``CustomerDeleted``.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.events import record_event
from mercato.core.i18n import N_
from mercato.identity.errors import InvalidCredentials
from mercato.identity.events import CustomerDeleted
from mercato.identity.models import (
    Address,
    AuthToken,
    Consent,
    CustomerNote,
    CustomerTagging,
    WeChatAccount,
    WeChatAuthorization,
)
from mercato.identity.schemas import CodePurpose, ConsentRead, CustomerExport, CustomerStatus, DeleteAccount
from mercato.identity.service.addresses import list_addresses
from mercato.identity.service.codes import verify_code
from mercato.identity.service.customers import _load, confirm_password, to_read
from mercato.identity.service.tokens import list_live_tokens

DELETED_NAME = "deleted"


async def list_consents(session: AsyncSession, *, customer_id: int) -> list[ConsentRead]:
    rows = (
        await session.execute(select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.id))
    ).scalars()
    return [ConsentRead.model_validate(row) for row in rows]


async def export_customer_data(session: AsyncSession, *, customer_id: int) -> CustomerExport:
    """Everything identity holds about the customer, as one JSON-able document."""
    customer = to_read(await _load(session, customer_id))
    return CustomerExport(
        exported_at=clock.now(),
        customer=customer,
        consents=await list_consents(session, customer_id=customer_id),
        addresses=await list_addresses(session, customer_id=customer_id),
        sessions=await list_live_tokens(session, subject_kind="customer", subject_id=customer_id),
    )


async def delete_customer(session: AsyncSession, *, customer_id: int, data: DeleteAccount) -> None:
    """Erase the customer's personal data after re-confirming with password or SMS code.

    Raises:
        PasswordAttemptsExceeded: five wrong passwords in 15 minutes (shared with password
            changes, see ``confirm_password``); nothing is erased.
        InvalidCredentials: the password is wrong or neither proof was given
            (code identity.confirmation_required when none was given).
        CodeExpired, CodeInvalid, CodeAttemptsExceeded: the SMS code is wrong.
    """
    row = await _load(session, customer_id)
    if data.password is not None and row.password_hash is not None:
        await confirm_password(
            row,
            data.password,
            wrong=InvalidCredentials(N_("The password is incorrect."), code="identity.password_incorrect"),
        )
    elif data.code is not None and row.phone is not None:
        await verify_code(session, destination=row.phone, purpose=CodePurpose.delete_account, code=data.code)
    else:
        raise InvalidCredentials(
            N_("Confirm with your password or an SMS code."), code="identity.confirmation_required"
        )
    now = clock.now()
    await session.execute(delete(Address).where(Address.customer_id == customer_id))
    # WeChat links are personal data too, and signing in with that WeChat must find no account.
    await session.execute(delete(WeChatAccount).where(WeChatAccount.customer_id == customer_id))
    await session.execute(delete(WeChatAuthorization).where(WeChatAuthorization.customer_id == customer_id))
    await session.execute(
        update(AuthToken)
        .where(
            AuthToken.subject_kind == "customer",
            AuthToken.subject_id == customer_id,
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    await session.execute(
        update(AuthToken)
        .where(AuthToken.subject_kind == "customer", AuthToken.subject_id == customer_id)
        .values(ip=None, user_agent="")
    )
    await session.execute(update(Consent).where(Consent.customer_id == customer_id).values(ip=None))
    # Staff notes and tags describe the person: they go with the rest of the personal data.
    await session.execute(delete(CustomerNote).where(CustomerNote.customer_id == customer_id))
    await session.execute(delete(CustomerTagging).where(CustomerTagging.customer_id == customer_id))
    row.tag_count = 0
    row.phone = None
    row.email = None
    row.name = DELETED_NAME
    row.password_hash = None
    row.status = CustomerStatus.deleted.value
    row.deleted_at = now
    await session.flush()
    await record_event(session, CustomerDeleted(customer_id=customer_id))
