"""CLI commands for moving data in and keeping the file healthy: migrate-php,
validate-migration, backup and optimize.

Each failure is one line on stderr and exit status 1 (``click.ClickException``),
also when a command is invoked directly rather than through ``cli.main``.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager

import click


@contextmanager
def _one_line_errors():
    from .backup import BackupError
    from .db import SchemaError
    from .db.php_source import NotAPhpDatabase
    from .migrate_php import MigrationError

    try:
        yield
    except (MigrationError, NotAPhpDatabase, BackupError, SchemaError) as err:
        raise click.ClickException(str(err)) from None
    except sqlite3.Error as err:
        raise click.ClickException(f"database error: {err}") from None
    except OSError as err:
        raise click.ClickException(str(err)) from None


def _human(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def register(cli, pass_ctx) -> None:
    """Attach migrate-php, validate-migration, backup and optimize to ``cli``."""

    @cli.command("migrate-php")
    @click.argument("source", metavar="SOURCE")
    @click.option("--merge", is_flag=True,
                  help="Add to a target that already holds data (refused if any id is taken).")
    @click.option("--replace", is_flag=True,
                  help="Delete the target's sessions, messages and responses first.")
    @click.option("--dry-run", is_flag=True, help="Do everything, report, then roll back.")
    @click.option("--progress/--no-progress", default=None,
                  help="Progress bars on stderr [default: when stderr is a terminal].")
    @pass_ctx
    def migrate_php_command(ctx, source, merge, replace, dry_run, progress):
        """Copy the PHP system's database SOURCE into this bridge's database.

        Ids, sequences, processed flags and links are kept; the HTML escaping
        PHP applied is undone; odd timestamps are replaced and their originals
        recorded. One transaction: all or nothing.
        """
        from .migrate_php import migrate

        if merge and replace:
            raise click.ClickException("choose one of --merge and --replace")
        mode = "merge" if merge else "replace" if replace else None
        with _one_line_errors():
            report = migrate(os.path.abspath(source), ctx.database, mode=mode,
                             dry_run=dry_run, progress=progress)
        for line in report.lines():
            click.echo(line)
        if not dry_run:
            click.echo("Next: webchat-bridge validate-migration " + source)

    @cli.command("validate-migration")
    @click.argument("source", metavar="SOURCE")
    @click.option("--merged", is_flag=True,
                  help="The target also holds rows of its own (after --merge): compare only "
                       "the rows that came from SOURCE.")
    @pass_ctx
    def validate_migration_command(ctx, source, merged):
        """Check that this database holds exactly what migrate-php made of SOURCE."""
        from .migrate_php import validate

        with _one_line_errors():
            checks = validate(os.path.abspath(source), ctx.database, merged=merged)
        click.echo(f"Comparing {source} with {ctx.database}")
        for check in checks:
            for line in check.lines():
                click.echo(line)
        bad = [c.table for c in checks if not c.ok]
        if bad:
            raise click.ClickException(f"validation failed: {', '.join(bad)} differ")
        click.echo("Validation passed: every row arrived as the migration intends.")

    @cli.command()
    @click.option("--dir", "directory", metavar="DIR",
                  help="Where backups go [default: 'backups' beside the database file].")
    @click.option("--keep", default=7, show_default=True, type=click.IntRange(1, 10000),
                  help="How many of the newest backups to keep.")
    @click.option("--progress/--no-progress", default=None,
                  help="Progress bar on stderr [default: when stderr is a terminal].")
    @pass_ctx
    def backup(ctx, directory, keep, progress):
        """Take a consistent copy of the database while the bridge keeps running."""
        from .backup import backup_database, default_backup_dir

        directory = directory or default_backup_dir(ctx.database)
        with _one_line_errors():
            result = backup_database(ctx.database, directory, keep=keep, progress=progress)
        click.echo(f"Backup written: {result.path} ({_human(result.size)}, "
                   f"{result.seconds:.1f} s, integrity ok)")
        for removed in result.removed:
            click.echo(f"Removed old backup: {removed}")

    @cli.command()
    @pass_ctx
    def optimize(ctx):
        """ANALYZE, REINDEX, VACUUM and empty the WAL; report the file sizes."""
        from .backup import optimize_database

        with _one_line_errors():
            result = optimize_database(ctx.database)
        before, after = result.before, result.after
        click.echo(f"Optimized {ctx.database} in {result.seconds:.1f} s")
        click.echo(f"  before: database {_human(before.db)}, WAL {_human(before.wal)}, "
                   f"total {_human(before.total)}")
        click.echo(f"  after:  database {_human(after.db)}, WAL {_human(after.wal)}, "
                   f"total {_human(after.total)}")
        if result.checkpoint_busy:
            click.echo("  note: a reader kept the WAL from being emptied completely; "
                       "it is emptied at a later checkpoint")
