"""A customer's addresses: at most 20, exactly one default while any exist.

Every function takes the owner's id and only ever touches that owner's rows, so another
customer's address id answers ``identity.address_not_found`` (object-level authorisation).
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.identity.errors import AddressLimitReached, AddressNotFound
from mercato.identity.models import Address
from mercato.identity.schemas import AddressRead, AddressWrite
from mercato.identity.service.normalize import normalize_phone
from mercato.identity.service.regions import check_region

MAX_ADDRESSES = 20


async def list_addresses(session: AsyncSession, *, customer_id: int) -> list[AddressRead]:
    """Default first, then newest first."""
    rows = (
        await session.execute(
            select(Address)
            .where(Address.customer_id == customer_id)
            .order_by(Address.is_default.desc(), Address.id.desc())
        )
    ).scalars()
    return [AddressRead.model_validate(row) for row in rows]


async def _owned(session: AsyncSession, customer_id: int, address_id: int) -> Address:
    row = (
        await session.execute(
            select(Address).where(Address.id == address_id, Address.customer_id == customer_id)
        )
    ).scalar_one_or_none()
    if row is None:
        raise AddressNotFound()
    return row


async def get_address(session: AsyncSession, *, customer_id: int, address_id: int) -> AddressRead:
    """Raises: AddressNotFound (also for another customer's address)."""
    return AddressRead.model_validate(await _owned(session, customer_id, address_id))


async def _clear_default(session: AsyncSession, customer_id: int, keep_id: int | None = None) -> None:
    stmt = update(Address).where(Address.customer_id == customer_id, Address.is_default.is_(True))
    if keep_id is not None:
        stmt = stmt.where(Address.id != keep_id)
    await session.execute(stmt.values(is_default=False))


async def add_address(session: AsyncSession, *, customer_id: int, data: AddressWrite) -> AddressRead:
    """Add an address; the first one becomes the default.

    Raises:
        PhoneInvalid: the recipient's phone is not a valid mobile number.
        RegionInvalid: the district is not in the city, or the city not in the province.
        AddressLimitReached: the customer already has 20 addresses.
    """
    phone = normalize_phone(data.phone)
    check_region(province=data.province, city=data.city, district=data.district)
    count = (
        await session.execute(select(func.count()).where(Address.customer_id == customer_id))
    ).scalar_one()
    if count >= MAX_ADDRESSES:
        raise AddressLimitReached(limit=MAX_ADDRESSES)
    is_default = data.is_default or count == 0
    if is_default:
        await _clear_default(session, customer_id)
    now = clock.now()
    row = Address(
        customer_id=customer_id,
        **data.model_dump(exclude={"phone", "is_default"}),
        phone=phone,
        is_default=is_default,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return AddressRead.model_validate(row)


async def update_address(
    session: AsyncSession, *, customer_id: int, address_id: int, data: AddressWrite
) -> AddressRead:
    """Replace an address. Unsetting the only default is ignored (one default must remain).

    Raises:
        AddressNotFound, PhoneInvalid, RegionInvalid.
    """
    row = await _owned(session, customer_id, address_id)
    phone = normalize_phone(data.phone)
    check_region(province=data.province, city=data.city, district=data.district)
    for key, value in data.model_dump(exclude={"phone", "is_default"}).items():
        setattr(row, key, value)
    row.phone = phone
    if data.is_default and not row.is_default:
        await _clear_default(session, customer_id, keep_id=row.id)
        row.is_default = True
    row.updated_at = clock.now()
    await session.flush()
    return AddressRead.model_validate(row)


async def set_default_address(session: AsyncSession, *, customer_id: int, address_id: int) -> AddressRead:
    """Make an address the default, changing nothing else: an address saved before the region
    list was checked stays usable until the shopper edits it.

    Raises:
        AddressNotFound.
    """
    row = await _owned(session, customer_id, address_id)
    await _clear_default(session, customer_id, keep_id=row.id)
    row.is_default = True
    row.updated_at = clock.now()
    await session.flush()
    return AddressRead.model_validate(row)


async def delete_address(session: AsyncSession, *, customer_id: int, address_id: int) -> None:
    """Delete an address; if it was the default, the newest remaining one becomes default.

    Raises:
        AddressNotFound.
    """
    row = await _owned(session, customer_id, address_id)
    was_default = row.is_default
    await session.delete(row)
    await session.flush()
    if was_default:
        newest = (
            await session.execute(
                select(Address).where(Address.customer_id == customer_id).order_by(Address.id.desc()).limit(1)
            )
        ).scalar_one_or_none()
        if newest is not None:
            newest.is_default = True
            await session.flush()
