"""CLI commands for migration, backup and optimisation (filled in by their modules)."""

from __future__ import annotations


def register(cli, pass_ctx) -> None:
    """Attach migrate-php, validate-migration, backup and optimize to ``cli``."""
