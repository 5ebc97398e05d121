"""``claude-usage export``: the deduplicated requests of the embedded store, streamed in time
order in the portable format of :mod:`claude_usage.store.exchange` (issue 15).

Constant memory whatever the history: the rows come from one read transaction (a consistent
snapshot while other processes write) through a cursor read :data:`EXPORT_CHUNK` rows at a
time, and the time order is sorted by SQLite in temporary files (``temp_store = FILE``), not
in memory.
"""

from __future__ import annotations

from typing import IO, Any, Iterator

from claude_usage import __version__
from claude_usage.store import facts
from claude_usage.store.exchange import FLAG_FIELDS, ExportRow, Writer, header, time_text, usd
from claude_usage.store.schema import IMPORT_PREFIX
from claude_usage.store.sqlite import Reader, connect

EXPORT_CHUNK = 5000  # rows fetched from the cursor at a time

_ROWS = """
    SELECT r.key, r.ts, m.name, p.name, s.name, f.path, {imported}, r.line, r.input, r.output, r.cache_5m, r.cache_1h,
           r.cache_read, r.searches, r.fetches, r.cost, r.line_cost, r.flags
    FROM requests r JOIN models m ON m.id = r.model_id JOIN projects p ON p.id = r.project_id
    JOIN sessions s ON s.id = r.session_id JOIN files f ON f.id = r.file_id
    WHERE r.kept = 1{where} ORDER BY r.ts, r.key"""


def request_rows(conn: Any, since_us: int | None = None, chunk: int = EXPORT_CHUNK, where: str | None = None,
                 imported: str = "f.imported") -> Iterator[tuple]:
    """The kept request rows at or after ``since_us`` (UTC microseconds; None: all) that meet
    ``where`` (an SQL condition on ``requests r`` and ``files f``; None: all), in time order
    (then key), as ``(key, ts, model, project, session, file path, imported, line, input,
    output, cache_5m, cache_1h, cache_read, searches, fetches, cost, line_cost, flags)``;
    fetched ``chunk`` rows at a time from one cursor of ``conn`` (a DB-API connection).
    ``imported`` is what stands for ``files.imported`` (``0`` in a layout without it)."""
    conditions = ([" AND r.ts >= ?"] if since_us is not None else []) + ([f" AND {where}"] if where else [])
    cursor = conn.execute(_ROWS.format(imported=imported, where="".join(conditions)),
                          () if since_us is None else (since_us,))
    while True:
        batch = cursor.fetchmany(chunk)
        if not batch:
            return
        yield from batch


def export_row(row: tuple, paths: dict[str, str]) -> ExportRow:
    """A :func:`request_rows` row as an :class:`~claude_usage.store.exchange.ExportRow`
    (``paths``: project key -> its path). An imported source is named by the path it came from."""
    key, ts, model, project, session, path, imported, line, *counts, cost, line_cost, flags = row
    if imported and path.startswith(IMPORT_PREFIX):
        path = path[len(IMPORT_PREFIX):]
    return ExportRow(key, time_text(ts), model, project, paths.get(project, ""), session, path, line, *counts,
                     usd(cost), usd(line_cost), *(bool(flags & bit) for _name, bit in FLAG_FIELDS))


def export_requests(store: Any, out: IO[str], kind: str, since_us: int | None = None, since: str | None = None,
                    zone: str | None = None, chunk: int = EXPORT_CHUNK) -> int:
    """Write the kept requests of ``store`` (a :class:`~claude_usage.store.sqlite.SQLiteStore`)
    at or after ``since_us`` to ``out`` as ``kind`` (``csv`` or ``jsonl``), the header naming
    ``since`` (the local date asked) and its ``zone``; returns the number of requests written."""
    writer = Writer(out, kind)
    conn = connect(store.path, 4096)
    try:
        conn.execute("PRAGMA temp_store = FILE")  # the sort by time spills to disk, not memory
        conn.execute("BEGIN")
        view = Reader(conn)
        paths = facts.project_paths(view)
        writer.start(header(facts.price_version(view), since, zone, __version__))
        written = 0
        for row in request_rows(conn, since_us, chunk):
            writer.row(export_row(row, paths))
            written += 1
        conn.execute("COMMIT")
        return written
    finally:
        conn.close()
