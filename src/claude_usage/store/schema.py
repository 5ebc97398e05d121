"""The store's tables (DESIGN section 7): typed request rows, lookup tables and rollups.

One schema for every engine: the SQL below is standard (integer and text columns, partial
indexes, ``ON CONFLICT``); :func:`ddl` fills in the few words an engine spells its own way
(a 64-bit integer, a binary column, SQLite's rowid-free tables).

- ``requests``: every line copy the dedupe needs (per transcript, the most complete snapshot of
  each response it holds), with ``kept = 1`` on the one copy per response ``key`` that wins
  (DESIGN section 4). ``key`` is a 64-bit hash of the response key (``message.id``, else the
  uuid, else the line's hash); names are ids into the lookup tables; costs are integers in
  units of :data:`COST_UNIT` USD (exact sums in any order), NULL when unknown; ``version`` is
  the data version of the write that stored the row or made it the kept one (what a push to a
  team store sends next, DESIGN 12).
- ``usage_qh``: sums of the kept requests per UTC quarter hour x session x model x project x
  kind (sidechain, fast mode). Every zone offset is a multiple of 15 minutes, so local days,
  weeks, months and hours in any zone are sums of these cells. ``session_usage``: the same sums
  per session x model x project x kind, for listings without a date filter. ``usage_h`` (per UTC
  hour x model x project x kind) and ``session_h`` (which sessions were active in an hour, per
  model and project) serve reports in zones whose offset is a whole number of hours (most), with
  several times fewer rows.
- ``files``: the transcripts read, and (``imported = 1``) the sources of requests read from an
  export by ``claude-usage import`` (:mod:`claude_usage.store.imports`): one row per transcript
  path the export names, under the path ``import:<path>``. A refresh never plans, marks missing
  or forgets an imported source: its requests are history beyond Claude Code's cleanup.
- ``session_titles``: what names a session (:mod:`claude_usage.sources.session_titles`): the
  title lines Claude Code wrote and the first prompt of each transcript, a few rows per file.
  ``tool_uses`` keeps each call's model, so that tool analytics take the report filters.
- ``budget_alerts``: the alerts of the user's budgets (:mod:`claude_usage.alerts`), one row per
  budget, period and threshold; the key makes exactly one process raise each alert.
- ``limit_observations``: what Claude Code told the status line (:mod:`claude_usage.official_limits`):
  the official five-hour and seven-day use with their reset times, the context use and Claude
  Code's own session cost; at most one row per session and UTC minute (the latest values of
  that minute), never any transcript content. The only table not derived from the transcripts:
  a rebuild of the store carries its rows over. The ``observations`` row of ``meta`` counts its
  writes (what a server polls to push them live).
- Both rollups are recomputed from the kept rows for the cells a write touched, in the same
  transaction as the rows, so they can never drift from them.
"""

from __future__ import annotations

SCHEMA_VERSION = 13
# SQLite's application_id of every store this product writes ("CUsg"): the marker that tells
# our own files from any other file a mistyped --index could name (those are never touched).
APPLICATION_ID = 0x43557367
COST_UNIT = 1e-10  # USD per stored cost unit: a request's cost is rounded to 1e-10 USD
COST_SCALE = 10**10
QUARTER_HOUR_US = 900_000_000
IMPORT_PREFIX = "import:"  # files.path of an imported source: this prefix, then the path it names

# Bits of requests.flags; the low two are the rollups' ``kind``.
SIDECHAIN, FAST, GEO_US, PLACEHOLDER, FAST_UNPRICED = 1, 2, 4, 8, 16
KIND_MASK = SIDECHAIN | FAST

# Line counters of a transcript (Diagnostics fields kept per file as columns, committed lines).
DIAG_COLUMNS = (
    "bytes", "lines", "blankLines", "malformedLines", "nonObjectLines", "usageLines", "syntheticLines",
    "partialTailLines", "unreadableFiles", "skippedFiles", "deepLines", "oversizedLines", "invalidUsageLines",
)

# The sums of a rollup cell, in order, and how each is computed from the kept request rows.
SUMS = (
    ("requests", "COUNT(*)"),
    ("input", "SUM(input)"),
    ("output", "SUM(output)"),
    ("cache_5m", "SUM(cache_5m)"),
    ("cache_1h", "SUM(cache_1h)"),
    ("cache_read", "SUM(cache_read)"),
    ("searches", "SUM(searches)"),
    ("fetches", "SUM(fetches)"),
    ("placeholders", f"SUM(CASE WHEN flags & {PLACEHOLDER} <> 0 THEN 1 ELSE 0 END)"),
    ("fast_unpriced", f"SUM(CASE WHEN flags & {FAST_UNPRICED} <> 0 THEN 1 ELSE 0 END)"),
    ("cost_calc", "COALESCE(SUM(cost), 0)"),
    ("unpriced_calc", "SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END)"),
    ("cost_line", "COALESCE(SUM(line_cost), 0)"),
    ("lined", "COUNT(line_cost)"),
    ("cost_auto", "COALESCE(SUM(CASE WHEN line_cost IS NULL THEN cost END), 0)"),
    ("unpriced_auto", "SUM(CASE WHEN line_cost IS NULL AND cost IS NULL THEN 1 ELSE 0 END)"),
    ("first_ts", "MIN(ts)"),
    ("last_ts", "MAX(ts)"),
)
SUM_NAMES = tuple(name for name, _ in SUMS)

_SUM_COLUMNS = ",\n    ".join(f"{name} {{big}} NOT NULL" for name in SUM_NAMES)
_DIAG_DDL = ",\n    ".join(f'd_{name} {{big}} NOT NULL DEFAULT 0' for name in DIAG_COLUMNS)

ROLLUP_TABLES = f"""
CREATE TABLE usage_qh (
    qh {{big}} NOT NULL, session_id INTEGER NOT NULL, model_id INTEGER NOT NULL, project_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    {_SUM_COLUMNS},
    PRIMARY KEY (session_id, qh, model_id, project_id, kind)
){{no_rowid}};
CREATE INDEX usage_qh_by_time ON usage_qh (qh);
CREATE TABLE usage_h (
    hour {{big}} NOT NULL, model_id INTEGER NOT NULL, project_id INTEGER NOT NULL, kind INTEGER NOT NULL,
    {_SUM_COLUMNS},
    PRIMARY KEY (hour, model_id, project_id, kind)
){{no_rowid}};
CREATE TABLE session_h (
    hour {{big}} NOT NULL, session_id INTEGER NOT NULL, model_id INTEGER NOT NULL, project_id INTEGER NOT NULL,
    PRIMARY KEY (hour, session_id, model_id, project_id)
){{no_rowid}};
CREATE TABLE session_usage (
    session_id INTEGER NOT NULL, model_id INTEGER NOT NULL, project_id INTEGER NOT NULL, kind INTEGER NOT NULL,
    {_SUM_COLUMNS},
    PRIMARY KEY (session_id, model_id, project_id, kind)
){{no_rowid}};
"""

_TABLES = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE tool_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE cwds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL,
    fallback_session TEXT NOT NULL,
    dev {{big}}, ino {{big}}, size {{big}}, mtime_ns {{big}}, ctime_ns {{big}},
    committed {{big}} NOT NULL DEFAULT 0,
    head TEXT, head_length INTEGER NOT NULL DEFAULT 0,
    tail_mark TEXT,
    missing INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    agent TEXT, problems TEXT, cwds TEXT, tail_cwds TEXT, tail_diag {{blob}},
    {_DIAG_DDL}
);
CREATE TABLE requests (
    id {{serial}},
    key {{big}} NOT NULL,
    file_id INTEGER NOT NULL,
    line {{big}} NOT NULL,
    ts {{big}} NOT NULL,
    model_id INTEGER NOT NULL,
    session_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    input {{big}} NOT NULL, output {{big}} NOT NULL,
    cache_5m {{big}} NOT NULL, cache_1h {{big}} NOT NULL, cache_read {{big}} NOT NULL,
    searches INTEGER NOT NULL, fetches INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    cost {{big}}, line_cost {{big}},
    version {{big}} NOT NULL DEFAULT 0,
    kept INTEGER NOT NULL DEFAULT 0
);
{{request_indexes}};
{{rollup_tables}}CREATE TABLE tool_uses (
    file_id INTEGER NOT NULL, line {{big}} NOT NULL, tool_key {{big}} NOT NULL, name_id INTEGER NOT NULL,
    session_id INTEGER NOT NULL, project_id INTEGER NOT NULL, cwd_id INTEGER, ts {{big}} NOT NULL,
    model_id INTEGER,
    PRIMARY KEY (file_id, line, tool_key)
){{no_rowid}};
CREATE TABLE tool_errors (
    file_id INTEGER NOT NULL, line {{big}} NOT NULL, tool_key {{big}} NOT NULL,
    PRIMARY KEY (file_id, line, tool_key)
){{no_rowid}};
CREATE TABLE limit_notices (
    file_id INTEGER NOT NULL, line {{big}} NOT NULL, ts {{big}} NOT NULL, reset_us {{big}},
    session_id INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX limit_notices_by_file ON limit_notices (file_id, line);
CREATE TABLE session_titles (
    file_id INTEGER NOT NULL, line {{big}} NOT NULL, kind INTEGER NOT NULL, session_id INTEGER NOT NULL,
    ts {{big}} NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (file_id, line, kind)
){{no_rowid}};
CREATE INDEX session_titles_by_session ON session_titles (session_id);
CREATE TABLE project_cwds (
    project_id INTEGER NOT NULL, cwd TEXT NOT NULL, lines {{big}} NOT NULL, latest TEXT NOT NULL,
    PRIMARY KEY (project_id, cwd)
){{no_rowid}};
CREATE TABLE limit_observations (
    session TEXT NOT NULL, minute {{big}} NOT NULL, observed_us {{big}} NOT NULL,
    five_hour_pct DOUBLE PRECISION, five_hour_reset_us {{big}}, seven_day_pct DOUBLE PRECISION, seven_day_reset_us {{big}},
    context_pct DOUBLE PRECISION, context_size {{big}}, cost_usd DOUBLE PRECISION, model TEXT,
    PRIMARY KEY (session, minute)
){{no_rowid}};
CREATE INDEX limit_observations_by_time ON limit_observations (observed_us);
CREATE TABLE changes (version {{big}} PRIMARY KEY, first_ts {{big}}, last_ts {{big}});
CREATE TABLE rates (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE budget_alerts (
    budget TEXT NOT NULL, period TEXT NOT NULL, threshold TEXT NOT NULL, ts {{big}} NOT NULL,
    spent_usd REAL NOT NULL, limit_usd REAL NOT NULL, projected_usd REAL, sent INTEGER NOT NULL,
    PRIMARY KEY (budget, period, threshold)
){{no_rowid}};
"""

# The indexes of the requests table: a first build over many files makes them once, at its end
# (sorting once is far cheaper than inserting hashed keys one by one).
REQUEST_INDEXES = (
    "CREATE INDEX IF NOT EXISTS requests_by_key ON requests (key)",
    "CREATE INDEX IF NOT EXISTS requests_by_file ON requests (file_id, line)",
    "CREATE INDEX IF NOT EXISTS requests_by_session ON requests (session_id, ts) WHERE kept = 1",
    # What a push to a team store sends: the kept rows written since its last push (DESIGN 12).
    "CREATE INDEX IF NOT EXISTS requests_by_version ON requests (version) WHERE kept = 1",
)

_DIALECT_WORDS = {
    "sqlite": {"big": "INTEGER", "blob": "BLOB", "serial": "INTEGER PRIMARY KEY", "no_rowid": " WITHOUT ROWID"},
    "postgres": {"big": "BIGINT", "blob": "BYTEA", "serial": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                 "no_rowid": ""},
}


def ddl(dialect: str = "sqlite") -> str:
    """The statements that create the store's tables and indexes for ``dialect`` (``sqlite``
    or ``postgres``), separated by semicolons."""
    words = _DIALECT_WORDS[dialect]
    return _TABLES.format(**words, request_indexes=";\n".join(REQUEST_INDEXES), rollup_tables=rollup_ddl(dialect))


def rollup_ddl(dialect: str) -> str:
    """The rollup tables and their index for ``dialect``: the same in the embedded store and
    the team store (DESIGN 12), so that the same report queries read both."""
    return ROLLUP_TABLES.format(**_DIALECT_WORDS[dialect])
