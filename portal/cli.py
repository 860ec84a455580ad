"""The ``portal`` command: run, migrate, demo, create-staff, create-api-token, worker, check."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from portal.settings import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        click.echo(f"portal: configuration error: {exc}", err=True)
        sys.exit(2)


def _with_db(settings: Settings, fn: Callable[[], Awaitable[Any]]) -> Any:
    from portal import db
    from portal.mail import service as mail_service

    async def run() -> Any:
        engine = db.make_engine(settings)
        db.bind(engine)
        await db.start(engine, pool_size=4)
        mail_service.configure(base_url=settings.base_url, mail_from=settings.mail_from)
        try:
            return await fn()
        finally:
            await db.stop(engine)

    try:
        return asyncio.run(run())
    except (OSError, ConnectionError) as exc:
        click.echo(f"portal: cannot reach the database ({settings.database_url.split('@')[-1]}): {exc}", err=True)
        sys.exit(3)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portal")
def main() -> None:
    """portal: customer self-service portal and help desk."""


@main.command()
def migrate() -> None:
    """Create or update the database tables (safe to run again)."""
    from portal import db

    settings = _settings()

    async def go() -> None:
        await db.migrate(db.current_engine())

    _with_db(settings, go)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default PORTAL_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORTAL_PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Server processes (default PORTAL_WORKERS or 1).")
@click.option("--no-worker", is_flag=True, help="Do not run the background worker in-process.")
@click.option("--no-migrate", is_flag=True, help="Skip migrating before serving.")
def run(host: str | None, port: int | None, workers: int | None, no_worker: bool, no_migrate: bool) -> None:
    """Serve the portal (migrates first; runs the background worker in-process by default)."""
    import uvicorn

    settings = _settings()
    if not no_migrate:
        from portal import db

        async def go() -> None:
            await db.migrate(db.current_engine())

        _with_db(settings, go)
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    os.environ["PORTAL_RUN_WORKER"] = "0" if no_worker else "1"
    click.echo(f"portal: serving {settings.base_url} (listening on http://{host}:{port}, {workers} process(es))")
    click.echo(f"portal: staff side at {settings.base_url}/staff")
    uvicorn.run("portal.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=False, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                server_header=False)


@main.command()
def worker() -> None:
    """Run background jobs (sending mail, housekeeping) in this process."""
    from portal.jobs.worker import run_worker

    settings = _settings()
    click.echo("portal: worker started (Ctrl+C to stop)")
    try:
        asyncio.run(run_worker(settings))
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--if-empty", is_flag=True, help="Only when the database has no staff yet (used by `make run`).")
def demo(if_empty: bool) -> None:
    """Load realistic Turkish/English demo data (idempotent)."""
    from portal.demo import load_demo, print_logins

    settings = _settings()

    async def go() -> bool:
        return await load_demo(settings, if_empty=if_empty)

    loaded = _with_db(settings, go)
    if loaded:
        click.echo("demo data loaded")
    print_logins(settings)


@main.command("create-staff")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(["agent", "lead", "admin"]), default="agent", show_default=True)
@click.option("--password", default=None, help="Password (asked for when omitted).")
@click.option("--team", default=None, help="Team slug to join (created when missing).")
def create_staff(email: str, name: str, role: str, password: str | None, team: str | None) -> None:
    """Create a staff member, or update the role/password of an existing one."""
    from email_validator import EmailNotValidError, validate_email

    from portal.accounts import service
    from portal.clock import now
    from portal.security import Passwords

    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    settings = _settings()

    async def go() -> dict:
        hashed = await Passwords(time_cost=settings.password_time_cost,
                                 memory_cost=settings.password_memory_cost).hash(password)
        return await service.create_staff(email=email, name=name, role=role, password_hash=hashed, now=now(), team=team)

    row = _with_db(settings, go)
    click.echo(f"staff member {row['email']} ({row['role']}) is ready; log in at {settings.base_url}/staff/login")


@main.command("create-api-token")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["*", "orders", "tickets"]),
              help="What the token may use (repeat for several; default: everything).")
def create_api_token(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token for the JSON API and print it once."""
    from portal.accounts import service
    from portal.accounts.api_scopes import format_scopes
    from portal.clock import now

    settings = _settings()

    async def go() -> str:
        return await service.create_api_token(name, now=now(), scopes=format_scopes(scopes))

    token = _with_db(settings, go)
    click.echo(token)
    click.echo("Keep it safe: it is shown only once. Send it as 'Authorization: Bearer <token>'.", err=True)


@main.command("import-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
def import_orders(file: str) -> None:
    """Import orders from a CSV file (Excel ';' or ',', UTF-8 or Windows-1254; see docs/api.md).

    Orders with a bad row are skipped whole and listed with their line numbers; the exit status
    is 1 when any row was rejected. Importing the same file again changes nothing."""
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from portal.clock import now
    from portal.orders import importer

    settings = _settings()
    raw = Path(file).read_bytes()
    console = Console(stderr=True)

    async def go() -> importer.ImportReport:
        with Progress(console=console, transient=False) as progress:
            task = progress.add_task("orders", total=None)
            return await importer.import_orders(raw, actor="import:cli", now=now(), tz=settings.tz,
                                                progress=lambda done, total: progress.update(
                                                    task, completed=done, total=total))

    try:
        report = _with_db(settings, go)
    except importer.ImportFileError as exc:
        click.echo(f"portal: {file}: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{report.rows} rows ({report.encoding}, '{report.delimiter}'): {report.created} orders "
               f"created, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.rejected)} rows rejected")
    if report.rejected:
        table = Table("line", "order", "reason", title="Rejected rows (nothing of these orders was imported)")
        for r in report.rejected:
            table.add_row(str(r.line), r.number, r.reason)
        Console().print(table)
        sys.exit(1)


@main.command()
def check() -> None:
    """Check the configuration and that the database, SMTP and Redis answer."""
    from portal.checks import run_checks

    settings = _settings()
    ok = asyncio.run(run_checks(settings, echo=click.echo))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
