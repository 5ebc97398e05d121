"""Prompt-cache analytics (issue 15, item 4): ``claude-usage cache`` and ``GET /api/v2/cache``.

Expected values are worked out by hand below from the token counts written in the transcripts
(or stated in the fixtures' expected files) and the rates of genai-prices 0.2.3 written out here
(USD per million tokens; Anthropic's published prices):

    model                       input   cache read   5m write   1h write
    claude-3-7-sonnet           3.00    0.30         3.75       6.00
    claude-sonnet-4, 4-5, 4-6   3.00    0.30         3.75       6.00
    claude-haiku-4-5            1.00    0.10         1.25       2.00
    claude-opus-4, 4-1         15.00    1.50        18.75      30.00
    claude-opus-4-5, 4-6, 4-7   5.00    0.50         6.25      10.00
    claude-opus-4-6 fast       30.00    3.00  (the product's price correction: 6x)

saved = cache read x (input - cache read rate); 1h extra = 1h writes x (1h rate - 5m rate);
hit ratio = read / (input + 5m + 1h + read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from conftest import FIXTURE_SETS, FIXTURES, RunningServer, expected
from helpers import assistant_line, write_lines
from test_cli_layout import check_layout, row_with, usd

RATES = {  # input, cache read, 5m write, 1h write (USD per million tokens)
    "claude-3-7-sonnet-20250219": (3.0, 0.3, 3.75, 6.0),
    "claude-sonnet-4-20250514": (3.0, 0.3, 3.75, 6.0),
    "claude-sonnet-4-5-20250929": (3.0, 0.3, 3.75, 6.0),
    "claude-sonnet-4-6": (3.0, 0.3, 3.75, 6.0),
    "claude-haiku-4-5-20251001": (1.0, 0.1, 1.25, 2.0),
    "claude-opus-4-20250514": (15.0, 1.5, 18.75, 30.0),
    "claude-opus-4-1-20250805": (15.0, 1.5, 18.75, 30.0),
    "claude-opus-4-5-20251101": (5.0, 0.5, 6.25, 10.0),
    "claude-opus-4-6": (5.0, 0.5, 6.25, 10.0),
    "claude-opus-4-7": (5.0, 0.5, 6.25, 10.0),
}


def cli(*args: str, width: int = 120, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": str(width)})
    if check:
        assert done.returncode == 0, done.stderr
    return done


def cache_json(*args: str) -> dict:
    return json.loads(cli("cache", "--json", "--no-index", *args).stdout)


@pytest.fixture
def hand_set(tmp_path):
    """Four requests in two projects (the tokens each test works with):

    A  sonnet-4   2025-06-10 10:00Z  app  input 1,000  read 1,000,000
    B  sonnet-4   2025-06-10 23:30Z  app  input 500    5m 200,000  1h 100,000  (output 100)
    C  opus-4-1   2025-06-11 09:00Z  web  input 2,000  read 200,000  1h 10,000
    D  opus-9-9   2025-06-11 10:00Z  web  input 100    read 50,000  (no price: an unknown model)
    """
    root = tmp_path / "claude"
    write_lines(root / "projects" / "-home-dev-app" / "s-1.jsonl", [
        assistant_line(msg_id="A", uuid="a", session="s-1", model="claude-sonnet-4-20250514", ts="2025-06-10T10:00:00.000Z",
                       input_tokens=1_000, cache_read=1_000_000),
        assistant_line(msg_id="B", uuid="b", session="s-1", model="claude-sonnet-4-20250514", ts="2025-06-10T23:30:00.000Z",
                       input_tokens=500, output_tokens=100, cache_5m=200_000, cache_1h=100_000),
    ])
    write_lines(root / "projects" / "-home-dev-web" / "s-2.jsonl", [
        assistant_line(msg_id="C", uuid="c", session="s-2", model="claude-opus-4-1-20250805", ts="2025-06-11T09:00:00.000Z",
                       input_tokens=2_000, cache_read=200_000, cache_1h=10_000, cwd="/home/dev/web"),
        assistant_line(msg_id="D", uuid="d", session="s-2", model="claude-opus-9-9", ts="2025-06-11T10:00:00.000Z",
                       input_tokens=100, cache_read=50_000, cwd="/home/dev/web"),
    ])
    return root


def fields(row: dict) -> tuple:
    return (row["inputTokens"], row["cacheCreation5mTokens"], row["cacheCreation1hTokens"], row["cacheReadTokens"],
            row["requests"], row["unpricedRequests"])


def test_savings_and_hit_ratio_of_a_hand_made_set_by_day(hand_set):
    document = cache_json("--data-dir", str(hand_set), "--tz", "UTC")
    assert document["by"] == "day" and document["timezone"] == "UTC"
    day1, day2 = document["data"]
    # 2025-06-10 (A, B): hit ratio 1,000,000 / (1,500 + 200,000 + 100,000 + 1,000,000) = 1,000,000 / 1,301,500.
    assert day1["date"] == "2025-06-10" and fields(day1) == (1_500, 200_000, 100_000, 1_000_000, 2, 0)
    assert day1["hitRatio"] == pytest.approx(1_000_000 / 1_301_500)  # 0.768
    assert day1["oneHourShare"] == pytest.approx(1 / 3)  # 100,000 of 300,000 written
    assert day1["savedUsd"] == pytest.approx(2.70)  # 1,000,000 x (3.00 - 0.30) / 1e6
    assert day1["oneHourExtraUsd"] == pytest.approx(0.225)  # 100,000 x (6.00 - 3.75) / 1e6
    # 2025-06-11 (C, D): D has no price: its tokens count, its savings are unknown.
    assert day2["date"] == "2025-06-11" and fields(day2) == (2_100, 0, 10_000, 250_000, 2, 1)
    assert day2["hitRatio"] == pytest.approx(250_000 / 262_100)  # 250,000 / (2,100 + 10,000 + 250,000)
    assert day2["oneHourShare"] == 1.0
    assert day2["savedUsd"] == pytest.approx(2.70)  # C: 200,000 x (15.00 - 1.50) / 1e6
    assert day2["oneHourExtraUsd"] == pytest.approx(0.1125)  # C: 10,000 x (30.00 - 18.75) / 1e6
    total = document["totals"]
    assert fields(total) == (3_600, 200_000, 110_000, 1_250_000, 4, 1)
    assert total["hitRatio"] == pytest.approx(1_250_000 / 1_563_600)  # / (3,600 + 310,000 + 1,250,000)
    assert total["savedUsd"] == pytest.approx(5.40) and total["oneHourExtraUsd"] == pytest.approx(0.3375)
    assert document["unpricedModels"] == ["claude-opus-9-9"] and document["longContextModels"] == []


def test_days_follow_the_zone_and_filters_select(hand_set):
    data = ["--data-dir", str(hand_set)]
    # Asia/Tokyo (UTC+9): B (23:30Z on the 10th) is on the 11th there.
    tokyo = cache_json(*data, "--tz", "Asia/Tokyo")["data"]
    assert [row["date"] for row in tokyo] == ["2025-06-10", "2025-06-11"]
    assert fields(tokyo[0]) == (1_000, 0, 0, 1_000_000, 1, 0)
    assert tokyo[0]["hitRatio"] == pytest.approx(1_000_000 / 1_001_000)
    assert fields(tokyo[1]) == (2_600, 200_000, 110_000, 250_000, 3, 1)
    assert tokyo[1]["oneHourExtraUsd"] == pytest.approx(0.3375)  # 0.225 (B) + 0.1125 (C)
    # Filters: the project web (C, D), the model opus-4-1 (C), and a date range (the 11th, UTC).
    web = cache_json(*data, "--tz", "UTC", "--project", "web")["totals"]
    assert fields(web) == (2_100, 0, 10_000, 250_000, 2, 1) and web["savedUsd"] == pytest.approx(2.70)
    opus = cache_json(*data, "--tz", "UTC", "--model", "opus-4-1")["totals"]
    assert fields(opus) == (2_000, 0, 10_000, 200_000, 1, 0)
    since = cache_json(*data, "--tz", "UTC", "--since", "2025-06-11")
    assert [row["date"] for row in since["data"]] == ["2025-06-11"]
    assert cache_json(*data, "--tz", "UTC", "--since", "2025-07-01")["data"] == []


def test_by_model_and_by_project(hand_set):
    data = ["--data-dir", str(hand_set), "--tz", "UTC"]
    models = cache_json(*data, "--by", "model")
    # Highest savings first; the tie (2.70 each) by name; the unpriced model last, its savings unknown.
    assert [row["model"] for row in models["data"]] == ["claude-opus-4-1-20250805", "claude-sonnet-4-20250514",
                                                        "claude-opus-9-9"]
    opus, sonnet, unknown = models["data"]
    assert (opus["savedUsd"], opus["oneHourExtraUsd"]) == (pytest.approx(2.70), pytest.approx(0.1125))
    assert (sonnet["savedUsd"], sonnet["oneHourExtraUsd"]) == (pytest.approx(2.70), pytest.approx(0.225))
    assert sonnet["hitRatio"] == pytest.approx(1_000_000 / 1_301_500)
    assert unknown["savedUsd"] is None and unknown["oneHourExtraUsd"] is None and unknown["unpricedRequests"] == 1
    assert unknown["hitRatio"] == pytest.approx(50_000 / 50_100)
    projects = cache_json(*data, "--by", "project")
    assert [(row["project"], row["path"]) for row in projects["data"]] == [
        ("-home-dev-app", "/home/dev/app"), ("-home-dev-web", "/home/dev/web")]  # 2.70 saved each: by name
    app, web = projects["data"]
    assert app["savedUsd"] == pytest.approx(2.70) and app["oneHourExtraUsd"] == pytest.approx(0.225)
    assert web["savedUsd"] == pytest.approx(2.70) and web["unpricedRequests"] == 1
    for document in (models, projects):
        assert document["totals"]["savedUsd"] == pytest.approx(5.40)


def test_price_overrides_price_the_unknown_model(hand_set, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"claude-opus-9-9": {"input": 10, "output": 50, "cacheRead": 1}}))
    document = cache_json("--data-dir", str(hand_set), "--tz", "UTC", "--by", "model", "--prices", str(prices))
    unknown = next(row for row in document["data"] if row["model"] == "claude-opus-9-9")
    assert unknown["savedUsd"] == pytest.approx(0.45)  # 50,000 x (10 - 1) / 1e6
    assert document["totals"]["savedUsd"] == pytest.approx(5.85) and document["unpricedModels"] == []


def test_fast_mode_and_the_long_context_rule(tmp_path):
    """Fast requests are priced at the fast rates of their day. Above a long-context threshold
    the savings are at the base rates (the rollups keep sums, not each request's context size):
    the documented approximation, and the models it may touch are named."""
    root = tmp_path / "claude"
    write_lines(root / "projects" / "-home-dev-app" / "s.jsonl", [
        # Opus 4.6 fast (the price correction: $30 input, cache read 0.1x = $3): 100,000 x 27 / 1e6 = 2.70.
        assistant_line(msg_id="F", uuid="f", model="claude-opus-4-6", ts="2026-02-20T10:00:00.000Z", input_tokens=1_000,
                       cache_read=100_000, speed="fast"),
        # Opus 4.6 standard, the same day: 100,000 x (5.00 - 0.50) / 1e6 = 0.45.
        assistant_line(msg_id="S", uuid="s", model="claude-opus-4-6", ts="2026-02-20T11:00:00.000Z", input_tokens=1_000,
                       cache_read=100_000),
        # Sonnet 4.5 with 251,000 tokens of context (over its 200k tier): its cost is at the tier,
        # (1,000 x 6.00 + 250,000 x 0.60) / 1e6 = $0.156; its savings at the base rates:
        # 250,000 x (3.00 - 0.30) / 1e6 = 0.675 (at the tier it would be 250,000 x 5.40 / 1e6 = 1.35).
        assistant_line(msg_id="L", uuid="l", model="claude-sonnet-4-5-20250929", ts="2025-10-01T12:00:00.000Z",
                       input_tokens=1_000, cache_read=250_000),
    ])
    document = cache_json("--data-dir", str(root), "--tz", "UTC", "--by", "model")
    saved = {row["model"]: row["savedUsd"] for row in document["data"]}
    assert saved == {"claude-opus-4-6": pytest.approx(3.15), "claude-sonnet-4-5-20250929": pytest.approx(0.675)}
    assert document["longContextModels"] == ["claude-opus-4-6", "claude-sonnet-4-5-20250929"]
    daily = json.loads(cli("daily", "--json", "--no-index", "--data-dir", str(root), "--tz", "UTC", "--model",
                           "sonnet-4-5", "--mode", "calculate").stdout)
    assert daily["totals"]["costUsd"] == pytest.approx(0.156)
    table = cli("cache", "--no-index", "--data-dir", str(root), "--tz", "UTC").stdout
    assert "Requests over a long-context threshold (200k tokens) of opus-4-6, sonnet-4-5: at the base rates." in " ".join(
        table.split())


def stated_savings(rows: dict) -> tuple[float, float]:
    """(saved, 1h extra) of expected.json rows per model, at the rates above."""
    saved = extra = 0.0
    for model, row in rows.items():
        inp, read, w5, w1 = RATES[model]
        saved += row["cache_read_tokens"] * (inp - read) / 1e6
        extra += row["cache_creation_1h_tokens"] * (w1 - w5) / 1e6
    return saved, extra


def assert_stated(row: dict, stated: dict, where: str) -> None:
    write_1h = stated["cache_creation_1h_tokens"]
    assert (row["inputTokens"], row["cacheCreation5mTokens"], row["cacheCreation1hTokens"], row["cacheReadTokens"],
            row["requests"]) == (stated["input_tokens"], stated["cache_creation_tokens"] - write_1h, write_1h,
                                 stated["cache_read_tokens"], stated["requests"]), where
    whole = stated["input_tokens"] + stated["cache_creation_tokens"] + stated["cache_read_tokens"]
    assert row["hitRatio"] == pytest.approx(stated["cache_read_tokens"] / whole if whole else 0.0, abs=1e-9), where


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_fixture_sets_stated_cache_tokens_and_savings(name):
    """Every fixture set: the stated cache tokens per model, per UTC day and in total; the savings
    from the stated cache reads and 1h writes per model (no request of these sets is over a
    long-context threshold, fast, or US-only, so the sums are exact)."""
    exp = expected(name)
    data = ["--data-dir", str(FIXTURES / name), "--tz", "UTC"]
    models = cache_json(*data, "--by", "model")
    assert_stated(models["totals"], exp["totals"], f"{name} totals")
    for row in models["data"]:
        stated = exp["by_model"][row["model"]]
        assert_stated(row, stated, f"{name} {row['model']}")
        saved, extra = stated_savings({row["model"]: stated})
        assert row["savedUsd"] == pytest.approx(saved, abs=1e-6) and row["oneHourExtraUsd"] == pytest.approx(extra, abs=1e-6)
    saved, extra = stated_savings(exp["by_model"])
    assert models["totals"]["savedUsd"] == pytest.approx(saved, abs=1e-6)
    assert models["totals"]["oneHourExtraUsd"] == pytest.approx(extra, abs=1e-6)
    days = cache_json(*data)
    assert {row["date"] for row in days["data"]} == set(exp["by_day"]["UTC"])
    for row in days["data"]:
        assert_stated(row, exp["by_day"]["UTC"][row["date"]], f"{name} {row['date']}")
    projects = cache_json(*data, "--by", "project")
    for row in projects["data"]:
        assert_stated(row, exp["by_project"][row["project"]], f"{name} {row['project']}")


@pytest.mark.parametrize("width", (60, 80, 120))
@pytest.mark.parametrize("by", ("day", "model", "project"))
def test_table_fits_and_shows_the_stated_savings(by, width):
    exp = expected("curated")
    saved, extra = stated_savings(exp["by_model"])  # $140.20 saved, $0.42 extra (opus-4-6, opus-4-7 1h writes)
    lines = check_layout(cli("cache", "--no-index", "--data-dir", str(FIXTURES / "curated"), "-z", "UTC", "--by", by,
                             width=width).stdout, width)
    header = next(line for line in lines if "┃" in line)
    assert "Hit ratio" in header and "Saved" in header
    total = row_with(lines, "Total")
    totals = exp["totals"]
    hit = totals["cache_read_tokens"] / (totals["input_tokens"] + totals["cache_creation_tokens"] + totals["cache_read_tokens"])
    assert f"{hit * 100:.1f}%" in total and usd(saved) in total  # 93.6%, $140.20
    if width >= 80:
        assert usd(extra) in total
    if by == "model" and width >= 80:
        for model, row in exp["by_model"].items():
            assert usd(stated_savings({model: row})[0]) in row_with(lines, model)


def test_cli_refuses_bad_options(hand_set):
    bad = cli("cache", "--no-index", "--data-dir", str(hand_set), "--by", "week", check=False)
    assert bad.returncode == 2 and "'week' is not one of 'day', 'model', 'project'" in bad.stderr
    team_only = cli("cache", "--no-index", "--data-dir", str(hand_set), "--user", "ann", check=False)
    assert team_only.returncode == 2 and "--user and --machine filter a team database" in team_only.stderr
    empty = cli("cache", "--no-index", "--data-dir", str(hand_set), "--tz", "UTC", "--since", "2030-01-01")
    assert "No usage since 2030-01-01 (UTC)." in empty.stdout


def test_http_answers_equal_the_cli_and_refuse_bad_parameters(hand_set):
    with RunningServer("--data-dir", str(hand_set)) as server:
        for by in ("day", "model", "project"):
            answer = httpx.get(f"{server.url}/api/v2/cache", params={"by": by, "tz": "UTC"})
            assert answer.status_code == 200
            assert answer.json() == cache_json("--data-dir", str(hand_set), "--tz", "UTC", "--by", by)
        default = httpx.get(f"{server.url}/api/v2/cache", params={"tz": "Asia/Tokyo", "project": "app"}).json()
        assert default["by"] == "day" and [row["date"] for row in default["data"]] == ["2025-06-10", "2025-06-11"]
        assert default["totals"]["savedUsd"] == pytest.approx(2.70)  # A and B only
        for params, name in (({"by": "week"}, "by"), ({"mode": "calculate"}, "mode"), ({"tz": "Mars/Base"}, "tz"),
                             ({"startDate": "2025-13-01"}, "startDate"), ({"user": "ann"}, "user")):
            refused = httpx.get(f"{server.url}/api/v2/cache", params=params)
            assert refused.status_code == 400 and refused.json()["error"] == "bad_parameter", params
            assert f"'{name}'" in refused.json()["message"], refused.json()
        missing = httpx.get(f"{server.url}/api/v2/cache", params={"model": "gpt-9"})
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        schema = httpx.get(f"{server.url}/openapi.json").json()
        operation = schema["paths"]["/api/v2/cache"]["get"]
        assert {"200", "400", "404"} <= set(operation["responses"])
        row = schema["components"]["schemas"]["CacheRow"]["properties"]
        assert {"hitRatio", "cacheReadTokens", "cacheCreation5mTokens", "cacheCreation1hTokens", "oneHourShare",
                "savedUsd", "oneHourExtraUsd"} <= set(row)
