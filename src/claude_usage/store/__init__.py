"""The store: the single source of truth of every process (DESIGN sections 1 and 7).

- :mod:`~claude_usage.store.schema`: the tables (typed request rows, lookup tables, rollups).
- :mod:`~claude_usage.store.sqlite`: the embedded store, one SQLite file shared by the server,
  the CLI and the status line (:class:`SQLiteStore`).
- :mod:`~claude_usage.store.ingest`: reading the transcripts into it (refresh, dedupe).
- :mod:`~claude_usage.store.rollups`: the rollups kept equal to the kept rows.
- :mod:`~claude_usage.store.facts`: diagnostics, file problems, project paths, subagents.

Reports (:mod:`claude_usage.reports`) are SQL aggregates over a store's :meth:`reading` view.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from claude_usage.sources.discovery import DataRoot
from claude_usage.store.ingest import RefreshResult
from claude_usage.store.sqlite import IndexPathError, SQLiteStore, check_index_path, default_index_path, roots_key

__all__ = ["IndexPathError", "RefreshResult", "SQLiteStore", "check_index_path", "default_index_path",
           "open_store", "roots_key", "temporary_store"]


def open_store(roots: Sequence[DataRoot], path: Path | None = None, notice: Callable[[str], None] | None = None,
               verify: str = "full") -> SQLiteStore:
    """The store of ``roots``: the SQLite file ``path``, else the default one of these roots in
    the user cache dir. Raises :class:`IndexPathError` (or ``OSError``, ``sqlite3.Error``) when
    the path cannot be used."""
    return SQLiteStore(Path(path) if path is not None else default_index_path(roots), roots, notice, verify)


def temporary_store(roots: Sequence[DataRoot]) -> SQLiteStore:
    """A store in a fresh temporary dir, removed when it is closed or the process ends:
    ``--no-index`` reads everything now into it and keeps nothing (the same reader, dedupe
    and report queries as the persistent store)."""
    folder = tempfile.mkdtemp(prefix="claude-usage-")
    store = SQLiteStore(Path(folder) / "store.sqlite", roots)
    close = store.close

    def close_and_remove() -> None:
        close()
        shutil.rmtree(folder, ignore_errors=True)

    store.close = close_and_remove  # type: ignore[method-assign]
    atexit.register(lambda: shutil.rmtree(folder, ignore_errors=True))
    return store
