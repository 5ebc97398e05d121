"""The web dashboard in a real browser (headless Debian Chromium driven by Playwright) against a
real `claude-usage serve` on a copy of a shared fixture set.

Screenshots of every view at 1400x900 and 390x844 go to a temporary directory (never into the repo).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from browser import LAPTOP, PHONE, Watched, no_sideways_scroll, number, table_rows
from conftest import BUGCASES, RunningServer, expected, writable_copy
from helpers import assistant_line

VIEWS = ["summary", "daily", "monthly", "hourly", "models", "projects", "cache", "sessions", "tools", "logs", "todos"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return writable_copy("curated", tmp_path_factory.mktemp("dash") / "curated")


@pytest.fixture(scope="module")
def server(data):
    with RunningServer("--data-dir", str(data), "--tz", "UTC") as running:
        yield running


def test_every_view_loads_without_errors_and_screenshots(server, browser, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    day = sorted(expected("curated")["by_day"]["UTC"])[-1]
    project = sorted(expected("curated")["by_project"])[0]
    session = sorted(expected("curated")["by_session"])[0]
    pages = VIEWS + [f"daily/{day}", f"projects/{project}", f"sessions/{session}", "hourly?show=heatmap", "hourly?show=table"]
    for width, height in (LAPTOP, PHONE):
        watched = Watched(browser, width, height)
        for view in pages:
            page = watched.open(f"{server.url}/#/{view}")
            assert page.locator("#banner").is_hidden(), view
            # The user and machine filters belong to a team server: not shown here, not even disabled.
            assert page.locator("#user").is_hidden() and page.locator("#machine").is_hidden(), view
            if view == "summary":  # its two small tables fit a phone without scrolling sideways
                for label in ("top-sessions", "top-projects"):
                    fits = page.locator(f'table[aria-label="{label}"]').evaluate(
                        "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
                    assert fits, (label, width)
            if view == "daily" and width == 390:  # the token kinds give way to totals and cost
                assert page.locator('table[aria-label="days"]').evaluate(
                    "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
                assert page.locator('table[aria-label="days"] th', has_text="Cache read").is_hidden()
            name = re.sub(r"[^a-z0-9]+", "-", view)[:40]
            page.screenshot(path=str(shots / f"{name}-{width}x{height}.png"), full_page=True)
        watched.close()
        assert watched.problems == [], watched.problems


def test_summary_total_cost_equals_expected(server, browser):
    watched = Watched(browser)
    page = watched.open(f"{server.url}/#/summary")
    shown = page.locator('[data-testid="total-cost"] .value').inner_text()
    total = expected("curated")["totals"]["cost_usd"]  # 33.415974 USD
    assert shown == f"${total:,.2f}"  # as displayed in en-US: "$33.42"
    watched.close()
    assert watched.problems == []


def test_clicking_a_day_opens_its_hours_summing_to_the_row(server, browser):
    watched = Watched(browser)
    page = watched.open(f"{server.url}/#/daily")
    rows = table_rows(page, "days")
    first = rows[0]  # newest day first: Date, Requests, Input, Output, Cache create, Cache read, Total, Cost
    page.locator('table[aria-label="days"] tbody tr').first.click()
    page.wait_for_selector('table[aria-label="hours"]')
    hours = table_rows(page, "hours")
    assert len(hours) == 24
    for column in range(1, 7):  # requests and every token column
        assert sum(number(h[column]) for h in hours) == number(first[column]), column
    exp = expected("curated")["by_day"]["UTC"][first[0]]
    assert number(first[6]) == exp["total_tokens"] and number(first[1]) == exp["requests"]
    watched.close()
    assert watched.problems == []


def test_project_search_filters_the_table(server, browser):
    watched = Watched(browser)
    page = watched.open(f"{server.url}/#/projects")
    assert len(table_rows(page, "projects")) == len(expected("curated")["by_project"])
    page.get_by_label("Search projects").fill("JSSound")
    page.wait_for_function("() => document.querySelectorAll('table[aria-label=projects] tbody tr').length === 1")
    (row,) = table_rows(page, "projects")
    assert "JSSoundRecorder" in row[0]
    assert "search=JSSound" in page.url  # shareable
    watched.close()
    assert watched.problems == []


def test_time_zone_changes_the_day_buckets(server, browser):
    watched = Watched(browser)
    page = watched.open(f"{server.url}/#/daily")
    page.locator("#tz").select_option("Asia/Tokyo")
    page.wait_for_function("() => location.hash.includes('tz=Asia%2FTokyo') || location.hash.includes('tz=Asia/Tokyo')")
    page.wait_for_selector('h2:has-text("Days (Asia/Tokyo)")')
    days = {row[0]: row for row in table_rows(page, "days")}
    exp = expected("curated")["by_day"]["Asia/Tokyo"]
    assert sorted(days) == sorted(exp)
    for day, row in days.items():
        assert number(row[1]) == exp[day]["requests"] and number(row[6]) == exp[day]["total_tokens"], day
    watched.close()
    assert watched.problems == []


def test_csv_export_downloads_the_rows_shown(server, browser):
    watched = Watched(browser)
    page = watched.open(f"{server.url}/#/daily")
    shown = table_rows(page, "days")
    with page.expect_download() as info:
        page.locator("section", has=page.locator('table[aria-label="days"]')).get_by_role("button", name="Export CSV").click()
    lines = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    assert lines[0][:3] == ["Date", "Requests", "Input"]
    assert [line[0] for line in lines[1:]] == [row[0] for row in shown]
    exp = expected("curated")["by_day"]["UTC"]
    assert {line[0]: int(line[6]) for line in lines[1:]} == {d: r["total_tokens"] for d, r in exp.items()}
    watched.close()
    assert watched.problems == []


def test_chart_png_download(server, browser):
    watched = Watched(browser)
    page = watched.open(f"{server.url}/#/monthly")
    page.wait_for_selector(".chart .main-svg")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PNG").first.click()
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    watched.close()
    assert watched.problems == []


def test_live_update_and_error_banner(data, browser, tmp_path):
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(tmp_path / "i.sqlite")) as live:
        watched = Watched(browser)
        page = watched.open(f"{live.url}/#/daily")
        page.wait_for_selector(".stamp.live")
        before = {row[0]: row for row in table_rows(page, "days")}
        day = "2025-06-14"
        # One more request on 2025-06-14: 1,000 input + 10 output tokens.
        target = sorted((data / "projects").rglob("*.jsonl"))[0]
        line = assistant_line(msg_id="msg_dashboard_live", input_tokens=1000, output_tokens=10,
                              model="claude-sonnet-4-20250514", ts=f"{day}T12:00:00.000Z", session="live")
        with open(target, "a") as handle:
            handle.write(json.dumps(line) + "\n")
        page.wait_for_function(
            "([day, requests]) => [...document.querySelectorAll('table[aria-label=days] tbody tr')]"
            ".some(r => r.cells[0].innerText === day && Number(r.cells[1].innerText.replace(/,/g, '')) === requests)",
            arg=[day, int(number(before[day][1])) + 1], timeout=20000)
        after = {row[0]: row for row in table_rows(page, "days")}
        assert number(after[day][6]) == number(before[day][6]) + 1010
        assert watched.problems == []
    # The server has stopped: the page says so instead of going blank.
    page.wait_for_selector("#banner:not([hidden])", timeout=20000)
    assert "server" in page.locator("#banner").inner_text().lower()
    assert page.locator('table[aria-label="days"] tbody tr').count() == len(after)
    watched.close()


def test_active_block_panel_progress_countdown_and_live_update(browser, tmp_path):
    from datetime import datetime, timedelta, timezone

    from helpers import active_block_data, iso_z

    now = datetime.now(timezone.utc)
    transcript = active_block_data(tmp_path / "data", now)
    with RunningServer("--data-dir", str(tmp_path / "data"), "--tz", "UTC", "--index", str(tmp_path / "i.sqlite")) as live:
        watched = Watched(browser)
        page = watched.open(f"{live.url}/#/summary")
        page.wait_for_selector(".stamp.live")
        panel = page.locator('[data-testid="active-block"]')
        # $0.45 + $0.15 = $0.60; 160,000 tokens of the largest past block's 300,000 = 53.3 %.
        assert "$0.60" in panel.inner_text()
        assert "53.3% of 300,000 tokens (estimate: largest past block)" in panel.locator('[data-testid="limit-tokens"]').inner_text()
        # The reset countdown: the block ends at the hour floor of now - 40 min, plus 5 h.
        first = now - timedelta(minutes=40)
        end = first.replace(minute=0, second=0, microsecond=0) + timedelta(hours=5)
        shown = page.locator('[data-testid="reset-countdown"]').inner_text()
        hours, minutes = re.fullmatch(r"(\d+)h (\d\d)m", shown).groups()
        left = (end - datetime.now(timezone.utc)).total_seconds() / 60
        assert abs(int(hours) * 60 + int(minutes) - left) <= 2
        # Live: one more request (40,000 input = $0.12) -> $0.72 and 200,000 tokens = 66.7 %.
        with transcript.open("a") as handle:
            handle.write(json.dumps(assistant_line(msg_id="now3", uuid="now3", session="now", input_tokens=40_000,
                                                   ts=iso_z(datetime.now(timezone.utc)))) + "\n")
        page.wait_for_function("() => document.querySelector('[data-testid=limit-tokens]')?.innerText.includes('66.7%')", timeout=20000)
        assert "$0.72" in page.locator('[data-testid="active-block"]').inner_text()
        # A bad entry is refused in place; the next good one still applies.
        page.fill('input[aria-label^="Token limit"]', "lots")
        page.click('form.tools-form button[type="submit"]')
        assert page.evaluate("() => document.querySelector('input[aria-label^=\"Token limit\"]').validity.valid") is False
        # A limit of the user's own: 200,000 tokens -> 100 % and the warning.
        page.fill('input[aria-label^="Token limit"]', "200000")
        page.click('form.tools-form button[type="submit"]')
        # (The warning may be on already: the projection can pass the estimated limit too.)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=limit-tokens]')?.innerText.includes('(your limit)')", timeout=20000)
        assert "100% of 200,000 tokens (your limit)" in page.locator('[data-testid="limit-tokens"]').inner_text()
        assert page.locator('[data-testid="limit-tokens"].warning').count() == 1
        # Two days of data: the daily chart's axis counts days, not hours or fractions of seconds.
        page.wait_for_selector('[aria-label="daily-cost"] .xtick text')  # redrawn after the new limit
        ticks = page.locator('[aria-label="daily-cost"] .xtick text').evaluate_all("nodes => nodes.map(n => n.textContent)")
        assert ticks and not any(re.search(r"\d:\d\d", tick) for tick in ticks), ticks
        # A request of a model without a price: today's and this month's cards say their costs
        # leave it out ($0.72 stays $0.72).
        assert "priced requests only" not in page.locator('[data-testid="today-cost"]').inner_text()
        with transcript.open("a") as handle:
            handle.write(json.dumps(assistant_line(msg_id="now4", uuid="now4", session="now", input_tokens=5,
                                                   model="claude-opus-9-9-20990101", ts=iso_z(datetime.now(timezone.utc)))) + "\n")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=today-cost]')?.innerText.includes('priced requests only')", timeout=20000)
        assert "priced requests only" in page.locator('[data-testid="month-cost"]').inner_text()
        assert "$0.72" in page.locator('[data-testid="today-cost"]').inner_text()
        assert watched.problems == []
        watched.close()


def test_demo_data_are_labelled_and_fit_a_phone(browser, tmp_path):
    from helpers import env_without_data

    # A user without Claude Code data: the server falls back to the demo, and the page says so.
    with RunningServer(env=env_without_data(tmp_path)) as demo:
        for width, height in (LAPTOP, PHONE):
            watched = Watched(browser, width, height)
            page = watched.open(f"{demo.url}/#/summary")
            page.wait_for_selector("#source-notice:not([hidden])")
            text = page.locator("#source-notice").text_content()  # folded to its headline on a phone
            assert "Demo data" in text and "No Claude Code transcripts found" in text and "--data-dir DIR" in text
            # The demo's session in progress makes an active block with a countdown.
            assert re.fullmatch(r"\d+h \d\dm|\d+m", page.locator('[data-testid="reset-countdown"]').inner_text())
            # Every card's number on one line (eight cards: two rows of four on a laptop).
            lines = page.locator(".cards .card .value").evaluate_all(
                "nodes => nodes.map(n => { const r = document.createRange(); r.selectNodeContents(n); "
                "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })")
            assert lines and set(lines) == {1}, lines
            page = watched.open(f"{demo.url}/#/daily")
            # Nothing (a long path in the notice, a wide table) makes the page scroll sideways.
            assert no_sideways_scroll(page)
            fits = page.locator('table[aria-label="days"]').evaluate(
                "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
            assert fits, width  # the cost is in view without scrolling the table
            assert watched.problems == [], watched.problems
            watched.close()


def test_summary_notes_placeholder_counts_and_shows_searches(browser):
    with RunningServer("--data-dir", str(BUGCASES / "24-placeholder-output-counts" / "claude"), "--tz", "UTC") as running:
        watched = Watched(browser)
        page = watched.open(running.url + "/#/summary")
        note = page.get_by_test_id("pricing-notes").inner_text()
        assert "2 requests with a placeholder output count" in note
        assert "Fixed in Claude Code 2.1.97" in note
        assert page.get_by_text("Web searches").count() == 0  # case 24 has none
        assert watched.problems == []
        watched.close()
    with RunningServer("--data-dir", str(BUGCASES / "20-web-search-fee" / "claude"), "--tz", "UTC") as running:
        watched = Watched(browser)
        page = watched.open(running.url + "/#/summary")
        card = page.locator(".card", has_text="Web searches").inner_text()
        assert "6" in card.split("\n")
        assert page.get_by_test_id("pricing-notes").count() == 0
        assert watched.problems == []
        watched.close()
