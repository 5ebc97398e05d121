"""``claude-usage import``: the requests of an export (:mod:`claude_usage.store.exchange`) read
back into the embedded store, exactly (issue 15).

- Where they live: each transcript path the export names becomes a source of its own, a
  ``files`` row marked ``imported`` under the path ``import:<path>``. A refresh never plans,
  marks missing or forgets such a source (:mod:`claude_usage.store.ingest`), so imported
  requests stay beside those read from the transcripts: history beyond Claude Code's cleanup.
- Dedupe: an imported row is one more copy of its response key, and the rule of DESIGN 4
  chooses the kept row among all copies (a request both imported and read from a transcript
  counts once). A row already imported (same source and key) with the same values changes
  nothing, so importing a file twice is importing it once; with other values it is replaced.
- Costs: the store's costs are all priced with one price data version. The export's are kept
  when it names the version in use; otherwise each imported row is priced again by the one
  pricing function.
- Atomicity: rows are written :data:`IMPORT_CHUNK` at a time, each chunk in one transaction
  with the winners of its keys and the rollup cells it touches (:mod:`claude_usage.store.rollups`),
  so a killed import leaves a consistent store holding whole chunks; importing again completes it.
- A line that cannot be read is skipped and counted, with its line number and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any, Callable

from claude_usage.store import rollups
from claude_usage.store.exchange import ExportRow, flags_of, read_export, time_us, units
from claude_usage.store.ingest import add_cwds, note_new_spans, price_row, reprice_if_needed
from claude_usage.store.schema import IMPORT_PREFIX
from claude_usage.timebuckets import iso_utc

IMPORT_CHUNK = 5000  # rows per transaction
PROBLEMS_KEPT = 100  # messages about skipped lines kept (all are counted)
_COMPARED = slice(2, 17)  # line to line cost: of a request row as inserted, and of a stored copy (id, file id, ...)


@dataclass
class ImportResult:
    """What an import did: the export's encoding (``csv``/``jsonl``), the request lines read,
    of which ``added`` (new rows), ``updated`` (an imported row replaced by other values) and
    ``unchanged`` (already imported as they are); ``skipped`` lines that could not be read
    (``problems``: the first :data:`PROBLEMS_KEPT` of them, ``line N: what``); ``changed``
    response keys whose kept row the import changed; ``repriced`` when the export's costs were
    computed with other price data and were priced again."""

    format: str = ""
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    changed: int = 0
    repriced: bool = False
    problems: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The ``--json`` summary (camelCase)."""
        return {"format": self.format, "read": self.read, "added": self.added, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped, "changed": self.changed,
                "repriced": self.repriced, "problems": self.problems}


def import_requests(store: Any, stream: IO[str], pricer: Any, chunk: int = IMPORT_CHUNK,
                    progress: Callable[[ImportResult], None] | None = None) -> ImportResult:
    """Read the export open as text (``newline=""``) in ``stream`` into ``store`` (a
    :class:`~claude_usage.store.sqlite.SQLiteStore`), ``chunk`` rows per transaction;
    ``pricer`` (:class:`~claude_usage.pricing.Pricer`) brings the store's costs to its price
    data first and prices rows whose export used other price data. ``progress(result)`` is
    called after each chunk. Raises :class:`~claude_usage.store.exchange.ExchangeError` when
    the file is not an export this version reads (nothing is written then)."""
    head, kind, records = read_export(stream)
    result = ImportResult(format=kind)
    if getattr(pricer, "store", False) is None:
        pricer.store = store  # resolved rates are kept in the store
    reprice_if_needed(store, pricer)
    result.repriced = head.get("priceDataVersion") != pricer.version
    batch: list[ExportRow] = []
    for number, item in records:
        if isinstance(item, str):
            result.skipped += 1
            if len(result.problems) < PROBLEMS_KEPT:
                result.problems.append(f"line {number}: {item}")
            continue
        result.read += 1
        batch.append(item)
        if len(batch) >= chunk:
            _store_chunk(store, batch, pricer if result.repriced else None, result)
            batch = []
            if progress is not None:
                progress(result)
    if batch:
        _store_chunk(store, batch, pricer if result.repriced else None, result)
        if progress is not None:
            progress(result)
    return result


def _sources(conn: Any, rows: list[ExportRow], projects: dict[str, int]) -> dict[str, int]:
    """Transcript path -> the id of its imported source (made on first use)."""
    first: dict[str, ExportRow] = {}
    for row in rows:
        first.setdefault(row.file, row)
    found: dict[str, int] = {}
    paths = list(first)
    for at in range(0, len(paths), 500):
        chunk = [IMPORT_PREFIX + path for path in paths[at: at + 500]]
        found.update((path[len(IMPORT_PREFIX):], file_id) for path, file_id in conn.execute(
            f"SELECT path, id FROM files WHERE imported = 1 AND path IN ({','.join('?' * len(chunk))})", chunk))
    for path, row in first.items():
        if path not in found:
            found[path] = conn.execute(
                "INSERT INTO files (path, project_id, fallback_session, imported) VALUES (?, ?, '', 1)",
                (IMPORT_PREFIX + path, projects[row.project])).lastrowid
    return found


def _copies(conn: Any, keys: list[int]) -> dict[int, list[tuple]]:
    """Every stored row of ``keys``: key -> ``[(id, file id, line, ts, model, session, project,
    the token counts, searches, fetches, flags, cost, line cost)]``."""
    found: dict[int, list[tuple]] = {}
    for at in range(0, len(keys), 500):
        chunk = keys[at: at + 500]
        for row in conn.execute(
                "SELECT key, id, file_id, line, ts, model_id, session_id, project_id, input, output, cache_5m, cache_1h,"
                f" cache_read, searches, fetches, flags, cost, line_cost FROM requests WHERE key IN ({','.join('?' * len(chunk))})",
                chunk):
            found.setdefault(row[0], []).append(row[1:])
    return found


def _store_chunk(store: Any, rows: list[ExportRow], pricer: Any, result: ImportResult) -> None:
    """One transaction: the chunk's new and changed rows, the winners of their keys, the rollup
    cells they touch, the sources' line counts and the projects' paths."""
    with store.writing() as conn:
        rollups.prepare(conn)
        models = store.name_ids("models", [r.model for r in rows])
        projects = store.name_ids("projects", [r.project for r in rows])
        sessions = store.name_ids("sessions", [r.session for r in rows])
        sources = _sources(conn, rows, projects)
        version = rollups.next_version(conn)
        incoming: dict[tuple[int, int], tuple[list, ExportRow]] = {}
        for r in rows:
            ts = time_us(r.time)
            cost, flags = units(r.cost_usd, "costUsd"), flags_of(r)
            counts = (r.input_tokens, r.output_tokens, r.cache_creation_5m_tokens, r.cache_creation_1h_tokens,
                      r.cache_read_tokens, r.web_search_requests, r.web_fetch_requests)
            if pricer is not None:
                cost, flags = price_row(pricer, r.model, ts, *counts[:6], flags)
            incoming[(sources[r.file], r.key)] = ([
                r.key, sources[r.file], r.line, ts, models[r.model], sessions[r.session], projects[r.project], *counts,
                flags, cost, units(r.line_cost_usd, "lineCostUsd"), version, 0], r)
        result.unchanged += len(rows) - len(incoming)  # the same source and key twice: the last one counts
        copies = _copies(conn, sorted({key for _file, key in incoming}))
        writes, replaced, added = [], [], []
        for (file_id, key), (row, r) in incoming.items():
            mine = [copy for copy in copies.get(key, ()) if copy[1] == file_id]
            if len(mine) == 1 and tuple(mine[0][_COMPARED]) == tuple(row[_COMPARED]):
                result.unchanged += 1
                continue
            if mine:
                replaced += [copy[0] for copy in mine]
                result.updated += 1
            else:
                added.append((row, r))
            writes.append(row)
        if not writes:
            return
        per_key: dict[int, int] = {}
        for row in writes:
            per_key[row[0]] = per_key.get(row[0], 0) + 1
        meeting = {key for key, n in per_key.items() if n > 1 or key in copies}
        alone = [row for row in writes if row[0] not in meeting]
        for row in alone:
            row[-1] = 1  # kept at once: nothing else holds its key
        conn.executemany("INSERT INTO affected (key) VALUES (?) ON CONFLICT DO NOTHING", [(k,) for k in meeting])
        before = rollups.kept_count(conn)
        rollups.note_touched(conn)
        note_new_spans(conn, alone)
        conn.executemany("DELETE FROM requests WHERE id = ?", [(row_id,) for row_id in replaced])
        conn.executemany(
            "INSERT INTO requests (key, file_id, line, ts, model_id, session_id, project_id, input, output, cache_5m,"
            " cache_1h, cache_read, searches, fetches, flags, cost, line_cost, version, kept)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", writes)
        _count_added(conn, added)
        result.added += len(added)
        result.changed += rollups.finish_write(conn, before, False, len(alone))


def _count_added(conn: Any, added: list[tuple[list, ExportRow]]) -> None:
    """Count the added rows as lines of their sources (so that the diagnostics' duplicate lines
    stay usage lines minus requests) and their projects' paths as cwds (a project's path is its
    most frequent cwd)."""
    lines: dict[int, int] = {}
    cwds: dict[int, dict[str, list]] = {}
    for row, r in added:
        lines[row[1]] = lines.get(row[1], 0) + 1
        if r.project_path:
            entry = cwds.setdefault(row[6], {}).setdefault(r.project_path, [0, ""])
            entry[0] += 1
            entry[1] = max(entry[1], iso_utc(row[3]) or "")
    conn.executemany("UPDATE files SET d_lines = d_lines + ?, d_usageLines = d_usageLines + ? WHERE id = ?",
                     [(n, n, file_id) for file_id, n in lines.items()])
    for project_id, paths in cwds.items():
        add_cwds(conn, project_id, paths, 1)
