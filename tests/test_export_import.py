"""``claude-usage export`` and ``import`` (issue 15): every fixture set and bug case exported
(CSV and JSON Lines) and imported into an empty store gives the same reports as the source store
and the fixtures' stated totals; ``--since``; importing twice is importing once; imported and
transcript copies of a request count once, and refreshes (``--forget-deleted`` included) keep the
imported history; damaged lines are skipped and named; an interrupted import leaves a consistent
store; the export streams its rows."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_usage import reports
from claude_usage.blocks import query_blocks
from claude_usage.cli import app
from claude_usage.pricing import Pricer
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import resolve_roots
from claude_usage.store import facts, temporary_store
from claude_usage.store.exchange import COLUMNS, ExchangeError
from claude_usage.store.export import export_requests, request_rows
from claude_usage.store.imports import import_requests
from conftest import (BUGCASE_DIRS, BUGCASES, FIXTURE_SETS, FIXTURES, ZONES, assert_row, assert_rows,
                      bugcase_expected, expected)
from helpers import assistant_line, write_lines

runner = CliRunner()
DATASETS = [("fixture", name) for name in FIXTURE_SETS] + [("bugcase", name) for name in BUGCASE_DIRS]
_SOURCES: dict = {}


def data_dir(kind: str, name: str) -> Path:
    return FIXTURES / name if kind == "fixture" else BUGCASES / name / "claude"


def source_store(kind: str, name: str):
    """The store of a fixture set or bug case read from its transcripts (kept for the module)."""
    if (kind, name) not in _SOURCES:
        store = temporary_store(resolve_roots([data_dir(kind, name)]).roots)
        store.refresh(Pricer)
        _SOURCES[(kind, name)] = store
    return _SOURCES[(kind, name)]


def exported(store, kind: str = "jsonl", **options) -> str:
    out = io.StringIO()
    export_requests(store, out, kind, **options)
    return out.getvalue()


@pytest.fixture
def empty_store(tmp_path):
    """A store over a data dir without transcripts (where an export is restored)."""
    (tmp_path / "empty" / "projects").mkdir(parents=True)
    store = temporary_store(resolve_roots([tmp_path / "empty"]).roots)
    yield store
    store.close()


def _exact(value):
    """Costs compared to the store's 1e-10 USD unit (floats summed in another order differ in
    their last bits); everything else as it is."""
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def every_report(store) -> dict:
    """Daily, monthly (three zones), models, projects (with paths), sessions (with per-model rows)
    and 5-hour blocks of a store, as usage rows."""
    with store.reading() as view:
        q = Query(zone="UTC")
        projects = reports.by_projects(view, q)
        rows = {"total": usage_row(reports.overall(view, q)),
                "models": {m: usage_row(t) for m, t in reports.by_models(view, q).items()},
                "projects": {p: usage_row(t) for p, t in projects.items()},
                "paths": facts.project_paths(view, sorted(projects)),  # as the projects report shows them
                "sessions": {s: usage_row(t, breakdown=True) for s, t in reports.by_sessions(view, q, by_model=True).items()},
                "blocks": [(b.start_us, b.end_us, usage_row(b.totals)) for b in query_blocks(view, q) if not b.is_gap]}
        for zone in ZONES:
            rows[f"daily {zone}"] = dict(reports.daily(view, Query(zone=zone)))
            rows[f"monthly {zone}"] = dict(reports.monthly(view, Query(zone=zone)))
            for key in (f"daily {zone}", f"monthly {zone}"):
                rows[key] = {k: usage_row(t) for k, t in rows[key].items()}
    return _exact(rows)


def assert_expected(store, kind: str, name: str) -> None:
    """The store's totals, models, projects and sessions equal the stated ones."""
    exp = expected(name) if kind == "fixture" else bugcase_expected(name)
    with store.reading() as view:
        q = Query(zone="UTC")
        totals = exp["totals"] if "totals" in exp else exp["by_timezone"]["UTC"]["totals"]
        assert_row(totals, usage_row(reports.overall(view, q)), f"{name} totals")
        for key, groups in (("by_model", reports.by_models), ("by_project", reports.by_projects),
                            ("by_session", reports.by_sessions)):
            if key in exp:
                assert_rows(exp[key], {k: usage_row(t) for k, t in groups(view, q).items()}, f"{name} {key}")


@pytest.mark.parametrize("encoding", ["csv", "jsonl"])
@pytest.mark.parametrize("kind,name", DATASETS)
def test_round_trip_gives_the_same_reports(kind, name, encoding, empty_store):
    source = source_store(kind, name)
    text = exported(source, encoding)
    result = import_requests(empty_store, io.StringIO(text), Pricer())
    requests = source.meta("requests")
    assert (result.format, result.read, result.added, result.skipped) == (encoding, int(requests), int(requests), 0)
    assert not result.repriced  # the export names the price data in use: its costs are kept
    assert every_report(empty_store) == every_report(source)
    assert_expected(empty_store, kind, name)
    assert empty_store.check(level="deep") is None


def test_export_format_header_and_columns():
    source = source_store("bugcase", "04-subagent-transcripts")
    lines = exported(source, "jsonl").splitlines()
    head = json.loads(lines[0])
    assert (head["format"], head["formatVersion"], head["columns"]) == ("claude-usage-requests", 1, list(COLUMNS))
    rows = [json.loads(line) for line in lines[1:]]
    # The case's README: 4 requests, 3 of them by haiku subagents (sidechain) and one by the parent.
    assert len(rows) == 4
    assert sorted(r["sidechain"] for r in rows) == [False, True, True, True]
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)  # time order
    assert all(r["time"].endswith("Z") and len(r["time"]) == 27 for r in rows)  # microseconds, UTC
    csv_lines = exported(source, "csv").splitlines()
    assert csv_lines[0].startswith("# ") and json.loads(csv_lines[0][2:])["formatVersion"] == 1
    assert csv_lines[1].split(",") == list(COLUMNS)
    # The cost of 1e-10 USD units is written exactly: the case's total is $0.08128.
    assert sum(float(r["costUsd"]) for r in rows) == pytest.approx(0.08128, abs=1e-9)


def test_since_is_a_local_date(tmp_path):
    # windows-worktrees by_day in Asia/Tokyo: the requests of the days from the middle one on.
    exp = expected("windows-worktrees")["by_day"]["Asia/Tokyo"]
    days = sorted(exp)
    since = days[len(days) // 2]
    wanted = sum(row["requests"] for day, row in exp.items() if day >= since)
    out = tmp_path / "since.jsonl"
    done = runner.invoke(app, ["export", "--data-dir", str(FIXTURES / "windows-worktrees"), "--since", since,
                               "--tz", "Asia/Tokyo", "--format", "jsonl", "--output", str(out)])
    assert done.exit_code == 0, done.output
    lines = out.read_text().splitlines()
    head = json.loads(lines[0])
    assert (head["since"], head["timezone"]) == (since, "Asia/Tokyo")
    assert len(lines) - 1 == wanted
    # Every time is at or after the local midnight of that day (UTC+9: 15:00 UTC the day before).
    from datetime import date, timedelta

    start = (date.fromisoformat(since) - timedelta(days=1)).isoformat() + "T15:00:00.000000Z"
    assert min(json.loads(line)["time"] for line in lines[1:]) >= start


def test_import_twice_is_import_once(empty_store):
    source = source_store("fixture", "sniffly")
    text = exported(source, "csv")
    first = import_requests(empty_store, io.StringIO(text), Pricer())
    version = empty_store.version()
    second = import_requests(empty_store, io.StringIO(text), Pricer())
    assert (second.added, second.updated, second.unchanged, second.changed) == (0, 0, first.read, 0)
    assert empty_store.version() == version  # nothing was written
    assert_expected(empty_store, "fixture", "sniffly")


@pytest.mark.parametrize("order", ["transcripts first", "import first"])
def test_import_and_the_same_transcripts_count_once(order):
    text = exported(source_store("fixture", "curated"))
    store = temporary_store(resolve_roots([FIXTURES / "curated"]).roots)
    try:
        if order == "transcripts first":
            store.refresh(Pricer)
        import_requests(store, io.StringIO(text), Pricer())
        store.refresh(Pricer)
        assert_expected(store, "fixture", "curated")
        assert store.check(level="deep") is None
        with store.reading() as view:  # every response met twice: its usage lines count its duplicates
            diagnostics = facts.diagnostics(view)
        assert diagnostics.requests == expected("curated")["totals"]["requests"]
    finally:
        store.close()


def _hand_made(root: Path) -> None:
    """Two transcripts of project -home-dev-app: a.jsonl with a1 (1,000 in, 100 out) and a2
    (2,000 in, 200 out, two copies, the second more complete), b.jsonl with b1 (4,000 in, 400 out)."""
    project = root / "projects" / "-home-dev-app"
    write_lines(project / "a.jsonl", [
        assistant_line(msg_id="a1", uuid="a1", session="s-a", input_tokens=1000, output_tokens=100,
                       ts="2025-10-01T10:00:00.000Z"),
        assistant_line(msg_id="a2", uuid="a2a", session="s-a", input_tokens=2000, output_tokens=20,
                       ts="2025-10-01T10:05:00.000Z"),
        assistant_line(msg_id="a2", uuid="a2b", session="s-a", input_tokens=2000, output_tokens=200,
                       ts="2025-10-01T10:05:01.000Z"),
    ])
    write_lines(project / "b.jsonl", [
        assistant_line(msg_id="b1", uuid="b1", session="s-b", input_tokens=4000, output_tokens=400,
                       ts="2025-10-02T09:00:00.000Z"),
    ])


def _counts(store) -> tuple[int, int, int]:
    with store.reading() as view:
        total = reports.overall(view, Query(zone="UTC"))
    return total.requests, total.input_tokens, total.output_tokens


def test_imported_history_outlives_deleted_transcripts(tmp_path):
    _hand_made(tmp_path / "then")
    then = temporary_store(resolve_roots([tmp_path / "then"]).roots)
    then.refresh(Pricer)
    text = exported(then)
    then.close()
    # Claude Code's cleanup took b.jsonl: a.jsonl is left.
    shutil.copytree(tmp_path / "then", tmp_path / "now")
    (tmp_path / "now" / "projects" / "-home-dev-app" / "b.jsonl").unlink()
    store = temporary_store(resolve_roots([tmp_path / "now"]).roots)
    try:
        store.refresh(Pricer)
        assert _counts(store) == (2, 3000, 300)  # a1 + a2 (its complete copy)
        import_requests(store, io.StringIO(text), Pricer())
        assert _counts(store) == (3, 7000, 700)  # + b1; a1 and a2 count once
        store.refresh(Pricer, forget_deleted=True)
        assert _counts(store) == (3, 7000, 700)
        # a.jsonl rewritten (read again whole), then deleted and forgotten: the import keeps a1, a2.
        a = tmp_path / "now" / "projects" / "-home-dev-app" / "a.jsonl"
        a.write_text(a.read_text().replace('"output_tokens": 100', '"output_tokens": 101'))
        store.refresh(Pricer)
        assert _counts(store) == (3, 7000, 701)  # the transcript's more complete a1 wins
        a.unlink()
        store.refresh(Pricer, forget_deleted=True)
        assert _counts(store) == (3, 7000, 700)
        assert store.check(level="deep") is None
    finally:
        store.close()


def test_damaged_lines_are_skipped_and_named(tmp_path, empty_store):
    source = source_store("bugcase", "02-missing-requestid-dedupe")
    lines = exported(source, "jsonl").splitlines()
    good = len(lines) - 1
    row = json.loads(lines[1])
    damaged = [lines[0], "not json at all", json.dumps({**row, "inputTokens": -5}),
               json.dumps({**row, "time": "2025-10-01 12:00"}), json.dumps({k: v for k, v in row.items() if k != "model"}),
               *lines[1:]]
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(damaged) + "\n")
    result = import_requests(empty_store, open(path, newline=""), Pricer())
    assert (result.read, result.skipped) == (good, 4)
    assert result.problems == ["line 2: not a JSON object", "line 3: Expected `int` >= 0 - at `inputTokens`",
                               "line 4: time '2025-10-01 12:00' is not a UTC time like 2025-10-01T12:00:00.000000Z",
                               "line 5: missing field `model`"]
    assert_expected(empty_store, "bugcase", "02-missing-requestid-dedupe")
    # The command names each skipped line on stderr.
    cli = runner.invoke(app, ["import", str(path), "--data-dir", str(tmp_path / "empty"), "--index",
                              str(tmp_path / "index.sqlite")])
    assert cli.exit_code == 0, cli.output
    assert "damaged.jsonl: line 3: Expected `int` >= 0 - at `inputTokens` (skipped)" in cli.stderr
    assert f"{good} requests read, {good} new" in cli.stdout  # the result on stdout


def test_damaged_csv_rows(tmp_path, empty_store):
    source = source_store("bugcase", "02-missing-requestid-dedupe")
    lines = exported(source, "csv").splitlines()
    damaged = [*lines[:2], "1,2,3", lines[2].replace(",false,", ",maybe,", 1), *lines[2:]]
    result = import_requests(empty_store, io.StringIO("\n".join(damaged) + "\n"), Pricer())
    assert result.skipped == 2
    assert result.problems[0] == f"line 3: 3 fields, the header names {len(COLUMNS)}"
    assert result.problems[1].startswith("line 4: Expected `bool`, got `str`")
    assert_expected(empty_store, "bugcase", "02-missing-requestid-dedupe")


def test_files_that_are_not_exports_are_refused(tmp_path, empty_store):
    with pytest.raises(ExchangeError, match="not a claude-usage export"):
        import_requests(empty_store, io.StringIO('{"type": "assistant"}\n'), Pricer())
    newer = json.dumps({"format": "claude-usage-requests", "formatVersion": 2, "claudeUsageVersion": "9.0"})
    with pytest.raises(ExchangeError, match="format version 2 by claude-usage 9.0; this version reads format 1"):
        import_requests(empty_store, io.StringIO(newer + "\n"), Pricer())
    assert empty_store.meta("requests") == "0"
    path = tmp_path / "transcript.jsonl"
    path.write_text('{"type": "user"}\n')
    (tmp_path / "empty" / "projects").mkdir(parents=True, exist_ok=True)
    cli = runner.invoke(app, ["import", str(path), "--data-dir", str(tmp_path / "empty"), "--index",
                              str(tmp_path / "index.sqlite")])
    assert cli.exit_code == 2
    assert "not a claude-usage export" in cli.stderr


def test_other_price_data_is_priced_again(empty_store):
    source = source_store("bugcase", "21-fast-mode-prices")
    lines = exported(source, "jsonl").splitlines()
    head = json.loads(lines[0])
    head["priceDataVersion"] = "genai-prices 0.0.1"
    result = import_requests(empty_store, io.StringIO("\n".join([json.dumps(head), *lines[1:]])), Pricer())
    assert result.repriced
    assert every_report(empty_store) == every_report(source)  # the same price data: the same costs
    assert_expected(empty_store, "bugcase", "21-fast-mode-prices")


def test_an_interrupted_import_leaves_a_consistent_store(empty_store):
    source = source_store("fixture", "sniffly")
    text = exported(source)
    total = int(source.meta("requests"))

    def stop_after_the_first_chunk(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_requests(empty_store, io.StringIO(text), Pricer(), chunk=50, progress=stop_after_the_first_chunk)
    assert empty_store.check(level="deep") is None
    assert empty_store.meta("requests") == "50"  # one whole chunk (the rows of sniffly have distinct keys)
    again = import_requests(empty_store, io.StringIO(text), Pricer(), chunk=50)
    assert (again.added, again.unchanged) == (total - 50, 50)
    assert_expected(empty_store, "fixture", "sniffly")


class _Spy:
    """A sqlite3 connection whose cursors record how rows are fetched (``fetchall`` and
    iterating the whole cursor are refused)."""

    def __init__(self, conn):
        self.conn = conn
        self.fetches: list[int] = []

    def execute(self, sql, params=()):
        spy = self

        class Cursor:
            def __init__(self, cursor):
                self.cursor = cursor

            def fetchmany(self, size):
                spy.fetches.append(size)
                return self.cursor.fetchmany(size)

            def fetchall(self):
                raise AssertionError("the export must not fetch every row at once")

            def __iter__(self):
                raise AssertionError("the export must fetch in chunks")

        return Cursor(self.conn.execute(sql, params))


def test_export_streams_in_chunks(tmp_path):
    # A generated store of 12,345 requests (one transcript line each), fetched 1,000 at a time.
    project = tmp_path / "big" / "projects" / "-home-dev-big"
    write_lines(project / "s.jsonl", [
        assistant_line(msg_id=f"m{i}", uuid=f"u{i}", session="s", input_tokens=i, output_tokens=1,
                       ts=f"2025-10-{1 + i // 1000:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:00.000Z") for i in range(12_345)
    ])
    store = temporary_store(resolve_roots([tmp_path / "big"]).roots)
    try:
        store.refresh(Pricer)
        from claude_usage.store.sqlite import connect

        spy = _Spy(connect(store.path))
        rows = request_rows(spy, None, 1000)
        next(rows)
        assert spy.fetches == [1000]  # the first row comes after one chunk is read, not all rows
        count = 1 + sum(1 for _ in rows)
        assert count == 12_345
        assert spy.fetches == [1000] * 13 + [1000]  # 12 full chunks, one of 345 rows, the empty end
        # The command's own path: the same rows, in time order, with the sum of the inputs
        # 0 + 1 + ... + 12,344 = 12,344 x 12,345 / 2 = 76,193,340.
        lines = exported(store, "csv", chunk=1000).splitlines()[2:]
        assert len(lines) == 12_345
        assert sum(int(line.split(",")[COLUMNS.index("inputTokens")]) for line in lines) == 76_193_340
        times = [line.split(",")[1] for line in lines]
        assert times == sorted(times)
    finally:
        store.close()


def test_replaced_values_update_the_imported_row(empty_store):
    source = source_store("bugcase", "05-cache-write-1h-pricing")
    lines = exported(source, "jsonl").splitlines()
    import_requests(empty_store, io.StringIO("\n".join(lines)), Pricer())
    row = json.loads(lines[1])
    changed = {**row, "outputTokens": row["outputTokens"] + 1000}
    result = import_requests(empty_store, io.StringIO("\n".join([lines[0], json.dumps(changed)])), Pricer())
    assert (result.added, result.updated) == (0, 1)
    with empty_store.reading() as view, source.reading() as theirs:
        mine = reports.overall(view, Query(zone="UTC"))
        before = reports.overall(theirs, Query(zone="UTC"))
    assert (mine.requests, mine.output_tokens) == (before.requests, before.output_tokens + 1000)
    assert empty_store.check(level="deep") is None


def test_import_and_reports_on_a_machine_without_transcripts(tmp_path):
    # The history of another machine (a1, a2, b1: 3 requests, 7,000 input and 700 output tokens)
    # read into a named index where no Claude Code ever ran: import and reports use that index.
    _hand_made(tmp_path / "then")
    then = temporary_store(resolve_roots([tmp_path / "then"]).roots)
    then.refresh(Pricer)
    (tmp_path / "usage.jsonl").write_text(exported(then))
    then.close()
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "CLAUDE_CONFIG_DIR": None, "PROJECTS_PATH": None, "CLAUDE_USAGE_INDEX": None}
    index = str(tmp_path / "restored.sqlite")
    imported = runner.invoke(app, ["import", str(tmp_path / "usage.jsonl"), "--index", index], env=env)
    assert imported.exit_code == 0, imported.output
    assert "3 requests read, 3 new" in imported.stdout
    daily = runner.invoke(app, ["daily", "--json", "--tz", "UTC", "--index", index], env=env)
    assert daily.exit_code == 0, daily.output
    totals = json.loads(daily.stdout)["totals"]
    assert (totals["requests"], totals["inputTokens"], totals["outputTokens"]) == (3, 7000, 700)
    # Without a named index, the usual error, which says how to read one.
    missing = runner.invoke(app, ["daily", "--json"], env=env)
    assert missing.exit_code == 1 and "--index PATH" in missing.output
