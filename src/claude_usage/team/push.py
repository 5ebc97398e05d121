"""Pushing a machine's requests to the team store (DESIGN 12).

What is sent: this machine's kept (deduplicated) request rows written since its last push, in
order of the local data version and row id (the embedded store stamps every row it writes or
makes the kept one with the write's version). How far a push got is kept in the team store
(``push_marks``, per machine and local store), in the same transaction as the rows it covers:
a push interrupted at any point loses and doubles nothing, and the next one goes on from there.
A local store made anew (another ``store_id``) is sent whole again; rows that did not change are
counted as unchanged and change nothing.

Each chunk is one transaction: the rows are copied into a temporary table (no lock held), then,
under one advisory lock (pushes from many machines are serialized only here), the names are
resolved, the machine's copies that are new or differ are upserted, and the winners of their
keys across machines are chosen again with the embedded store's own rule and rollup code
(:mod:`claude_usage.store.rollups`): one row per ``message.id``, the most complete snapshot,
whichever machine pushed it first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from claude_usage.store import rollups
from claude_usage.store.schema import DIAG_COLUMNS, QUARTER_HOUR_US
from claude_usage.team.identity import Identity
from claude_usage.team.schema import PUSH_LOCK
from claude_usage.team.store import PgConnection, TeamStore

CHUNK_ROWS = 20_000
_VALUES = ("input", "output", "cache_5m", "cache_1h", "cache_read", "searches", "fetches", "flags", "cost", "line_cost")
_COLUMNS = ("file_id", "line", "ts", "model_id", "session_id", "project_id", *_VALUES)
_INCOMING = ("CREATE TEMP TABLE IF NOT EXISTS incoming (key BIGINT, path TEXT, line BIGINT, ts BIGINT, model TEXT, "
             "session TEXT, project TEXT, input BIGINT, output BIGINT, cache_5m BIGINT, cache_1h BIGINT, "
             "cache_read BIGINT, searches INTEGER, fetches INTEGER, flags INTEGER, cost BIGINT, line_cost BIGINT) "
             "ON COMMIT DELETE ROWS")
_FRESH = "CREATE TEMP TABLE IF NOT EXISTS fresh (key BIGINT PRIMARY KEY) ON COMMIT DELETE ROWS"
_RESOLVED = ("CREATE TEMP TABLE IF NOT EXISTS resolved (key BIGINT PRIMARY KEY, file_id INTEGER, line BIGINT, ts BIGINT, "
             "model_id INTEGER, session_id INTEGER, project_id INTEGER, input BIGINT, output BIGINT, cache_5m BIGINT, "
             "cache_1h BIGINT, cache_read BIGINT, searches INTEGER, fetches INTEGER, flags INTEGER, cost BIGINT, "
             "line_cost BIGINT) ON COMMIT DELETE ROWS")
_LOCAL_ROWS = """
    SELECT r.id, r.version, r.key, f.path, r.line, r.ts, m.name, s.name, p.name, r.input, r.output, r.cache_5m,
           r.cache_1h, r.cache_read, r.searches, r.fetches, r.flags, r.cost, r.line_cost
    FROM requests r JOIN files f ON f.id = r.file_id JOIN models m ON m.id = r.model_id
    JOIN sessions s ON s.id = r.session_id JOIN projects p ON p.id = r.project_id
    WHERE r.kept = 1 AND r.version >= ? AND (r.version > ? OR r.id > ?)
    ORDER BY r.version, r.id LIMIT ?"""

Progress = Callable[[int, int], None]  # rows sent, rows to send


@dataclass
class PushResult:
    """What a push did: ``sent`` rows, of which ``new`` (not in the team store), ``updated``
    (a changed copy of this machine's) and ``unchanged``; ``chunks`` transactions, ``seconds``,
    and who pushed to where (the team database without credentials)."""

    sent: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0
    machine: str = ""
    user: str = ""
    team: str = ""

    def document(self) -> dict[str, Any]:
        """The ``--json`` summary."""
        return {"sent": self.sent, "new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "chunks": self.chunks, "seconds": round(self.seconds, 6), "machine": self.machine, "user": self.user,
                "team": self.team}


def push(local: Any, team: TeamStore, who: Identity, progress: Progress | None = None,
         chunk_rows: int = CHUNK_ROWS) -> PushResult:
    """Send ``local``'s (a :class:`~claude_usage.store.sqlite.SQLiteStore`) new and changed
    kept requests to ``team`` as machine ``who``; returns a :class:`PushResult`. Raises
    :class:`~claude_usage.team.connection.TeamError` when the team database fails (what was
    committed before stays, and the next push goes on from there)."""
    began = time.perf_counter()
    result = PushResult(machine=who.name, user=who.user, team=team.path)
    store_id = local.meta("store_id") or ""
    with team.connection() as conn:
        machine_id = _machine(conn, who)
        mark = conn.execute("SELECT version, row_id FROM push_marks WHERE machine_id = %s AND store_id = %s",
                            (machine_id, store_id)).fetchone()
        version, row_id = mark if mark else (0, 0)
        with local.reading() as view:
            total = view.one("SELECT COUNT(*) FROM requests WHERE kept = 1 AND version >= ? AND (version > ? OR id > ?)",
                             (version, version, row_id))[0]
        _send_extras(conn, local, machine_id)
        for statement in (_INCOMING, _RESOLVED, _FRESH):
            conn.execute(statement)
        while True:
            with local.reading() as view:
                rows = view.rows(_LOCAL_ROWS, (version, version, row_id, chunk_rows))
            if not rows:
                break
            version, row_id = rows[-1][1], rows[-1][0]
            new, updated = _apply_chunk(conn, machine_id, store_id, [row[2:] for row in rows], (version, row_id))
            result.sent += len(rows)
            result.new += new
            result.updated += updated
            result.chunks += 1
            if progress is not None:
                progress(result.sent, max(total, result.sent))
        conn.execute("UPDATE machines SET last_push = now(), pushes = pushes + 1 WHERE id = %s", (machine_id,))
    result.unchanged = result.sent - result.new - result.updated
    result.seconds = time.perf_counter() - began
    return result


def _machine(conn: Any, who: Identity) -> int:
    """The team id of machine ``who`` (made on its first push; its name and user updated)."""
    return conn.execute(
        "INSERT INTO machines (machine_key, name, user_name) VALUES (%s, %s, %s) ON CONFLICT (machine_key) DO UPDATE "
        "SET name = excluded.name, user_name = excluded.user_name RETURNING id", (who.key, who.name, who.user)).fetchone()[0]


def _apply_chunk(raw: Any, machine_id: int, store_id: str, rows: list[tuple], mark: tuple[int, int]) -> tuple[int, int]:
    """One transaction: the chunk's rows, the re-chosen winners and rollups, the push mark.
    Returns how many rows were new and how many updated."""
    conn = PgConnection(raw)
    with raw.transaction():
        with raw.cursor().copy("COPY incoming FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        rollups.analyzed(conn, "incoming")
        conn.execute("SELECT pg_advisory_xact_lock(?)", (PUSH_LOCK,))
        for table, column in (("models", "model"), ("projects", "project"), ("sessions", "session")):
            conn.execute(f"INSERT INTO {table} (name) SELECT DISTINCT {column} FROM incoming ON CONFLICT (name) DO NOTHING")
        conn.execute("INSERT INTO files (machine_id, path) SELECT DISTINCT ?, path FROM incoming "
                     "ON CONFLICT (machine_id, path) DO NOTHING", (machine_id,))
        conn.execute(f"""
            INSERT INTO resolved (key, {', '.join(_COLUMNS)})
            SELECT i.key, f.id, i.line, i.ts, mo.id, se.id, pr.id, {', '.join('i.' + v for v in _VALUES)}
            FROM incoming i JOIN files f ON f.machine_id = ? AND f.path = i.path
            JOIN models mo ON mo.name = i.model JOIN sessions se ON se.name = i.session
            JOIN projects pr ON pr.name = i.project""", (machine_id,))
        rollups.analyzed(conn, "resolved")
        rollups.prepare(conn)
        # Keys no machine has sent yet are kept at once (nothing to choose between); the others
        # whose copy from this machine is new or differs are affected: their winners are chosen again.
        conn.execute("DELETE FROM fresh")
        conn.execute("INSERT INTO fresh (key) SELECT n.key FROM resolved n "
                     "WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.key = n.key)")
        mine = ", ".join(f"r.{c}" for c in _COLUMNS)
        theirs = ", ".join(f"n.{c}" for c in _COLUMNS)
        conn.execute(f"""
            INSERT INTO affected (key)
            SELECT n.key FROM resolved n LEFT JOIN requests r ON r.machine_id = ? AND r.key = n.key
            WHERE n.key NOT IN (SELECT key FROM fresh) AND (r.id IS NULL OR ({mine}) IS DISTINCT FROM ({theirs}))""",
                     (machine_id,))
        rollups.analyzed(conn, "fresh")
        rollups.analyzed(conn, "affected")
        fresh = conn.execute("SELECT COUNT(*) FROM fresh").fetchone()[0]
        changed, others = conn.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.machine_id = ? "
            "AND r.key = a.key)) FROM affected a", (machine_id,)).fetchone()
        if changed or fresh:
            before = rollups.kept_count(conn)
            rollups.note_touched(conn)
            version = rollups.next_version(conn)
            conn.execute(f"""
                INSERT INTO requests (key, machine_id, {', '.join(_COLUMNS)}, version, kept)
                SELECT n.key, ?, {theirs}, ?, 1 FROM resolved n WHERE n.key IN (SELECT key FROM fresh)""",
                         (machine_id, version))
            conn.execute(f"""
                INSERT INTO touched (session_id, qh_from, qh_to)
                SELECT n.session_id, MIN(n.ts / {QUARTER_HOUR_US}), MAX(n.ts / {QUARTER_HOUR_US}) FROM resolved n
                WHERE n.key IN (SELECT key FROM fresh) GROUP BY n.session_id
                ON CONFLICT (session_id) DO UPDATE SET
                    qh_from = LEAST(touched.qh_from, excluded.qh_from), qh_to = GREATEST(touched.qh_to, excluded.qh_to)""")
            conn.execute(f"""
                INSERT INTO requests (key, machine_id, {', '.join(_COLUMNS)}, version, kept)
                SELECT n.key, ?, {theirs}, ?, 0 FROM resolved n WHERE n.key IN (SELECT key FROM affected)
                ON CONFLICT (machine_id, key) DO UPDATE SET
                {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS)}, version = excluded.version""",
                         (machine_id, version))
            rollups.finish_write(conn, before, added=fresh)
            _session_owners(conn)
        conn.execute("INSERT INTO push_marks (machine_id, store_id, version, row_id) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (machine_id, store_id) DO UPDATE SET version = excluded.version, row_id = excluded.row_id",
                     (machine_id, store_id, *mark))
    return fresh + others, changed - others


def _session_owners(conn: PgConnection) -> None:
    """Give each touched session the machine whose copies win most of its requests (ties: the
    lowest machine id), which the user and machine filters follow."""
    conn.execute("""
        UPDATE sessions s SET machine_id = w.machine_id FROM (
            SELECT DISTINCT ON (r.session_id) r.session_id, r.machine_id FROM requests r
            WHERE r.kept = 1 AND r.session_id IN (SELECT session_id FROM touched)
            GROUP BY r.session_id, r.machine_id ORDER BY r.session_id, COUNT(*) DESC, r.machine_id
        ) w WHERE s.id = w.session_id AND s.machine_id IS DISTINCT FROM w.machine_id""")


def _send_extras(raw: Any, local: Any, machine_id: int) -> None:
    """What the reports need besides the requests: the machine's transcripts (size, line
    counters, problems, subagent metadata: the team's diagnostics), its usage-limit notices
    (blocks), project paths (projects) and session titles (sessions). Few rows, sent whole; only the differences are
    written, and the data version moves only when there are some."""
    file_columns = ("size", "missing", "agent", "problems", "tail_diag", *(f"d_{name}" for name in DIAG_COLUMNS))
    with local.reading() as view:
        files = view.rows(f"SELECT path, {', '.join(file_columns)} FROM files")
        notices = view.rows("SELECT n.ts, n.reset_us, s.name, n.text FROM limit_notices n "
                            "JOIN sessions s ON s.id = n.session_id")
        cwds = view.rows("SELECT p.name, c.cwd, c.lines, c.latest FROM project_cwds c JOIN projects p ON p.id = c.project_id "
                         "WHERE c.lines > 0")
        titles = view.rows("SELECT f.path, t.line, t.kind, s.name, t.ts, t.text FROM session_titles t "
                           "JOIN files f ON f.id = t.file_id JOIN sessions s ON s.id = t.session_id")
    conn = PgConnection(raw)
    with raw.transaction():
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS incoming_files (path TEXT, size BIGINT, missing INTEGER, agent TEXT, "
                     f"problems TEXT, tail_diag BYTEA, {', '.join(f'd_{name} BIGINT' for name in DIAG_COLUMNS)}) "
                     "ON COMMIT DELETE ROWS")
        with raw.cursor().copy("COPY incoming_files FROM STDIN") as copy:
            for row in files:
                copy.write_row([bytes(value) if isinstance(value, memoryview) else value for value in row])
        conn.execute("SELECT pg_advisory_xact_lock(?)", (PUSH_LOCK,))
        mine = ", ".join(f"f.{c}" for c in file_columns)
        theirs = ", ".join(f"i.{c}" for c in file_columns)
        added = conn.execute(f"""
            INSERT INTO files (machine_id, path, {', '.join(file_columns)})
            SELECT ?, i.path, {theirs} FROM incoming_files i
            LEFT JOIN files f ON f.machine_id = ? AND f.path = i.path
            WHERE f.id IS NULL OR ({mine}) IS DISTINCT FROM ({theirs})
            ON CONFLICT (machine_id, path) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in file_columns)}""",
                             (machine_id, machine_id)).rowcount
        if notices:
            conn.executemany("INSERT INTO sessions (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                             sorted({(row[2],) for row in notices}))
            cursor = raw.cursor()
            cursor.executemany(
                "INSERT INTO limit_notices (machine_id, ts, reset_us, session_id, text) "
                "SELECT %s, %s, %s, id, %s FROM sessions WHERE name = %s ON CONFLICT DO NOTHING",
                [(machine_id, ts, reset, text, session) for ts, reset, session, text in notices])
            added += max(cursor.rowcount, 0)
        if cwds:
            conn.executemany("INSERT INTO projects (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                             sorted({(row[0],) for row in cwds}))
            cursor = raw.cursor()
            cursor.executemany(
                "INSERT INTO project_cwds (project_id, cwd, lines, latest) SELECT id, %s, %s, %s FROM projects "
                "WHERE name = %s ON CONFLICT (project_id, cwd) DO UPDATE SET lines = GREATEST(project_cwds.lines, "
                "excluded.lines), latest = GREATEST(project_cwds.latest, excluded.latest) "
                "WHERE project_cwds.lines < excluded.lines OR project_cwds.latest < excluded.latest",
                [(cwd, lines, latest, name) for name, cwd, lines, latest in cwds])
            added += max(cursor.rowcount, 0)
        if titles:
            added += _send_titles(raw, conn, machine_id, titles)
        if added:
            rollups.bump_version(conn)


def _send_titles(raw: Any, conn: PgConnection, machine_id: int, titles: list[tuple]) -> int:
    """Write the machine's session titles (``(path, line, kind, session, ts, text)`` rows; their
    files are in the team store already) that are new or changed; returns how many."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS incoming_titles (path TEXT, line BIGINT, kind INTEGER, session TEXT, "
                 "ts BIGINT, text TEXT) ON COMMIT DELETE ROWS")
    with raw.cursor().copy("COPY incoming_titles FROM STDIN") as copy:
        for row in titles:
            copy.write_row(row)
    conn.execute("INSERT INTO sessions (name) SELECT DISTINCT session FROM incoming_titles ON CONFLICT (name) DO NOTHING")
    return conn.execute("""
        INSERT INTO session_titles (file_id, line, kind, session_id, ts, text)
        SELECT f.id, i.line, i.kind, s.id, i.ts, i.text FROM incoming_titles i
        JOIN files f ON f.machine_id = ? AND f.path = i.path JOIN sessions s ON s.name = i.session
        ON CONFLICT (file_id, line, kind) DO UPDATE SET session_id = excluded.session_id, ts = excluded.ts,
            text = excluded.text
        WHERE (session_titles.session_id, session_titles.ts, session_titles.text)
            IS DISTINCT FROM (excluded.session_id, excluded.ts, excluded.text)""", (machine_id,)).rowcount
