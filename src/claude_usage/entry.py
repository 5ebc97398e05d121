"""The ``claude-usage`` console script.

``claude-usage statusline`` runs on every refresh of Claude Code's status bar, so it is dispatched
here before the CLI framework (Typer, Rich), the web stack or the price package is imported; every
other command goes to :mod:`claude_usage.cli`.
"""

import sys


def main() -> None:
    """Console-script entry point: ``statusline`` directly, anything else through the Typer app."""
    if len(sys.argv) > 1 and sys.argv[1] == "statusline":
        from claude_usage.statusline import main as statusline_main

        raise SystemExit(statusline_main(sys.argv[2:]))
    _hide_credentials(sys.argv)
    from claude_usage.cli import main as cli_main

    cli_main()


def _hide_credentials(argv: list[str]) -> None:
    """Take a database password given on the command line (``--team``, ``--push-to``) out of
    the process title that ``ps`` shows (DESIGN 12), when the ``team`` extra (setproctitle) is
    installed. Passing the URL in ``$CLAUDE_USAGE_TEAM_URL`` or the password in ``~/.pgpass``
    keeps it out of the process list from the start."""
    if not any("://" in arg or "password" in arg for arg in argv[1:]):
        return
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    from claude_usage.team.connection import redact

    shown = [redact(arg, arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg) for arg in argv]
    if shown != argv:
        setproctitle(" ".join(shown))
