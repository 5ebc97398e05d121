"""The Cache view in a real browser (Debian Chromium, Playwright) against real servers, at 1400x900
and 390x844: the numbers of the curated fixture's expected file (savings at the rates written in
test_cache_report), the three charts, the tables by model and by project, no sideways scroll on a
phone, the cost mode off, and a live update when a transcript grows."""

from __future__ import annotations

import json

import pytest

from browser import LAPTOP, PHONE, Watched, no_sideways_scroll, table_rows
from conftest import RunningServer, expected, writable_copy
from helpers import assistant_line
from test_cache_report import hand_set, stated_savings  # noqa: F401  (hand_set is a fixture)
from test_cli_layout import usd


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = writable_copy("curated", tmp_path_factory.mktemp("cache") / "curated")
    with RunningServer("--data-dir", str(data), "--tz", "UTC") as running:
        yield running


def card(page, label: str) -> str:
    return page.locator(".card", has=page.locator(".label", has_text=label)).locator(".value").inner_text()


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1400", "390"])
def test_cache_view_shows_the_stated_numbers(server, browser, size):
    exp = expected("curated")
    totals = exp["totals"]
    watched = Watched(browser, *size)
    page = watched.open(f"{server.url}/#/cache")
    page.wait_for_selector('table[aria-label="cache-models"] tfoot')
    # Hit ratio 36,970,931 / (60,832 + 2,465,217 + 36,970,931) = 93.6%; saved $140.20; 1h extra $0.42.
    hit = totals["cache_read_tokens"] / (totals["input_tokens"] + totals["cache_creation_tokens"] + totals["cache_read_tokens"])
    saved, extra = stated_savings(exp["by_model"])
    assert card(page, "Hit ratio") == f"{hit * 100:.1f}%"
    assert card(page, "Saved by caching") == usd(saved)
    assert card(page, "1h writes cost extra") == usd(extra)
    assert card(page, "Cache writes") == f"{totals['cache_creation_tokens']:,}"
    headers = page.locator('table[aria-label="cache-models"] thead th').evaluate_all(
        "cells => cells.filter(c => c.offsetParent !== null).map(c => c.innerText.trim())")
    assert headers == (["Model", "Hit ratio", "Saved"] if size == PHONE else
                       ["Model", "Hit ratio", "Cache read", "Write 5m", "Write 1h", "1h share", "Saved", "1h extra"])
    shown = {row[0]: row for row in table_rows(page, "cache-models")}  # every cell, shown or not: Saved is the 7th
    for model, row in exp["by_model"].items():
        short = model.removeprefix("claude-").rsplit("-2025", 1)[0]
        assert shown[short][6] == usd(stated_savings({model: row})[0]), model
    projects = table_rows(page, "cache-projects")
    assert len(projects) == len(exp["by_project"])
    # The charts are drawn (plotly's svg in each), the cost mode is off, nothing scrolls sideways.
    page.wait_for_function("() => document.querySelectorAll('main .chart .main-svg').length >= 3", timeout=30000)
    assert page.locator("#mode").is_disabled()
    assert no_sideways_scroll(page)
    watched.close()
    assert watched.problems == []


def test_cache_view_follows_a_growing_transcript(hand_set, browser, tmp_path):  # noqa: F811
    with RunningServer("--data-dir", str(hand_set), "--tz", "UTC", "--index", str(tmp_path / "i.sqlite")) as live:
        watched = Watched(browser)
        page = watched.open(f"{live.url}/#/cache")
        page.wait_for_selector(".stamp.live")
        assert card(page, "Saved by caching") == "$5.40"  # 2.70 (A) + 2.70 (C), see test_cache_report
        # One more Sonnet 4 request reading 1,000,000 cached tokens: 1,000,000 x (3.00 - 0.30) / 1e6 = $2.70 more.
        line = assistant_line(msg_id="E", uuid="e", session="s-1", model="claude-sonnet-4-20250514",
                              ts="2025-06-10T12:00:00.000Z", input_tokens=10, cache_read=1_000_000)
        with open(hand_set / "projects" / "-home-dev-app" / "s-1.jsonl", "a") as handle:
            handle.write(json.dumps(line) + "\n")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.card')].some(c => c.innerText.includes('Saved by caching')"
            " && c.querySelector('.value').innerText === '$8.10')", timeout=20000)
        # The sonnet-4 row: 2,000,000 read of (2,000,000 + 1,510 input + 300,000 written) = 86.9%.
        row = {r[0]: r for r in table_rows(page, "cache-models")}["sonnet-4"]
        assert row[1] == f"{2_000_000 / 2_301_510 * 100:.1f}%" and row[6] == "$5.40"
        watched.close()
        assert watched.problems == []
