"""Every table command of the CLI at 60, 80 and 120 columns (issue 14): no line wider than the
terminal, every money cell whole (never ``$0.`` or a cut header), the row key and the cost always
there, and the costs those of the shared fixtures' expected files. Each run is a real process
(the terminal width is read once per process)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import FIXTURES, expected

WIDTHS = (60, 80, 120)
CURATED = ["--data-dir", str(FIXTURES / "curated"), "-z", "UTC"]
# A dollar sign starts a whole amount: digits with thousands separators, cents when there are any.
AMOUNT = re.compile(r"\$(\d{1,3}(?:,\d{3})*)(\.\d\d)?(?!\d|[.,]\d)")


def usd(value: float) -> str:
    """An expected cost as the tables print it: 2 decimals, rounded half up, thousands separated."""
    return f"${Decimal(repr(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def run(args: list[str], width: int) -> str:
    proc = subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": str(width)}, timeout=300)
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def check_layout(out: str, width: int) -> list[str]:
    """No line over ``width``; every ``$`` starts a whole amount; no cropped cell (Rich's "…")
    on a line with money. Returns the lines."""
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(line for line in lines if len(line) > width)
    for line in lines:
        if "$" in line:
            assert line.count("$") == len(AMOUNT.findall(line)), line  # every $ starts a whole amount
            assert "…" not in line and "$0." not in re.sub(r"\$0\.\d\d", "", line), line
    return lines


def row_with(lines: list[str], key: str) -> str:
    """The table line whose first cell starts with ``key``."""
    return next(line for line in lines if re.match(rf"│ {re.escape(key)}(?![\w-])", line))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command, key, rows", [
    ("daily", "date", lambda exp: exp["by_day"]["UTC"]),
    ("monthly", "month", lambda exp: exp["by_month"]["UTC"]),
    ("models", "model", lambda exp: exp["by_model"]),
])
def test_usage_tables_keep_key_and_cost_whole(command, key, rows, width):
    exp = expected("curated")
    lines = check_layout(run([command, *CURATED], width), width)
    header = next(line for line in lines if "┃" in line)
    assert "Cost (USD)" in header and header.strip("┃ ").split("┃")[0].strip() in ("Date", "Month", "Model")
    for name, row in rows(exp).items():  # each row's key and its cost on one line
        line = row_with(lines, name)
        assert line.rstrip("│ ").endswith(usd(row["cost_usd"])), (name, line)
    total = row_with(lines, "Total")
    assert total.rstrip("│ ").endswith(usd(exp["totals"]["cost_usd"]))  # $33.42


@pytest.mark.parametrize("width", WIDTHS)
def test_projects_and_weeks_keep_their_costs(width):
    exp = expected("curated")
    out = run(["projects", *CURATED], width)
    check_layout(out, width)
    for row in exp["by_project"].values():
        assert usd(row["cost_usd"]) in out
    weekly = run(["weekly", *CURATED, "--compact"], width)  # --compact: key, total tokens, cost
    lines = check_layout(weekly, width)
    header = next(line for line in lines if "┃" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == ["Week", "Total Tokens", "Cost (USD)"]
    assert row_with(lines, "Total").rstrip("│ ").endswith(usd(exp["totals"]["cost_usd"]))


@pytest.mark.parametrize("width", WIDTHS)
def test_sessions_table_and_detail(width):
    exp = expected("curated")
    out = run(["sessions", *CURATED, "-n", "5"], width)
    lines = check_layout(out, width)
    top = sorted(exp["by_session"].items(), key=lambda item: -item[1]["cost_usd"])[:5]
    for session, row in top:  # by cost, the first 8 characters of the id and the cost on one line
        assert row_with(lines, session[:8]).rstrip("│ ").endswith(usd(row["cost_usd"]))
    assert "all 43 sessions" in out and usd(exp["totals"]["cost_usd"]) in row_with(lines, "Total")
    detail = run(["sessions", "--id", top[0][0][:8], *CURATED], width)
    check_layout(detail, width)
    assert usd(top[0][1]["cost_usd"]) in detail  # $6.21: a7da6a22, the most expensive session


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [
    ["hourly", *CURATED], ["summary", *CURATED], ["blocks", *CURATED], ["tools", *CURATED],
    ["today", "--demo", "-z", "UTC"], ["blocks", "--active", "--demo", "--token-limit", "max"],
    ["mcp", "--demo"], ["prices"], ["doctor", *CURATED[:2]],
])
def test_every_other_table_fits(args, width):
    out = run(args, width)
    lines = check_layout(out, width)
    if args[0] in ("hourly", "summary"):
        assert usd(expected("curated")["totals"]["cost_usd"]) in out
    if args[0] == "tools":  # built-in tools only: no empty server column; names whole
        assert "Server" not in out and "TodoWrite" in out and "Calls" in out
    if args[0] == "prices":  # prices are never cut: $30 / $150 (Opus 4.6 fast) stay whole
        assert "$30 / $150" in out
    if args[0] == "blocks" and "--active" not in args:
        header = next(line for line in lines if "┃" in line)
        assert "Block start" in header and "Cost (USD)" in header


def test_hour_table_total_and_empty_hours():
    out = run(["hourly", *CURATED], 120)
    lines = out.splitlines()
    assert row_with(lines, "Total").split("│")[1].strip() == "Total"
    # curated has no request between 01:00 and 07:59 UTC: those hours show "-", not $0.00.
    cells = [cell.strip() for cell in row_with(lines, "03:00").strip("│ ").split("│")]
    assert cells[0] == "03:00" and set(cells[1:]) == {"-"} and len(cells) == 7  # input ... total tokens, cost


def test_blocks_gaps_in_days_past_48_hours():
    out = run(["blocks", *CURATED], 120)
    # curated: after 2025-07-20 23:37 nothing until 2025-09-29 17:xx: 70 days and 22 hours.
    assert "gap, idle 70d 22h" in out and "h 13m" not in out.split("70d")[0][-20:]


def test_default_command_short_flags_and_error_style(tmp_path):
    today = subprocess.run([sys.executable, "-m", "claude_usage", "--demo"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "100"}, timeout=300)
    assert today.returncode == 0 and "Claude Code today" in today.stdout and "Last 7 days" in today.stdout
    short = json.loads(run(["daily", "-j", "-s", "2025-11-17", "-u", "20251119", "-z", "UTC", "-b", "--data-dir",
                            str(FIXTURES / "curated")], 80))
    assert [row["date"] for row in short["daily"]] == ["2025-11-17", "2025-11-18", "2025-11-19"]
    assert all("models" in row for row in short["daily"])  # -b: the per-model rows
    bad = subprocess.run([sys.executable, "-m", "claude_usage", "tools", "--sinc", "2025-01-01", "--demo"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: No such option: --sinc") and "╭" not in bad.stderr  # one style, no panel
    empty = run(["daily", *CURATED, "-s", "2024-01-01", "-u", "2024-01-31"], 80)
    assert empty.strip() == "No usage from 2024-01-01 to 2024-01-31 (UTC)."  # not a $0.00 totals row
    unknown = subprocess.run([sys.executable, "-m", "claude_usage", "daily", *CURATED, "--model", "opus-9"],
                             capture_output=True, text=True, timeout=300)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.startswith("Error: --model: no model matches 'opus-9'") and "did you mean" in unknown.stderr
