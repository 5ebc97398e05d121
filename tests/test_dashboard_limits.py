"""The acceptance test of issue 15, item 1, with a real server, real status-line runs and a real
browser (Debian Chromium, Playwright) at 1400x900 and 390x844: feeding the status line a hook
document with rate limits shows them in the Limits view (and the Summary) a moment later,
pushed over SSE; before any observation the view says how to enable it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from browser import LAPTOP, PHONE, Watched, no_sideways_scroll
from conftest import RunningServer
from helpers import active_block_data
from test_live import EventReader

SIZES = pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1400", "390"])


def feed_status_line(data, index, five: float, seven: float, five_reset_s: int, seven_reset_s: int) -> str:
    """Run `claude-usage statusline` as Claude Code does: the hook document on stdin."""
    hook = {"session_id": "now", "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
            "cost": {"total_cost_usd": 0.61}, "context_window": {"used_percentage": 26, "context_window_size": 200_000},
            "rate_limits": {"five_hour": {"used_percentage": five, "resets_at": five_reset_s},
                            "seven_day": {"used_percentage": seven, "resets_at": seven_reset_s}}}
    proc = subprocess.run([sys.executable, "-m", "claude_usage", "statusline", "--data-dir", str(data), "--index", str(index)],
                          input=json.dumps(hook), capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout


@pytest.fixture()
def setup(tmp_path):
    now = datetime.now(timezone.utc)
    data = tmp_path / "data"
    active_block_data(data, now)  # active block: 160,000 tokens; the largest past block 300,000
    index = tmp_path / "index.sqlite"
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(index)) as server:
        yield server, data, index


@SIZES
def test_a_status_line_feed_shows_in_the_limits_view_and_the_summary_live(setup, browser, size):
    server, data, index = setup
    watched = Watched(browser, *size)
    page = watched.open(f"{server.url}/#/limits")
    # Before any observation: how to enable it, and our estimate (160,000 / 300,000 = 53.3%).
    assert "claude-usage statusline" in page.locator('[data-testid="limits-empty"]').inner_text()
    assert "53.3% of 300,000 tokens" in page.locator('[data-testid="limits-estimate"]').inner_text()
    assert no_sideways_scroll(page)
    page.wait_for_function("document.getElementById('stamp').classList.contains('live')")  # SSE connected
    events = EventReader(server.url)
    assert events.lines.get(timeout=10).startswith(": connected")
    now_s = int(time.time())
    # Resets in 1 h 20 min 30 s and in 4 d 2 h 30 s (the countdowns round to the minute, and
    # the page shows them a moment after this: 1h 20m and 4d 2h).
    line = feed_status_line(data, index, 42, 36, now_s + 4830, now_s + 4 * 86400 + 7230)
    assert line.startswith("Sonnet 4.5 | 5h 42% ↻1h20m · 7d 36% ↻4d2h | ctx 26% | $0.60 session")
    event = events.next_event(timeout=10)
    events.stop.set()
    assert event["type"] == "limits"
    assert event["officialLimits"]["fiveHour"]["usedPercentage"] == 42
    # The view updates itself on that event (no reload).
    page.wait_for_selector('[data-testid="card-five-hour"]', timeout=10_000)
    assert page.locator('[data-testid="card-five-hour"] .value').inner_text() == "42%"
    assert page.locator('[data-testid="card-seven-day"] .value').inner_text() == "36%"
    assert page.locator('[data-testid="card-five-hour"] .sub').inner_text() == "resets in 1h 20m"
    assert page.locator('[data-testid="card-seven-day"] .sub').inner_text() == "resets in 4d 2h"
    assert page.locator('[data-testid="card-estimate"] .value').inner_text() == "53.3%"
    assert page.locator('[data-testid="official-five-hour"] [role=progressbar]').get_attribute("aria-valuenow") == "42"
    assert page.locator('[data-testid="limits-empty"]').count() == 0
    assert no_sideways_scroll(page)
    # The Summary's active-block panel shows the official bars beside our estimate.
    page.goto(f"{server.url}/#/summary")
    page.wait_for_selector('[data-testid="official-five-hour"]')
    assert page.locator('[data-testid="official-five-hour"] .limit-text').inner_text().startswith("Official 5-hour 42% used · resets in 1h 20m")
    assert page.locator('[data-testid="official-seven-day"] .limit-text').inner_text().startswith("Official weekly 36% used · resets in 4d 2h")
    assert no_sideways_scroll(page)
    # The limit reached (a feed at 100%): the Limits view lists the hit, live.
    page.goto(f"{server.url}/#/limits")
    page.wait_for_selector('[data-testid="card-five-hour"]')
    feed_status_line(data, index, 100, 37, now_s + 4830, now_s + 4 * 86400 + 7230)
    page.wait_for_selector('table[aria-label="limit-hits"] tbody tr', timeout=10_000)
    cells = page.locator('table[aria-label="limit-hits"] tbody tr').first.locator("td").all_inner_texts()
    assert cells[1] == "5-hour" and "100%" in " ".join(cells)
    assert page.locator('[data-testid="card-five-hour"] .value').inner_text() == "100%"
    assert no_sideways_scroll(page)
    assert watched.problems == []
    watched.close()
