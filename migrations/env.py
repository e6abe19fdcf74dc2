"""Alembic environment: runs migrations on the configured database (SQLite in batch mode)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from mercato.core.db import UTCDateTime, make_engine
from mercato.core.settings import get_settings
from mercato.models import metadata

config = context.config


def _url() -> str:
    return config.attributes.get("url") or get_settings().effective_database_url


def render_item(type_: str, obj: object, _autogen_context: object) -> str | bool:
    """Render our column types as plain SQLAlchemy so revision files import no mercato code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
        return
    engine = make_engine(_url())
    async with engine.connect() as conn:
        await conn.run_sync(_run_sync)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
