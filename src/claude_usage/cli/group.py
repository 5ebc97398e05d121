"""The command group of ``claude-usage`` (issue 14): one error style for every error, and a
default command.

- Every error a command line can have (an unknown option, a bad value, a missing argument) is
  printed as ``Error: <what>`` on stderr with a hint, like the errors of the commands
  themselves, and exits with code 2; not in a framed panel of another style.
- A bare ``claude-usage`` (or one that starts with an option, ``claude-usage --demo``) runs the
  default command, :data:`DEFAULT_COMMAND` (today's summary and the daily table), instead of
  failing with a usage message.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

import typer
from typer.core import TyperGroup

# Click's error classes, found through Typer's public BadParameter (Typer vendors its own copy of
# Click in recent versions, so that ``import click`` would name other classes).
_MRO = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
ClickError: type = _MRO["ClickException"]
UsageError: type = _MRO["UsageError"]
DEFAULT_COMMAND = "today"
_GROUP_OPTIONS = ("--help", "-h", "--version")


def with_default_command(args: Sequence[str]) -> list[str]:
    """``args`` with :data:`DEFAULT_COMMAND` in front when they name no command."""
    args = list(args)
    if not args or (args[0].startswith("-") and args[0] not in _GROUP_OPTIONS):
        return [DEFAULT_COMMAND, *args]
    return args


def error_line(error: Any) -> str:
    """The one-line form of a command-line error, with where to find help."""
    message = error.format_message()
    context = getattr(error, "ctx", None)
    if context is not None and isinstance(error, UsageError):
        message += f" (see `{context.command_path} --help`)"
    return message


class CommandGroup(TyperGroup):
    """Typer's group, with the default command and the one error style (module docstring)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        args = with_default_command(sys.argv[1:] if args is None else args)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickError as error:
            if not standalone_mode:
                raise
            from rich.markup import escape

            from claude_usage.cli.common import err

            err.print(f"[red]Error:[/] {escape(error_line(error))}")
            sys.exit(error.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            sys.stderr.write("Aborted.\n")
            sys.exit(1)
        if standalone_mode:
            sys.exit(code if isinstance(code, int) else 0)
        return code
