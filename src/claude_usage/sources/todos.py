"""TodoWrite lists: ``<config dir>/todos/*.json`` (DESIGN section 2).

Each file is a JSON array of ``{content, status, ...}`` items, named ``<sessionId>.json`` or
``<sessionId>-agent-<agentId>.json``. A broken file gives a row with ``error``, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from claude_usage.sources import lenient_json
from claude_usage.sources.discovery import DataRoot, is_within
from claude_usage.sources.safe_files import FileTooLargeError, display_path, read_regular
from claude_usage.timebuckets import iso_utc

MAX_TODO_BYTES = 10 * 1024 * 1024


def todo_dirs(roots: Iterable[DataRoot]) -> list[Path]:
    """The existing ``todos`` dirs of the roots' config dirs (roots given as a bare projects dir
    have none)."""
    found = []
    for root in roots:
        if root.config_dir is not None and (root.config_dir / "todos").is_dir():
            found.append(root.config_dir / "todos")
    return found


def todo_files(roots: Iterable[DataRoot]) -> list[Path]:
    """Every ``*.json`` in the todos dirs, sorted by path; links out of the dir are skipped."""
    return sorted(
        path
        for folder in todo_dirs(roots)
        for path in folder.glob("*.json")
        if path.is_file() and is_within(path, folder)
    )


@dataclass(frozen=True)
class TodoList:
    """One todo file: its ``path``, ``session_id`` (from the file name), mtime and size, and the
    task count per status (``pending``, ``in_progress``, ``completed``); ``error`` when unreadable."""

    path: Path
    session_id: str
    mtime: float
    size: int
    tasks: int = 0
    pending: int = 0
    in_progress: int = 0
    completed: int = 0
    error: str | None = None

    def row(self) -> dict[str, Any]:
        """The JSON row of ``/api/v2/todos``."""
        row = {
            "file": display_path(self.path.name),
            "path": display_path(self.path),
            "sessionId": self.session_id,
            "timestamp": iso_utc(int(self.mtime * 1_000_000)),
            "size": self.size,
            "tasks": self.tasks,
            "pending": self.pending,
            "inProgress": self.in_progress,
            "completed": self.completed,
        }
        if self.error:
            row["error"] = self.error
        return row


def read_todo_list(path: Path) -> TodoList:
    """Read one todo file; never raises nor blocks (a FIFO or device is refused by
    :func:`~claude_usage.sources.safe_files.read_regular`); problems go to ``error``."""
    session_id = display_path(path.stem.split("-agent-")[0])
    try:
        stat = path.stat()
    except OSError as error:
        return TodoList(path, session_id, 0.0, 0, error=error.strerror or str(error))
    base = {"path": path, "session_id": session_id, "mtime": stat.st_mtime, "size": stat.st_size}
    if stat.st_size > MAX_TODO_BYTES:
        return TodoList(**base, error="file too large to read")
    try:
        items = lenient_json.loads(read_regular(path, MAX_TODO_BYTES))
    except FileTooLargeError:
        return TodoList(**base, error="file too large to read")
    except OSError as error:
        return TodoList(**base, error=error.strerror or str(error))
    except ValueError as error:
        return TodoList(**base, error=f"not a JSON todo list: {error}")
    if not isinstance(items, list):
        return TodoList(**base, error="not a JSON array")
    statuses = [item.get("status") for item in items if isinstance(item, dict)]
    return TodoList(
        **base,
        tasks=len(statuses),
        pending=statuses.count("pending"),
        in_progress=statuses.count("in_progress"),
        completed=statuses.count("completed"),
    )


def todo_lists(roots: Iterable[DataRoot]) -> list[TodoList]:
    """Every todo list of the roots, newest first."""
    lists = [read_todo_list(path) for path in todo_files(roots)]
    return sorted(lists, key=lambda t: (t.mtime, str(t.path)), reverse=True)

