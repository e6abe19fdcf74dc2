"""The ``mercato`` command: run, migrate, demo, worker, createadmin, unlock-staff, check."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import typer

from mercato.core.settings import Mode, get_settings
from mercato.demo import (
    DEMO_CUSTOMER_EMAIL,
    DEMO_CUSTOMER_PASSWORD,
    DEMO_CUSTOMER_PHONE,
    DEMO_STAFF_EMAIL,
    DEMO_STAFF_PASSWORD,
    seed,
)

app = typer.Typer(
    help="Mercato: a self-operated e-commerce platform.", no_args_is_help=True, add_completion=False
)


def _fail_on_problems() -> None:
    settings = get_settings()
    problems = settings.problems()
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(code=1)
    if settings.mode is Mode.production and settings.allow_test_providers:
        typer.echo(
            "MERCATO_ALLOW_TEST_PROVIDERS is on: the sandbox gateway and console SMS/email are "
            "allowed; for staging and benchmarks only",
            err=True,
        )


@app.command()
def migrate(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply database migrations (SQLite or PostgreSQL, from MERCATO_DATABASE_URL)."""
    from mercato.core.migrate import upgrade  # noqa: PLC0415 - keeps `mercato --help` fast

    _fail_on_problems()
    upgrade(revision=revision)
    typer.echo(f"database migrated to {revision}")


@app.command()
def demo(force: bool = typer.Option(False, help="Allow seeding in production mode")) -> None:
    """Load demo data (idempotent): a staff superuser, roles, and a customer with an address."""
    if get_settings().mode is Mode.production and not force:
        typer.echo("refusing to load demo data in production mode (use --force)", err=True)
        raise typer.Exit(code=1)

    created = _seed_demo()
    typer.echo("demo data: " + (", ".join(created) if created else "already present"))
    _print_logins()


def _seed_demo() -> list[str]:
    """Load what is missing of the demo data, printing each step of a first build and its time."""
    started = time.monotonic()
    created = asyncio.run(seed(progress=typer.echo))
    if created:
        typer.echo(f"demo: ready in {time.monotonic() - started:.0f} s")
    return created


def _print_logins() -> None:
    settings = get_settings()
    typer.echo(
        "\n".join(
            [
                "",
                "Demo logins",
                f"  staff console  http://{settings.host}:{settings.port}/admin/   "
                f"{DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}",
                f"  customer       http://{settings.host}:{settings.port}/         {DEMO_CUSTOMER_PHONE} or "
                f"{DEMO_CUSTOMER_EMAIL} / {DEMO_CUSTOMER_PASSWORD}",
                f"  API docs       http://{settings.host}:{settings.port}/api/docs",
                "",
            ]
        )
    )


@app.command()
def run(
    host: str | None = typer.Option(None, help="Bind address (MERCATO_HOST)"),
    port: int | None = typer.Option(None, help="Port (MERCATO_PORT)"),
    reload: bool = typer.Option(False, help="Reload on code changes (development)"),
    workers: int = typer.Option(1, help="Web worker processes (production)"),
) -> None:
    """Migrate, load demo data once (embedded mode) and serve the web app."""
    import uvicorn  # noqa: PLC0415

    from mercato.core.migrate import upgrade  # noqa: PLC0415

    _fail_on_problems()
    settings = get_settings()
    upgrade()
    if settings.mode is Mode.embedded:
        _seed_demo()
        _print_logins()
    uvicorn.run(
        "mercato.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        workers=None if reload else workers,
        proxy_headers=True,
        access_log=False,
        log_config=None,
    )


@app.command()
def worker(
    scheduler: bool = typer.Option(True, help="Also run the periodic scheduler (run it in one worker only)"),
) -> None:
    """Run background jobs from the broker (Redis in production) and the scheduler."""
    from mercato.core.logging import configure_logging  # noqa: PLC0415
    from mercato.worker import run_worker  # noqa: PLC0415

    _fail_on_problems()
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if not settings.redis_url:
        typer.echo(
            "no MERCATO_REDIS_URL: jobs run inside this process from its own scheduler "
            "(embedded mode already runs them inside `mercato run`)",
            err=True,
        )
    asyncio.run(run_worker(with_scheduler=scheduler))


@app.command()
def createadmin(
    email: str = typer.Option(..., prompt=True, help="Staff email"),
    name: str = typer.Option("", help="Display name"),
) -> None:
    """Create a staff superuser. The password comes from MERCATO_ADMIN_PASSWORD or a prompt."""
    from mercato import identity  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415
    from mercato.core.errors import DomainError  # noqa: PLC0415
    from mercato.core.i18n import gettext  # noqa: PLC0415

    password = os.environ.get("MERCATO_ADMIN_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )

    async def create() -> identity.StaffRead:
        try:
            async with uow() as session:
                return await identity.create_staff(
                    session, email=email, password=password, name=name, is_superuser=True
                )
        finally:
            await reset_database()

    try:
        staff = asyncio.run(create())
    except DomainError as exc:
        typer.echo(f"{exc.code}: {gettext(exc.message, 'en', **exc.params)}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"created superuser {staff.email} (id {staff.id})")


@app.command("unlock-staff")
def unlock_staff(email: str = typer.Option(..., "--email", help="The staff member's email")) -> None:
    """Let a staff member sign in again at once: forget their failed sign-ins from every address
    (audited as staff.unlock by "cli")."""
    from mercato import identity  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415
    from mercato.core.errors import DomainError  # noqa: PLC0415
    from mercato.core.i18n import gettext  # noqa: PLC0415

    async def unlock() -> identity.StaffRead:
        try:
            async with uow() as session:
                return await identity.unlock_staff(
                    session, email=email, actor=identity.Actor(staff_id=None, label="cli")
                )
        finally:
            await reset_database()

    try:
        staff = asyncio.run(unlock())
    except DomainError as exc:
        typer.echo(f"{exc.code}: {gettext(exc.message, 'en', **exc.params)}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"unlocked {staff.email} (id {staff.id}): failed sign-ins forgotten")


@app.command()
def check() -> None:
    """Validate the configuration and the database; print one line per problem."""
    from mercato.core.migrate import pending  # noqa: PLC0415

    settings = get_settings()
    problems = settings.problems()
    if not problems:
        try:
            if asyncio.run(pending(settings.effective_database_url)):
                problems.append("database: migrations are pending; run `mercato migrate`")
        except Exception as exc:  # report any connection failure as a problem line
            problems.append(f"database: cannot connect ({type(exc).__name__}: {exc})")
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise typer.Exit(code=1)
    typer.echo(f"ok: {settings.mode.value} mode, database {settings.effective_database_url.split('@')[-1]}")


inventory_app = typer.Typer(help="Inventory tools.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")


@inventory_app.command("verify")
def inventory_verify() -> None:
    """Prove every stock level equals its ledger and its active holds; one line per difference."""
    from mercato import inventory  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415

    async def run() -> inventory.VerifyReport:
        try:
            async with uow(write=False) as session:
                return await inventory.verify_stock(session)
        finally:
            await reset_database()

    report = asyncio.run(run())
    for p in report.problems:
        typer.echo(
            f"sku {p.sku_id} warehouse {p.warehouse_id}: {p.problem}: expected {p.expected}, found {p.actual}"
        )
    if report.problems:
        raise typer.Exit(code=1)
    typer.echo(f"ok: {report.stock_rows} stock rows match {report.ledger_entries} ledger entries")


payments_app = typer.Typer(help="Payment tools.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")


@payments_app.command("reconcile")
def payments_reconcile(
    file: str = typer.Argument(..., help="The provider's statement: its CSV export, as downloaded"),
    provider: str = typer.Option(..., "--provider", help="Whose statement: alipay, stripe or wechatpay"),
) -> None:
    """Compare a provider's statement with our payments and refunds; one line per difference.

    Exit code 0: everything matches; 1: differences (listed); 2: the file cannot be read.
    """
    from pathlib import Path  # noqa: PLC0415

    from mercato import payments  # noqa: PLC0415
    from mercato.core.db import reset_database, uow  # noqa: PLC0415
    from mercato.core.i18n import gettext  # noqa: PLC0415

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        typer.echo(f"{file}: cannot be read ({exc.strerror or type(exc).__name__})", err=True)
        raise typer.Exit(code=2) from None
    try:
        statement = payments.read_statement(provider=provider, data=data)
    except payments.StatementUnreadable as exc:
        typer.echo(f"{file}: {gettext(exc.message, 'en', **exc.params)}", err=True)
        raise typer.Exit(code=2) from None

    async def run() -> payments.ReconcileReport:
        try:
            async with uow(write=False) as session:
                return await payments.reconcile_statement(session, statement=statement)
        finally:
            await reset_database()

    report = asyncio.run(run())
    for difference in report.differences:
        typer.echo(difference.describe())
    if report.differences:
        raise typer.Exit(code=1)
    period = f"{report.starts_at:%Y-%m-%d %H:%M} to {report.ends_at:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"ok: {report.statement_lines} statement lines match our records ({period})")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
