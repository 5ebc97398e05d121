"""The cache report on a team store (PostgreSQL, DESIGN 12; a real server started by the ``pg``
fixture): the same query layer gives the same answer as the embedded store over the same files,
and the user filter selects that user's sets (whose stated totals are known)."""

from __future__ import annotations

import httpx
import pytest

from conftest import FIXTURES, RunningServer, expected
from test_cache_report import RATES
from test_team import assert_same, fresh_team, json_of, push

SETS = {"curated": "ann", "termux": "ben", "omarchy": "ben"}  # 1h cache writes in all three


@pytest.fixture(scope="module")
def team(pg):
    url = fresh_team(pg, "cache")
    for name, user in SETS.items():
        push(url, FIXTURES / name, f"m-{name}", user)
    return url


@pytest.mark.parametrize("args", [("--by", "day", "--tz", "UTC"), ("--by", "day", "--tz", "America/Los_Angeles"),
                                  ("--by", "model", "--tz", "UTC"), ("--by", "project", "--tz", "Asia/Tokyo"),
                                  ("--by", "day", "--tz", "Asia/Kolkata", "--since", "2026-02-01")],
                         ids=lambda args: " ".join(args))
def test_team_cache_report_equals_the_local_one(team, args):
    local_args = [arg for name in SETS for arg in ("--data-dir", str(FIXTURES / name))]
    assert_same(json_of("cache", *args, "--team", team), json_of("cache", *args, *local_args, "--no-index"), " ".join(args))


def test_team_user_filter_and_http(team):
    # ann pushed curated only: its stated cache reads, and savings at the rates written in test_cache_report.
    stated = expected("curated")
    ann = json_of("cache", "--team", team, "--user", "ann", "--by", "model", "--tz", "UTC")
    assert ann["totals"]["cacheReadTokens"] == stated["totals"]["cache_read_tokens"]  # 36,970,931
    saved = sum(row["cache_read_tokens"] * (RATES[model][0] - RATES[model][1]) / 1e6
                for model, row in stated["by_model"].items())
    assert ann["totals"]["savedUsd"] == pytest.approx(saved, abs=1e-6)  # $140.20
    with RunningServer("--team", team, "--tz", "UTC") as server:
        answer = httpx.get(f"{server.url}/api/v2/cache", params={"by": "model", "user": "ann", "tz": "UTC"})
        assert answer.status_code == 200
        assert_same(answer.json(), ann, "http user ann")
        ben = httpx.get(f"{server.url}/api/v2/cache", params={"user": "ben", "tz": "UTC"}).json()
        both = sum(expected(name)["totals"]["cache_creation_1h_tokens"] for name in ("termux", "omarchy"))
        assert ben["totals"]["cacheCreation1hTokens"] == both  # 12,437,300 + 661,707
