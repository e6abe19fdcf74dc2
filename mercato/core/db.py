"""Database plumbing: engine, declarative Base with a constraint naming convention, column types
and the unit of work.

The edge (a request dependency, a job wrapper, a CLI command) owns the transaction through
:func:`uow`; services receive the session, ``flush()`` and never ``commit()``.

SQLite runs in WAL mode with foreign keys on and a busy timeout. A writing unit of work on SQLite
starts with ``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of failing
when a deferred read transaction tries to upgrade to a write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from mercato.core.errors import DomainError
from mercato.core.settings import Settings, get_settings

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Primary keys are 64-bit on PostgreSQL; SQLite needs plain INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every table; tables are named ``<domain>_<entity>``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class IdMixin:
    """A surrogate 64-bit primary key."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred
    # and skips DDL), then set the pragmas every connection needs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False, settings: Settings | None = None) -> AsyncEngine:
    """Create an engine with the pragmas and pool settings Mercato relies on."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        return engine
    settings = settings or get_settings()
    return create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=settings.database_pre_ping,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_recycle=3600,
        # asyncpg prepares each statement once per connection and keeps the last N; the shop runs
        # a few hundred distinct statements; past 100 (the default) the oldest are evicted and prepared again
        connect_args={"prepared_statement_cache_size": 1000},
    )


class Database:
    """The engine and session factories of one process."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.effective_database_url
        self.engine = make_engine(self.url, echo=settings.database_echo, settings=settings)
        self.is_sqlite = self.url.startswith("sqlite")
        write_engine = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )
        self.write_sessions = async_sessionmaker(write_engine, expire_on_commit=False, autoflush=False)
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    async def dispose(self) -> None:
        await self.engine.dispose()


_database: Database | None = None


def get_database() -> Database:
    """Return the process-wide database, created on first use from the settings."""
    global _database
    if _database is None:
        _database = Database(get_settings())
    return _database


async def reset_database() -> None:
    """Dispose of the process-wide engine (tests and the CLI switch databases with it)."""
    global _database
    if _database is not None:
        await _database.dispose()
    _database = None


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the unit of work owning ``session`` has committed.

    This is where a network call or a job kick belongs: never inside the transaction.
    """
    session.info.setdefault("after_commit", []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    """Run the callbacks registered with :func:`after_commit`. A callback's ``DomainError`` is the
    request's answer and propagates (an SMS provider refusing the code just stored is told to
    the shopper); any other failure (a database pool exhausted under a rush, a bug) is logged and
    the other callbacks still run: what they follow is committed, and each callback's own job or
    retry path picks up what it could not do, so a committed order is never answered 500."""
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        try:
            await callback()
        except DomainError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged: the commit it follows stands
            log.error(
                "db.after_commit_failed",
                callback=getattr(callback, "__qualname__", repr(callback)),
                error=repr(exc),
            )


async def end_transaction(session: AsyncSession) -> None:
    """Commit what the unit of work owning ``session`` did so far and give its connection back.

    For the edge only (a route, a job), before a slow step that needs no database, such as
    decoding an upload (``core.images.decode``): meanwhile no transaction, no SQLite write lock
    and no pooled connection is held. The session stays usable: its next statement begins a new
    transaction (``BEGIN IMMEDIATE`` again on a writing SQLite unit of work), which the unit of
    work commits or rolls back as usual. The :func:`after_commit` callbacks registered so far run
    now, since what they follow is committed.
    """
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await session.commit()
    await run_after_commit(session)


@asynccontextmanager
async def uow(*, write: bool = True) -> AsyncIterator[AsyncSession]:
    """Open one short unit of work: commit on success, roll back on any error.

    Callbacks registered with :func:`after_commit` run after a successful commit.
    """
    database = get_database()
    factory = database.write_sessions if write else database.read_sessions
    async with factory() as session:
        try:
            yield session
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                await session.commit()  # a request that never touched the database skips it
        except DomainError as exc:
            if exc.persist_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
    await run_after_commit(session)


async def insert_ignore(session: AsyncSession, table: Any, values: dict[str, Any]) -> bool:
    """Insert one row unless a unique constraint already holds it; return whether it was new.

    One atomic statement on both databases (``INSERT ... ON CONFLICT DO NOTHING``), so two
    concurrent callers can never both think they inserted.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0) == 1)
