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
    from claude_usage.cli import main as cli_main

    cli_main()
