"""``claude-usage config``: where the settings file is and what it holds (issue 15).

The settings (plan, budgets, alerts: :mod:`claude_usage.config`) are printed with every URL
masked (a webhook URL is a credential). ``--init`` writes a commented template when there is
no file (never over one). A bad file is an error naming the key and the file (exit code 2).
"""

from __future__ import annotations

from typing import Annotated

import typer

from claude_usage.cli.common import app, err, fail, out, print_json


def load_settings():
    """The settings file's contents, or exit with code 2 naming what is wrong in it."""
    from claude_usage.config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as error:
        fail(str(error))


@app.command()
def config(
    json: Annotated[bool, typer.Option("--json", "-j", help="Print JSON (the settings in force).")] = False,
    init: Annotated[bool, typer.Option("--init", help="Write a commented template if there is no settings file yet.")] = False,
) -> None:
    """The settings file (plan, budgets, alerts): its path and contents. Its dir is
    $CLAUDE_USAGE_CONFIG, else the user config dir."""
    from rich.markup import escape

    from claude_usage.config import config_path, mask_urls, write_template

    if init:
        path, written = write_template()
        err.print(f"Wrote a template to {escape(str(path))}" if written
                  else f"{escape(str(path))} exists already: left as it is")
    settings = load_settings()
    if json:
        print_json(settings.document())
        return
    out.print(f"Settings file: {escape(str(config_path()))}", soft_wrap=True)
    if not settings.exists:
        out.print("No settings file: no plan, no budgets, alerts at 50, 80 and 100%. "
                  "`claude-usage config --init` writes a commented template.", soft_wrap=True)
        return
    text = settings.path.read_text(encoding="utf-8")
    out.print(escape(mask_urls(text).rstrip("\n")), highlight=False, soft_wrap=True)
