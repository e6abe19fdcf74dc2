"""Run Alembic migrations programmatically (the CLI, the test set-up and `mercato run`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mercato.core.db import make_engine
from mercato.core.settings import ROOT


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (the configured one by default) to ``revision``.

    ``head`` means every head: branches made in parallel work are applied before their merge
    revision exists. Must be called outside a running event loop (env.py runs its own).
    """
    command.upgrade(alembic_config(url), "heads" if revision == "head" else revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


async def pending(url: str) -> bool:
    """Whether the database at ``url`` is behind the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return current != heads
