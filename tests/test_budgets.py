"""Budget state (issue 15): spent, percent, projection and status of each budget in its current
period, from the curated fixture set's stated totals and from hand-made transcripts; the budget
lines of `summary` and the status line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import FIXTURES, expected
from helpers import assistant_line, scan, write_lines

from claude_usage import budgets
from claude_usage.config import parse
from claude_usage.sources.discovery import resolve_roots


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


@pytest.fixture(scope="module")
def curated():
    scanned = scan(resolve_roots([FIXTURES / "curated"]).roots)
    yield scanned
    scanned.close()


def test_budget_state_from_the_fixture_totals(curated):
    days = expected("curated")["by_day"]["UTC"]
    config = parse("[budgets]\ndaily_usd = 3\nweekly_usd = 10\nmonthly_usd = 12\n", Path("config.toml"))
    now = us("2025-07-20T23:00:00")  # Sunday 2025-07-20, 23:00 UTC
    day, week, month = curated.run(budgets.state, config, now, "UTC")

    # Day 2025-07-20: $2.754602 stated; 23 of 24 hours passed -> projected 2.754602 * 24 / 23.
    assert (day.since, day.until) == ("2025-07-20", "2025-07-20")
    assert day.spent_usd == pytest.approx(days["2025-07-20"]["cost_usd"], abs=1e-6) == pytest.approx(2.754602, abs=1e-6)
    assert day.elapsed == pytest.approx(23 / 24)
    assert day.projected_usd == pytest.approx(2.754602 * 24 / 23, abs=1e-5)  # $2.874367 < $3
    assert day.percent == pytest.approx(91.82007, abs=1e-3)  # 2.754602 / 3
    assert day.remaining_usd == pytest.approx(0.245398, abs=1e-6)
    assert day.thresholds_passed == (50.0, 80.0) and day.status == "warning"

    # Week Monday 2025-07-14 to Sunday 07-20: 3.277981 + 0.284206 + 0.429637 + 2.823657 + 2.754602
    # = 9.570083; 6 days 23 hours of 7 days passed (167 / 168 hours).
    assert (week.since, week.until) == ("2025-07-14", "2025-07-20")
    assert week.spent_usd == pytest.approx(9.570083, abs=1e-5)
    assert week.projected_usd == pytest.approx(9.570083 * 168 / 167, abs=1e-5)  # $9.627 < $10
    assert week.percent == pytest.approx(95.70083, abs=1e-3) and week.status == "warning"

    # July: 0.500089 + 0.193114 + 9.570083 = 10.263286, the stated month total (nothing after
    # the 20th); 19 days 23 hours of 31 days passed (479 / 744 hours) -> projected 15.9413.
    assert (month.since, month.until) == ("2025-07-01", "2025-07-31")
    assert month.spent_usd == pytest.approx(expected("curated")["by_month"]["UTC"]["2025-07"]["cost_usd"], abs=1e-6)
    assert month.spent_usd == pytest.approx(10.263286, abs=1e-5)
    assert month.projected_usd == pytest.approx(10.263286 * 744 / 479, abs=1e-4)
    assert month.status == "projected-over"  # 85.5% spent, projected 132.8% of $12
    assert budgets.status_segments([day, week, month]) == ["month budget 86%, projected 133%", "week budget 96%"]


def test_weeks_start_on_the_configured_day(curated):
    config = parse('[budgets]\nweekly_usd = 10\nweek_start = "sunday"\n', Path("config.toml"))
    (week,) = curated.run(budgets.state, config, us("2025-07-19T12:00:00"), "UTC")
    # Sunday 2025-07-13 to Saturday 07-19: 0.193114 + 3.277981 + 0.284206 + 0.429637 + 2.823657 = 7.008595
    assert (week.since, week.until) == ("2025-07-13", "2025-07-19")
    assert week.spent_usd == pytest.approx(7.008595, abs=1e-5)


def _project_data(root: Path) -> Path:
    # Sonnet 4.5: $15 per million output tokens (no long-context tier: the tier counts input only).
    write_lines(root / "projects" / "-home-dev-app" / "s1.jsonl", [
        assistant_line(msg_id="a1", uuid="a1", ts="2025-10-01T08:00:00.000Z", output_tokens=200_000, cwd="/home/dev/app"),  # $3.00
        assistant_line(msg_id="a2", uuid="a2", ts="2025-10-01T09:00:00.000Z", output_tokens=100_000, cwd="/home/dev/app"),  # $1.50
    ])
    write_lines(root / "projects" / "-home-dev-site" / "s2.jsonl", [
        assistant_line(msg_id="b1", uuid="b1", session="s-2", ts="2025-10-01T10:00:00.000Z", output_tokens=400_000,
                       cwd="/home/dev/site"),  # $6.00
    ])
    return root


def test_project_budgets_and_an_over_budget(tmp_path):
    scanned = scan(resolve_roots([_project_data(tmp_path / "data")]).roots)
    config = parse('[budgets]\ndaily_usd = 10\n[budgets.projects."app"]\ndaily_usd = 4\n'
                   '[budgets.projects."nothing-yet"]\nmonthly_usd = 1\n', Path("config.toml"))
    try:
        overall, app, unknown = scanned.run(budgets.state, config, us("2025-10-01T18:00:00"), "UTC")
    finally:
        scanned.close()
    # All: $3.00 + $1.50 + $6.00 = $10.50 of $10 -> over, 105%.
    assert overall.spent_usd == pytest.approx(10.5) and overall.status == "over" and overall.percent == pytest.approx(105)
    # app (the last part of /home/dev/app): $4.50 of $4 -> over, 112.5%; nothing left.
    assert app.projects == ("-home-dev-app",) and app.spent_usd == pytest.approx(4.5)
    assert app.percent == pytest.approx(112.5) and app.remaining_usd == 0.0 and app.status == "over"
    # A project that names nothing yet: nothing spent, ok.
    assert unknown.projects == () and unknown.spent_usd == 0.0 and unknown.status == "ok"
    row = budgets.state_row(app)
    assert row["budget"] == "project:app:day" and row["label"] == "app day" and row["scope"] == "project"
    assert row["spentUsd"] == 4.5 and row["percent"] == 112.5 and row["status"] == "over"
    assert budgets.status_segments([overall, app, unknown], {"project:app:day"}) == \
        ["⚠ app day budget 112% (over)", "day budget 105% (over)"]


def test_no_projection_before_a_quarter_of_the_period(tmp_path):
    scanned = scan(resolve_roots([_project_data(tmp_path / "data")]).roots)
    config = parse("[budgets]\nmonthly_usd = 100\n", Path("config.toml"))
    try:
        (month,) = scanned.run(budgets.state, config, us("2025-10-05T00:00:00"), "UTC")
    finally:
        scanned.close()
    assert month.elapsed == pytest.approx(4 / 31)  # 4 of 31 days: under a quarter
    assert month.projected_usd is None and month.status == "ok"  # $10.50 of $100: under 50%


def run_cli(args: list[str], config_dir: Path, width: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLAUDE_USAGE_CONFIG": str(config_dir), "COLUMNS": str(width)}
    return subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True, env=env, timeout=300)


def test_summary_shows_the_budgets(tmp_path):
    data = _project_data(tmp_path / "data")
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('[budgets]\nmonthly_usd = 20\n[budgets.projects."site"]\nmonthly_usd = 5\n')
    done = run_cli(["summary", "--data-dir", str(data), "-z", "UTC", "--json"], tmp_path / "cfg")
    assert done.returncode == 0, done.stderr
    rows = {row["budget"]: row for row in json.loads(done.stdout)["budgets"]}
    # The period is the real current month, which holds none of October 2025's requests.
    assert rows["month"]["spentUsd"] == 0.0 and rows["month"]["limitUsd"] == 20.0
    assert rows["project:site:month"]["projects"] == ["-home-dev-site"]
    for width in (60, 80, 120):
        table = run_cli(["summary", "--data-dir", str(data), "-z", "UTC"], tmp_path / "cfg", width)
        assert table.returncode == 0, table.stderr
        assert "Month budget" in table.stdout and "$0.00 of $20.00 (0%)" in table.stdout.replace("\n│", "")
        assert max(len(line) for line in table.stdout.splitlines()) <= width


def test_status_line_shows_a_budget_past_its_first_threshold(tmp_path):
    from claude_usage.statusline import status_line

    data = _project_data(tmp_path / "data")
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text("[budgets]\ndaily_usd = 12\n[alerts]\nprojection = false\n")
    os.environ["CLAUDE_USAGE_CONFIG"] = str(tmp_path / "cfg")
    try:
        line = status_line({}, [str(data)], "UTC", now_us=us("2025-10-01T18:00:00"), index_path=str(tmp_path / "i.db"))
    finally:
        del os.environ["CLAUDE_USAGE_CONFIG"]
    # $10.50 of $12 = 87.5%: past 50 and 80, so an alert was raised just now (⚠); 18 of 24 hours
    # passed: projected 10.50 / 0.75 = $14.00 = 116.7% of $12.
    assert line.endswith("| ⚠ day budget 88%, projected 117%"), line
