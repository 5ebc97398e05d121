"""What the store knows besides the requests: diagnostics, file problems, project paths and
subagent metadata (portable SQL over a :class:`~claude_usage.store.sqlite.Reader`)."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from claude_usage.records import Diagnostics
from claude_usage.store.schema import DIAG_COLUMNS

_DIAG = msgspec.msgpack.Decoder(Diagnostics)
_NOT_COUNTED_WHEN_MISSING = ("unreadableFiles", "skippedFiles")


def diagnostics(view: Any) -> Diagnostics:
    """The summed counters of DESIGN section 3 over the stored transcripts (a vanished file's
    lines still count, its being unreadable no longer does), with the counts of the kept
    requests: ``requests``, ``duplicateLines``, ``missingFiles``, ``placeholderOutputRequests``,
    ``fastUnpricedRequests``."""
    sums = ", ".join(f"COALESCE(SUM(d_{name}), 0)" for name in DIAG_COLUMNS)
    present = view.one(f"SELECT COUNT(*), {sums} FROM files WHERE missing = 0")
    gone = view.one(f"SELECT COUNT(*), {sums} FROM files WHERE missing = 1")
    found = Diagnostics(files=present[0] + gone[0], missingFiles=gone[0])
    for name, here, there in zip(DIAG_COLUMNS, present[1:], gone[1:]):
        setattr(found, name, here + (0 if name in _NOT_COUNTED_WHEN_MISSING else there))
    for (blob,) in view.rows("SELECT tail_diag FROM files WHERE tail_diag IS NOT NULL"):
        tail = _DIAG.decode(bytes(blob))
        for name in DIAG_COLUMNS:
            setattr(found, name, getattr(found, name) + getattr(tail, name))
    found.requests = int(view.one("SELECT value FROM meta WHERE key = 'requests'")[0])
    found.duplicateLines = found.usageLines - found.requests
    flagged = view.one("SELECT COALESCE(SUM(placeholders), 0), COALESCE(SUM(fast_unpriced), 0) FROM session_usage")
    found.placeholderOutputRequests, found.fastUnpricedRequests = flagged
    return found


def warnings(view: Any) -> list[str]:
    """One message per problem of a present transcript (skipped, unreadable, damaged lines),
    each naming its file, in path order."""
    found: list[str] = []
    for (text,) in view.rows("SELECT problems FROM files WHERE problems IS NOT NULL AND missing = 0 ORDER BY path"):
        found.extend(json.loads(text))
    return found


def project_paths(view: Any, names: list[str] | None = None) -> dict[str, str]:
    """Project key -> real path: its most frequent ``cwd`` (ties: the latest), for ``names``
    (default: every project)."""
    sql = ("SELECT p.name, c.cwd, c.lines, c.latest FROM project_cwds c JOIN projects p ON p.id = c.project_id"
           + (f" WHERE p.name IN ({','.join('?' * len(names))})" if names else ""))
    best: dict[str, tuple] = {}
    for name, cwd, lines, latest in view.rows(sql, names or ()):
        if name not in best or (lines, latest) > best[name][1:]:
            best[name] = (cwd, lines, latest)
    return {name: entry[0] for name, entry in best.items()}


def agents(view: Any, session: str) -> dict[int, tuple[str, dict]]:
    """The subagent transcripts holding requests of ``session``: file id -> (path, metadata
    ``{agentType, description}`` from its ``.meta.json``)."""
    found = {}
    for file_id, path, agent in view.rows(
            "SELECT DISTINCT f.id, f.path, f.agent FROM files f JOIN requests r ON r.file_id = f.id "
            "JOIN sessions s ON s.id = r.session_id WHERE s.name = ? AND r.kept = 1 AND f.agent IS NOT NULL", (session,)):
        found[file_id] = (path, json.loads(agent))
    return found


def price_version(view: Any) -> str:
    """The price data version the stored costs were computed with."""
    row = view.one("SELECT value FROM meta WHERE key = 'price_version'")
    return row[0] if row else ""


def data_bytes(view: Any) -> int:
    """Bytes of the transcripts read (their committed lines and unterminated tails)."""
    return int(view.one("SELECT COALESCE(SUM(size), 0) FROM files WHERE missing = 0")[0])
