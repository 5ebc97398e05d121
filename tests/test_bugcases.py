"""Every ../shared/bugcases case gives its expected.json (usage_limit_reset_time of case 14
belongs to the 5-hour blocks issue)."""

from __future__ import annotations

import pytest

from claude_usage import reports
from claude_usage.loader import load_dataset
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import resolve_roots
from conftest import BUGCASE_DIRS, BUGCASES, assert_row, assert_rows, bugcase_expected


def load(case: str):
    return load_dataset(resolve_roots([BUGCASES / case / "claude"]).roots)


def rows(groups) -> dict:
    return {key: usage_row(totals) for key, totals in dict(groups).items()}


@pytest.mark.parametrize("case", BUGCASE_DIRS)
def test_bugcase(case):
    exp = bugcase_expected(case)
    ds = load(case)
    zones = exp.get("by_timezone") or {"UTC": exp}
    for zone, zexp in zones.items():
        q = Query(zone=zone)
        assert_row(zexp["totals"], usage_row(reports.overall(ds, q)), f"{case} totals {zone}")
        if "by_day" in zexp:
            assert_rows(zexp["by_day"], rows(reports.daily(ds, q)), f"{case} by_day {zone}")
    q = Query(zone="UTC")
    if "by_model" in exp:
        assert_rows(exp["by_model"], rows(reports.by_models(ds, q)), f"{case} by_model")
    if "by_project" in exp:
        assert_rows(exp["by_project"], rows(reports.by_projects(ds, q)), f"{case} by_project")
    if "by_session" in exp:
        assert_rows(exp["by_session"], rows(reports.by_sessions(ds, q)), f"{case} by_session")
    assert sorted(reports.overall(ds, q).unpriced_models) == sorted(exp.get("unpriced_models", []))


def test_project_display_names_come_from_cwd():
    case = "13-project-identity-windows-and-lossy-names"
    ds = load(case)
    for key, name in bugcase_expected(case)["display_names"].items():
        assert ds.project_path(key) == name


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
    assert sorted(reports.by_models(ds, Query(zone="UTC"))) == ["claude-sonnet-4-5-20250929"]
