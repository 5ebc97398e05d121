"""``claude-usage export`` and ``claude-usage import``: the deduplicated requests in a portable
file (CSV or JSON Lines) and back, so that the history outlives Claude Code's 30-day cleanup
(issue 15; the format: :mod:`claude_usage.store.exchange`)."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, Iterator, Optional

import typer

from claude_usage.cli.common import DATA_OPTIONS, Common, app, err, fail, load, out, print_json, with_options

_SHOWN = 20  # skipped lines named one by one

class ExportFormat(str, Enum):
    csv = "csv"
    jsonl = "jsonl"


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """The text stream to write: stdout, or a temporary file beside ``path`` that replaces it
    only once complete (a failed export never leaves half a file under the name asked for)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    folder = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", dir=folder, prefix=f".{path.name}.",
                                         suffix=".part", delete=False)
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


@app.command("export")
@with_options("since", "tz", *DATA_OPTIONS)
def export_command(
    opts: Common,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv or jsonl (see above).")] = ExportFormat.csv,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: stdout).", dir_okay=False)] = None,
) -> None:
    """Write every deduplicated request to a CSV or JSON Lines file (stdout by default), one row
    per request in time order, streamed; `claude-usage import` reads it back.

    The first line is a header naming the format and its version (jsonl: the header object;
    csv: '# ' and the header object, then a line of column names).

    Columns: key (the 64-bit dedupe key), time (UTC, microseconds), model, project, projectPath,
    session, file, line (byte offset), inputTokens, outputTokens, cacheCreation5mTokens,
    cacheCreation1hTokens, cacheReadTokens, webSearchRequests, webFetchRequests, costUsd (exact
    to 1e-10 USD; empty or null when unpriced), lineCostUsd (the line's costUSD), and the flags
    sidechain, fastMode, usInference, placeholderOutput, fastUnpriced (true or false)."""
    from claude_usage.reports import clock_for
    from claude_usage.store.export import export_requests
    from claude_usage.timebuckets import ZoneError, local_day_bounds_us

    try:
        clock = clock_for(opts.tz)
    except ZoneError as error:
        fail(f"--tz: {error}")
    since_us, _ = local_day_bounds_us(clock.zone, opts.since, None)
    source = load(opts)
    try:
        with _output(output) as stream:
            written = export_requests(source.store, stream, format.value, since_us, opts.since,
                                      clock.name if opts.since else None)
    except BrokenPipeError:
        # The reader of stdout stopped (`| head`): nothing more to write, and nothing to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as error:
        fail(f"cannot write {output or 'stdout'}: {error.strerror or error}")
    finally:
        source.store.close()
    if output is not None:
        err.print(f"Exported {written:,} requests to {output}.")


@app.command("import")
@with_options("json", *DATA_OPTIONS)
def import_command(
    opts: Common,
    file: Annotated[Path, typer.Argument(help="A file written by `claude-usage export` (CSV or JSON Lines).", dir_okay=False)],
) -> None:
    """Read a file written by `claude-usage export` into the index, beside the transcripts'
    requests: a request found in both counts once, importing a file twice is importing it once,
    and refreshes and --forget-deleted keep the imported requests. Lines that cannot be read
    are skipped, each named in a warning."""
    from rich.markup import escape

    from claude_usage.store.exchange import ExchangeError
    from claude_usage.store.imports import import_requests

    if opts.no_index:
        fail("import writes into the index: drop --no-index")
    try:
        stream = open(file, encoding="utf-8", newline="")
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    source = load(opts)
    try:
        with stream:
            result = import_requests(source.store, stream, source.pricer())
    except ExchangeError as error:
        fail(f"{file}: {error}")
    except (UnicodeDecodeError, OSError) as error:
        fail(f"cannot read {file}: {error}")
    finally:
        source.store.close()
    for problem in result.problems[:_SHOWN]:
        err.print(f"[yellow]Warning:[/] {escape(f'{file}: {problem} (skipped)')}")
    if result.skipped > _SHOWN:
        err.print(f"[yellow]Warning:[/] {result.skipped - _SHOWN:,} more lines of {escape(str(file))} could not be read (skipped)")
    if opts.json:
        print_json(result.document())
        return
    skipped = f"; {result.skipped:,} lines that could not be read were skipped" if result.skipped else ""
    repriced = "; priced again with this version's price data" if result.repriced else ""
    out.print(f"Imported {file}: {result.read:,} requests read, {result.added:,} new, {result.updated:,} updated, "
              f"{result.unchanged:,} already there{skipped}{repriced}.", soft_wrap=True)
