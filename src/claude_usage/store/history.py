"""What the transcripts cannot give again, carried over a rebuild of the store (DESIGN 7).

Small tables (:data:`CARRIED_TABLES`: what Claude Code told the status line, the budget alerts
raised) are read from the old file and put into the new one at once (:func:`keep`). Requests
are carried through a file, as follows.

A rebuild (a new schema version, a damaged file) starts from an empty store and reads the
transcripts again. Two kinds of requests have no transcript to be read from: those of
transcripts deleted since they were read (Claude Code removes sessions after 30 days; the store
keeps them unless ``--forget-deleted``) and those of ``claude-usage import``. Before the old
file is removed, :func:`save_history` writes their kept requests beside the store as an export
(:mod:`claude_usage.store.exchange`, JSON Lines); the next refresh reads every such file back
with :func:`restore_history` (the import's dedupe: a request a transcript holds too counts
once) and removes it only then, so a process killed in between loses nothing: the file waits
for the next refresh. Best effort on a damaged store: what cannot be read is lost, with a notice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable

from claude_usage import __version__
from claude_usage.store.exchange import ExchangeError, Writer, header

_SUFFIX = ".history-{}.jsonl"  # the history files beside a store: its name, then this

# The tables the transcripts cannot give again, carried over a rebuild of the store, with the
# columns of their key: what Claude Code told the status line, and the budget alerts already
# raised (so a rebuild raises none of them twice).
CARRIED_TABLES = {
    "limit_observations": ("session", "minute", "observed_us"),
    "budget_alerts": ("budget", "period", "threshold"),
}


def saved_rows(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows of :data:`CARRIED_TABLES` in a store about to be rebuilt: ``{table: (column
    names, rows)}``. Best effort: a table the old store lacks, or a store too damaged to read,
    gives nothing."""
    saved: dict[str, tuple[list[str], list[tuple]]] = {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            for table in CARRIED_TABLES:
                columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
                if columns:
                    saved[table] = columns, conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        pass
    return saved


def restore_rows(conn: sqlite3.Connection, saved: dict[str, tuple[list[str], list[tuple]]]) -> None:
    """Put the rows of :func:`saved_rows` into a new store, per table the columns both layouts
    have (a store of another schema version may have more or fewer); nothing for a table when a
    column of its key is missing. A failure keeps the new store without them."""
    for table, (old_columns, rows) in saved.items():
        if not rows:
            continue
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        shared = [name for name in old_columns if name in columns]
        if not set(CARRIED_TABLES[table]) <= set(shared):
            continue
        picks = [old_columns.index(name) for name in shared]
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(f"INSERT OR IGNORE INTO {table} ({', '.join(shared)}) VALUES ({', '.join('?' * len(shared))})",
                             [tuple(row[i] for i in picks) for row in rows])
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")


class Kept:
    """What :func:`keep` took from a store about to be rebuilt; :meth:`restore` puts the
    carried tables' rows into the new file (the requests wait in their history file)."""

    def __init__(self, rows: dict[str, tuple[list[str], list[tuple]]]):
        self.rows = rows

    def restore(self, conn: sqlite3.Connection) -> None:
        """Fill the new store behind ``conn`` (:func:`restore_rows`)."""
        restore_rows(conn, self.rows)


def keep(path: Path, notice: Callable[[str], None]) -> Kept:
    """Before the store file at ``path`` is removed for a rebuild: read its carried tables and
    write its history requests beside it (:func:`save_history`)."""
    kept = Kept(saved_rows(path))
    save_history(path, notice)
    return kept


def pending_files(path: Path) -> list[Path]:
    """The history files waiting beside the store at ``path``, oldest first."""
    numbered = {}
    for found in path.parent.glob(path.name + _SUFFIX.format("*")):
        number = found.name[len(path.name) + len(".history-"):-len(".jsonl")]
        if number.isdigit():
            numbered[int(number)] = found
    return [numbered[n] for n in sorted(numbered)]


def _history_columns(conn: sqlite3.Connection) -> tuple[str, str | None]:
    """In the old store's layout (older ones lack ``files.imported``): what stands for
    ``f.imported``, and the condition on ``files f`` that selects history sources (None when
    it can have none)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(files)")}
    parts = [f"f.{name} = 1" for name in ("imported", "missing") if name in columns]
    return ("f.imported" if "imported" in columns else "0"), (f"({' OR '.join(parts)})" if parts else None)


def save_history(path: Path, notice: Callable[[str], None]) -> int:
    """Write the kept requests of deleted transcripts and imported sources of the store file at
    ``path`` (about to be removed) to the next history file beside it; returns how many were
    written (0: no file is written). A store it cannot read gives 0 and a notice."""
    from claude_usage.store import facts
    from claude_usage.store.export import export_row, request_rows
    from claude_usage.store.sqlite import Reader

    if not path.exists():
        return 0
    target = path.with_name(path.name + _SUFFIX.format(len(pending_files(path)) + 1))
    partial = target.with_name(target.name + ".part")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            imported, condition = _history_columns(conn)
            if condition is None:
                return 0
            conn.execute("BEGIN")
            view = Reader(conn)
            paths = facts.project_paths(view)
            written = 0
            with partial.open("w", encoding="utf-8", newline="") as out:
                writer = Writer(out, "jsonl")
                writer.start(header(facts.price_version(view), None, None, __version__))
                for row in request_rows(conn, where=condition, imported=imported):
                    writer.row(export_row(row, paths))
                    written += 1
        finally:
            conn.close()
    except (sqlite3.Error, OSError, ValueError) as error:
        partial.unlink(missing_ok=True)
        notice(f"The history of deleted transcripts and imports could not be read from {path} ({error}); "
               "an export made before (claude-usage export) can be imported again.")
        return 0
    if not written:
        partial.unlink(missing_ok=True)
        return 0
    partial.replace(target)
    notice(f"Kept {written:,} requests of deleted transcripts and imports in {target}; the next refresh reads them back.")
    return written


def restore_history(store: Any, pricer: Any, notice: Callable[[str], None]) -> int:
    """Import every history file waiting beside ``store`` (a
    :class:`~claude_usage.store.sqlite.SQLiteStore`) with ``pricer``, removing each once it is
    read; returns the requests read. A file that is not an export is renamed ``.bad`` with a
    notice."""
    from claude_usage.store.imports import import_requests

    read = 0
    for pending in pending_files(store.path):
        try:
            with pending.open(encoding="utf-8", newline="") as stream:
                result = import_requests(store, stream, pricer)
        except ExchangeError as error:
            pending.replace(pending.with_name(pending.name + ".bad"))
            notice(f"{pending} is not a history file this version reads ({error}); it was renamed .bad.")
            continue
        read += result.read
        pending.unlink(missing_ok=True)
        notice(f"Read back {result.read:,} requests of deleted transcripts and imports kept over the rebuild.")
    return read
