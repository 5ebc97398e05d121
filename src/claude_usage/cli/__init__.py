"""The ``claude-usage`` command line (Typer + Rich), one module per family of commands:

- :mod:`~claude_usage.cli.common`: the app, the common options, opening the store;
- :mod:`~claude_usage.cli.group`: the command group (one error style, the default command);
- :mod:`~claude_usage.cli.usage_commands`: daily, weekly, monthly, hourly, models, projects;
- :mod:`~claude_usage.cli.cache_command`: cache;
- :mod:`~claude_usage.cli.session_commands`: sessions;
- :mod:`~claude_usage.cli.summary_commands`: summary, today (the default command), process;
- :mod:`~claude_usage.cli.block_commands`: blocks, statusline;
- :mod:`~claude_usage.cli.tool_commands`: tools, mcp;
- :mod:`~claude_usage.cli.admin_commands`: doctor, prices;
- :mod:`~claude_usage.cli.config_commands`: config (plan, budgets, alerts);
- :mod:`~claude_usage.cli.exchange_commands`: export, import;
- :mod:`~claude_usage.cli.serve_command`: serve;
- :mod:`~claude_usage.cli.team_commands`: push, team init, users.
"""

from __future__ import annotations

from typing import Annotated

import typer

from claude_usage import __version__
from claude_usage.cli import (  # noqa: F401  (each module adds its commands to the app)
    admin_commands,
    block_commands,
    cache_command,
    config_commands,
    exchange_commands,
    serve_command,
    session_commands,
    summary_commands,
    team_commands,
    tool_commands,
    usage_commands,
)
from claude_usage.cli.common import app, out

__all__ = ["app", "main"]


def _version(value: bool) -> None:
    if value:
        out.print(f"claude-usage {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Tokens and USD cost of your Claude Code use, from its local transcripts."""


def main() -> None:
    """Console-script entry point."""
    app()
