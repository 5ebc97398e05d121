"""5-hour blocks, burn rate, limits and the status line (issue 6).

Every expected boundary and number below is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claude_usage.blocks import HOUR_US, block_row, burn_rate, query_blocks
from claude_usage.cli import app
from claude_usage.reports import Query
from claude_usage.sources.discovery import DataRoot
from claude_usage.statusline import status_line
from conftest import BUGCASES, bugcase_expected
from helpers import assistant_line, write_lines

runner = CliRunner()
SESSION_US = 5 * HOUR_US


def us(iso: str) -> int:
    """UTC microseconds of an ISO time written in the test."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1_000_000)


def iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1_000_000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_blocks(requests, session_hours: float = 5.0):
    """The product's blocks of hand-made requests ``(ts, input tokens, cost USD)``: written as
    transcript lines whose ``costUSD`` is that cost (the default cost mode uses it), read into
    a store, summed by the block query."""
    import shutil
    import tempfile

    from helpers import scan

    root = Path(tempfile.mkdtemp(prefix="blocks-"))
    lines = [assistant_line(msg_id=f"m{i}", uuid=f"u{i}", ts=ts, session="s", input_tokens=tokens, cost_usd=cost)
             for i, (ts, tokens, cost) in enumerate(requests)]
    write_lines(root / "projects" / "p" / "s.jsonl", lines)
    scanned = scan([DataRoot(root / "projects", root, "test")])
    try:
        return scanned.run(query_blocks, Query(zone="UTC"), session_hours)
    finally:
        scanned.close()
        shutil.rmtree(root, ignore_errors=True)


def request(ts: str, tokens: int = 100) -> tuple[str, int]:
    return ts, tokens


def spans(blocks) -> list[tuple[str, str, bool, int]]:
    """(start, end, is gap, requests) of each block, times in UTC."""
    return [(iso(b.start_us), iso(b.end_us), b.is_gap, b.totals.requests) for b in blocks]


def test_requests_across_an_hour_boundary_and_one_at_exactly_start_plus_5h():
    # 10:59:30 floors to 10:00, so the block is 10:00-15:00 and 11:10 is in it. 15:00:00 is the
    # block's (exclusive) end: it starts a new block at 15:00. The pause 11:10 -> 15:00 is 3h50m,
    # under 5 h: no gap row.
    blocks = build_blocks([(*request(t), 0.0) for t in
                           ("2025-03-01T10:59:30Z", "2025-03-01T11:10:00Z", "2025-03-01T15:00:00Z")])
    assert spans(blocks) == [
        ("2025-03-01T10:00:00Z", "2025-03-01T15:00:00Z", False, 2),
        ("2025-03-01T15:00:00Z", "2025-03-01T20:00:00Z", False, 1),
    ]


def test_a_pause_of_5h_minus_1s_stays_in_the_block():
    # 08:00:00 -> 12:59:59 is 4h59m59s and 12:59:59 is before the end (13:00): one block.
    blocks = build_blocks([(*request(t), 0.0) for t in ("2025-03-01T08:00:00Z", "2025-03-01T12:59:59Z")])
    assert spans(blocks) == [("2025-03-01T08:00:00Z", "2025-03-01T13:00:00Z", False, 2)]


def test_a_pause_of_exactly_5h_starts_a_new_block_after_a_gap_row():
    # 08:00 -> 13:00 is exactly 5 h: a new block at floor(13:00) = 13:00. The gap runs from the
    # last activity + 5 h (13:00) to the next block's start (13:00): reported, and empty.
    blocks = build_blocks([(*request(t), 0.0) for t in ("2025-03-01T08:00:00Z", "2025-03-01T13:00:00Z")])
    assert spans(blocks) == [
        ("2025-03-01T08:00:00Z", "2025-03-01T13:00:00Z", False, 1),
        ("2025-03-01T13:00:00Z", "2025-03-01T13:00:00Z", True, 0),
        ("2025-03-01T13:00:00Z", "2025-03-01T18:00:00Z", False, 1),
    ]
    # 08:20 -> 13:20 is also exactly 5 h; the next block starts at 13:00, before 08:20 + 5 h:
    # the gap row is empty at 13:00 (rows never overlap).
    blocks = build_blocks([(*request(t), 0.0) for t in ("2025-03-01T08:20:00Z", "2025-03-01T13:20:00Z")])
    assert spans(blocks)[1] == ("2025-03-01T13:00:00Z", "2025-03-01T13:00:00Z", True, 0)


def test_a_long_pause_gives_a_gap_row_from_last_activity_plus_5h_to_the_next_block():
    # Last activity 09:45 -> gap starts 14:45; next request 21:10 -> next block 21:00-02:00.
    blocks = build_blocks([(*request(t), 0.0) for t in ("2025-03-01T09:45:00Z", "2025-03-01T21:10:00Z")])
    assert spans(blocks) == [
        ("2025-03-01T09:00:00Z", "2025-03-01T14:00:00Z", False, 1),
        ("2025-03-01T14:45:00Z", "2025-03-01T21:00:00Z", True, 0),
        ("2025-03-01T21:00:00Z", "2025-03-02T02:00:00Z", False, 1),
    ]


def test_a_block_ends_by_the_5_hour_rule_while_requests_continue():
    # Every 30 min from 09:10 to 15:40, never a pause. Block 1 = 09:00-14:00 holds 09:10 ... 13:40
    # (10 requests); 14:10 >= 14:00 starts block 2 at floor(14:10) = 14:00, holding 14:10, 14:40,
    # 15:10, 15:40 (4 requests). No gap row.
    times = [f"2025-03-01T{h:02d}:{m:02d}:00Z" for h in range(9, 16) for m in (10, 40)]
    blocks = build_blocks([(*request(t), 0.0) for t in times])
    assert spans(blocks) == [
        ("2025-03-01T09:00:00Z", "2025-03-01T14:00:00Z", False, 10),
        ("2025-03-01T14:00:00Z", "2025-03-01T19:00:00Z", False, 4),
    ]


def test_burn_rate_projection_and_limits_at_a_fixed_now():
    # A completed block the day before: 8,000 tokens, $0.80 (the "max" estimate).
    # The active block: 10:00 (1,000 tokens, $0.10), 10:30 (2,000, $0.20), 11:00 (3,000, $0.30);
    # block 10:00-15:00; now 11:30 -> active (before 15:00, last request 30 min ago).
    pairs = [(*request("2025-03-01T09:00:00Z", 8000), 0.80)]
    pairs += [(*request(t, n), c) for t, n, c in (("2025-03-02T10:00:00Z", 1000, 0.10),
                                                ("2025-03-02T10:30:00Z", 2000, 0.20),
                                                ("2025-03-02T11:00:00Z", 3000, 0.30))]
    blocks = build_blocks(pairs)
    now = us("2025-03-02T11:30:00Z")
    active = blocks[-1]
    assert [b.is_active(now, SESSION_US) for b in blocks] == [False, False, True]  # old block, gap, active
    rate = burn_rate(active, now)
    # Active minutes: 10:00 -> 11:00 = 60. 6,000 tokens / 60 = 100 per minute; $0.60 / 60 min =
    # $0.01 per minute = $0.60 per hour. 15:00 - 11:30 = 210 minutes left:
    # 6,000 + 100 x 210 = 27,000 tokens; $0.60 + $0.01 x 210 = $2.70.
    assert rate.tokens_per_minute == pytest.approx(100.0)
    assert rate.cost_per_hour == pytest.approx(0.60)
    assert rate.minutes_left == pytest.approx(210.0)
    assert rate.projected_tokens == 27_000
    assert rate.projected_cost == pytest.approx(2.70)

    row = block_row(active, now, SESSION_US, (30_000.0, "user"), (0.70, "user"))
    assert row["isActive"] is True and row["timeToResetMinutes"] == 210.0
    assert row["burnRate"] == {"tokensPerMinute": 100.0, "costPerHour": pytest.approx(0.6)}
    # Tokens: 6,000 / 30,000 = 20.0 %, projected 27,000 / 30,000 = 90.0 %: no warning.
    assert row["limits"]["tokens"] == {"limit": 30_000.0, "source": "user", "percentUsed": 20.0,
                                       "projectedPercent": 90.0, "warning": False}
    # Cost: $0.60 / $0.70 = 85.7 % (over 80 %): warning; projected $2.70 / $0.70 = 385.7 %.
    assert row["limits"]["cost"]["percentUsed"] == 85.7
    assert row["limits"]["cost"]["projectedPercent"] == 385.7
    assert row["limits"]["cost"]["warning"] is True


def test_limit_max_is_the_largest_completed_block_and_labelled_an_estimate(tmp_path):
    # Through the CLI at a fixed "now" is not possible, so the blocks lie in the past: none is
    # active and "max" is the largest block by tokens (1,500 + 500 = 2,000 > 700) and by cost.
    project = tmp_path / "projects" / "-home-dev-app"
    write_lines(project / "s1.jsonl", [
        assistant_line(msg_id="m1", uuid="u1", ts="2025-03-01T09:10:00Z", session="s1", input_tokens=1500),
        assistant_line(msg_id="m2", uuid="u2", ts="2025-03-01T09:20:00Z", session="s1", input_tokens=500),
        assistant_line(msg_id="m3", uuid="u3", ts="2025-03-02T09:20:00Z", session="s1", input_tokens=700),
    ])
    result = runner.invoke(app, ["blocks", "--json", "--data-dir", str(tmp_path), "--tz", "UTC", "--no-index",
                                 "--token-limit", "max", "--cost-limit", "max"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["tokenLimit"] == {"limit": 2000.0, "source": "estimate: largest past block"}
    # Sonnet 4.5 input: $3 per million -> 2,000 tokens = $0.006.
    assert document["costLimit"]["limit"] == pytest.approx(0.006)
    assert [(b["start"], b["isGap"], b.get("totalTokens")) for b in document["blocks"]] == [
        ("2025-03-01T09:00:00.000Z", False, 2000),
        ("2025-03-01T14:20:00.000Z", True, None),  # last activity 09:20 + 5 h
        ("2025-03-02T09:00:00.000Z", False, 700),
    ]
    assert all(not b["isActive"] for b in document["blocks"])


def test_dst_change_in_the_display_zone(tmp_path):
    # New York leaves daylight time on 2025-11-02 at 06:00 UTC (02:00 EDT -> 01:00 EST).
    # Requests 05:30 UTC (01:30 EDT) and 06:30 UTC (01:30 EST) are one block 05:00-10:00 UTC: five
    # real hours, shown from 01:00 (EDT) to 05:00 (EST) on the local clock.
    project = tmp_path / "projects" / "-home-dev-app"
    write_lines(project / "s1.jsonl", [
        assistant_line(msg_id="m1", uuid="u1", ts="2025-11-02T05:30:00Z", input_tokens=10),
        assistant_line(msg_id="m2", uuid="u2", ts="2025-11-02T06:30:00Z", input_tokens=20),
    ])
    args = ["blocks", "--data-dir", str(tmp_path), "--tz", "America/New_York", "--no-index"]
    document = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    [block] = document["blocks"]
    assert (block["start"], block["end"], block["requests"]) == ("2025-11-02T05:00:00.000Z", "2025-11-02T10:00:00.000Z", 2)
    assert document["timezone"] == "America/New_York"
    table = runner.invoke(app, args, env={"COLUMNS": "120"}).stdout
    assert "2025-11-02 01:00" in table and "America/New_York" in table
    # Berlin enters summer time on 2025-03-30 at 01:00 UTC (02:00 CET -> 03:00 CEST): a request at
    # 00:30 UTC (01:30 CET) opens a block 00:00-05:00 UTC, shown from 01:00 (CET).
    write_lines(project / "s2.jsonl", [assistant_line(msg_id="m3", uuid="u3", ts="2025-03-30T00:30:00Z", session="s2", input_tokens=5)])
    table = runner.invoke(app, ["blocks", "--data-dir", str(tmp_path), "--tz", "Europe/Berlin", "--no-index"],
                          env={"COLUMNS": "120"}).stdout
    assert "2025-03-30 01:00" in table


def test_usage_limit_message_marks_the_block_and_gives_its_reset_time():
    case = "14-synthetic-and-api-error-lines"
    want = bugcase_expected(case)
    result = runner.invoke(app, ["blocks", "--json", "--data-dir", str(BUGCASES / case / "claude"), "--tz", "UTC", "--no-index"])
    assert result.exit_code == 0, result.output
    [block] = json.loads(result.stdout)["blocks"]
    # The one real request (00:10 UTC) opens 00:00-05:00; the limit line (00:30) falls in it.
    assert block["start"] == "2025-08-06T00:00:00.000Z" and block["limited"] is True
    reset = datetime.fromisoformat(block["limitResetTime"].replace("Z", "+00:00"))
    assert reset == datetime.fromisoformat(want["usage_limit_reset_time"].replace("Z", "+00:00"))
    assert block["requests"] == want["totals"]["requests"] and block["totalTokens"] == want["totals"]["total_tokens"]
    assert block["costUsd"] == pytest.approx(want["totals"]["cost_usd"], abs=1e-9)


def test_bad_limits_are_clear_errors(tmp_path):
    result = runner.invoke(app, ["blocks", "--demo", "--token-limit", "lots"])
    assert result.exit_code == 2 and "--token-limit" in result.output and "'lots'" in result.output


def test_table_tells_a_gap_of_no_length_on_the_next_block(tmp_path):
    from rich.console import Console

    from claude_usage.render_blocks import blocks_table

    # 12:00 and 13:39 make the block 12:00-17:00; 18:50 comes 5h 11m after 13:39, so it opens a new
    # block at its hour, 18:00, which is before 13:39 + 5 h = 18:39: the gap row has no length.
    write_lines(tmp_path / "projects" / "p" / "s.jsonl", [
        assistant_line(msg_id="a", uuid="a", ts="2025-03-01T12:00:00Z", input_tokens=10),
        assistant_line(msg_id="b", uuid="b", ts="2025-03-01T13:39:00Z", input_tokens=10),
        assistant_line(msg_id="c", uuid="c", ts="2025-03-01T18:50:00Z", input_tokens=10),
    ])
    result = runner.invoke(app, ["blocks", "--json", "--data-dir", str(tmp_path), "--tz", "UTC", "--no-index"])
    rows = json.loads(result.stdout)["blocks"]
    assert [(r["start"], r["isGap"]) for r in rows] == [
        ("2025-03-01T12:00:00.000Z", False), ("2025-03-01T18:00:00.000Z", True), ("2025-03-01T18:00:00.000Z", False)]
    console = Console(width=120, record=True)
    console.print(blocks_table("Blocks", rows, timezone.utc, 120))
    lines = [line for line in console.export_text().splitlines() if "2025-03-01" in line]
    assert len(lines) == 2  # the empty gap has no row of its own
    assert "2025-03-01 18:00" in lines[1] and "after 5h 11m idle" in lines[1]


def test_recent_blocks_do_not_start_with_a_gap(tmp_path):
    from datetime import timedelta

    from helpers import iso_z

    now = datetime.now(timezone.utc)
    # A block that starts 75 h ago (more than 3 days), whose pause begins 70 h ago (within them),
    # and the active block: --recent shows the active block only, not the pause cut off from its block.
    write_lines(tmp_path / "projects" / "p" / "s.jsonl", [
        assistant_line(msg_id="old", uuid="old", ts=iso_z(now - timedelta(hours=75)), input_tokens=10),
        assistant_line(msg_id="new", uuid="new", ts=iso_z(now - timedelta(minutes=30)), input_tokens=10),
    ])
    args = ["blocks", "--json", "--data-dir", str(tmp_path), "--no-index"]
    everything = json.loads(runner.invoke(app, args).stdout)["blocks"]
    assert [(b["isGap"], b["isActive"]) for b in everything] == [(False, False), (True, False), (False, True)]
    recent = json.loads(runner.invoke(app, [*args, "--recent"]).stdout)["blocks"]
    assert [(b["isGap"], b["isActive"], b["requests"]) for b in recent] == [(False, True, 1)]


def test_recent_without_a_block_in_the_last_3_days_says_so(tmp_path):
    from datetime import timedelta

    from helpers import iso_z

    # One request 4 days ago: a block exists, none in the last 3 days.
    write_lines(tmp_path / "projects" / "p" / "s.jsonl", [
        assistant_line(msg_id="old", uuid="old", ts=iso_z(datetime.now(timezone.utc) - timedelta(days=4)), input_tokens=10)])
    result = runner.invoke(app, ["blocks", "--recent", "--data-dir", str(tmp_path), "--no-index"])
    assert result.exit_code == 0 and "No block in the last 3 days." in result.stdout


def test_estimated_limit_is_shown_when_no_block_is_active(tmp_path):
    from datetime import timedelta

    from helpers import active_block_data

    # The helper's blocks, 6 hours earlier: both are over by now. Largest: 2 x 150,000 = 300,000
    # tokens, $0.90 (Sonnet 4.5 input at $3 per million).
    active_block_data(tmp_path, datetime.now(timezone.utc) - timedelta(hours=6))
    result = runner.invoke(app, ["blocks", "--active", "--token-limit", "max", "--cost-limit", "max",
                                 "--data-dir", str(tmp_path), "--no-index"])
    assert result.exit_code == 0
    assert "No active block" in result.stdout
    assert "Token limit: 300,000 tokens (estimate: largest past block)." in result.stderr
    assert "Cost limit: $0.90 (estimate: largest past block)." in result.stderr


# -- status line ---------------------------------------------------------------------------------

def _status_data(root: Path) -> Path:
    """Sonnet 4.5 at $3 / $15 per million input / output tokens (all under the 200k tier):
    s-1 10:00  100,000 in + 10,000 out = $0.30 + $0.15 = $0.45
    s-1 11:00  150,000 in + 20,000 out = $0.45 + $0.30 = $0.75
    s-2 11:30  100,000 in               = $0.30
    s-2 the day before, 20:00: 100,000 in = $0.30 (14 h before 10:00: its own block)
    """
    project = root / "projects" / "-home-dev-app"
    write_lines(project / "s-1.jsonl", [
        assistant_line(msg_id="m1", uuid="u1", session="s-1", ts="2025-10-01T10:00:00Z", input_tokens=100_000, output_tokens=10_000),
        assistant_line(msg_id="m2", uuid="u2", session="s-1", ts="2025-10-01T11:00:00Z", input_tokens=150_000, output_tokens=20_000),
    ])
    write_lines(project / "s-2.jsonl", [
        assistant_line(msg_id="m0", uuid="u0", session="s-2", ts="2025-09-30T20:00:00Z", input_tokens=100_000),
        assistant_line(msg_id="m3", uuid="u3", session="s-2", ts="2025-10-01T11:30:00Z", input_tokens=100_000),
    ])
    return project / "s-1.jsonl"


def test_status_line_for_a_hook_json(tmp_path):
    transcript = _status_data(tmp_path)
    hook = json.loads(json.dumps({
        "session_id": "s-1", "transcript_path": str(transcript), "cwd": "/home/dev/app",
        "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
        "workspace": {"current_dir": "/home/dev/app", "project_dir": "/home/dev/app"},
        "version": "2.1.90", "cost": {"total_cost_usd": 0.42}, "output_style": {"name": "default"},
    }))
    line = status_line(hook, [str(tmp_path)], zone="UTC", now_us=us("2025-10-01T12:00:00Z"))
    # Session s-1: $0.45 + $0.75 = $1.20. Today (UTC): $0.45 + $0.75 + $0.30 = $1.50. Block
    # 10:00-15:00: $1.50, 3 h left at 12:00. Active minutes 10:00 -> 11:30 = 90: $1.50 / 90 x 60 =
    # $1.00 per hour; (110,000 + 170,000 + 100,000) / 90 = 4,222.2 tokens per minute.
    assert line == "Sonnet 4.5 | $1.20 session | $1.50 today | $1.50 block (3h 00m left) | $1.00/h, 4,222 tok/min"


def test_status_line_with_every_field_missing(tmp_path):
    _status_data(tmp_path)
    # No session, no model: today's and the block's figures only. At 16:00 the block (10:00-15:00)
    # has ended: no active block.
    assert status_line({}, [str(tmp_path)], zone="UTC", now_us=us("2025-10-01T12:00:00Z")) == \
        "no session | $1.50 today | $1.50 block (3h 00m left) | $1.00/h, 4,222 tok/min"
    assert status_line({}, [str(tmp_path)], zone="UTC", now_us=us("2025-10-01T16:00:00Z")) == \
        "no session | $1.50 today | no active block"


def _run_statusline(stdin: str, env: dict) -> subprocess.CompletedProcess:
    code = ("import sys; from claude_usage.entry import main\n"
            "sys.argv = ['claude-usage', 'statusline']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('genai_prices', 'fastapi', 'typer', 'rich', 'uvicorn') if m in sys.modules), file=sys.stderr)")
    return subprocess.run([sys.executable, "-c", code], input=stdin, env=env, capture_output=True, text=True, timeout=60)


def test_statusline_command_reads_stdin_and_a_warm_index_imports_no_price_package(tmp_path):
    config = tmp_path / "config"
    transcript = _status_data(config)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "CLAUDE_CONFIG_DIR": str(config), "TZ": "UTC",
           "CLAUDE_USAGE_CACHE": str(tmp_path / "cache")}
    hook = json.dumps({"session_id": "s-1", "transcript_path": str(transcript), "model": {"display_name": "Sonnet 4.5"}})
    first = _run_statusline(hook, env)  # cold: builds the index, prices with genai-prices
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n") == 1 and first.stdout.startswith("Sonnet 4.5 | $1.20 session | ")
    # A new request of a known model on a known day: read from the index's offsets and priced
    # from the cached rates, so neither the price package nor the web stack nor Typer/Rich load.
    with transcript.open("a") as handle:  # 1,000 in = $0.003 -> session $1.203
        handle.write(json.dumps(assistant_line(msg_id="m9", uuid="u9", session="s-1", ts="2025-10-01T11:45:00Z", input_tokens=1000)) + "\n")
    warm = _run_statusline(hook, env)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.startswith("Sonnet 4.5 | $1.20 session | ")
    assert warm.stderr.strip().splitlines()[-1] == "[]"
    # The same through the installed console script, and an empty object on stdin.
    script = Path(sys.executable).with_name("claude-usage")
    proc = subprocess.run([str(script), "statusline"], input="{}", env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("no session | ") and proc.stdout.count("\n") == 1


def test_statusline_without_any_data_still_prints_one_line(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "CLAUDE_USAGE_CACHE": str(tmp_path / "cache")}
    env.pop("CLAUDE_CONFIG_DIR", None)
    proc = _run_statusline("not json at all", env)
    assert proc.returncode == 0
    assert proc.stdout == "claude-usage: no usage data found\n"


# -- API -----------------------------------------------------------------------------------------

def test_blocks_endpoint_active_block_limits_and_errors(tmp_path):
    import httpx

    from conftest import RunningServer
    from helpers import active_block_data

    now = datetime.now(timezone.utc)
    active_block_data(tmp_path, now)
    with RunningServer("--data-dir", str(tmp_path), "--tz", "UTC", "--index", str(tmp_path / "i.sqlite")) as server:
        answer = httpx.get(f"{server.url}/api/v2/blocks", params={"active": "true", "tokenLimit": "max", "costLimit": "2"})
        assert answer.status_code == 200
        document = answer.json()
        [block] = document["blocks"]
        # The active block starts at the UTC hour floor of now - 40 min and holds $0.45 + $0.15.
        first = now.timestamp() - 40 * 60
        assert block["start"] == iso(int(first - first % 3600) * 1_000_000).replace("Z", ".000Z")
        assert block["isActive"] is True and block["requests"] == 2 and block["totalTokens"] == 160_000
        assert block["costUsd"] == pytest.approx(0.60)
        # Tokens: 160,000 of the largest past block's 300,000 = 53.3 %; cost: $0.60 of $2 = 30.0 %.
        assert document["tokenLimit"] == {"limit": 300_000.0, "source": "estimate: largest past block"}
        assert block["limits"]["tokens"]["percentUsed"] == 53.3
        assert block["limits"]["cost"] == {**block["limits"]["cost"], "limit": 2.0, "source": "user", "percentUsed": 30.0}
        # Active minutes: 30 (now - 40 min -> now - 10 min): 160,000 / 30 = 5,333.33 tokens per
        # minute, $0.60 / 30 min x 60 = $1.20 per hour.
        assert block["burnRate"] == {"tokensPerMinute": 5333.33, "costPerHour": pytest.approx(1.2)}
        everything = httpx.get(f"{server.url}/api/v2/blocks").json()["blocks"]
        assert [(b["isGap"], b["isActive"]) for b in everything] == [(False, False), (True, False), (False, True)]
        for params, name in (({"tokenLimit": "lots"}, "tokenLimit"), ({"costLimit": "-3"}, "costLimit"),
                             ({"sessionLength": "0"}, "sessionLength"), ({"active": "maybe"}, "active")):
            bad = httpx.get(f"{server.url}/api/v2/blocks", params=params)
            assert bad.status_code == 400 and set(bad.json()) == {"error", "message"}
            assert f"'{name}'" in bad.json()["message"]


def test_parse_limit():
    from claude_usage.blocks import parse_limit

    assert parse_limit(None) is None and parse_limit(" ") is None
    assert parse_limit("MAX") == "max" and parse_limit("250000") == 250000.0 and parse_limit("12.5") == 12.5
    for text in ("0", "-1", "nan", "inf", "lots", "1e300", "1_000", "+5", "0x10"):
        with pytest.raises(ValueError):
            parse_limit(text)


def test_status_line_never_shows_zero_for_a_model_without_a_price(tmp_path):
    # s-1 and the block hold one priced request ($0.45, as above) and one of a model without a
    # price: the sums are marked "*" (partial). A session of the unpriced model alone is "n/a".
    project = tmp_path / "projects" / "-home-dev-app"
    write_lines(project / "s-1.jsonl", [
        assistant_line(msg_id="m1", uuid="u1", session="s-1", ts="2025-10-01T10:00:00Z", input_tokens=100_000, output_tokens=10_000),
        assistant_line(msg_id="m2", uuid="u2", session="s-1", ts="2025-10-01T11:00:00Z", input_tokens=5_000, model="claude-experimental-9"),
    ])
    write_lines(project / "s-2.jsonl", [
        assistant_line(msg_id="m3", uuid="u3", session="s-2", ts="2025-10-01T11:30:00Z", input_tokens=5_000, model="claude-experimental-9"),
    ])
    now = us("2025-10-01T12:00:00Z")
    # Active minutes 10:00 -> 11:30 = 90; known cost $0.45 / 90 x 60 = $0.30 per hour (known costs only).
    assert status_line({"session_id": "s-1"}, [str(tmp_path)], zone="UTC", now_us=now) == \
        "$0.45* session | $0.45* today | $0.45* block (3h 00m left) | $0.30/h, 1,333 tok/min"
    assert status_line({"session_id": "s-2"}, [str(tmp_path)], zone="UTC", now_us=now).startswith("n/a session | ")


def test_cents_round_half_up_as_in_the_dashboard():
    from claude_usage.rows import money_text

    # 7.215 is stored as 7.21499999999999985789...; the browser's Intl.NumberFormat shows $7.22.
    assert [money_text(v) for v in (7.215, 1.815, 0.125, 2.675, 1234.5, 0.0)] == \
        ["$7.22", "$1.82", "$0.13", "$2.68", "$1,234.50", "$0.00"]


def test_blocks_json_names_the_models_without_a_price(tmp_path):
    project = tmp_path / "projects" / "-home-dev-app"
    write_lines(project / "s.jsonl", [assistant_line(ts="2025-10-01T10:00:00Z", input_tokens=10, model="claude-experimental-9")])
    result = runner.invoke(app, ["blocks", "--json", "--data-dir", str(tmp_path), "--no-index"])
    document = json.loads(result.stdout)
    assert document["unpricedModels"] == ["claude-experimental-9"]
    assert document["blocks"][0]["costUsd"] is None


def test_status_line_finds_the_active_block_of_a_long_chain_without_pauses(tmp_path):
    # A request every 30 min (:10 and :40), 1,000 input tokens each ($0.003 with Sonnet 4.5),
    # from 2025-10-01 00:10 to 2025-10-02 13:40 UTC, never a pause. Blocks run 00-05, 05-10, ...
    # 20-01, 01-06, 06-11, 11-16: the active block at 2025-10-02 14:00 is 11:00-16:00 with the six
    # requests 11:10 ... 13:40 ($0.018, 2 h left). Starting from "now - 26 h" (10-01 12:00) would
    # wrongly give 13:00-18:00. Active minutes 11:10 -> 13:40 = 150: 6,000 / 150 = 40 tokens per
    # minute, $0.018 / 150 x 60 = $0.0072 per hour. Today (UTC): 00:10 ... 13:40 = 28 requests = $0.084.
    lines, n = [], 0
    for day, last_hour in ((1, 23), (2, 13)):
        for hour in range(last_hour + 1):
            for minute in (10, 40):
                n += 1
                lines.append(assistant_line(msg_id=f"m{n}", uuid=f"u{n}", ts=f"2025-10-{day:02d}T{hour:02d}:{minute}:00Z",
                                            input_tokens=1000))
    write_lines(tmp_path / "projects" / "-home-dev-app" / "s.jsonl", lines)
    assert status_line({}, [str(tmp_path)], zone="UTC", now_us=us("2025-10-02T14:00:00Z")) == \
        "no session | $0.08 today | $0.02 block (2h 00m left) | $0.01/h, 40 tok/min"


def test_status_line_and_blocks_use_the_bill_exact_costs(tmp_path):
    # Case 20's session: Opus 4.7 10 * 5 + 300 * 25 + 5 searches * 10,000 (USD per million units)
    # and Sonnet 4.6 20 * 3 + 1,000 * 0.3 + 50 * 15 + 1 search: $0.05755 + $0.01111 = $0.06866,
    # shown as $0.07 (without the searches it would be $0.01866, "$0.02").
    line = status_line({"session_id": "5d3c1b9e-0000-4000-8000-000000002001"},
                       [str(BUGCASES / "20-web-search-fee" / "claude")], zone="UTC",
                       now_us=us("2026-05-01T12:00:00Z"), index_path=str(tmp_path / "i.sqlite"))
    assert line.startswith("$0.07 session | $0.07 today | $0.07 block")
    # Case 21 in blocks: the fast prices of expected.json, $0.285 + $0.18 + $0.03 + $0.06 = $0.555,
    # and the Opus 4.5 fast request counted in its block.
    case = "21-fast-mode-prices"
    result = runner.invoke(app, ["blocks", "--json", "--data-dir", str(BUGCASES / case / "claude"), "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    blocks = [b for b in json.loads(result.stdout)["blocks"] if not b["isGap"]]
    assert sum(b["costUsd"] for b in blocks) == pytest.approx(bugcase_expected(case)["totals"]["cost_usd"], abs=1e-9)
    assert [b["fastUnpricedRequests"] for b in blocks] == [0, 0, 1, 0]
