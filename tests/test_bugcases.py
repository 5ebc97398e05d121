"""Every ../shared/bugcases case gives its expected.json (usage_limit_reset_time of case 14
belongs to the 5-hour blocks issue), through the library, the CLI's --json output and the HTTP
API of a real server."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from claude_usage import reports
from claude_usage.cli import app
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.store import facts
from claude_usage.sources.discovery import resolve_roots
from helpers import scan
from conftest import BUGCASE_DIRS, BUGCASES, RunningServer, assert_row, assert_rows, bugcase_expected, get, keyed

# Counts of DESIGN section 5 that a case's expected.json may carry beside its totals.
TOP_LEVEL_COUNTS = ("fast_unpriced_requests", "placeholder_output_requests")

runner = CliRunner()


def load(case: str):
    return scan(resolve_roots([BUGCASES / case / "claude"]).roots)


def rows(groups) -> dict:
    return {key: usage_row(totals) for key, totals in dict(groups).items()}


def expected_totals(exp: dict, case: dict | None = None) -> dict:
    """The totals of ``exp`` (a case, or one zone of it) with the counts the ``case`` gives at
    its top level (fast_unpriced_requests, ...); a case with only per-zone totals gives UTC's."""
    case = case if case is not None else exp
    totals = exp["totals"] if "totals" in exp else exp["by_timezone"]["UTC"]["totals"]
    return {**totals, **{name: case[name] for name in TOP_LEVEL_COUNTS if name in case}}


def data_dir(case: str) -> str:
    return str(BUGCASES / case / "claude")


@pytest.mark.parametrize("case", BUGCASE_DIRS)
def test_bugcase(case):
    exp = bugcase_expected(case)
    ds = load(case)
    zones = exp.get("by_timezone") or {"UTC": exp}
    for zone, zexp in zones.items():
        q = Query(zone=zone)
        assert_row(expected_totals(zexp, exp), usage_row(ds.run(reports.overall, q)), f"{case} totals {zone}")
        if "by_day" in zexp:
            assert_rows(zexp["by_day"], rows(ds.run(reports.daily, q)), f"{case} by_day {zone}")
    q = Query(zone="UTC")
    if "by_model" in exp:
        assert_rows(exp["by_model"], rows(ds.run(reports.by_models, q)), f"{case} by_model")
    if "by_project" in exp:
        assert_rows(exp["by_project"], rows(ds.run(reports.by_projects, q)), f"{case} by_project")
    if "by_session" in exp:
        assert_rows(exp["by_session"], rows(ds.run(reports.by_sessions, q)), f"{case} by_session")
    assert sorted(ds.run(reports.overall, q).unpriced_models) == sorted(exp.get("unpriced_models", []))
    totals = expected_totals(exp)
    for name, field in (("placeholder_output_requests", "placeholderOutputRequests"),
                        ("fast_unpriced_requests", "fastUnpricedRequests")):
        if name in totals:  # the loader's diagnostics (doctor, /api/health) count the same requests
            assert getattr(ds.diagnostics, field) == totals[name], f"{case} diagnostics {field}"


@pytest.mark.parametrize("case", BUGCASE_DIRS)
def test_bugcase_cli_json(case):
    exp = bugcase_expected(case)
    for zone, zexp in (exp.get("by_timezone") or {"UTC": exp}).items():
        result = runner.invoke(app, ["daily", "--json", "--data-dir", data_dir(case), "--tz", zone])
        assert result.exit_code == 0, result.output
        daily = json.loads(result.stdout)
        assert_row(expected_totals(zexp, exp), daily["totals"], f"{case} CLI daily totals {zone}")
        if "by_day" in zexp:
            assert_rows(zexp["by_day"], keyed(daily["daily"], "date"), f"{case} CLI daily {zone}")
        assert daily["unpricedModels"] == sorted(exp.get("unpriced_models", []))
    if "by_model" in exp:
        models = json.loads(runner.invoke(app, ["models", "--json", "--data-dir", data_dir(case)]).stdout)
        assert_rows(exp["by_model"], keyed(models["models"], "model"), f"{case} CLI models")
    doctor = json.loads(runner.invoke(app, ["doctor", "--json", "--data-dir", data_dir(case)]).stdout)
    totals = expected_totals(exp)
    for name, field in (("placeholder_output_requests", "placeholderOutputRequests"),
                        ("fast_unpriced_requests", "fastUnpricedRequests")):
        if name in totals:
            assert doctor[field] == totals[name], f"{case} doctor {field}"


@pytest.mark.parametrize("case", BUGCASE_DIRS)
def test_bugcase_http(case):
    exp = bugcase_expected(case)
    totals = expected_totals(exp)
    with RunningServer("--data-dir", data_dir(case), "--tz", "UTC") as server:
        for zone, zexp in (exp.get("by_timezone") or {"UTC": exp}).items():
            daily = get(server.url, "/api/v2/daily", tz=zone, limit=1000).json()
            if "by_day" in zexp:
                assert_rows(zexp["by_day"], keyed(daily["data"], "date"), f"{case} /daily {zone}")
            summed = {field: sum(row[field] for row in daily["data"]) for field in (
                "requests", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheCreation1hTokens",
                "cacheReadTokens", "totalTokens", "webSearchRequests", "webFetchRequests",
                "placeholderOutputRequests", "fastUnpricedRequests")}
            priced = [row["costUsd"] for row in daily["data"] if row["costUsd"] is not None]
            summed["costUsd"] = sum(priced) if priced or not daily["data"] else None
            assert_row(expected_totals(zexp, exp), summed, f"{case} /daily summed {zone}")
        summary = get(server.url, "/api/v2/summary", tz="UTC").json()
        if totals["cost_usd"] is not None:
            assert abs(summary["totalCostUsd"] - totals["cost_usd"]) <= 1e-6, f"{case} /summary cost"
        assert summary["totalRequests"] == totals["requests"]
        assert summary["unpricedModels"] == sorted(exp.get("unpriced_models", []))
        health = get(server.url, "/api/health").json()
        for name, field in (("web_search_requests", "webSearchRequests"), ("web_fetch_requests", "webFetchRequests"),
                            ("placeholder_output_requests", "placeholderOutputRequests"),
                            ("fast_unpriced_requests", "fastUnpricedRequests")):
            if name in totals:
                assert summary[field] == totals[name], f"{case} /summary {field}"
                if field in health["diagnostics"]:
                    assert health["diagnostics"][field] == totals[name], f"{case} /api/health {field}"


def test_project_display_names_come_from_cwd():
    case = "13-project-identity-windows-and-lossy-names"
    ds = load(case)
    for key, name in bugcase_expected(case)["display_names"].items():
        assert ds.run(facts.project_paths).get(key) == name


def test_malformed_lines_are_counted_not_fatal():
    exp = bugcase_expected("10-malformed-and-partial-lines")["skipped_lines"]
    diag = load("10-malformed-and-partial-lines").diagnostics
    assert diag.malformedLines == exp["truncated_json"]
    assert diag.blankLines == exp["blank_or_whitespace"]
    assert diag.nonObjectLines == exp["non_object_json"]
    assert diag.partialTailLines == exp["unterminated_last_line"]
    assert diag.requests == 3


def test_synthetic_lines_are_not_models():
    ds = load("14-synthetic-and-api-error-lines")
    assert ds.diagnostics.syntheticLines == 2
    assert sorted(ds.run(reports.by_models, Query(zone="UTC"))) == ["claude-sonnet-4-5-20250929"]


def test_new_user_daily_json_on_the_web_search_case():
    # The "done when": daily --json on case 20 shows the searches and the cost of expected.json.
    exp = bugcase_expected("20-web-search-fee")["totals"]
    result = runner.invoke(app, ["daily", "--json", "--data-dir", data_dir("20-web-search-fee"), "--tz", "UTC"])
    day = json.loads(result.stdout)["daily"][0]
    assert (day["date"], day["webSearchRequests"], day["webFetchRequests"]) == ("2026-05-01", 6, 2)
    assert day["cost"] == f"{exp['cost_usd']:.4f}" == "0.0687"

