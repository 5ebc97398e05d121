"""The server's in-memory state: the loaded dataset, the other data sources, a cache of answers."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Hashable

from claude_usage.loader import Dataset
from claude_usage.sources.mcp_logs import LogCatalog, mcp_logs_root
from claude_usage.sources.todos import todo_dirs

CACHE_ENTRIES = 512


class DataStore:
    """What the API serves from: one :class:`Dataset`, loaded once at start-up (requests never
    rescan transcripts), the default zone name (the server's), the MCP log catalog (log files are
    re-read only when their size or mtime changes), and a bounded cache of computed answers keyed
    by endpoint and parameters. ``notice`` is shown in ``/api/health`` (e.g. that the demo data is
    served because no Claude Code data was found)."""

    def __init__(self, dataset: Dataset, default_zone: str, notice: str | None = None, logs_root: Path | None = None):
        self.dataset = dataset
        self.default_zone = default_zone
        self.notice = notice
        self.logs = LogCatalog(logs_root if logs_root is not None else mcp_logs_root())
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.version = 0  # changes with every new dataset
    def file_roots(self) -> list[Path]:
        """The directories whose files ``/api/v2/logs/content`` may serve: the transcripts'
        projects dirs, the todos dirs and the MCP logs dir."""
        roots = [root.projects_dir for root in self.dataset.roots]
        roots += todo_dirs(self.dataset.roots)
        roots.append(self.logs.root)
        return roots

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``'s result for ``key``, computed once while the dataset is unchanged."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value

    def replace(self, dataset: Dataset) -> None:
        """Serve ``dataset`` from now on and drop every cached answer."""
        with self._lock:
            self.dataset = dataset
            self.version += 1
            self._cache.clear()
