"""MCP server logs of the Claude CLI (DESIGN section 2).

Layout: ``<cache dir>/<encoded-cwd>/mcp-logs-<server>/<timestamp>.txt|.jsonl``, where the cache
dir is ``claude-cli-nodejs`` in the OS cache dir (``MCP_LOGS_PATH`` overrides). ``.txt`` files
hold one JSON array of entries, ``.jsonl`` files one entry per line; the format is told by the
first non-space byte. Files are read as streams (users have logs of 1-2 GB) and never raise:
a broken file gives a summary with ``error``.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import msgspec

from claude_usage.sources import lenient_json
from claude_usage.sources.discovery import is_within
from claude_usage.sources.safe_files import display_path, open_regular
from claude_usage.timebuckets import iso_utc

CHUNK_BYTES = 1 << 20
MAX_ENTRY_BYTES = 16 << 20  # a longer entry is damage: skipped, never held in memory
LOG_SUFFIXES = (".txt", ".jsonl")
DIR_PREFIX = "mcp-logs-"


def mcp_logs_root(env: Mapping[str, str] | None = None) -> Path:
    """The Claude CLI cache dir holding MCP logs: ``$MCP_LOGS_PATH``, else ``claude-cli-nodejs``
    in the OS user cache dir (``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
    ``%LOCALAPPDATA%\\claude-cli-nodejs\\Cache`` on Windows, via platformdirs)."""
    env = os.environ if env is None else env
    if env.get("MCP_LOGS_PATH"):
        return Path(env["MCP_LOGS_PATH"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("claude-cli-nodejs", appauthor=False))


@dataclass(frozen=True)
class LogFile:
    """A log file with its ``server`` (from ``mcp-logs-<server>``) and ``project`` (the encoded
    cwd dir above it, None when the logs dir sits directly in the root)."""

    path: Path
    server: str
    project: str | None


def log_files(root: Path) -> list[LogFile]:
    """Every ``.txt``/``.jsonl`` file in the ``mcp-logs-*`` dirs of ``root`` or of its direct
    subdirectories, sorted by path; links out of ``root`` are skipped. A missing root gives an
    empty list."""
    found: list[LogFile] = []
    if not root.is_dir():
        return found
    candidates = [(root, None)]
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.name.startswith(DIR_PREFIX):
            candidates.append((child, display_path(child.name)))
    for parent, project in candidates:
        for folder in sorted(parent.glob(DIR_PREFIX + "*")):
            if not folder.is_dir():
                continue
            server = display_path(folder.name[len(DIR_PREFIX):])
            for path in sorted(folder.iterdir()):
                if path.suffix in LOG_SUFFIXES and path.is_file() and is_within(path, root):
                    found.append(LogFile(path, server, project))
    return found


class _Entry(msgspec.Struct, gc=False):
    error: Any = None
    debug: Any = None
    sessionId: Any = None
    timestamp: Any = None


_ENTRY = msgspec.json.Decoder(_Entry)


@dataclass(frozen=True)
class LogSummary:
    """What a log file holds: ``entries``, ``errors`` (entries with ``error``), ``malformed``
    (unparsable lines or items), the first ``session_id``, and ``error`` when the file is
    unreadable or not a log (what could be read is still counted)."""

    log: LogFile
    mtime: float
    size: int
    entries: int = 0
    errors: int = 0
    malformed: int = 0
    session_id: str | None = None
    error: str | None = None

    def row(self) -> dict[str, Any]:
        """The JSON row of ``/api/v2/mcp/logs``."""
        row = {
            "file": display_path(self.log.path.name),
            "path": display_path(self.log.path),
            "server": self.log.server,
            "project": self.log.project,
            "timestamp": iso_utc(int(self.mtime * 1_000_000)),
            "size": self.size,
            "entries": self.entries,
            "errors": self.errors,
            "malformed": self.malformed,
            "sessionId": self.session_id,
        }
        if self.error:
            row["error"] = self.error
        return row


def _chunks(handle) -> Iterator[bytes]:
    while True:
        chunk = handle.read(CHUNK_BYTES)
        if not chunk:
            return
        yield chunk


def _jsonl_items(handle, first: bytes) -> Iterator[Any]:
    """Entries of a ``.jsonl`` log, one per line; an unparsable line yields None, and so does a
    line over :data:`MAX_ENTRY_BYTES`, skipped without being held in memory."""
    carry = b""
    skipping = False
    for chunk in itertools.chain((first,), _chunks(handle)):
        if skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            skipping, chunk = False, chunk[newline + 1:]
            yield None
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        for line in lines:
            if line.strip():
                yield _decode_entry(line)
        if len(carry) > MAX_ENTRY_BYTES:
            carry, skipping = b"", True
    if skipping:
        yield None
    elif carry.strip():
        yield _decode_entry(carry)


def _decode_entry(raw: bytes) -> Any:
    try:
        return _ENTRY.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        try:
            value = lenient_json.loads(raw)
        except ValueError:
            return None
        return msgspec.convert(value, _Entry) if isinstance(value, dict) else None


class TruncatedArray(ValueError):
    """The JSON array ended before its closing bracket, or an item could not be parsed."""


def _array_items(handle, first: bytes) -> Iterator[Any]:
    """Items of a ``.txt`` log (one JSON array), parsed one at a time from a moving buffer."""
    decoder = json.JSONDecoder(strict=False)
    chunks = _chunks(handle)
    text = first.decode("utf-8", errors="replace")
    index = text.index("[") + 1
    eof = False
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index < len(text) and text[index] == "]":
            return
        if index >= len(text) and eof:
            raise TruncatedArray("the JSON array is cut short (no closing ']')")
        try:
            if index >= len(text):
                raise ValueError("need more data")
            item, index = decoder.raw_decode(text, index)
        except RecursionError:
            raise TruncatedArray(f"an entry nested deeper than the reader allows at character {index:,}") from None
        except ValueError:
            if len(text) - index > MAX_ENTRY_BYTES:
                raise TruncatedArray(f"an entry over {MAX_ENTRY_BYTES >> 20} MiB or invalid JSON; the rest is not read") from None
            more = next(chunks, None)
            if more is None:
                if eof:
                    raise TruncatedArray("the JSON array is cut short or holds an invalid item") from None
                eof = True
                continue
            text = text[index:] + more.decode("utf-8", errors="replace")
            index = 0
            continue
        yield msgspec.convert(item, _Entry) if isinstance(item, dict) else None
        if index > CHUNK_BYTES:
            text, index = text[index:], 0


def summarize_log(log: LogFile) -> LogSummary:
    """Count the entries of one log file, streaming; never raises."""
    try:
        stat = log.path.stat()
        handle = open_regular(log.path)
    except OSError as error:
        return LogSummary(log, 0.0, 0, error=error.strerror or str(error))
    entries = errors = malformed = 0
    session_id = None
    problem = None
    with handle:
        first = b""
        for chunk in _chunks(handle):
            first += chunk
            if first.strip():
                break
        start = first.lstrip()[:1]
        if not start:
            problem = "empty file"
        elif start not in (b"[", b"{"):
            problem = "not a JSON log (expected a JSON array or JSON lines)"
        else:
            items = _array_items(handle, first) if start == b"[" else _jsonl_items(handle, first)
            try:
                for item in items:
                    if item is None:
                        malformed += 1
                        continue
                    entries += 1
                    errors += item.error is not None
                    if session_id is None and type(item.sessionId) is str:
                        session_id = lenient_json.clean_strings(item.sessionId)  # text, whatever the file held
            except TruncatedArray as error:
                problem = str(error)
            except OSError as error:
                problem = error.strerror or str(error)
    return LogSummary(log, stat.st_mtime, stat.st_size, entries, errors, malformed, session_id, problem)


class LogCatalog:
    """Summaries of the logs under a root, recomputed only for files whose size or mtime changed."""

    def __init__(self, root: Path):
        self.root = root
        self._known: dict[Path, tuple[tuple[int, float], LogSummary]] = {}

    def summaries(self) -> list[LogSummary]:
        """Every log's summary, newest first."""
        out = []
        for log in log_files(self.root):
            try:
                stat = log.path.stat()
                key = (stat.st_size, stat.st_mtime)
            except OSError:
                key = (-1, 0.0)
            known = self._known.get(log.path)
            if known is None or known[0] != key:
                known = self._known[log.path] = (key, summarize_log(log))
            out.append(known[1])
        return sorted(out, key=lambda s: (s.mtime, str(s.log.path)), reverse=True)
