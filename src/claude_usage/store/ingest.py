"""Bringing the store up to date with the transcripts (DESIGN section 7).

Per transcript the store keeps its path, device/inode, size, mtime and ctime, the committed byte
offset (just past the last newline-terminated line read), fingerprints of its first bytes and of
the bytes before the committed offset, and its line counters and cwds. A refresh reads only what
changed: a grown file from its committed offset (when its head and the bytes before that offset
are unchanged), a rotated, truncated or rewritten one whole. Each batch of scans is applied in
one transaction with the dedupe of the keys it touches and the rollup cells they change, so a
process killed at any point leaves a store from which the next run gives exactly the totals of a
fresh scan. A vanished file keeps its requests (history beyond Claude Code's 30-day cleanup)
unless ``forget_deleted``. Requests read from an export (``files.imported``,
:mod:`claude_usage.store.imports`) are no transcript's: a refresh leaves them alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import msgspec

from claude_usage.records import Diagnostics, UsageRecord
from claude_usage.sources.discovery import TranscriptFile, read_agent_meta, transcript_files
from claude_usage.sources.safe_files import open_regular
from claude_usage.sources.transcripts import FileScan, head_fingerprint, line_problems, merge_cwds, tail_fingerprint
from claude_usage.store import history, rollups
from claude_usage.store.prepare import Prepared, cost_units, scan_many
from claude_usage.store.schema import DIAG_COLUMNS, FAST, FAST_UNPRICED, GEO_US, QUARTER_HOUR_US
from claude_usage.tools import MCP_PREFIX

BATCH_BYTES = 64 << 20
BATCH_FILES = 400
DEFER_ROLLUPS_BYTES = 64 << 20  # a refresh reading more makes the rollups once, at its end
_ENCODE = msgspec.msgpack.encode
_FILE_STATE = "committed, dev, ino, size, mtime_ns, ctime_ns"

ProgressCallback = Callable[[int, int, int, int], None]  # files done, files, bytes done, bytes


@dataclass
class Plan:
    """What a refresh does with one transcript: read it from ``start`` (0 = whole). ``base`` is
    the file's stored state the plan was made from (None for a new file): the scan is stored only
    if it is still the same, so two processes refreshing at once never overwrite each other."""

    source: TranscriptFile
    start: int
    stat: os.stat_result | None
    size: int
    base: tuple | None = None


@dataclass
class RefreshResult:
    """What a refresh changed: the number of response keys it touched (``changed``), the files
    and bytes read, the transcripts now missing, and the local time it took (seconds)."""

    changed: int = 0
    files_read: int = 0
    bytes_read: int = 0
    files_missing: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


# -- planning -------------------------------------------------------------------------------------

def _same_bytes(path: Any, fingerprint: str | None, length: int, end: int | None = None) -> bool:
    """Whether the ``length`` bytes of ``path`` before ``end`` (or from the start) still have
    this fingerprint."""
    try:
        with open_regular(path) as handle:
            if end is None:
                data = handle.read(length)
                return len(data) == length and head_fingerprint(data) == fingerprint
            return tail_fingerprint(handle.fileno(), end) == fingerprint
    except OSError:
        return False


def plan_refresh(store: Any) -> tuple[list[Plan], list[tuple[int, str]]]:
    """The files to read (new, grown, rewritten) and the stored files that vanished."""
    known = {row[1]: row for row in store.conn.execute(
        "SELECT id, path, dev, ino, size, mtime_ns, ctime_ns, committed, head, head_length, tail_mark, missing FROM files"
        " WHERE imported = 0")}
    plans: list[Plan] = []
    seen: set[str] = set()
    for root in store.roots:
        for source in transcript_files(root):
            path = source.name
            seen.add(path)
            try:
                st = os.stat(source.path)
            except OSError:
                st = None
            row = known.get(path)
            size = st.st_size if st else 0
            if row is None or st is None:
                plans.append(Plan(source, 0, st, size, _base(row)))
                continue
            _, _, dev, ino, old_size, mtime_ns, ctime_ns, committed, head, head_length, tail_mark, missing = row
            now = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if not missing and now == (dev, ino, old_size, mtime_ns, ctime_ns):
                continue  # unchanged
            start = committed
            if (st.st_dev, st.st_ino) != (dev, ino) or st.st_size < committed:
                start = 0  # rotated (a new file under the old name) or truncated
            elif st.st_size == old_size:
                start = 0  # rewritten in place (its ctime or mtime changed, not its size)
            elif head_length and not _same_bytes(source.path, head, head_length):
                start = 0  # the beginning changed
            elif committed and not _same_bytes(source.path, tail_mark, 0, committed):
                start = 0  # the lines read before changed: a rewrite that grew
            plans.append(Plan(source, start, st, size, _base(row)))
    vanished = [(row[0], path) for path, row in known.items() if path not in seen and not row[11]]
    return plans, vanished


def _base(row: tuple | None) -> tuple | None:
    """The stored state of a file as a plan saw it: committed, dev, ino, size, mtime, ctime."""
    return None if row is None else (row[7], row[2], row[3], row[4], row[5], row[6])


# -- applying --------------------------------------------------------------------------------------

def _tool_rows(store: Any, conn: Any, file_id: int, project_id: int, prepared: Prepared) -> None:
    """Tool uses, failed tool results and usage-limit messages of a scan, as typed rows."""
    scan = prepared.scan
    calls = scan.tool_calls
    if calls:
        names = store.name_ids("tool_names", [c.name for c in calls])
        sessions = store.name_ids("sessions", [c.session_id for c in calls])
        cwds = store.name_ids("cwds", [c.cwd for c in calls if c.cwd])
        models = store.name_ids("models", [c.model for c in calls if c.model])
        conn.executemany("INSERT INTO tool_uses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", [
            (file_id, c.offset, key, names[c.name], sessions[c.session_id], project_id,
             cwds[c.cwd] if c.cwd else None, c.ts_us, models[c.model] if c.model else None)
            for c, key in zip(calls, prepared.tool_keys)])
        if any(c.name.startswith(MCP_PREFIX) for c in calls):
            note_mcp_change(conn)
    if scan.tool_errors:
        conn.executemany("INSERT INTO tool_errors VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                         [(file_id, offset, key) for (_id, offset), key in zip(scan.tool_errors, prepared.error_keys)])
    if scan.limits:
        sessions = store.name_ids("sessions", [n.session_id for n in scan.limits])
        conn.executemany("INSERT INTO limit_notices VALUES (?, ?, ?, ?, ?, ?)", [
            (file_id, n.offset, n.ts_us, n.reset_us, sessions[n.session_id], n.text) for n in scan.limits])
    _title_rows(store, conn, file_id, scan)


def _title_rows(store: Any, conn: Any, file_id: int, scan: FileScan) -> None:
    """A scan's session title candidates. The first prompt of a transcript counts once: when
    the file already has one (a read from its committed offset), later prompts are not kept."""
    titles = scan.titles
    if titles and any(t.kind <= 0 for t in titles) and conn.execute(
            "SELECT 1 FROM session_titles WHERE file_id = ? AND kind <= 0 LIMIT 1", (file_id,)).fetchone():
        titles = [t for t in titles if t.kind > 0]
    if titles:
        sessions = store.name_ids("sessions", [t.session_id for t in titles])
        conn.executemany("INSERT INTO session_titles VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", [
            (file_id, t.offset, t.kind, sessions[t.session_id], t.ts_us, t.text) for t in titles])


def add_cwds(conn: Any, project_id: int, cwds: dict[str, list], sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) a file's ``cwd -> [lines, latest]`` counts from its
    project's (the project's path is its most frequent cwd)."""
    if not cwds:
        return
    conn.executemany("""
        INSERT INTO project_cwds VALUES (?, ?, ?, ?)
        ON CONFLICT (project_id, cwd) DO UPDATE SET lines = project_cwds.lines + excluded.lines,
            latest = CASE WHEN excluded.latest > project_cwds.latest THEN excluded.latest ELSE project_cwds.latest END""",
                     [(project_id, cwd, sign * count, latest if sign > 0 else "") for cwd, (count, latest) in cwds.items()])
    if sign < 0:
        conn.execute("DELETE FROM project_cwds WHERE project_id = ? AND lines <= 0", (project_id,))


def _file_row(store: Any, conn: Any, plan: Plan, scan: FileScan) -> tuple[int, int]:
    """Insert or update the file's row for a scan (its counters, cwds and problems), keeping the
    project's cwd counts in step; returns ``(file id, project id)``."""
    source = plan.source
    st = plan.stat
    project_id = store.name_ids("projects", [source.project])[source.project]
    row = conn.execute(f"SELECT id, project_id, cwds, tail_cwds, head, head_length, "
                       f"{', '.join('d_' + name for name in DIAG_COLUMNS)} FROM files WHERE path = ?",
                       (source.name,)).fetchone()
    diag = Diagnostics(**{name: getattr(scan.diagnostics, name) for name in DIAG_COLUMNS})
    cwds = scan.cwds
    head, head_length = scan.head, scan.head_length
    if row is not None:
        old_project = row[1]
        old_cwds = json.loads(row[2]) if row[2] else {}
        add_cwds(conn, old_project, json.loads(row[3]) if row[3] else {}, -1)  # the tail is read again
        if plan.start > 0:
            for name, value in zip(DIAG_COLUMNS, row[6:]):
                setattr(diag, name, getattr(diag, name) + value)
            cwds = merge_cwds({k: list(v) for k, v in old_cwds.items()}, cwds)
            head, head_length = row[4], row[5]
        else:
            add_cwds(conn, old_project, old_cwds, -1)
    add_cwds(conn, project_id, scan.cwds if plan.start > 0 and row is not None else cwds, 1)
    add_cwds(conn, project_id, scan.tail_cwds, 1)
    size = plan.start + scan.diagnostics.bytes + scan.tail.bytes
    agent = json.dumps(read_agent_meta(source.path)) if source.is_subagent else None
    problems = scan.errors + line_problems(source.name, diag, scan.tail)
    tail_blob = _ENCODE(scan.tail) if scan.tail.lines or scan.tail.bytes else None
    values = (
        project_id, source.fallback_session,
        st.st_dev if st else None, st.st_ino if st else None, size, st.st_mtime_ns if st else None,
        st.st_ctime_ns if st else None, scan.committed_offset, head, head_length, scan.tail_mark,
        agent, json.dumps(problems) if problems else None, json.dumps(cwds) if cwds else None,
        json.dumps(scan.tail_cwds) if scan.tail_cwds else None, tail_blob,
        *(getattr(diag, name) for name in DIAG_COLUMNS),
    )
    columns = ("project_id, fallback_session, dev, ino, size, mtime_ns, ctime_ns, committed, head, head_length, "
               "tail_mark, agent, problems, cwds, tail_cwds, tail_diag, " + ", ".join("d_" + n for n in DIAG_COLUMNS))
    if row is None:
        cursor = conn.execute(f"INSERT INTO files (path, missing, {columns}) VALUES (?, 0, {', '.join('?' * len(values))})",
                              (source.name, *values))
        return cursor.lastrowid, project_id
    assignments = ", ".join(f"{column.strip()} = ?" for column in columns.split(","))
    conn.execute(f"UPDATE files SET missing = 0, {assignments} WHERE id = ?", (*values, row[0]))
    return row[0], project_id


def _note_keys_from(conn: Any, file_id: int, start: int) -> None:
    """Note the keys of a file's rows from byte ``start`` on as affected (before they go)."""
    conn.execute("INSERT INTO affected (key) SELECT DISTINCT key FROM requests WHERE file_id = ? AND line >= ? "
                 "ON CONFLICT DO NOTHING", (file_id, start))


def _drop_from(conn: Any, file_id: int, start: int) -> None:
    """Delete a file's rows (requests and tool rows) from byte ``start`` on, to be read again."""
    for table in ("requests", "tool_uses", "tool_errors", "limit_notices", "session_titles"):
        gone = conn.execute(f"DELETE FROM {table} WHERE file_id = ? AND line >= ?", (file_id, start)).rowcount
        if table == "tool_uses" and gone:
            note_mcp_change(conn)


def note_mcp_change(conn: Any) -> None:
    """Mark that the write under way changes the stored MCP tool calls (``meta`` key
    ``mcp_calls``: the version of the last such write), so that the MCP session count, which
    ranks every MCP call's copies, is computed again only then (see
    :meth:`claude_usage.api.store.DataStore.mcp_sessions`)."""
    conn.execute("INSERT INTO meta (key, value) VALUES ('mcp_calls', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (str(rollups.next_version(conn)),))


def _request_rows(store: Any, file_id: int, project_id: int, prepared: Prepared, version: int) -> list[list]:
    """The ``requests`` rows of a prepared scan, written by the write of data version
    ``version`` (``kept`` last, 0 for now)."""
    records = prepared.scan.records
    models = store.name_ids("models", [r.model for r in records])
    sessions = store.name_ids("sessions", [r.session_id for r in records])
    return [
        [key, file_id, r.offset, r.ts_us, models[r.model], sessions[r.session_id], project_id, r.input_tokens,
         r.output_tokens, r.cache_creation_5m_tokens, r.cache_creation_1h_tokens, r.cache_read_tokens,
         r.web_search_requests, r.web_fetch_requests, flags, cost, cost_units(r.line_cost_usd), version, 0]
        for r, key, cost, flags in zip(records, prepared.keys, prepared.costs, prepared.flags)
    ]


def _existing(conn: Any, keys: list[int]) -> set[int]:
    """Which of ``keys`` the store already holds a row of."""
    found: set[int] = set()
    for at in range(0, len(keys), 500):
        chunk = keys[at: at + 500]
        found.update(key for (key,) in conn.execute(
            f"SELECT DISTINCT key FROM requests WHERE key IN ({','.join('?' * len(chunk))})", chunk))
    return found


def note_new_spans(conn: Any, rows: list[list]) -> None:
    """Widen ``touched`` by the sessions and quarter hours of rows kept at once."""
    spans: dict[int, list[int]] = {}
    for row in rows:
        qh = row[3] // QUARTER_HOUR_US
        span = spans.get(row[5])
        if span is None:
            spans[row[5]] = [qh, qh]
        elif qh < span[0]:
            span[0] = qh
        elif qh > span[1]:
            span[1] = qh
    conn.executemany("""
        INSERT INTO touched (session_id, qh_from, qh_to) VALUES (?, ?, ?)
        ON CONFLICT (session_id) DO UPDATE SET
            qh_from = CASE WHEN excluded.qh_from < touched.qh_from THEN excluded.qh_from ELSE touched.qh_from END,
            qh_to = CASE WHEN excluded.qh_to > touched.qh_to THEN excluded.qh_to ELSE touched.qh_to END""",
                     [(session, a, b) for session, (a, b) in spans.items()])


def apply_batch(store: Any, batch: list[tuple[Plan, Prepared]], state: "_Build") -> tuple[int, int]:
    """Store one batch of scans and re-dedupe the keys they touch, in one transaction; returns
    the number of response keys changed and how many scans were dropped because another process
    had stored that file since they were planned.

    A row whose key nothing else holds (not in the store, not earlier in this refresh, not twice
    in the batch) is kept at once; the keys of the rows about to be replaced and of new rows
    that meet another copy are noted as affected, with the rollup spans of their kept rows;
    then the old rows go, the new ones come, the winners of the affected keys are chosen and
    the touched rollup cells recomputed."""
    with store.writing() as conn:
        rollups.prepare(conn)
        current = []
        for plan, prepared in batch:
            row = conn.execute(f"SELECT {_FILE_STATE} FROM files WHERE path = ?", (plan.source.name,)).fetchone()
            if (tuple(row) if row else None) == plan.base:
                current.append((plan, prepared))
        written = []
        for plan, prepared in current:
            file_id, project_id = _file_row(store, conn, plan, prepared.scan)
            if plan.base is not None:
                _note_keys_from(conn, file_id, plan.start)
            written.append((file_id, project_id, plan, prepared))
        version = rollups.next_version(conn)
        rows = [row for file_id, project_id, _plan, prepared in written
                for row in _request_rows(store, file_id, project_id, prepared, version)]
        keys = [row[0] for row in rows]
        counts: dict[int, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        others = state.seen & counts.keys() if state.cold else _existing(conn, list(counts))
        meeting = [(key,) for key, n in counts.items() if n > 1 or key in others]
        if state.bulk:  # the winners of keys met twice are chosen once, at the build's end
            state.affected.update(key for (key,) in meeting)
            affected = state.affected
        else:
            conn.executemany("INSERT INTO affected (key) VALUES (?) ON CONFLICT DO NOTHING", meeting)
            affected = {key for (key,) in conn.execute("SELECT key FROM affected")}
        alone = []
        for row in rows:
            if row[0] not in affected:
                row[-1] = 1  # kept at once: nothing else holds its key
                alone.append(row)
        if state.cold:
            state.seen.update(counts)
        before = rollups.kept_count(conn)
        if not state.deferred:
            rollups.note_touched(conn)
            note_new_spans(conn, alone)
        for file_id, _project_id, plan, _prepared in written:
            if plan.base is not None:
                _drop_from(conn, file_id, plan.start)
        conn.executemany(
            "INSERT INTO requests (key, file_id, line, ts, model_id, session_id, project_id, input, output, cache_5m,"
            " cache_1h, cache_read, searches, fetches, flags, cost, line_cost, version, kept)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        for file_id, project_id, _plan, prepared in written:
            _tool_rows(store, conn, file_id, project_id, prepared)
        if state.bulk:
            rollups.bump_version(conn)
            return len(counts), len(batch) - len(current)
        changed = rollups.finish_write(conn, before, state.deferred, len(alone)) if written else 0
    return changed, len(batch) - len(current)


@dataclass
class _Build:
    """What one refresh carries from batch to batch: ``cold`` when it began on an empty store
    (every key met is then in ``seen``, no query needed), ``deferred`` when it makes the
    rollups once at its end, ``bulk`` for a large first build, which also makes the request
    indexes and chooses the winners of the keys met twice (``affected``) once, at its end."""

    cold: bool
    deferred: bool
    bulk: bool = False
    seen: set[int] = field(default_factory=set)
    affected: set[int] = field(default_factory=set)


def _start_bulk(store: Any) -> None:
    """A first build: mark it (``building``, with this process's id: a killed one is seen by
    the next process, which starts again) and drop the empty request indexes."""
    with store.writing() as conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('building', ?)", (str(os.getpid()),))
        for name in ("requests_by_key", "requests_by_file", "requests_by_session", "requests_by_version"):
            conn.execute(f"DROP INDEX IF EXISTS {name}")


def _finish_bulk(store: Any, state: _Build) -> None:
    """End a first build in one transaction: the request indexes, the winners of the keys met
    twice, the rollups, the kept request count; then the mark goes."""
    from claude_usage.store.schema import REQUEST_INDEXES

    with store.writing() as conn:
        for statement in REQUEST_INDEXES:
            conn.execute(statement)
        rollups.prepare(conn)
        conn.executemany("INSERT INTO affected (key) VALUES (?) ON CONFLICT DO NOTHING", [(k,) for k in state.affected])
        rollups.choose_winners(conn, rollups.next_version(conn))
        rollups.rebuild_all(conn)
        kept = conn.execute("SELECT COUNT(*) FROM requests WHERE kept = 1").fetchone()[0]
        conn.execute("UPDATE meta SET value = ? WHERE key = 'requests'", (str(kept),))
        conn.execute("DELETE FROM meta WHERE key IN ('building', 'rollups_stale')")
        rollups.bump_version(conn)


def vanish(store: Any, vanished: list[tuple[int, str]], forget: bool) -> int:
    """Mark vanished transcripts missing (their requests stay) or, with ``forget``, drop them;
    returns the number of affected keys."""
    with store.writing() as conn:
        rollups.prepare(conn)
        if forget:
            for file_id, _path in vanished:
                _note_keys_from(conn, file_id, 0)
        before = rollups.kept_count(conn)
        rollups.note_touched(conn)
        for file_id, _path in vanished:
            if not forget:
                conn.execute("UPDATE files SET missing = 1 WHERE id = ?", (file_id,))
                continue
            row = conn.execute("SELECT project_id, cwds, tail_cwds FROM files WHERE id = ?", (file_id,)).fetchone()
            for text in row[1:]:
                add_cwds(conn, row[0], json.loads(text) if text else {}, -1)
            _drop_from(conn, file_id, 0)
            conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
        return rollups.finish_write(conn, before)


def price_row(pricer: Any, model: str, ts: int, inp: int, out: int, cache_5m: int, cache_1h: int, cache_read: int,
              searches: int, flags: int) -> tuple[int | None, int]:
    """The cost (store units, None when unknown) and flags of a stored request's values, priced
    now by ``pricer`` (the one pricing function): the flags with ``FAST_UNPRICED`` set anew."""
    record = UsageRecord("", ts, model, "", "", "", 0, inp, out, cache_5m, cache_1h, cache_read,
                         speed="fast" if flags & FAST else None, web_search_requests=searches,
                         inference_geo="us" if flags & GEO_US else None)
    cost, fast_unpriced = pricer.price(record)
    return cost_units(cost), (flags & ~FAST_UNPRICED) | (FAST_UNPRICED if fast_unpriced else 0)


def reprice_if_needed(store: Any, pricer: Any, chunk: int = 50_000) -> bool:
    """Recompute every stored cost (and fast-unpriced flag) and the rollups when the price data,
    the corrections or the overrides changed; True when it did. Reads no transcript, and holds
    at most ``chunk`` rows in memory at once."""
    version = pricer.version
    if store.meta("price_version") == version:
        return False
    with store.writing() as conn:
        conn.execute("DELETE FROM rates")  # resolved with the old price data
        written = rollups.next_version(conn)  # new costs: every row is sent again by the next push
        models = dict(conn.execute("SELECT id, name FROM models").fetchall())
        last = -1
        while True:
            rows = conn.execute(
                "SELECT id, model_id, ts, input, output, cache_5m, cache_1h, cache_read, searches, flags FROM requests"
                " WHERE id > ? ORDER BY id LIMIT ?", (last, chunk)).fetchall()
            if not rows:
                break
            updates = []
            for row_id, model_id, ts, inp, out, c5, c1, read, searches, flags in rows:
                cost, new_flags = price_row(pricer, models[model_id], ts, inp, out, c5, c1, read, searches, flags)
                updates.append((cost, new_flags, written, row_id))
            conn.executemany("UPDATE requests SET cost = ?, flags = ?, version = ? WHERE id = ?", updates)
            last = rows[-1][0]
        rollups.rebuild_all(conn)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('price_version', ?)", (version,))
        rollups.bump_version(conn)
    return True


def refresh(store: Any, pricer_factory: Callable[[], Any], progress: ProgressCallback | None = None,
            forget_deleted: bool = False, workers: int | None = None, attempt: int = 0) -> RefreshResult:
    """Bring ``store`` up to date with the transcripts below its roots (see the module
    docstring). ``pricer_factory()`` gives the :class:`~claude_usage.pricing.Pricer` (made only
    when a cost must be computed; its resolved rates are kept in the store)."""
    began = time.perf_counter()
    result = RefreshResult()
    holder: list = []

    def pricer() -> Any:
        if not holder:
            made = pricer_factory()
            if getattr(made, "store", False) is None:
                made.store = store
            holder.append(made)
        return holder[0]

    if not store.wait_for_builder():  # another process's first build, killed meanwhile
        store.rebuild("its first build was interrupted")
    reprice_if_needed(store, pricer())
    plans, vanished = plan_refresh(store)
    total_bytes = sum(p.size - p.start for p in plans)
    # Imported sources count: a build beside imported requests must meet their keys (not cold).
    empty = store.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0
    state = _Build(cold=empty, deferred=total_bytes >= DEFER_ROLLUPS_BYTES)
    state.bulk = state.cold and state.deferred
    if state.bulk:
        _start_bulk(store)
    if state.deferred:
        with store.writing() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('rollups_stale', ?)", (str(os.getpid()),))
        # A large build writes without waiting for the disk at each checkpoint: a killed process
        # loses nothing (its writes are in the OS's hands); only a power cut mid-build could damage
        # the file, and a damaged store is rebuilt.
        store.conn.execute("PRAGMA synchronous = OFF")
        store.conn.execute("PRAGMA wal_autocheckpoint = 16384")
        # Its sorts (the request indexes, the winners, the rollups) spill to temporary files
        # past the page cache instead of growing in memory with the history.
        store.conn.execute("PRAGMA temp_store = FILE")
    conflicts = done_files = done_bytes = batch_bytes = 0
    batch: list[tuple[Plan, Prepared]] = []
    if progress is not None and plans:
        progress(0, len(plans), 0, total_bytes)
    try:
        for plan, prepared in scan_many(plans, pricer() if plans else None, workers):
            batch.append((plan, prepared))
            read = prepared.scan.diagnostics.bytes + prepared.scan.tail.bytes
            batch_bytes += read
            done_files += 1
            done_bytes += plan.size - plan.start
            result.files_read += 1
            result.bytes_read += read
            if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                changed, skipped = apply_batch(store, batch, state)
                result.changed += changed
                conflicts += skipped
                batch, batch_bytes = [], 0
            if progress is not None:
                progress(done_files, len(plans), done_bytes, total_bytes)
        if batch:
            changed, skipped = apply_batch(store, batch, state)
            result.changed += changed
            conflicts += skipped
    finally:
        if state.bulk:
            _finish_bulk(store, state)
        elif state.deferred:
            with store.writing() as conn:
                rollups.rebuild_all(conn)
                conn.execute("DELETE FROM meta WHERE key = 'rollups_stale'")
                rollups.bump_version(conn)
        if state.deferred:
            store.conn.execute("PRAGMA synchronous = NORMAL")
            store.conn.execute("PRAGMA wal_autocheckpoint = 1000")
            store.conn.execute("PRAGMA temp_store = MEMORY")
    if conflicts and attempt < 5:
        # Another process stored some of these files meanwhile: plan them again from what it
        # stored (only what is still missing is read).
        again = refresh(store, pricer_factory, None, False, workers, attempt + 1)
        result.changed += again.changed
        result.files_read += again.files_read
        result.bytes_read += again.bytes_read
    if forget_deleted:  # also what earlier refreshes kept as history
        vanished += [(row[0], row[1]) for row in store.conn.execute(
            "SELECT id, path FROM files WHERE missing = 1 AND imported = 0")]
    if vanished:
        result.changed += vanish(store, vanished, forget_deleted)
    if getattr(store, "path", None) is not None and history.pending_files(store.path):
        history.restore_history(store, pricer(), store.notice)  # kept over a rebuild
    result.files_missing = store.conn.execute("SELECT COUNT(*) FROM files WHERE missing = 1").fetchone()[0]
    if result.bytes_read > BATCH_BYTES:
        store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # not left to a later small write
    result.seconds = time.perf_counter() - began
    return result
