"""The `allo` command: serve, router, mail, demo, db upgrade, tenant and user management."""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from allo.domain.errors import DomainError
from allo.domain.roles import Role
from allo.gc_policy import collect_rarely
from allo.i18n import t
from allo.planning_cli import app as plan_app
from allo.settings import Settings, get_settings
from allo.simulation_cli import app as simulate_app

P = ParamSpec("P")
R = TypeVar("R")
app = typer.Typer(
    help="Allo, the multi-site contact center.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Staff users.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants (client companies).", no_args_is_help=True)
voice_app = typer.Typer(help="Web voice: recordings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(voice_app, name="voice")
app.add_typer(user_app, name="user")
app.add_typer(tenant_app, name="tenant")
app.add_typer(plan_app)
app.add_typer(simulate_app, name="simulate")
console = Console()
err_console = Console(stderr=True)

DbUrl = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL (ALLO_DATABASE_URL).")
]


def fail(message: str) -> typer.Exit:
    err_console.print(t("cli.error", message=message), style="red", markup=False)
    return typer.Exit(code=2)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            raise fail(str(error)) from None
        except OperationalError as error:
            raise fail(f"database unreachable or not upgraded: {error.orig}") from None
        except SQLAlchemyError as error:
            raise fail(f"database error: {error}") from None
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except ValueError as error:
            raise fail(str(error)) from None
        except Exception as error:  # last resort: a message, never a traceback
            raise fail(f"unexpected {type(error).__name__}: {error}") from None

    return wrapper


def settings_with(database_url: str | None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return get_settings().model_copy(update=values)


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(database_url: DbUrl = None) -> None:
    """Create or migrate the schema to the latest version."""
    from allo.store.migrate import upgrade

    settings = settings_with(database_url)
    upgrade(settings.database_url)
    console.print(t("cli.db_upgraded", url=_safe_url(settings.database_url)))


@voice_app.command("purge")
@friendly_errors
def voice_purge(database_url: DbUrl = None) -> None:
    """Delete the recordings past their queue's retention (the server also does it hourly)."""
    from allo.api.app import make_store
    from allo.services.voice import purge_recordings

    store = make_store(settings_with(database_url))
    with store.unit_of_work() as uow:
        count = purge_recordings(uow)
    store.engine.dispose()
    console.print(t("cli.recordings_purged", count=count))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@tenant_app.command("create")
@friendly_errors
def tenant_create(
    slug: Annotated[str, typer.Option(help="Short identifier, e.g. 'acme'.")],
    name: Annotated[str, typer.Option(help="Company name.")],
    database_url: DbUrl = None,
) -> None:
    """Create a tenant (a client company served by the contact center)."""
    from allo.api.app import make_store
    from allo.services.accounts import create_tenant

    store = make_store(settings_with(database_url))
    with store.unit_of_work() as uow:
        tenant = create_tenant(uow, slug, name)
    console.print(f"{tenant.slug} ({tenant.id})")


@user_app.command("create")
@friendly_errors
def user_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    email: Annotated[str, typer.Option(help="Login email.")],
    role: Annotated[Role, typer.Option(help="admin, supervisor, planner or adviser.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (asked for when omitted; ALLO_PASSWORD).", envvar="ALLO_PASSWORD"
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    site_id: Annotated[int | None, typer.Option(help="Site the user sits at.")] = None,
    adviser_id: Annotated[int | None, typer.Option(help="Adviser profile of this user.")] = None,
    database_url: DbUrl = None,
) -> None:
    """Create a staff user with an argon2-hashed password."""
    from allo.api.app import make_store
    from allo.services.accounts import create_user, tenant_by_slug
    from allo.services.principal import system_principal

    secret = password or getpass.getpass("Password: ")
    store = make_store(settings_with(database_url))
    with store.unit_of_work() as uow:
        found = tenant_by_slug(uow, tenant)
        if found is None:
            raise fail(t("cli.unknown_tenant", slug=tenant))
        create_user(
            uow,
            system_principal(found.id),
            email=email,
            password=secret,
            role=role,
            display_name=name,
            site_id=site_id,
            adviser_id=adviser_id,
        )
    console.print(t("cli.user_created", email=email, role=role.value))


@app.command()
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (ALLO_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (ALLO_PORT).")] = None,
    database_url: DbUrl = None,
) -> None:
    """Run the API and web pages."""
    settings = settings_with(database_url, host=host, port=port)
    _check_schema(settings)
    _run_server(settings)


@app.command()
@friendly_errors
def router(
    tenant: Annotated[
        list[str] | None, typer.Option(help="Route only these tenant slugs (default: all).")
    ] = None,
    database_url: DbUrl = None,
) -> None:
    """Run the live router alone: leads each tenant whose lock is free, stands by otherwise."""
    import logging
    import signal
    import threading

    from allo.api.app import make_store
    from allo.services.router import RouterHost

    settings = settings_with(database_url)
    _check_schema(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    collect_rarely()
    RouterHost(make_store(settings), tenant).run(stop)


@app.command()
@friendly_errors
def mail(
    host: Annotated[str | None, typer.Option(help="SMTP listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="SMTP listen port.")] = None,
    listen: Annotated[
        bool, typer.Option("--listen/--no-listen", help="Run the SMTP listener.")
    ] = True,
    database_url: DbUrl = None,
) -> None:
    """Receive email (SMTP listener, IMAP poller when ALLO_IMAP_HOST is set) and send the outbox."""
    import logging
    import signal
    import threading

    from allo.api.app import make_store
    from allo.channels.email.worker import MailWorker

    settings = settings_with(database_url, smtp_listen_host=host, smtp_listen_port=port)
    _check_schema(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker = MailWorker(make_store(settings), settings, listen=listen)
    worker.start()
    if listen:
        address = f"{settings.smtp_listen_host}:{settings.smtp_listen_port}"
        console.print(t("cli.mail_listening", address=address))
    if settings.imap_host:
        mailbox = f"{settings.imap_user}@{settings.imap_host}/{settings.imap_folder}"
        console.print(t("cli.mail_imap", mailbox=mailbox, seconds=settings.imap_poll_seconds))
    try:
        stop.wait()
    finally:
        worker.stop()


# Below the API's priority (0): the analysis is off the live path and may lag at peaks.
INSIGHTS_NICENESS = 10


@app.command()
@friendly_errors
def insights(database_url: DbUrl = None) -> None:
    """Read conversations (redaction, intent, topics) in a process of its own, off the live
    path; run `allo serve` with ALLO_RUN_INSIGHTS=false next to it."""
    import logging
    import signal
    import threading

    from allo.api.app import make_store
    from allo.services.insights import InsightsWorker, follow_events

    settings = settings_with(database_url)
    _check_schema(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Reading a conversation costs about as much CPU as serving it (spaCy): beside the API on
    # the same cores, the analysis yields to the live path at peaks and catches up after.
    os.nice(INSIGHTS_NICENESS)
    store = make_store(settings)
    follow_events(store, InsightsWorker(store), stop)


def _check_schema(settings: Settings) -> None:
    from allo.store.database import make_engine
    from allo.store.migrate import current_revision, head_revision

    engine = make_engine(settings.database_url)
    try:
        if current_revision(engine) != head_revision(settings.database_url):
            raise fail("the database schema is not up to date: run `allo db upgrade`")
    finally:
        engine.dispose()


def _run_server(settings: Settings) -> None:
    import uvicorn

    from allo.api.app import create_app

    console.print(t("cli.serving", url=f"http://{settings.host}:{settings.port}"))
    application = create_app(settings)
    collect_rarely()
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
        # Pushes are small JSON documents: compressing each costs more CPU than it saves.
        ws_per_message_deflate=False,
    )


@app.command()
@friendly_errors
def demo(
    db: Annotated[Path, typer.Option(help="SQLite file to create or reuse.")] = Path(
        "allo-demo.sqlite"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server after seeding.")
    ] = True,
    bots: Annotated[
        bool, typer.Option("--bots/--no-bots", help="Simulated customers and advisers.")
    ] = True,
) -> None:
    """Seed a demo tenant (French telecom, five sites, ~40 advisers) on SQLite and serve it."""
    from allo.api.app import make_store
    from allo.demo import DEMO_PASSWORD, demo_logins, seed_demo
    from allo.store.migrate import upgrade

    settings = settings_with(f"sqlite:///{db.resolve()}", host=host, port=port)
    if "ALLO_DATA_DIR" not in os.environ:  # recordings and prompts beside the demo database
        settings = settings.model_copy(update={"data_dir": str(db.resolve().parent / "allo-data")})
    upgrade(settings.database_url)
    with console.status(t("cli.demo_seeding")):
        seed_demo(make_store(settings))
    url = f"http://{host}:{port}"
    console.print(t("cli.demo_ready", url=url), style="bold green")
    console.print(f"  {url}/login   {url}/docs")
    console.print(t("cli.demo_logins", password=DEMO_PASSWORD))
    for email, role in demo_logins():
        console.print(f"  {email:38} {role}")
    if serve_after:
        _run_server(settings.model_copy(update={"cookie_secure": False, "demo_bots": bots}))


def main() -> None:
    app()
