"""Keeping the rollups equal to the kept request rows (DESIGN section 7).

A write collects the response keys it changes in the temporary table ``affected``; the sessions
and quarter-hour spans whose kept rows may change are noted in ``touched`` before and after the
winners are chosen again (:func:`note_touched`, :func:`choose_winners`); :func:`recompute` then
replaces exactly those rollup cells by sums of the kept rows, in the same transaction. Nothing is
added or subtracted, so the rollups cannot drift from the rows, and the sums are exact integers.

Portable SQL (SQLite and PostgreSQL): window functions, row values, ``ON CONFLICT``.
"""

from __future__ import annotations

from typing import Any

from claude_usage.store.schema import KIND_MASK, QUARTER_HOUR_US, SIDECHAIN, SUM_NAMES, SUMS

_QH = f"r.ts / {QUARTER_HOUR_US}"
_CELL_SUMS = ", ".join(expression for _, expression in SUMS)  # columns only requests has
_SUM_LIST = ", ".join(SUM_NAMES)
# Sums of cells: a sum of sums, except the first and last times.
_RESUM = ", ".join("MIN(first_ts)" if name == "first_ts" else "MAX(last_ts)" if name == "last_ts" else f"SUM({name})"
                   for name in SUM_NAMES)

TEMP_TABLES = (  # {big}: SQLite's rowid keys are 64-bit; PostgreSQL's INTEGER is not
    "CREATE TEMP TABLE IF NOT EXISTS affected (key {big} PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS touched (session_id INTEGER PRIMARY KEY, qh_from {big} NOT NULL, qh_to {big} NOT NULL)",
    "CREATE TEMP TABLE IF NOT EXISTS touched_hours (hour {big} PRIMARY KEY)",
)
_ENGINE_WORDS = {"sqlite": {"big": "INTEGER", "bytes": ""}, "postgres": {"big": "BIGINT", "bytes": ' COLLATE "C"'}}


def _words(conn: Any) -> dict[str, str]:
    """The words of the connection's engine (a PostgreSQL connection of the team store names
    its ``dialect``; a sqlite3 connection does not)."""
    return _ENGINE_WORDS[getattr(conn, "dialect", "sqlite")]
_HOUR_KEYS = "model_id, project_id, kind"


def analyzed(conn: Any, table: str) -> None:
    """Give PostgreSQL's planner the size of a temporary table just filled (it never analyzes
    them itself, and without it joins the request rows by scanning them all). SQLite's planner
    needs nothing."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        conn.execute(f"ANALYZE {table}")


def prepare(conn: Any) -> None:
    """Empty temporary tables of one write (made on first use, per connection)."""
    for statement in TEMP_TABLES:
        conn.execute(statement.format(**_words(conn)))
    conn.execute("DELETE FROM affected")
    conn.execute("DELETE FROM touched")
    conn.execute("DELETE FROM touched_hours")


def note_touched(conn: Any) -> None:
    """Widen ``touched`` by the session and quarter-hour span of every kept row of an affected
    key (call before the rows change, and again after the winners are chosen)."""
    conn.execute(f"""
        INSERT INTO touched (session_id, qh_from, qh_to)
        SELECT r.session_id, MIN({_QH}), MAX({_QH}) FROM requests r
        WHERE r.kept = 1 AND r.key IN (SELECT key FROM affected)
        GROUP BY r.session_id
        ON CONFLICT (session_id) DO UPDATE SET
            qh_from = CASE WHEN excluded.qh_from < touched.qh_from THEN excluded.qh_from ELSE touched.qh_from END,
            qh_to = CASE WHEN excluded.qh_to > touched.qh_to THEN excluded.qh_to ELSE touched.qh_to END""")
    analyzed(conn, "touched")


def choose_winners(conn: Any, version: int) -> None:
    """Mark, for every affected key, the one row that wins (DESIGN section 4): the largest
    output, then the largest total, then not a sidechain, then the earliest time, then the
    first file path (in byte order, in every engine) and line. The winners get ``version``
    (the data version of the write), so that the next push to a team store sends them."""
    conn.execute("UPDATE requests SET kept = 0 WHERE kept = 1 AND key IN (SELECT key FROM affected)")
    conn.execute(f"""
        UPDATE requests SET kept = 1, version = ? WHERE id IN (
            SELECT id FROM (
                SELECT r.id, ROW_NUMBER() OVER (
                    PARTITION BY r.key
                    ORDER BY r.output DESC, r.input + r.output + r.cache_5m + r.cache_1h + r.cache_read DESC,
                             r.flags & {SIDECHAIN}, r.ts, f.path{_words(conn)["bytes"]}, r.line) AS place
                FROM requests r JOIN files f ON f.id = r.file_id
                WHERE r.key IN (SELECT key FROM affected)
            ) ranked WHERE place = 1)""", (version,))


def recompute(conn: Any) -> None:
    """Replace the rollup cells of the ``touched`` spans by sums of their kept rows, and the
    per-session sums of the touched sessions by sums of their cells. (``CROSS JOIN`` makes
    SQLite, which keeps no planner statistics, walk the few touched spans and read each one's
    rows by the session index, instead of scanning every kept row.)"""
    conn.execute("""
        DELETE FROM usage_qh WHERE session_id IN (SELECT session_id FROM touched)
        AND qh >= (SELECT t.qh_from FROM touched t WHERE t.session_id = usage_qh.session_id)
        AND qh <= (SELECT t.qh_to FROM touched t WHERE t.session_id = usage_qh.session_id)""")
    conn.execute(f"""
        INSERT INTO usage_qh (qh, session_id, model_id, project_id, kind, {_SUM_LIST})
        SELECT {_QH}, r.session_id, r.model_id, r.project_id, r.flags & {KIND_MASK}, {_CELL_SUMS}
        FROM touched t CROSS JOIN requests r
        WHERE r.session_id = t.session_id AND r.kept = 1
            AND r.ts >= t.qh_from * {QUARTER_HOUR_US} AND r.ts < (t.qh_to + 1) * {QUARTER_HOUR_US}
        GROUP BY {_QH}, r.session_id, r.model_id, r.project_id, r.flags & {KIND_MASK}""")
    conn.execute("DELETE FROM session_usage WHERE session_id IN (SELECT session_id FROM touched)")
    conn.execute(f"""
        INSERT INTO session_usage (session_id, model_id, project_id, kind, {_SUM_LIST})
        SELECT session_id, model_id, project_id, kind, {_RESUM} FROM usage_qh
        WHERE session_id IN (SELECT session_id FROM touched)
        GROUP BY session_id, model_id, project_id, kind""")
    hours: set[int] = set()
    for first, last in conn.execute("SELECT qh_from, qh_to FROM touched").fetchall():
        hours.update(range(first // 4, last // 4 + 1))
    conn.executemany("INSERT INTO touched_hours (hour) VALUES (?) ON CONFLICT DO NOTHING", [(h,) for h in hours])
    analyzed(conn, "touched_hours")
    _hours(conn, "FROM touched_hours t JOIN usage_qh u ON u.qh >= t.hour * 4 AND u.qh < t.hour * 4 + 4",
           "WHERE hour IN (SELECT hour FROM touched_hours)")


def _hours(conn: Any, cells: str, which: str = "") -> None:
    """Replace the hourly rollups (``which`` of them; all when empty) by sums of the quarter-hour
    cells ``cells`` (a FROM clause naming them ``u``)."""
    resum = ", ".join(f"MIN(u.{n})" if n == "first_ts" else f"MAX(u.{n})" if n == "last_ts" else f"SUM(u.{n})"
                      for n in SUM_NAMES)
    conn.execute(f"DELETE FROM usage_h {which}")
    conn.execute(f"""
        INSERT INTO usage_h (hour, {_HOUR_KEYS}, {_SUM_LIST})
        SELECT u.qh / 4, u.model_id, u.project_id, u.kind, {resum} {cells}
        GROUP BY u.qh / 4, u.model_id, u.project_id, u.kind""")
    conn.execute(f"DELETE FROM session_h {which}")
    conn.execute(f"""
        INSERT INTO session_h (hour, session_id, model_id, project_id)
        SELECT DISTINCT u.qh / 4, u.session_id, u.model_id, u.project_id {cells}""")


def rebuild_all(conn: Any) -> None:
    """Recompute both rollups from every kept row (after a cold build or a repricing)."""
    conn.execute("DELETE FROM usage_qh")
    conn.execute(f"""
        INSERT INTO usage_qh (qh, session_id, model_id, project_id, kind, {_SUM_LIST})
        SELECT {_QH}, r.session_id, r.model_id, r.project_id, r.flags & {KIND_MASK}, {_CELL_SUMS}
        FROM requests r WHERE r.kept = 1
        GROUP BY {_QH}, r.session_id, r.model_id, r.project_id, r.flags & {KIND_MASK}""")
    conn.execute("DELETE FROM session_usage")
    conn.execute(f"""
        INSERT INTO session_usage (session_id, model_id, project_id, kind, {_SUM_LIST})
        SELECT session_id, model_id, project_id, kind, {_RESUM} FROM usage_qh
        GROUP BY session_id, model_id, project_id, kind""")
    _hours(conn, "FROM usage_qh u")


def touched_span(conn: Any) -> tuple[int | None, int | None]:
    """The first and last quarter hour of what the write touched (for the change log)."""
    row = conn.execute("SELECT MIN(qh_from), MAX(qh_to) FROM touched").fetchone()
    return (row[0], row[1]) if row else (None, None)


def kept_count(conn: Any) -> int:
    """How many rows of the affected keys are kept (before and after a write: its net change)."""
    return conn.execute("SELECT COUNT(*) FROM requests WHERE kept = 1 AND key IN (SELECT key FROM affected)").fetchone()[0]


def next_version(conn: Any) -> int:
    """The data version the write under way will have (it bumps the version once)."""
    return conn.execute("SELECT CAST(value AS BIGINT) + 1 FROM meta WHERE key = 'version'").fetchone()[0]


def bump_version(conn: Any) -> int:
    """Add one to the data version (every process polls it to see changes); returns the new one."""
    conn.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'version'")
    return conn.execute("SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'version'").fetchone()[0]


def finish_write(conn: Any, before: int, deferred: bool = False, added: int = 0) -> int:
    """Choose the winners of the affected keys, recompute the rollup cells the write touched
    (unless ``deferred``: a large build makes them once at its end), and count the write: the
    kept request count (``added`` rows were kept at once), the data version (bumped by every
    write, so that every process sees it) and the change log (the span of time it touched).
    Returns the number of response keys changed."""
    affected = conn.execute("SELECT COUNT(*) FROM affected").fetchone()[0]
    if affected:
        choose_winners(conn, next_version(conn))
    if affected or added:
        if not deferred:
            note_touched(conn)
            recompute(conn)
        after = kept_count(conn)
        conn.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + ? AS TEXT) WHERE key = 'requests'",
                     (after - before + added,))
    version = bump_version(conn)
    if affected or added:
        first, last = touched_span(conn)
        conn.execute("INSERT INTO changes VALUES (?, ?, ?)", (
            version, None if first is None else first * QUARTER_HOUR_US, None if last is None else (last + 1) * QUARTER_HOUR_US))
        conn.execute("DELETE FROM changes WHERE version <= ?", (version - 1000,))
    return affected + added


def verify(conn: Any, level: str = "full") -> str | None:
    """What is wrong with the store's invariants, None when they hold (a damaged file breaks
    them: rows deleted, a page overwritten). ``light``: the kept request count in ``meta``
    equals the per-session rollup's; ``full`` (a few milliseconds per 100,000 requests): also
    the number of kept rows, and every sum of the quarter-hour rollup equals the per-session
    rollup's; ``deep`` (reads every kept row): also the per-session sums equal the sums of the
    kept rows."""
    counted = int(conn.execute("SELECT value FROM meta WHERE key = 'requests'").fetchone()[0])
    columns = [name for name in SUM_NAMES if name not in ("first_ts", "last_ts")]
    totals = ", ".join(f"COALESCE(SUM({name}), 0)" for name in columns)
    by_session = conn.execute(f"SELECT {totals} FROM session_usage").fetchone()
    if counted != by_session[0]:
        return f"{counted:,} requests counted, {by_session[0]:,} in the per-session sums"
    if level == "light":
        return None
    rows = conn.execute("SELECT COUNT(*) FROM requests WHERE kept = 1").fetchone()[0]
    if rows != counted:
        return f"{counted:,} requests counted, {rows:,} request rows"
    for table in ("usage_qh", "usage_h"):
        if tuple(conn.execute(f"SELECT {totals} FROM {table}").fetchone()) != tuple(by_session):
            return f"the sums of {table} and by session differ"
    for table, column in (("files", "path"), ("models", "name"), ("projects", "name"), ("sessions", "name"),
                          ("project_cwds", "cwd")):  # every page a report reads besides the rollups
        conn.execute(f"SELECT COUNT(*), SUM(LENGTH({column})) FROM {table}").fetchone()
    if level == "deep":
        from_rows = conn.execute(f"SELECT {', '.join(expression for name, expression in SUMS if name in columns)} "
                                 "FROM requests WHERE kept = 1").fetchone()
        if tuple(value or 0 for value in from_rows) != tuple(by_session):
            return "the sums differ from the request rows"
    return None
