"""Test set-up: a real database per xdist worker (SQLite file, or PostgreSQL when
MERCATO_TEST_DATABASE_URL is set), migrated once; every test starts with empty tables,
empty rate limits, a fresh console SMS provider and the real clock.

Tests commit for real (the app's unit of work commits), so tables are emptied after each test
instead of rolling back a wrapping transaction: that keeps concurrency and outbox tests honest.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_TMP = Path(tempfile.mkdtemp(prefix=f"mercato-test-{_WORKER}-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
_PG_BASE = os.environ.get("MERCATO_TEST_DATABASE_URL", "")

os.environ["MERCATO_VAR_DIR"] = str(_TMP)
os.environ["MERCATO_RUN_JOBS_IN_WEB"] = "false"
os.environ["MERCATO_LOG_JSON"] = "true"
os.environ["MERCATO_LOG_LEVEL"] = "WARNING"
os.environ["MERCATO_SMS_PROVIDER"] = "console"
os.environ.pop("MERCATO_REDIS_URL", None)
os.environ.pop("MERCATO_MODE", None)
os.environ["MERCATO_SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"


def _database_url() -> str:
    if not _PG_BASE:
        return f"sqlite+aiosqlite:///{_TMP / 'test.sqlite3'}"
    base, _, _name = _PG_BASE.rpartition("/")
    return f"{base}/mercato_test_{_WORKER}"


DATABASE_URL = _database_url()
os.environ["MERCATO_DATABASE_URL"] = DATABASE_URL

from argon2 import PasswordHasher  # noqa: E402

from mercato.core import security  # noqa: E402

# Passwords are hashed with argon2id at its minimal cost in the suite (t=1, m=1 MiB, p=1): the
# same library and code path, the parameters carried in each hash. Production keeps m=64 MiB,
# t=3, p=4 (security.py), about 200 ms a hash and a check here — which, for every customer and
# staff member the suite creates and signs in, was minutes of each pass.
security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
security._DUMMY_HASH = security._hasher.hash("suite")

from mercato import identity, social  # noqa: E402
from mercato.core import cache, clock, events  # noqa: E402
from mercato.core.db import get_database, reset_database, uow  # noqa: E402
from mercato.core.migrate import upgrade  # noqa: E402
from mercato.core.settings import get_settings  # noqa: E402
from mercato.core.storage import set_storage  # noqa: E402
from mercato.models import metadata  # noqa: E402


async def _recreate_pg_database() -> None:
    import asyncpg  # noqa: PLC0415

    admin = await asyncpg.connect(_PG_BASE.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        name = f"mercato_test_{_WORKER}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def _in_thread(fn: object) -> None:
    """Run ``fn`` in its own thread: alembic's env.py and asyncio.run need a loop of their own."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[str]:
    """Create (PostgreSQL) and migrate the worker's database once per session."""
    get_settings.cache_clear()
    if _PG_BASE:
        _in_thread(lambda: asyncio.run(_recreate_pg_database()))
    _in_thread(upgrade)
    return DATABASE_URL


_TABLES = [table.name for table in reversed(metadata.sorted_tables)]
#: Self-referencing foreign keys (the category tree): SQLite applies ON DELETE RESTRICT row by row,
#: so these columns are cleared before their table is emptied.
_SELF_REFERENCES = {
    table.name: [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    for table in metadata.sorted_tables
}


#: One statement saying which tables hold rows: most tests touch a handful of the ~90 tables, and
#: emptying only those is several times faster (TRUNCATE costs per table on PostgreSQL).
_ANY_ROWS = text("SELECT " + ", ".join(f'EXISTS (SELECT 1 FROM "{n}")' for n in _TABLES))
#: Sequences handed a value since they were last restarted: a table emptied by a rollback still
#: has its sequence moved on, and is truncated so its ids start at 1 again (tests may rely on it).
_USED_SEQUENCES = text("SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL")


async def _empty_tables() -> None:
    database = get_database()
    engine = database.engine
    if database.is_sqlite:  # write from the first statement: a reader cannot wait to become a writer
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
    async with engine.begin() as conn:
        filled = [
            n for n, has_rows in zip(_TABLES, (await conn.execute(_ANY_ROWS)).one(), strict=True) if has_rows
        ]
        if database.is_sqlite:
            for name in filled:
                for column in _SELF_REFERENCES[name]:
                    await conn.execute(text(f'UPDATE "{name}" SET "{column}" = NULL'))
                await conn.execute(text(f'DELETE FROM "{name}"'))
            return
        moved = {s.removesuffix("_id_seq") for s in (await conn.execute(_USED_SEQUENCES)).scalars()}
        dirty = [n for n in _TABLES if n in moved or n in filled]
        if dirty:
            await conn.execute(
                text("TRUNCATE " + ", ".join(f'"{n}"' for n in dirty) + " RESTART IDENTITY CASCADE")
            )


@pytest.fixture(autouse=True)
async def clean_state() -> AsyncIterator[None]:
    """Each test starts from empty tables, limits and SMS outbox, on the real clock."""
    get_settings.cache_clear()
    cache.reset_backends()
    social.forget_cached_items()
    clock.reset()
    identity.set_sms_sender(identity.ConsoleSms())
    yield
    sender = identity.get_sms_sender()
    if isinstance(sender, identity.TwilioSms):
        await sender.aclose()
    clock.reset()
    await _empty_tables()


@pytest.fixture
def handlers() -> Iterator[None]:
    """Every job and event handler registered, as in the worker (``pytestmark =
    pytest.mark.usefixtures("handlers")`` in flows that deliver events); none afterwards."""
    from mercato.worker import register  # noqa: PLC0415 - the composition root, only when asked

    register()
    yield
    events.unsubscribe_all()


@pytest.fixture
def empty_media() -> Iterator[None]:
    """No stored media file before or after the test (this worker's own media folder), and the
    storage backend rebuilt from the settings."""
    root = get_settings().media_root
    shutil.rmtree(root, ignore_errors=True)
    set_storage(None)
    yield
    set_storage(None)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sms() -> identity.ConsoleSms:
    """The console SMS provider: read the codes the app 'sent'."""
    sender = identity.get_sms_sender()
    assert isinstance(sender, identity.ConsoleSms)
    return sender


@pytest.fixture
def mail(handlers: None) -> Iterator[object]:
    """The console email transport (read what the app 'sent'), with every event handler
    subscribed: notify writes identity's code emails when the outbox is delivered."""
    from mercato import notify  # noqa: PLC0415

    transport = notify.ConsoleEmail()
    notify.use_email_transport(transport)
    yield transport
    notify.use_email_transport(None)


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    """A unit of work for service tests: committed when the test body returns."""
    async with uow() as s:
        yield s


@pytest.fixture(scope="session")
def app() -> object:
    from mercato.app import create_app  # noqa: PLC0415

    return create_app()


@pytest.fixture
async def client(app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=("203.0.113.7", 50000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session", autouse=True)
async def dispose_engine() -> AsyncIterator[None]:
    yield
    await reset_database()
