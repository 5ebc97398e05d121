"""The CLI's --json output on every fixture set, and its errors (exit codes, messages)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from claude_usage.cli import app
from conftest import BUGCASES, FIXTURE_SETS, FIXTURES, ZONES, assert_row, assert_rows, expected

runner = CliRunner()


def run_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def keyed(rows: list, key: str) -> dict:
    return {row[key]: row for row in rows}


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_json_reports_equal_expected(name):
    exp = expected(name)
    data = str(FIXTURES / name)
    for zone in ZONES:
        daily = run_json("daily", "--data-dir", data, "--tz", zone)
        assert daily["timezone"] == zone
        assert_rows(exp["by_day"][zone], keyed(daily["daily"], "date"), f"{name} daily {zone}")
        assert_row(exp["totals"], daily["totals"], f"{name} daily totals {zone}")
        monthly = run_json("monthly", "--data-dir", data, "--tz", zone)
        assert_rows(exp["by_month"][zone], keyed(monthly["monthly"], "month"), f"{name} monthly {zone}")
    assert_rows(exp["by_model"], keyed(run_json("models", "--data-dir", data)["models"], "model"), f"{name} models")
    assert_rows(exp["by_project"], keyed(run_json("projects", "--data-dir", data)["projects"], "name"), f"{name} projects")
    assert_rows(exp["by_session"], keyed(run_json("sessions", "--data-dir", data)["sessions"], "sessionId"), f"{name} sessions")
    assert run_json("models", "--data-dir", data)["unpricedModels"] == exp["unpriced_models"]


def test_breakdown_rows_sum_to_their_day():
    result = run_json("daily", "--data-dir", str(FIXTURES / "curated"), "--tz", "UTC", "--breakdown")
    for day in result["daily"]:
        assert sum(m["totalTokens"] for m in day["models"]) == day["totalTokens"]
        assert abs(sum(m["costUsd"] for m in day["models"]) - day["costUsd"]) < 1e-9


def test_filters_since_until_project_model():
    data = str(FIXTURES / "curated")
    exp = expected("curated")
    days = sorted(exp["by_day"]["UTC"])
    first, second = days[0], days[1]
    result = run_json("daily", "--data-dir", data, "--tz", "UTC", "--since", first.replace("-", ""), "--until", second)
    assert [row["date"] for row in result["daily"]] == [first, second]
    project = sorted(exp["by_project"])[0]
    result = run_json("daily", "--data-dir", data, "--project", project)
    assert_row(exp["by_project"][project], result["totals"], "project filter")
    model = sorted(exp["by_model"])[0]
    result = run_json("monthly", "--data-dir", data, "--model", model)
    assert_row(exp["by_model"][model], result["totals"], "model filter")


def test_weekly_labels_are_mondays_and_start_of_week_moves_them():
    from datetime import date

    data = str(FIXTURES / "curated")
    weeks = run_json("weekly", "--data-dir", data, "--tz", "UTC")["weekly"]
    assert all(date.fromisoformat(w["week"]).weekday() == 0 for w in weeks)
    sundays = run_json("weekly", "--data-dir", data, "--tz", "UTC", "--start-of-week", "sunday")["weekly"]
    assert all(date.fromisoformat(w["week"]).weekday() == 6 for w in sundays)
    assert sum(w["requests"] for w in weeks) == sum(w["requests"] for w in sundays) == expected("curated")["totals"]["requests"]


def test_hourly_has_24_rows_summing_to_the_total():
    result = run_json("hourly", "--data-dir", str(FIXTURES / "omarchy"), "--tz", "Asia/Tokyo")
    assert [row["hour"] for row in result["hourly"]] == list(range(24))
    assert sum(row["requests"] for row in result["hourly"]) == expected("omarchy")["totals"]["requests"]
    assert sum(cell["totalTokens"] for cell in result["heatmap"]) == expected("omarchy")["totals"]["total_tokens"]


def test_cost_modes_on_lines_with_cost_usd(tmp_path):
    from helpers import assistant_line, write_lines

    # Calculated: 1000 * 3 + 1000 * 15 = 18,000 / 1e6 = 0.018 USD; the line says 0.5 USD.
    write_lines(tmp_path / "projects" / "p" / "s.jsonl", [
        assistant_line(msg_id="a", input_tokens=1000, output_tokens=1000, cost_usd=0.5),
    ])
    costs = {mode: run_json("daily", "--data-dir", str(tmp_path), "--mode", mode)["totals"]["costUsd"]
             for mode in ("auto", "calculate", "display")}
    assert costs == {"auto": 0.5, "calculate": 0.018, "display": 0.5}


def test_unpriced_model_warning_and_json():
    data = str(BUGCASES / "15-unknown-model-not-silently-zero" / "claude")
    result = runner.invoke(app, ["models", "--data-dir", data])
    assert result.exit_code == 0
    assert "no price for claude-opus-9-9-20990101" in result.stderr
    models = keyed(run_json("models", "--data-dir", data)["models"], "model")
    assert models["claude-opus-9-9-20990101"]["costUsd"] is None
    assert models["claude-opus-9-9-20990101"]["unpriced"] is True
    assert models["claude-opus-9-9-20990101"]["cost"] == "0.0000"
    assert models["claude-opus-9-9-20990101"]["totalTokens"] == 71010


def test_doctor_json_counts():
    result = run_json("doctor", "--data-dir", str(BUGCASES / "10-malformed-and-partial-lines" / "claude"))
    assert (result["malformedLines"], result["blankLines"], result["nonObjectLines"], result["partialTailLines"]) == (1, 2, 2, 1)
    assert result["requests"] == 3 and result["files"] == 1
    assert result["roots"] == [str(BUGCASES / "10-malformed-and-partial-lines" / "claude" / "projects")]
    assert result["unpricedModels"] == []


def test_process_document():
    result = run_json("process", "--data-dir", str(FIXTURES / "sniffly"), "--tz", "UTC")
    exp = expected("sniffly")
    assert result["totalSessions"] == len(exp["by_session"])
    assert_rows(exp["by_day"]["UTC"], keyed(result["dailyUsage"], "date"), "process daily")
    assert_rows(exp["by_month"]["UTC"], keyed(result["monthlyUsage"], "month"), "process monthly")
    assert_rows(exp["by_model"], keyed(result["modelUsage"], "model"), "process models")
    assert_rows(exp["by_project"], keyed(result["projects"], "name"), "process projects")
    assert result["diagnostics"]["requests"] == exp["totals"]["requests"]


def test_tables_have_totals_and_readable_numbers():
    result = runner.invoke(app, ["daily", "--data-dir", str(FIXTURES / "curated"), "--tz", "UTC"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Total" in result.stdout
    assert "39,678,343" in result.stdout  # total tokens of curated.expected.json, with separators
    assert "$33.42" in result.stdout  # 33.415974 USD


def test_narrow_terminal_drops_cache_columns_before_input_and_output():
    # curated daily at 80 columns: every column needs 10 (date) + 6 + 7 + 12 + 10 + 12 + 10 + 22
    # (borders) = 89; without the two cache columns 10 + 6 + 7 + 12 + 10 + 16 = 61 fits.
    proc = subprocess.run([sys.executable, "-m", "claude_usage", "daily", "--data-dir", str(FIXTURES / "curated"),
                           "--tz", "UTC", "--no-index"], env={**os.environ, "COLUMNS": "80"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "Date" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == ["Date", "Input", "Output", "Total Tokens", "Cost (USD)"]
    total = next(line for line in proc.stdout.splitlines() if "Total" in line and "$" in line)
    # curated.expected.json totals: 60,832 input, 181,363 output, 39,678,343 tokens, $33.42.
    assert [cell.strip() for cell in total.strip("│ ").split("│")] == ["Total", "60,832", "181,363", "39,678,343", "$33.42"]


def test_missing_explicit_root_exits_2(tmp_path):
    result = runner.invoke(app, ["daily", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert str(tmp_path / "nowhere") in result.stderr


def test_no_data_names_paths_and_suggests_demo(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("CLAUDE_CONFIG_DIR", None)
    env.pop("PROJECTS_PATH", None)
    proc = subprocess.run([sys.executable, "-m", "claude_usage", "daily"], env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "--demo" in proc.stderr
    assert str(tmp_path / ".claude" / "projects") in proc.stderr


def test_bad_tz_and_bad_date(tmp_path):
    data = str(FIXTURES / "sniffly")
    result = runner.invoke(app, ["daily", "--data-dir", data, "--tz", "Mars/Olympus"])
    assert result.exit_code == 2 and "Mars/Olympus" in result.stderr
    result = runner.invoke(app, ["daily", "--data-dir", data, "--since", "2025-02-30"])
    assert result.exit_code == 2 and "2025-02-30" in result.output


def test_json_stdout_is_clean_in_a_real_process():
    """The issue's acceptance command, as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "claude_usage", "daily", "--data-dir", str(FIXTURES / "curated"), "--tz", "UTC", "--json"],
        capture_output=True, text=True, check=True,
    )
    assert_row(expected("curated")["totals"], json.loads(proc.stdout)["totals"], "curated totals")


def test_demo_data_is_deterministic_and_complete(tmp_path):
    from datetime import date, datetime, timezone

    from claude_usage.demo import UNPRICED_DEMO_MODEL, generate_demo

    end = date(2026, 3, 1)
    a, b = generate_demo(tmp_path / "a", end), generate_demo(tmp_path / "b", end)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)
    assert any("subagents" in f.parts for f in files_a)
    result = run_json("daily", "--data-dir", str(a), "--tz", "UTC")
    assert UNPRICED_DEMO_MODEL in result["unpricedModels"]
    assert 40 <= len(result["daily"]) <= 60
    # 60 days before 2026-03-01 start on 2025-12-31; sessions end before midnight UTC.
    assert all("2025-12-31" <= row["date"] < "2026-03-01" for row in result["daily"])
    doctor = run_json("doctor", "--data-dir", str(a))
    assert doctor["malformedLines"] > 0 and doctor["duplicateLines"] > 0
    assert len(run_json("projects", "--data-dir", str(a))["projects"]) == 4
    # Todo lists are dated by their session (the todos endpoint shows file times), not by the run.
    todo_days = {datetime.fromtimestamp(p.stat().st_mtime, timezone.utc).date() for p in (a / "todos").glob("*.json")}
    assert todo_days and all(date(2025, 12, 31) <= day < end for day in todo_days)


def test_demo_live_session_gives_an_active_block(tmp_path):
    from datetime import datetime, timezone

    from claude_usage.blocks import query_blocks
    from claude_usage.demo import write_live_session
    from claude_usage.reports import Query
    from claude_usage.sources.discovery import DataRoot
    from helpers import scan

    now = datetime(2026, 3, 1, 10, 47, 12, tzinfo=timezone.utc)
    path = write_live_session(tmp_path, now)
    first = path.read_bytes()
    # Same 30-minute step (10:30-11:00): the file is left alone; the next step rewrites it.
    assert write_live_session(tmp_path, datetime(2026, 3, 1, 10, 59, tzinfo=timezone.utc)) == path
    assert path.read_bytes() == first
    assert write_live_session(tmp_path, datetime(2026, 3, 1, 11, 5, tzinfo=timezone.utc)) == path
    assert path.read_bytes() != first
    path = write_live_session(tmp_path, now)
    assert path.read_bytes() == first  # deterministic for a step
    stamps = [json.loads(line)["timestamp"] for line in first.splitlines()]
    # From 10:30 - 95 min = 08:55 up to the step's start, 10:30; none after it.
    assert stamps[0] == "2026-03-01T08:55:00.000Z" and max(stamps) <= "2026-03-01T10:30:00.000Z"
    scanned = scan([DataRoot(tmp_path / "projects", tmp_path, "demo")])
    assert scanned.overall().requests >= 3
    blocks = scanned.run(query_blocks, Query(zone="UTC"))
    now_us = int(now.timestamp()) * 1_000_000
    # The first request (08:55 + a few seconds) opens the block 08:00-13:00, active at 10:47.
    assert len(blocks) == 1 and blocks[0].is_active(now_us, 5 * 3_600_000_000)
    assert blocks[0].start_us == int(datetime(2026, 3, 1, 8, tzinfo=timezone.utc).timestamp()) * 1_000_000


def test_unknown_project_or_model_is_an_error_with_a_suggestion():
    # Issue 14: not an empty $0.00 table, but an error (exit code 2) that suggests the closest name.
    data = str(FIXTURES / "sniffly")
    result = runner.invoke(app, ["daily", "--data-dir", data, "--project", "nope", "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error: --project: no project matches 'nope'" in result.stderr
    result = runner.invoke(app, ["daily", "--data-dir", data, "--project", "ai-musik"])
    assert result.exit_code == 2
    assert "did you mean 'ai-music'? `claude-usage projects` lists them" in result.stderr  # the last part of /Users/user1/dev/ai-music
    result = runner.invoke(app, ["daily", "--data-dir", data, "--model", "sonet"])
    assert result.exit_code == 2 and "did you mean 'sonnet-4'?" in result.stderr


def test_summary_marks_partial_costs_today_and_this_month(tmp_path):
    from datetime import datetime, timezone

    from helpers import assistant_line, write_lines

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # Priced: 1,000,000 input on Sonnet 4 at $3 = $3.00; the other model has no price.
    write_lines(tmp_path / "projects" / "p" / "s.jsonl", [
        assistant_line(msg_id="a", model="claude-sonnet-4-20250514", input_tokens=1_000_000, ts=now),
        assistant_line(msg_id="b", model="claude-opus-9-9-20990101", input_tokens=5, ts=now),
    ])
    result = runner.invoke(app, ["summary", "--data-dir", str(tmp_path), "--tz", "UTC"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for label in ("Total cost", "Today", "This month"):
        line = next(line for line in result.stdout.splitlines() if label in line)
        assert "$3.00*" in line, line
    summary = run_json("summary", "--data-dir", str(tmp_path), "--tz", "UTC")["summary"]
    assert summary["todayCostUsd"] == summary["thisMonthCostUsd"] == summary["totalCostUsd"] == 3.0
    assert summary["todayUnpricedRequests"] == summary["thisMonthUnpricedRequests"] == 1  # request "b"
    assert summary["unpricedModels"] == ["claude-opus-9-9-20990101"]


def test_report_options_fit_the_report():
    for command, absent in (("summary", ("--order", "--breakdown")), ("models", ("--breakdown",)), ("hourly", ("--order",))):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        for option in absent:
            assert option not in result.stdout, (command, option)
    assert "env var: PORT" in runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).stdout


def _shipped_corrections_digest() -> str:
    import hashlib

    from claude_usage.pricing_corrections import SHIPPED

    return hashlib.sha256(SHIPPED.read_bytes()).hexdigest()[:12]


def test_prices_lists_the_corrections_in_force_and_the_package_version(tmp_path):
    document = run_json("prices")
    assert document["priceData"] == "genai-prices 0.2.3"
    assert document["version"] == f"genai-prices 0.2.3 + corrections {_shipped_corrections_digest()}"
    entries = document["corrections"]
    assert [(e["models"], e["condition"], e["from"], e["until"], e["multiplier"]) for e in entries] == [
        (["claude-opus-4-6"], "speed=fast", None, "2026-03-13", None),
        (["claude-opus-4-6"], "speed=fast", "2026-03-13", None, None),
        (["claude-opus-4-7"], "speed=fast", None, "2026-07-24", 6.0),
        (["*"], "geo=us", None, None, 1.1),
    ]
    # Opus 4.6 fast: $30 / $150, caches at 1.25x, 2x, 0.1x of $30; above 200k $60 / $225.
    assert entries[0]["rates"] == {"input": 30.0, "output": 150.0, "cacheWrite5m": 37.5, "cacheWrite1h": 60.0,
                                   "cacheRead": 3.0, "tierThreshold": 200000,
                                   "tier": {"input": 60.0, "output": 225.0, "cacheWrite5m": 75.0, "cacheWrite1h": 120.0,
                                            "cacheRead": 6.0}}
    assert "claude-opus-4-5" in entries[3]["exceptModels"] and "claude-opus-4-6" not in entries[3]["exceptModels"]
    assert all(e["source"].startswith("https://") for e in entries)
    prices_file = tmp_path / "p.json"
    prices_file.write_text(json.dumps({"us.anthropic.claude-opus-4-6-v1": {"input": 1, "output": 2}}))
    assert run_json("prices", "--prices", str(prices_file))["overrides"] == ["claude-opus-4-6"]
    # A process of its own: the terminal width is read once per process.
    table = subprocess.run([sys.executable, "-m", "claude_usage", "prices"], env={**os.environ, "COLUMNS": "140"},
                           capture_output=True, text=True)
    assert table.returncode == 0
    assert "genai-prices 0.2.3" in table.stdout and "x6 on the standard rates" in table.stdout
    assert "before 2026-07-24" in table.stdout


def test_searches_column_only_when_there_are_searches():
    searches = runner.invoke(app, ["daily", "--data-dir", str(BUGCASES / "20-web-search-fee" / "claude"), "--tz", "UTC",
                                   "--no-index"], env={"COLUMNS": "200"})
    header = next(line for line in searches.stdout.splitlines() if "Date" in line)
    assert "Searches" in header
    total = next(line for line in searches.stdout.splitlines() if line.strip("│ ").startswith("Total"))
    # 6 searches, $0.06866
    assert [cell.strip() for cell in total.strip("│ ").split("│")][-3:] == ["1,380", "6", "$0.07"]
    plain = runner.invoke(app, ["daily", "--data-dir", str(FIXTURES / "curated"), "--tz", "UTC"], env={"COLUMNS": "200"})
    assert "Searches" not in plain.stdout


def test_fast_requests_without_a_fast_price_are_named_in_a_warning():
    result = runner.invoke(app, ["models", "--data-dir", str(BUGCASES / "21-fast-mode-prices" / "claude")])
    assert result.exit_code == 0
    assert "no fast-mode price for claude-opus-4-5-20251101; 1 fast request is priced at the standard rate" in result.stderr
    models = keyed(run_json("models", "--data-dir", str(BUGCASES / "21-fast-mode-prices" / "claude"))["models"], "model")
    assert {m: row["fastUnpricedRequests"] for m, row in models.items()} == {
        "claude-opus-4-5-20251101": 1, "claude-opus-4-6": 0, "claude-opus-4-7": 0, "claude-opus-5": 0}


def test_summary_names_placeholder_requests():
    data = str(BUGCASES / "24-placeholder-output-counts" / "claude")
    result = runner.invoke(app, ["summary", "--data-dir", data, "--tz", "UTC"], env={"COLUMNS": "140"})
    line = next(line for line in result.stdout.splitlines() if "Placeholder output counts" in line)
    assert "2 requests, output undercounted" in line
    assert run_json("summary", "--data-dir", data, "--tz", "UTC")["summary"]["placeholderOutputRequests"] == 2


def test_a_warm_run_imports_no_price_package(tmp_path):
    code = ("import sys\nfrom claude_usage.cli import main\n"
            f"sys.argv = ['claude-usage', 'daily', '--json', '--data-dir', {str(BUGCASES / '21-fast-mode-prices' / 'claude')!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('genai_prices' in sys.modules, 'tomllib' in sys.modules, file=sys.stderr)")
    env = {**os.environ, "CLAUDE_USAGE_CACHE": str(tmp_path / "cache")}
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert cold.stderr.splitlines()[-1] == "True True"  # the first run resolves rates and reads the corrections
    assert warm.stderr.splitlines()[-1] == "False False"
    assert json.loads(warm.stdout)["totals"]["fastUnpricedRequests"] == 1


def test_doctor_names_the_placeholder_requests():
    result = runner.invoke(app, ["doctor", "--data-dir", str(BUGCASES / "24-placeholder-output-counts" / "claude")], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Placeholder output counts" in result.stdout and "│ 2 " in result.stdout
    assert "2 requests: their output count is a streaming placeholder" in result.stderr
    assert "fixed in 2.1.97" in result.stderr
