"""Official limits (issue 15, item 1): the status line shows and records what Claude Code passes
(rate limits, context use, its session cost), /api/v2/limits serves it with our estimate, the
history and the limit hits, sessions carry Claude Code's cost, doctor reconciles the two."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import RunningServer, get
from helpers import active_block_data, assistant_line, write_lines

from claude_usage.official_limits import observation_from_hook
from claude_usage.statusline import status_line

# 1781290000 s = 20,616 days (2026-06-12; 56 years from 1970 with 14 leap days = 20,454 days to
# 2026-01-01, + 162 days to June 12) x 86,400 = 1,781,222,400, + 67,600 s (18:46:40).
FIVE_RESET = 1781290000  # 2026-06-12T18:46:40Z
SEVEN_RESET = 1781730000  # FIVE_RESET + 440,000 s = 2026-06-17T21:00:00Z


def us(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000


def _data(root: Path) -> Path:
    """Sonnet 4.5 at $3 / $15 per million input / output tokens:
    s-1 2026-06-12 10:00  100,000 in + 10,000 out = $0.30 + $0.15 = $0.45
    s-1 2026-06-12 11:00  150,000 in + 20,000 out = $0.45 + $0.30 = $0.75  -> s-1 $1.20
    s-2 2026-06-12 11:30  200,000 in               = $0.60             -> s-2 $0.60
    and a usage-limit message of s-2 at 12:00 naming the reset FIVE_RESET."""
    project = root / "projects" / "-home-dev-app"
    write_lines(project / "s-1.jsonl", [
        assistant_line(msg_id="m1", uuid="u1", session="s-1", ts="2026-06-12T10:00:00Z", input_tokens=100_000, output_tokens=10_000),
        assistant_line(msg_id="m2", uuid="u2", session="s-1", ts="2026-06-12T11:00:00Z", input_tokens=150_000, output_tokens=20_000),
    ])
    write_lines(project / "s-2.jsonl", [
        assistant_line(msg_id="m3", uuid="u3", session="s-2", ts="2026-06-12T11:30:00Z", input_tokens=200_000),
        assistant_line(msg_id="m4", uuid="u4", session="s-2", ts="2026-06-12T12:00:00Z", model="<synthetic>",
                       message_extra={"content": [{"type": "text", "text": f"Claude AI usage limit reached|{FIVE_RESET}"}]},
                       line_extra={"isApiErrorMessage": True}),
    ])
    return root


def hook(session="s-1", five=42, seven=36, cost=1.0, context=26, **extra) -> dict:
    document = {"session_id": session, "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
                "version": "2.1.90", "cost": {"total_cost_usd": cost},
                "context_window": {"total_input_tokens": 52_000, "context_window_size": 200_000, "used_percentage": context},
                "rate_limits": {"five_hour": {"used_percentage": five, "resets_at": FIVE_RESET},
                                "seven_day": {"used_percentage": seven, "resets_at": SEVEN_RESET}}}
    document.update(extra)
    return document


def rows(index: Path) -> list[tuple]:
    with sqlite3.connect(index) as conn:
        return conn.execute("SELECT session, observed_us, five_hour_pct, five_hour_reset_us, seven_day_pct, seven_day_reset_us, "
                            "context_pct, context_size, cost_usd, model FROM limit_observations ORDER BY session, observed_us").fetchall()


def mark(index: Path) -> str:
    with sqlite3.connect(index) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'observations'").fetchone()[0]


def test_status_line_shows_and_records_the_official_limits_and_the_api_serves_them(tmp_path):
    data, index = _data(tmp_path / "data"), tmp_path / "index.sqlite"
    # At 17:26:40 the five-hour window resets in 4,800 s = 1h20m; the weekly one in
    # 1781730000 - 1781285200 = 444,800 s = 7,413 min = 123h 33m = 5d3h (rounded to the hour part).
    line = status_line(hook(), [str(data)], zone="UTC", now_us=us("2026-06-12T17:26:40Z"), index_path=str(index))
    assert line.startswith("Sonnet 4.5 | 5h 42% ↻1h20m · 7d 36% ↻5d3h | ctx 26% | $1.20 session | $1.80 today")
    assert rows(index) == [("s-1", us("2026-06-12T17:26:40Z"), 42.0, FIVE_RESET * 1_000_000, 36.0, SEVEN_RESET * 1_000_000,
                            26.0, 200_000, 1.0, "claude-sonnet-4-5-20250929")]
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(index)) as server:
        answer = get(server.url, "/api/v2/limits", startDate="2026-06-12", endDate="2026-06-12", tz="UTC")
        summary = get(server.url, "/api/v2/summary").json()
        blocks = get(server.url, "/api/v2/blocks").json()
        sessions = {row["sessionId"]: row for row in get(server.url, "/api/v2/sessions").json()["data"]}
        detail = get(server.url, "/api/v2/sessions/s-2").json()
    assert answer.status_code == 200, answer.text
    limits = answer.json()
    official = limits["official"]
    # The reset is in the past by now (this test runs after June 2026): 0 s left, hasReset.
    assert official == {
        "observedAt": "2026-06-12T17:26:40.000Z", "sessionId": "s-1", "model": "claude-sonnet-4-5-20250929",
        "fiveHour": {"usedPercentage": 42.0, "resetsAt": "2026-06-12T18:46:40.000Z", "resetsInSeconds": 0, "hasReset": True},
        "sevenDay": {"usedPercentage": 36.0, "resetsAt": "2026-06-17T21:00:00.000Z", "resetsInSeconds": 0, "hasReset": True},
        "context": {"usedPercentage": 26.0, "windowSize": 200_000}, "claudeCodeCostUsd": 1.0,
    }
    # One local day: 86,400 s / 720 points = 120 s buckets; 17:26:40 is in the one from 17:26:00.
    assert limits["history"] == {"bucketSeconds": 120, "points": [
        {"at": "2026-06-12T17:26:00.000Z", "fiveHourPercent": 42.0, "sevenDayPercent": 36.0, "observations": 1}]}
    assert limits["hits"] == [{"at": "2026-06-12T12:00:00.000Z", "source": "transcript", "window": None,
                               "resetsAt": "2026-06-12T18:46:40.000Z", "usedPercentage": None}]
    assert (limits["since"], limits["until"], limits["timezone"]) == ("2026-06-12T00:00:00.000Z", "2026-06-13T00:00:00.000Z", "UTC")
    assert limits["estimate"] is None  # no block is active today
    assert summary["officialLimits"] == official and blocks["officialLimits"] == official
    assert sessions["s-1"]["claudeCodeCostUsd"] == 1.0 and sessions["s-2"]["claudeCodeCostUsd"] is None
    assert detail["claudeCodeCostUsd"] is None


def test_one_row_per_session_and_minute_with_the_latest_values(tmp_path):
    data, index = _data(tmp_path / "data"), tmp_path / "index.sqlite"

    def feed(at: str, **values) -> None:
        status_line(hook(**values), [str(data)], zone="UTC", now_us=us(at), index_path=str(index))

    feed("2026-06-12T17:00:05Z", five=40)
    first_mark = mark(index)
    feed("2026-06-12T17:00:50Z", five=41, cost=1.1)  # the same minute: the row takes the later values
    assert [(r[0], r[1], r[2], r[8]) for r in rows(index)] == [("s-1", us("2026-06-12T17:00:50Z"), 41.0, 1.1)]
    second_mark = mark(index)
    assert int(second_mark) == int(first_mark) + 1
    feed("2026-06-12T17:00:55Z", five=41, cost=1.1)  # nothing new: nothing written, the mark stays
    assert mark(index) == second_mark and rows(index)[0][1] == us("2026-06-12T17:00:50Z")
    feed("2026-06-12T17:01:10Z", five=43, cost=1.2)  # the next minute: a second row
    feed("2026-06-12T17:01:20Z", session="s-2", five=43, cost=0.5)  # another session, same minute: its own row
    assert [(r[0], r[1], r[2], r[8]) for r in rows(index)] == [
        ("s-1", us("2026-06-12T17:00:50Z"), 41.0, 1.1), ("s-1", us("2026-06-12T17:01:10Z"), 43.0, 1.2),
        ("s-2", us("2026-06-12T17:01:20Z"), 43.0, 0.5)]


def test_without_rate_limits_the_line_is_printed_and_only_the_cost_is_kept(tmp_path):
    data, index = _data(tmp_path / "data"), tmp_path / "index.sqlite"
    at = us("2026-06-12T17:26:40Z")
    api_user = {"session_id": "s-1", "model": {"display_name": "Sonnet 4.5"}, "cost": {"total_cost_usd": 1.25}}
    line = status_line(api_user, [str(data)], zone="UTC", now_us=at, index_path=str(index))
    assert line.startswith("Sonnet 4.5 | $1.20 session | ")  # no "5h", no "ctx"
    # A row without limits (documented: Claude Code's session cost is kept for API users too).
    assert rows(index) == [("s-1", at, None, None, None, None, None, None, 1.25, None)]
    # An empty document records nothing.
    status_line({}, [str(data)], zone="UTC", now_us=at + 60_000_000, index_path=str(index))
    assert len(rows(index)) == 1
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(index)) as server:
        limits = get(server.url, "/api/v2/limits").json()
        session = get(server.url, "/api/v2/sessions/s-1").json()
    assert limits["official"] is None and limits["history"]["points"] == []
    assert session["claudeCodeCostUsd"] == 1.25


HOSTILE = [
    {"rate_limits": "lots"},
    {"rate_limits": [1, 2]},
    {"rate_limits": {"five_hour": 42, "seven_day": None}},
    {"rate_limits": {"five_hour": {"used_percentage": "42", "resets_at": "tomorrow"}}},
    {"rate_limits": {"five_hour": {"used_percentage": True, "resets_at": True}}},
    {"rate_limits": {"five_hour": {"used_percentage": -5, "resets_at": -1}}},
    {"rate_limits": {"five_hour": {"used_percentage": math.nan, "resets_at": math.inf}}},
    {"rate_limits": {"five_hour": {"used_percentage": 1e308, "resets_at": 10**400}}},
    {"rate_limits": {"seven_day": {"used_percentage": [42], "resets_at": {"at": 1}}}},
    {"context_window": {"used_percentage": 250, "context_window_size": -1}},
    {"context_window": "full", "cost": {"total_cost_usd": -3}},
    {"cost": {"total_cost_usd": math.inf}, "session_id": 12},
    {"cost": [0.5], "session_id": "x" * 5000, "model": {"id": "\x00evil"}},
]


@pytest.mark.parametrize("document", HOSTILE)
def test_hostile_values_are_treated_as_absent(tmp_path, document):
    data, index = _data(tmp_path / "data"), tmp_path / "index.sqlite"
    observation = observation_from_hook(document, 1)
    assert (observation.five_hour_pct, observation.five_hour_reset_us, observation.seven_day_pct,
            observation.seven_day_reset_us, observation.context_pct, observation.context_size,
            observation.cost_usd, observation.session, observation.model) == (None, None, None, None, None, None, None, "", None)
    line = status_line(document, [str(data)], zone="UTC", now_us=us("2026-06-12T17:26:40Z"), index_path=str(index))
    assert "$1.80 today" in line and line.isprintable() and "5h" not in line and rows(index) == []


def test_hostile_json_on_stdin_still_prints_one_line(tmp_path):
    data = _data(tmp_path / "data")
    # NaN, Infinity and a 400-digit integer are what Python's JSON reader accepts beyond JSON.
    text = ('{"session_id": "s-1", "rate_limits": {"five_hour": {"used_percentage": NaN, "resets_at": Infinity}, '
            '"seven_day": {"used_percentage": ' + "9" * 400 + ', "resets_at": -Infinity}}, "cost": {"total_cost_usd": NaN}}')
    proc = subprocess.run([sys.executable, "-m", "claude_usage", "statusline", "--data-dir", str(data), "--tz", "UTC",
                           "--index", str(tmp_path / "i.sqlite")], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("$1.20 session | ") and proc.stdout.count("\n") == 1
    assert rows(tmp_path / "i.sqlite") == []


def test_limit_hits_and_our_estimate(tmp_path):
    now = datetime.now(timezone.utc)
    active_block_data(tmp_path / "data", now)  # active block 160,000 tokens, $0.60; the past one 300,000
    index = tmp_path / "index.sqlite"
    now_us = int(now.timestamp() * 1_000_000)
    reset = int(now.timestamp()) + 3600
    # Two observations at 100% or more of the same five-hour window: one hit, at the first.
    for minutes, five in ((-30, 100), (-20, 104.5)):
        document = hook(session="now", five=five, seven=61)
        document["rate_limits"]["five_hour"]["resets_at"] = reset
        status_line(document, [str(tmp_path / "data")], zone="UTC", now_us=now_us + minutes * 60_000_000, index_path=str(index))
    with RunningServer("--data-dir", str(tmp_path / "data"), "--tz", "UTC", "--index", str(index)) as server:
        limits = get(server.url, "/api/v2/limits", hours=2).json()
    first = datetime.fromtimestamp((now_us - 30 * 60_000_000) // 1000 / 1000, timezone.utc)
    assert limits["hits"] == [{"at": first.strftime("%Y-%m-%dT%H:%M:%S.") + f"{first.microsecond // 1000:03d}Z",
                               "source": "statusLine", "window": "fiveHour",
                               "resetsAt": datetime.fromtimestamp(reset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                               "usedPercentage": 104.5}]
    estimate = limits["estimate"]
    # 160,000 of the largest past block's 300,000 tokens = 53.33...% -> 53.3.
    assert (estimate["totalTokens"], estimate["limitTokens"], estimate["percentUsed"], estimate["costUsd"]) == (160_000, 300_000, 53.3, 0.6)
    assert estimate["limitSource"] == "estimate: largest past block"
    assert limits["official"]["fiveHour"]["usedPercentage"] == 104.5 and limits["official"]["sevenDay"]["usedPercentage"] == 61.0


def test_limits_endpoint_refuses_bad_parameters(tmp_path):
    data = _data(tmp_path / "data")
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(tmp_path / "i.sqlite")) as server:
        for params, named in (({"hours": 0}, "hours"), ({"hours": "abc"}, "hours"), ({"hours": 10**6}, "hours"),
                              ({"startDate": "2026-13-01"}, "startDate"), ({"tz": "Mars/Base"}, "tz"),
                              ({"project": "x"}, "project")):
            answer = get(server.url, "/api/v2/limits", **params)
            assert answer.status_code == 400, (params, answer.text)
            body = answer.json()
            assert body["error"] in ("bad_parameter", "validation_error") and named in body["message"], body
        # Dates and hours together: the later start. A span over 366 days keeps its last 366.
        both = get(server.url, "/api/v2/limits", startDate="2026-06-01", endDate="2026-06-12", hours=5, tz="UTC").json()
        long = get(server.url, "/api/v2/limits", startDate="2020-01-01", endDate="2026-01-01", tz="UTC").json()
        schema = get(server.url, "/openapi.json").json()
    assert (both["since"], both["until"]) == ("2026-06-12T19:00:00.000Z", "2026-06-13T00:00:00.000Z")
    # 2026-01-02T00:00Z minus 366 x 24 h = 2025-01-01T00:00Z (2025 has 365 days).
    assert (long["since"], long["until"]) == ("2025-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z")
    operation = schema["paths"]["/api/v2/limits"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"tz", "startDate", "endDate", "hours"}
    assert "409" in operation["responses"] and "400" in operation["responses"]


def test_doctor_reports_sessions_whose_claude_code_cost_differs_by_more_than_5_percent(tmp_path):
    data, index = _data(tmp_path / "data"), tmp_path / "index.sqlite"
    at = us("2026-06-12T17:26:40Z")
    # s-1: ours $1.20, Claude Code's $1.00: +$0.20 = +20% of $1.00 -> reported.
    # s-2: ours $0.60, Claude Code's $0.58: +$0.02 = +3.4% -> within 5%, not reported.
    # s-2's first observation ($0.40) is superseded by the later one. s-x has no transcript here:
    # recorded, not compared.
    status_line(hook(session="s-2", cost=0.40), [str(data)], zone="UTC", now_us=at - 120_000_000, index_path=str(index))
    status_line(hook(session="s-1", cost=1.00), [str(data)], zone="UTC", now_us=at, index_path=str(index))
    status_line(hook(session="s-2", cost=0.58), [str(data)], zone="UTC", now_us=at, index_path=str(index))
    status_line(hook(session="s-x", cost=2.00), [str(data)], zone="UTC", now_us=at, index_path=str(index))
    base = [sys.executable, "-m", "claude_usage"]
    where = ["--data-dir", str(data), "--index", str(index)]
    doctor = json.loads(subprocess.run([*base, "doctor", *where, "--json"], capture_output=True, text=True, timeout=60, check=True).stdout)
    assert doctor["claudeCodeCosts"] == {"observedSessions": 3, "comparedSessions": 2, "tolerancePercent": 5.0, "mismatches": [
        {"sessionId": "s-1", "claudeCodeCostUsd": 1.0, "costUsd": 1.2, "differenceUsd": 0.2, "differencePercent": 20.0}]}
    text = subprocess.run([*base, "doctor", *where], capture_output=True, text=True, timeout=60, check=True,
                          env={**os.environ, "COLUMNS": "200"}).stdout
    assert "│ 3 sessions recorded; 2 compared, 1 differs from ours by more than 5% (below)" in text
    row = next(line for line in text.splitlines() if "s-1" in line)
    assert [cell.strip() for cell in row.strip("│┃ ").split("│")] == ["s-1", "$1.0000", "$1.2000", "+$0.2000", "+20.0%"]
    listed = json.loads(subprocess.run([*base, "sessions", *where, "--tz", "UTC", "--json"], capture_output=True, text=True, timeout=60, check=True).stdout)
    assert {r["sessionId"]: r["claudeCodeCostUsd"] for r in listed["sessions"]} == {"s-1": 1.0, "s-2": 0.58}


def test_observations_outlive_a_rebuild_of_the_store(tmp_path):
    data, index = _data(tmp_path / "data"), tmp_path / "index.sqlite"
    status_line(hook(), [str(data)], zone="UTC", now_us=us("2026-06-12T17:26:40Z"), index_path=str(index))
    kept = rows(index)
    with sqlite3.connect(index) as conn:  # a store written by another version: rebuilt on opening
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    status_line({}, [str(data)], zone="UTC", now_us=us("2026-06-12T17:30:00Z"), index_path=str(index))
    assert rows(index) == kept
