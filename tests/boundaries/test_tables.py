"""Every table is prefixed by the package that defines it, and migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mercato.core.db import get_database
from mercato.models import OWNERS, metadata


def test_every_table_prefix_matches_its_owning_package() -> None:
    from mercato.core.db import Base  # noqa: PLC0415

    for mapper in Base.registry.mappers:
        table = mapper.local_table.name
        prefix = table.split("_", 1)[0]
        assert prefix in OWNERS, f"{table}: unknown prefix {prefix}"
        assert mapper.class_.__module__.startswith(OWNERS[prefix] + "."), (
            f"{table} defined in {mapper.class_.__module__}"
        )


async def test_migrated_schema_equals_the_models() -> None:
    """No drift: autogenerate against the migrated test database finds nothing to do."""

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "compare_server_default": True}
        )  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata))

    async with get_database().engine.connect() as conn:
        differences = await conn.run_sync(diff)

    assert differences == []
