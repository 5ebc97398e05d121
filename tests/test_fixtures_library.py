"""Every real fixture set through the library API equals its expected.json (DESIGN 3-6)."""

from __future__ import annotations

import pytest

from claude_usage import reports
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import resolve_roots
from helpers import scan
from conftest import FIXTURE_SETS, FIXTURES, ZONES, assert_row, assert_rows, expected

_DATASETS: dict = {}


def dataset(name: str):
    if name not in _DATASETS:
        _DATASETS[name] = scan(resolve_roots([FIXTURES / name]).roots)
    return _DATASETS[name]


def rows(groups) -> dict:
    return {key: usage_row(totals) for key, totals in dict(groups).items()}


@pytest.mark.parametrize("name", FIXTURE_SETS)
@pytest.mark.parametrize("mode", ["auto", "calculate"])
def test_totals(name, mode):
    # early-2025 lines carry costUSD equal to the calculated cost: both modes give the total.
    exp = expected(name)
    totals = dataset(name).run(reports.overall, Query(zone="UTC", mode=mode))
    assert_row(exp["totals"], usage_row(totals), f"{name} totals ({mode})")
    assert sorted(totals.unpriced_models) == sorted(exp["unpriced_models"])


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_by_model_project_session(name):
    exp = expected(name)
    q = Query(zone="UTC")
    assert_rows(exp["by_model"], rows(dataset(name).run(reports.by_models, q)), f"{name} by_model")
    assert_rows(exp["by_project"], rows(dataset(name).run(reports.by_projects, q)), f"{name} by_project")
    assert_rows(exp["by_session"], rows(dataset(name).run(reports.by_sessions, q)), f"{name} by_session")


@pytest.mark.parametrize("name", FIXTURE_SETS)
@pytest.mark.parametrize("zone", ZONES)
def test_by_day_and_month(name, zone):
    exp = expected(name)
    q = Query(zone=zone)
    assert_rows(exp["by_day"][zone], rows(dataset(name).run(reports.daily, q)), f"{name} by_day {zone}")
    assert_rows(exp["by_month"][zone], rows(dataset(name).run(reports.monthly, q)), f"{name} by_month {zone}")


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_reports_agree(name):
    """Weeks, hours and the day x hour cells partition the same requests as the total."""
    ds = dataset(name)
    q = Query(zone="Asia/Tokyo")
    total = ds.run(reports.overall, q)
    for parts in (
        [t for _, t in ds.run(reports.weekly, q)],
        ds.run(reports.hourly, q),
        [t for _, t in ds.run(reports.heatmap, q)],
    ):
        assert sum(t.requests for t in parts) == total.requests
        assert sum(t.total_tokens for t in parts) == total.total_tokens
        assert abs(sum(t.cost_usd for t in parts) - total.cost_usd) < 1e-6
