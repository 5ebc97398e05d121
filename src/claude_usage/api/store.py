"""What the API serves from: the store, and a bounded cache of computed answers per data version.

No process keeps a copy of the history (DESIGN section 7): every answer is a query of the
store, and the cache holds answers only while the store's data version is the one they were
computed from (the live poller moves :attr:`DataStore.version` forward when any process writes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Hashable

from claude_usage import tools
from claude_usage.sources.mcp_logs import LogCatalog, mcp_logs_root
from claude_usage.sources.todos import todo_dirs

CACHE_ENTRIES = 256
# Rows kept in all cached answers together (a row is a dict of ~20 fields, ~1-2 KB): a bound on
# the cache's memory whatever mix of parameters is asked for.
CACHE_ROWS = 10_000


class DataStore:
    """The server's state: ``store`` (a :class:`~claude_usage.store.sqlite.SQLiteStore`), the
    default zone name (the server's), the MCP log catalog (log files are re-read only when their
    size or mtime changes), ``version`` (the store's data version as last seen) and a bounded
    cache of computed answers keyed by endpoint, parameters and that version; ``observed`` (the
    store's mark of the official-limit observations, as last seen: answers that show them key on it too). ``notice`` is
    shown in ``/api/health`` (e.g. that the demo data is served because no Claude Code data was
    found). ``pricer_factory`` makes the pricer of the reports that price tokens themselves
    (:meth:`pricer`)."""

    def __init__(self, store: Any, default_zone: str, notice: str | None = None, logs_root: Path | None = None,
                 pricer_factory: Callable[[], Any] | None = None):
        self.store = store
        self.pricer_factory = pricer_factory
        self._pricer: Any = None
        self.team = bool(getattr(store, "team", False))  # a team store (DESIGN 12): no local files
        self.roots = list(store.roots)
        self.default_zone = default_zone
        self.notice = notice
        self.logs = LogCatalog(logs_root if logs_root is not None else mcp_logs_root())
        self._cache: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._rows = 0
        self._mcp_mark: Any = None  # the MCP mark of the store when _mcp_calls were read
        self._mcp_calls: list[tuple[int, int, int, int | None]] = []
        self._lock = threading.Lock()
        self.version = store.version()
        # The store's count of official-limit observations as last seen (None: none kept here).
        self.observed: str | None = store.meta("observations")

    def file_roots(self) -> list[Path]:
        """The directories whose files ``/api/v2/logs/content`` may serve: the transcripts'
        projects dirs, the todos dirs and the MCP logs dir."""
        roots = [root.projects_dir for root in self.roots]
        roots += todo_dirs(self.roots)
        roots.append(self.logs.root)
        return roots

    def pricer(self) -> Any:
        """One :class:`~claude_usage.pricing.Pricer` for the reports that price tokens
        themselves (the cache report): ``pricer_factory()`` (the server's, with its
        ``--prices`` overrides), else the default one; made on first use, its rates cache kept
        for the server's life. Its own, not the live refresher's (whose rates go through the
        writer's connection)."""
        with self._lock:
            if self._pricer is None:
                from claude_usage.pricing import Pricer

                made = self.pricer_factory() if self.pricer_factory is not None else Pricer()
                made.store = None
                self._pricer = made
            return self._pricer

    def answer(self, compute: Callable[[Any], Any]) -> Any:
        """``compute(view)`` over one consistent view of the store."""
        with self.store.reading() as view:
            return compute(view)

    def cached(self, key: Hashable, compute: Callable[[Any], Any]) -> Any:
        """``compute(view)``'s result for ``key``, computed once per data version.

        At most :data:`CACHE_ENTRIES` answers holding :data:`CACHE_ROWS` rows in all are kept
        (the least recently used go first); a larger answer is not kept."""
        key = (key, self.version)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key][0]
        value = self.answer(compute)
        rows = _rows_in(value)
        if rows > CACHE_ROWS:
            return value
        with self._lock:
            if key not in self._cache:
                self._cache[key] = (value, rows)
                self._rows += rows
            while len(self._cache) > CACHE_ENTRIES or self._rows > CACHE_ROWS:
                self._rows -= self._cache.popitem(last=False)[1][1]
        return value

    def mcp_sessions(self, view: Any, query: Any) -> int:
        """How many sessions used MCP tools in the calls ``query`` selects
        (:func:`claude_usage.tools.mcp_session_count`). The first copies of the MCP calls are
        read again only when the stored MCP calls changed (the ``mcp_calls`` mark of the store,
        with its ``store_id``): most writes of Claude Code add no MCP call, and finding the first
        copies ranks every copy; any filters are then counted from them in memory."""
        mark = view.one("SELECT (SELECT value FROM meta WHERE key = 'store_id'), "
                        "(SELECT value FROM meta WHERE key = 'mcp_calls')")
        with self._lock:
            calls = self._mcp_calls if self._mcp_mark == mark else None
        if calls is None:
            calls = tools.mcp_first_calls(view)
            with self._lock:
                self._mcp_mark, self._mcp_calls = mark, calls
        return tools.count_mcp_sessions(view, calls, query)

    def changed(self, version: int) -> None:
        """Serve data version ``version`` from now on and drop every cached answer."""
        with self._lock:
            self.version = version
            self._cache.clear()
            self._rows = 0


def _rows_in(value: Any) -> int:
    """The weight of a cached answer: 1, plus the length of every list in it or in its
    top-level tuple or dict (the rows of a listing)."""
    parts = value if isinstance(value, tuple) else (value,)
    rows = 1
    for part in parts:
        if isinstance(part, list):
            rows += len(part)
        elif isinstance(part, dict):
            rows += sum(len(v) for v in part.values() if isinstance(v, list))
    return rows
