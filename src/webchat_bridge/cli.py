"""The ``webchat-bridge`` command.

Every command works on the database named by ``--database`` (or
``WEB_CHAT_DATABASE_PATH``; default ``db/web_chat_bridge.db`` under the working
directory). Errors are one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys

import click

from . import DEFAULT_DATABASE, __version__
from .db import SchemaError, open_database, settings_store
from .keys import KeyConflict
from .settings import SPECS, Settings


class Context:
    def __init__(self, database: str):
        self.database = os.path.abspath(database)

    def open(self, *, create: bool = False) -> sqlite3.Connection:
        """The database, upgraded if need be. Only the commands that are meant
        to make one (init-db, serve) create it: a mistyped --database must not
        quietly produce an empty database with new keys."""
        if not create and not os.path.isfile(self.database):
            raise click.ClickException(
                f"no database at {self.database}; create it with 'webchat-bridge init-db' "
                "or 'webchat-bridge serve', or name another with --database"
            )
        try:
            return open_database(self.database)
        except sqlite3.DatabaseError as err:
            raise click.ClickException(f"{self.database}: {err}") from None


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database", "-d", envvar="WEB_CHAT_DATABASE_PATH", default=DEFAULT_DATABASE,
              show_default=True, metavar="PATH", help="The SQLite database file.")
@click.version_option(__version__, prog_name="webchat-bridge")
@click.pass_context
def cli(ctx: click.Context, database: str) -> None:
    """Web Chat Bridge: visitors chat with an AI agent that polls over HTTP."""
    ctx.obj = Context(database)
    # Everything below reads the path from the environment too (the app
    # factory, gunicorn's workers), so one source of truth is kept.
    os.environ["WEB_CHAT_DATABASE_PATH"] = ctx.obj.database


_KEY_LABELS = {"api_key": "API key (for the agent's plugin)",
               "admin_key": "admin key (for the dashboard)"}


def _schema_version(path: str) -> int | None:
    """The file's schema version, or None when there is no file yet."""
    if not os.path.isfile(path):
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise click.ClickException(f"{path}: {err}") from None
    finally:
        conn.close()


def _port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _print_keys(generated: dict, database: str) -> None:
    for name, key in generated.items():
        click.secho(f"Generated a new {_KEY_LABELS[name]}:", fg="yellow")
        click.echo(f"  {name}: {key}")
    if generated:
        click.echo(f"  (stored in {database}; show again with 'webchat-bridge keys')")


@cli.command("init-db")
@pass_ctx
def init_db(ctx: Context) -> None:
    """Create the database (or upgrade it in place) and any missing key."""
    from .keys import ensure_keys

    before = _schema_version(ctx.database)
    conn = ctx.open(create=True)
    try:
        generated = ensure_keys(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    if before is None:
        click.echo(f"Created {ctx.database} (schema version {version})")
    elif before == version:
        click.echo(f"{ctx.database} is already at schema version {version}; nothing to do")
    else:
        click.echo(f"Upgraded {ctx.database} from schema version {before} to {version}")
    _print_keys(generated, ctx.database)


@cli.command()
@click.option("--rotate", type=click.Choice(["api", "admin"]),
              help="Replace this key with a new strong one.")
@pass_ctx
def keys(ctx: Context, rotate: str | None) -> None:
    """Show the API and admin keys, or rotate one of them."""
    from . import keys as keymod

    conn = ctx.open()
    try:
        keymod.ensure_keys(conn)
        if rotate:
            try:
                new = keymod.rotate(conn, rotate)
            except ValueError as err:
                raise click.ClickException(str(err)) from None
            click.echo(f"New {rotate} key: {new}")
            click.echo("It is in force on the next request of every running worker.")
            return
        settings = Settings(settings_store.get_all(conn))
    finally:
        conn.close()
    for name in ("api_key", "admin_key"):
        source = f"environment ({SPECS[name].env})" if name in settings.pinned else "database"
        click.echo(f"{name}: {getattr(settings, name)}  [{source}]")


@cli.command()
@pass_ctx
def cleanup(ctx: Context) -> None:
    """Delete inactive sessions (with their messages and responses) now."""
    from . import housekeeping

    conn = ctx.open()
    try:
        settings = Settings(settings_store.get_all(conn))
        removed, pruned = housekeeping.cleanup_now(conn, settings)
    finally:
        conn.close()
    click.echo(f"Cleaned up {removed} inactive sessions ({pruned} old rate-limit windows)")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="WEB_CHAT_HOST",
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              envvar="WEB_CHAT_PORT")
@click.option("--workers", type=click.IntRange(1, 64), envvar="WEB_CHAT_WORKERS",
              help="Worker processes [default: 2 × CPUs + 1, at most 9].")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              envvar="WEB_CHAT_THREADS", help="Threads per worker.")
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds before a stuck worker is restarted.")
@click.option("--access-log", metavar="FILE", help="gunicorn's access log ('-' for stdout).")
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
@pass_ctx
def serve(ctx: Context, host, port, workers, threads, timeout, access_log, dev) -> None:
    """Run the bridge (gunicorn; --dev for Flask's reloader)."""
    from . import create_app, logs
    from .server import BridgeServer, default_workers, options

    if _port_in_use(host, port):
        raise click.ClickException(
            f"{host}:{port} is already in use; choose another port with --port "
            "or WEB_CHAT_PORT"
        )
    from .keys import check_distinct, ensure_keys

    check_distinct(Settings({}))
    conn = ctx.open(create=True)
    try:
        generated = ensure_keys(conn)
    finally:
        conn.close()
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    click.echo(f"Web Chat Bridge {__version__}")
    click.echo(f"  chat page:  {base}/")
    click.echo(f"  dashboard:  {base}/admin")
    click.echo(f"  widget:     <script src=\"{base}/widget.js\" async></script>")
    click.echo(f"  API:        {base}/api/v1/   (described at {base}/api/v1/openapi.json)")
    click.echo(f"  database:   {ctx.database}")
    click.echo(f"  logs:       {logs.log_dir()}")
    click.echo("  keys:       'webchat-bridge keys' shows them")
    _print_keys(generated, ctx.database)
    sys.stdout.flush()
    if dev:
        create_app().run(host=host, port=port, debug=True, use_reloader=True)
        return
    BridgeServer(create_app, options(
        host=host, port=port, workers=workers or default_workers(), threads=threads,
        timeout=timeout, access_log=access_log,
    )).run()


@cli.command("echo-agent")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="The bridge's base URL.")
@click.option("--key", envvar="WEB_CHAT_API_KEY", help="The API key (default: read from the database).")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between inbox polls.")
@click.option("--prefix", default="Echo: ", show_default=True,
              help="Text put before each echoed message.")
@click.option("--once", is_flag=True, help="Poll once and exit.")
@pass_ctx
def echo_agent(ctx: Context, url, key, interval, prefix, once) -> None:
    """Answer every visitor message with an echo, polling like the real plugin."""
    from .echo_agent import BridgeError, EchoAgent

    if not url.startswith(("http://", "https://")):
        raise click.ClickException(f"--url must start with http:// or https:// (got {url!r})")
    reload_key = None
    if not key:
        def reload_key():
            conn = ctx.open()
            try:
                return Settings(settings_store.get_all(conn)).api_key
            finally:
                conn.close()

        key = reload_key()
        if not key:
            raise click.ClickException("no API key: pass --key or run 'webchat-bridge init-db'")
    agent = EchoAgent(url, key, prefix=prefix, interval=interval, reload_key=reload_key,
                      log=lambda line: click.echo(line, err=True))
    if once:
        try:
            count = agent.poll_once()
        except BridgeError as err:
            raise click.ClickException(str(err)) from None
        except OSError as err:
            raise click.ClickException(f"bridge unreachable at {url}: {err}") from None
        click.echo(f"answered {count} message(s)", err=True)
        return
    click.echo(f"Polling {agent.base}?action=inbox every {interval:g} s (Ctrl+C to stop)", err=True)
    try:
        agent.run()
    except KeyboardInterrupt:
        pass


# Commands for moving data in and keeping the file healthy (migrate-php,
# validate-migration, backup, optimize) are registered from maintenance_cli.
from .maintenance_cli import register as _register_maintenance  # noqa: E402

_register_maintenance(cli, pass_ctx)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except (SchemaError, KeyConflict) as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(1)
    except (sqlite3.Error, OSError) as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(1)
    except SystemExit:
        raise
    except BaseException as err:  # a last line of defence: one line, no traceback
        click.echo(f"Error: {type(err).__name__}: {err}", err=True)
        sys.exit(1)
