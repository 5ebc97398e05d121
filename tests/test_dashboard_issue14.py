"""Issue 14 in a real browser (Debian Chromium, Playwright) against real servers, at 1400x900 and
390x844: the bugs seen (hour tables, the day chart, the heatmap, filters on Tools/Logs/Todos, the
session page, phone layouts) and what users expect (titles, periods, stacked costs, error rates,
one format)."""

from __future__ import annotations

import os
import re
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from browser import LAPTOP, PHONE, Watched, no_sideways_scroll, number, table_rows
from conftest import RunningServer, expected, writable_copy
from test_issue14_data import spread  # noqa: F401  (the fixture of hand-counted tool calls, logs and todos)

SIZES = pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["1400", "390"])


def usd(value: float) -> str:
    return f"${Decimal(repr(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = writable_copy("curated", tmp_path_factory.mktemp("issue14") / "curated")
    with RunningServer("--data-dir", str(data), "--tz", "UTC") as running:
        yield running


def boxes(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect(); return {x: r.left, y: r.top, r: r.right, b: r.bottom}; })")


def overlapping(found: list[dict]) -> list[tuple[dict, dict]]:
    return [(a, b) for i, a in enumerate(found) for b in found[i + 1:]
            if a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]]


# -- bug 2: hour tables ------------------------------------------------------------------------------


@SIZES
def test_hour_table_total_row_and_empty_hours(server, browser, size):
    watched = Watched(browser, *size)
    page = watched.open(f"{server.url}/#/daily/2025-11-29")
    page.wait_for_selector('table[aria-label="hours"] tfoot')
    total = page.locator('table[aria-label="hours"] tfoot td').evaluate_all("cells => cells.map(c => c.innerText.trim())")
    assert total[0] == "Total"  # not "Total:00"
    rows = {row[0]: row for row in table_rows(page, "hours")}
    assert set(rows["03:00"][1:]) == {"–"}  # an hour without requests: no $0.0000, no zeros
    day = expected("curated")["by_day"]["UTC"]["2025-11-29"]  # 109 requests, $6.213986
    visible = page.locator('table[aria-label="hours"] tfoot td').evaluate_all(
        "cells => cells.filter(c => c.offsetParent !== null).map(c => c.innerText.trim())")
    if size == LAPTOP:  # cost per request: $6.213986 / 109 = $0.0570 -> $0.06, in the totals row too
        assert total[-2:] == [usd(day["cost_usd"]), usd(day["cost_usd"] / day["requests"])]
    else:
        assert visible[-1] == usd(day["cost_usd"])
    watched.close()
    assert watched.problems == []


# -- bug 3: the day chart and the heatmap --------------------------------------------------------------


@SIZES
def test_day_chart_bars_never_overlap_and_labels_stay_apart(server, browser, size):
    watched = Watched(browser, *size)
    page = watched.open(f"{server.url}/#/daily/2025-11-29")
    chart = '[aria-label="hours-2025-11-29"]'
    page.wait_for_selector(f"{chart} .xtick text")
    kinds = page.locator(chart).evaluate("gd => gd.data.map(t => t.type + ':' + (t.yaxis || 'y'))")
    assert kinds == ["bar:y", "scatter:y2"]  # one set of bars; the requests a line on their own axis
    ticks = boxes(page, f"{chart} .xtick text")
    assert len(ticks) >= 8 and overlapping(ticks) == []
    legend = boxes(page, f"{chart} .legend")[0]
    for title in boxes(page, f"{chart} .g-ytitle, {chart} .g-y2title"):
        assert overlapping([legend, title]) == [], "an axis title runs into the legend"
    watched.close()
    assert watched.problems == []


HEAT_PIXELS = """gd => new Promise(done => {
  const image = gd.querySelector('.hm image');
  const picture = new Image();
  picture.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = picture.naturalWidth; canvas.height = picture.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(picture, 0, 0);
    const [x0, y0, w, h] = ['x', 'y', 'width', 'height'].map(a => Number(image.getAttribute(a)));
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, trace = gd.data[0];
    const colour = (row, hour) => {
      const x = Math.floor((xa.c2p(hour) - x0) * picture.naturalWidth / w);
      const y = Math.floor((ya.c2p(row) - y0) * picture.naturalHeight / h);
      return Array.from(context.getImageData(x, y, 1, 1).data);
    };
    const cells = [];
    trace.z.forEach((row, r) => row.forEach((value, hour) => cells.push({r, hour, value})));
    const used = cells.filter(c => c.value != null).sort((a, b) => a.value - b.value);
    const empty = cells.find(c => c.value == null);
    done({lowest: colour(used[0].r, used[0].hour), highest: colour(used.at(-1).r, used.at(-1).hour),
          empty: colour(empty.r, empty.hour), values: [used[0].value, used.at(-1).value]});
  };
  picture.src = image.getAttribute('href') || image.getAttribute('xlink:href');
})"""


def luminance(rgba: list[int]) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@SIZES
def test_heatmap_cost_reads_as_intensity_and_empty_cells_are_empty(server, browser, size):
    watched = Watched(browser, *size)
    page = watched.open(f"{server.url}/#/hourly?show=heatmap")
    page.wait_for_selector('[aria-label="heatmap"] .hm image')
    found = page.locator('[aria-label="heatmap"]').evaluate(HEAT_PIXELS)
    low, high = found["values"]
    assert low < high
    # The most expensive hour is darker than the cheapest (it was nearly white, $0 the darkest).
    assert luminance(found["highest"]) < luminance(found["lowest"]) - 0.3, found
    assert found["empty"][3] == 0 and found["lowest"][3] == 255  # an empty cell is not drawn at all
    ticks = boxes(page, '[aria-label="heatmap"] .xtick text')
    assert overlapping(ticks) == [] and (len(ticks) == 24 if size == LAPTOP else len(ticks) == 8)
    watched.close()
    assert watched.problems == []


# -- bug 4: the filters on Tools & MCP, Logs, Todos ----------------------------------------------------


def test_filters_apply_to_tools_logs_and_todos(browser, spread):  # noqa: F811
    root, logs = spread
    with RunningServer("--data-dir", str(root), "--tz", "UTC", env={**os.environ, "MCP_LOGS_PATH": str(logs)}) as running:
        watched = Watched(browser, *LAPTOP)
        page = watched.open(f"{running.url}/#/tools")
        cards = lambda: dict(zip(page.locator(".card .label").all_inner_texts(), page.locator(".card .value").all_inner_texts()))  # noqa: E731
        assert cards()["Tool calls"] == "6"
        page.locator("#startDate").fill("2025-10-02")
        page.locator("#startDate").dispatch_event("change")
        page.wait_for_function("() => document.querySelector('.card .value')?.innerText === '4'")  # t3-t6
        assert page.locator("#mode").is_disabled() and not page.locator("#model").is_disabled()
        assert "cost mode is off" in page.get_by_test_id("filter-note").inner_text()
        page = watched.open(f"{running.url}/#/tools?project=-home-dev-site")
        assert cards()["Tool calls"] == "2" and cards()["MCP calls"] == "1"  # t5, t6
        page = watched.open(f"{running.url}/#/logs?startDate=2025-10-04")
        assert [row[0] for row in table_rows(page, "log files")] == ["2025-10-03T23-30-00-000Z.jsonl"]
        assert page.locator("#model").is_disabled() and page.locator("#mode").is_disabled()
        page = watched.open(f"{running.url}/#/todos?project=-home-dev-site")
        assert [row[0] for row in table_rows(page, "todo lists")] == ["b1"]
        page = watched.open(f"{running.url}/#/todos?model=claude-opus-4-1-20250805")  # off here: all three
        assert len(table_rows(page, "todo lists")) == 3
        watched.close()
        assert watched.problems == []  # no request with a filter the endpoint refuses


# -- bug 5: the session page -------------------------------------------------------------------------


def test_session_page_fits_and_tells_subagents_without_meta(server, browser):
    watched = Watched(browser, *LAPTOP)
    page = watched.open(f"{server.url}/#/sessions/cb2e607c-c758-415a-8b45-c49e4631906a")
    page.wait_for_selector('table[aria-label="session-subagents"]')
    assert page.locator("h1").inner_text() == "How can I make this possible to install as a library with `uv` so I can run from any directory?"
    fits = page.locator('table[aria-label="session-models"]').evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    assert fits  # the whole models table, cost included, in its panel
    agents = {row[0]: row for row in table_rows(page, "session-subagents")}
    # The three subagents of this session have no .meta.json: their id, and their first prompt.
    assert set(agents) == {"645808c9", "2b93909d", "ea02459f"}
    assert agents["645808c9"][1] == "–" and agents["645808c9"][2] == "Warmup (first prompt)"
    timeline = page.locator('[aria-label="session-cb2e607c-timeline"]').evaluate("gd => gd.data.map(t => [t.name, t.x.length])")
    assert timeline == [["Tokens", 87], ["Cost, main", 80], ["Cost, subagent", 7]]  # 87 requests, 1 + 1 + 5 by subagents
    watched.close()
    assert watched.problems == []


# -- bug 6: phone width ------------------------------------------------------------------------------

PHONE_VIEWS = ["summary", "daily", "daily/2025-11-29", "monthly", "hourly?show=table", "models", "projects",
               "projects/-Users-user1-workspace-claude-code-log-sample", "sessions",
               "sessions/cb2e607c-c758-415a-8b45-c49e4631906a", "tools", "cache"]


def test_phone_keeps_every_cost_column_in_view(server, browser):
    watched = Watched(browser, *PHONE)
    for view in PHONE_VIEWS:
        page = watched.open(f"{server.url}/#/{view}")
        page.wait_for_timeout(300)
        assert no_sideways_scroll(page), view
        costs = page.locator("th.cost").evaluate_all(
            "cells => cells.map(c => { const r = c.getBoundingClientRect(); const w = c.closest('.table-wrap'); "
            "return {right: r.right, width: r.width, scrolls: w.scrollWidth > w.clientWidth}; })")
        assert costs or view == "tools", view
        for cost in costs:  # visible, inside the viewport, and no table to scroll sideways for it
            assert cost["width"] > 0 and cost["right"] <= 390 and not cost["scrolls"], (view, cost)
    watched.close()
    assert watched.problems == []


def test_phone_first_screen_shows_the_view(browser, tmp_path):
    from helpers import env_without_data

    # The demo: two notices (demo data, a model without a price) above the Summary.
    with RunningServer(env=env_without_data(tmp_path)) as demo:
        watched = Watched(browser, *PHONE)
        page = watched.open(f"{demo.url}/#/summary")
        page.wait_for_selector("#source-notice:not([hidden])")
        assert page.locator("#startDate").is_hidden() and page.locator("#filter-toggle").is_visible()
        assert page.locator("#source-notice details").get_attribute("open") is None  # folded to its headline
        top = page.locator("main h1").bounding_box()["y"]
        assert top < 844 / 3, top  # the view starts in the first third of the screen
        page.locator("#filter-toggle").click()
        assert page.locator("#startDate").is_visible()
        # The day chart's hour labels and the heatmap's hour axis stay legible (no overlap).
        page = watched.open(f"{demo.url}/#/hourly")
        page.wait_for_selector('[aria-label="hourly"] .xtick text')
        assert overlapping(boxes(page, '[aria-label="hourly"] .xtick text')) == []
        watched.close()
        assert watched.problems == []


# -- what users expect -------------------------------------------------------------------------------


def test_summary_compares_periods_projects_the_month_and_stacks_costs(server, browser):
    summary = httpx.get(server.url + "/api/v2/summary", params={"tz": "UTC"}).json()
    watched = Watched(browser, *LAPTOP)
    page = watched.open(f"{server.url}/#/summary")
    week = page.get_by_test_id("week-cost").inner_text()
    assert usd(summary["periods"]["week"]["costUsd"]) in week
    assert usd(summary["monthProjection"]["costUsd"] or 0) in page.get_by_test_id("month-projection").inner_text()
    page.get_by_role("button", name="By model").click()
    page.wait_for_selector('[aria-label="daily-cost-by-model"] .barlayer')
    stacks = page.locator('[aria-label="daily-cost-by-model"]').evaluate("gd => gd.data.map(t => [t.name, t.x, t.y])")
    days = expected("curated")["by_day"]["UTC"]
    assert len(stacks) == len(expected("curated")["by_model"])  # 8 models, one stack each
    for day, row in days.items():  # each day's stacks add up to its cost
        total = sum(y[x.index(day)] for _name, x, y in stacks if day in x)
        assert total == pytest.approx(row["cost_usd"], abs=1e-6), day
    assert "by=model" in page.url
    watched.close()
    assert watched.problems == []


def test_sessions_tools_and_times_read_well(server, browser):
    watched = Watched(browser, *LAPTOP)
    page = watched.open(f"{server.url}/#/sessions?sortBy=cost")
    rows = table_rows(page, "sessions")
    assert rows[0][0] == "Claude Code CLI Tool Development Summary" and rows[0][-1] == "a7da6a22"  # its summary line
    assert rows[0][-2] == usd(expected("curated")["by_session"]["a7da6a22-facc-4fcd-8bab-f83c87862004"]["cost_usd"])
    for row in rows:
        assert not re.search(r"\d:\d\d:\d\d", row[2]), row  # times without seconds
    assert "1h 53m" in rows[0] and any("2d 18h" in row for row in rows)  # durations in days past 48 hours
    page = watched.open(f"{server.url}/#/tools")
    tools = {row[0]: row for row in table_rows(page, "tools")}
    headers = page.locator('table[aria-label="tools"] th').all_inner_texts()
    assert "MCP server" not in headers  # no MCP tool in curated: no always-empty column
    rate = headers.index("Error rate")
    assert tools["Bash"][rate] == "16.7%" and tools["Read"][rate] == "1.1%"  # 43 of 257, 2 of 175
    high = page.locator('table[aria-label="tools"] .rate-high').all_inner_texts()
    assert "16.7%" in high and "1.1%" not in high
    watched.close()
    assert watched.problems == []


def test_unknown_project_in_the_url_names_the_closest(server, browser):
    watched = Watched(browser, *LAPTOP)
    watched.page.goto(f"{server.url}/#/daily?project=claude-code-lo")
    watched.page.wait_for_selector("#banner:not([hidden])")
    banner = watched.page.locator("#banner").inner_text()
    assert "no project matches 'claude-code-lo'" in banner and "did you mean 'claude-code-log'" in banner
    page = watched.open(f"{server.url}/#/daily?project=claude-code-log")  # the last part of a path is enough
    days = table_rows(page, "days")
    project = expected("curated")["by_project"]["-Users-user1-workspace-claude-code-log-sample"]
    assert sum(number(row[1]) for row in days) == project["requests"]
    watched.close()
    assert [p for p in watched.problems if "404" not in p] == []
