"""Builders for hand-made transcript lines used by unit tests."""

from __future__ import annotations

import json
from pathlib import Path


def assistant_line(
    *,
    msg_id: str | None = "msg_1",
    uuid: str | None = "u-1",
    model: str = "claude-sonnet-4-5-20250929",
    ts: str = "2025-10-01T12:00:00.000Z",
    session: str | None = "s-1",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_creation: int | None = None,
    cache_5m: int | None = None,
    cache_1h: int | None = None,
    cache_read: int = 0,
    cost_usd: float | None = None,
    speed: str | None = None,
    sidechain: bool = False,
    cwd: str | None = "/home/dev/app",
    usage_extra: dict | None = None,
    message_extra: dict | None = None,
    line_extra: dict | None = None,
) -> dict:
    """An assistant line; ``usage_extra``, ``message_extra`` and ``line_extra`` add fields to
    its ``usage``, ``message`` and top level (e.g. ``server_tool_use``, ``stop_reason``, ``version``)."""
    usage: dict = {"input_tokens": input_tokens, "output_tokens": output_tokens, "cache_read_input_tokens": cache_read}
    if cache_creation is not None:
        usage["cache_creation_input_tokens"] = cache_creation
    if cache_5m is not None or cache_1h is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache_5m or 0, "ephemeral_1h_input_tokens": cache_1h or 0}
    if speed is not None:
        usage["speed"] = speed
    usage.update(usage_extra or {})
    message: dict = {"type": "message", "role": "assistant", "model": model, "content": [], "usage": usage,
                     **(message_extra or {})}
    if msg_id is not None:
        message["id"] = msg_id
    line: dict = {"type": "assistant", "timestamp": ts, "isSidechain": sidechain, "message": message}
    if uuid is not None:
        line["uuid"] = uuid
    if session is not None:
        line["sessionId"] = session
    if cost_usd is not None:
        line["costUSD"] = cost_usd
    if cwd is not None:
        line["cwd"] = cwd
    line.update(line_extra or {})
    return line


def write_lines(path: Path, lines: list, end_with_newline: bool = True) -> Path:
    """Write dicts (as JSON) or raw strings, one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + ("\n" if end_with_newline else ""))
    return path


def iso_z(moment) -> str:
    """A datetime (UTC) as a transcript timestamp."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def active_block_data(root: Path, now) -> Path:
    """A config dir with a completed block two days before ``now`` (2 x 150,000 input tokens =
    300,000 tokens) and an active block: ``now`` - 40 min (100,000 in + 10,000 out = $0.45 with
    Sonnet 4.5 at $3 / $15 per million) and ``now`` - 10 min (50,000 in = $0.15), i.e. 160,000
    tokens and $0.60. Returns the active session's transcript."""
    from datetime import timedelta

    project = root / "projects" / "-home-dev-app"
    write_lines(project / "old.jsonl", [
        assistant_line(msg_id=f"old{i}", uuid=f"old{i}", session="old", input_tokens=150_000,
                       ts=iso_z(now - timedelta(days=2, minutes=30 - i))) for i in range(2)
    ])
    return write_lines(project / "now.jsonl", [
        assistant_line(msg_id="now1", uuid="now1", session="now", input_tokens=100_000, output_tokens=10_000,
                       ts=iso_z(now - timedelta(minutes=40))),
        assistant_line(msg_id="now2", uuid="now2", session="now", input_tokens=50_000, ts=iso_z(now - timedelta(minutes=10))),
    ])


def env_without_data(home: Path) -> dict:
    """The environment of a user with no Claude Code data: ``HOME`` is ``home`` and no data-dir
    variable is set (the test run's cache dir is kept)."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "PROJECTS_PATH", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    return env


class Scanned:
    """The product's own store over ``roots`` (a temporary one, as ``--no-index`` uses),
    brought up to date, for library-level tests: every number comes from the same reader,
    dedupe, pricing and report queries as the CLI and the API."""

    def __init__(self, roots, pricer=None):
        from claude_usage.pricing import Pricer
        from claude_usage.store import temporary_store

        self.store = temporary_store(list(roots))
        self.result = self.store.refresh(lambda: pricer or Pricer())

    def run(self, function, *args, **kwargs):
        """``function(view, *args, **kwargs)`` over one view of the store."""
        with self.store.reading() as view:
            return function(view, *args, **kwargs)

    def overall(self, query=None, **kwargs):
        """The Totals of every request ``query`` (default: UTC) selects."""
        from claude_usage import reports
        from claude_usage.reports import Query

        return self.run(reports.overall, query or Query(zone="UTC"), **kwargs)

    @property
    def diagnostics(self):
        from claude_usage.store import facts

        return self.run(facts.diagnostics)

    @property
    def warnings(self):
        from claude_usage.store import facts

        return self.run(facts.warnings)

    def kept(self) -> list[dict]:
        """The kept requests as dicts (time order): ts, model, session, project, file, line and
        the token counts."""
        return [dict(zip(("ts", "model", "session", "project", "file", "line", "input", "output", "cache_5m",
                          "cache_1h", "cache_read", "searches", "flags", "cost"), row)) for row in self.run(
            lambda view: view.rows(
                "SELECT r.ts, m.name, s.name, p.name, f.path, r.line, r.input, r.output, r.cache_5m, r.cache_1h, "
                "r.cache_read, r.searches, r.flags, r.cost FROM requests r JOIN models m ON m.id = r.model_id "
                "JOIN sessions s ON s.id = r.session_id JOIN projects p ON p.id = r.project_id "
                "JOIN files f ON f.id = r.file_id WHERE r.kept = 1 ORDER BY r.ts, r.key"))]

    @property
    def records(self) -> list:
        """The kept requests as the reader's :class:`~claude_usage.records.UsageRecord` objects
        (with their key strings), in time order: each kept row's line, read again from its file
        (the store keeps a hash of the key, not the key)."""
        from claude_usage.sources.discovery import transcript_files
        from claude_usage.sources.transcripts import scan_file

        by_place = {}
        for root in self.store.roots:
            for source in transcript_files(root):
                for record in scan_file(source).records:
                    by_place[(record.file, record.offset)] = record
        found = []
        for row in self.kept():
            record = by_place[(row["file"], row["line"])]
            record.fast_unpriced = bool(row["flags"] & 16)
            found.append(record)
        return found

    def close(self) -> None:
        self.store.close()


def scan(roots, pricer=None) -> Scanned:
    """A :class:`Scanned` store of ``roots`` (DataRoot objects)."""
    return Scanned(roots, pricer)
