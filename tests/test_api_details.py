"""Summary, hourly, detail and session endpoints on a real server per fixture set: they agree
with expected.json and with each other (DESIGN section 8)."""

from __future__ import annotations

import httpx
import pytest

from conftest import FIXTURE_SETS, FIXTURES, assert_row, assert_rows, expected, get, keyed


def ok(url: str, path: str, **params) -> dict:
    response = get(url, path, **params)
    assert response.status_code == 200, (path, response.text)
    return response.json()


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_summary_equals_totals(servers, name):
    exp = expected(name)
    body = ok(servers[name], "/api/v2/summary")
    total = exp["totals"]
    assert body["totalTokens"] == total["total_tokens"]
    assert body["totalMessages"] == body["totalRequests"] == total["requests"]
    assert abs(body["totalCostUsd"] - total["cost_usd"]) <= 1e-6
    assert body["totalCost"] == f"{total['cost_usd']:.4f}"  # 4 decimals, as every cost string (issue 14)
    assert body["totalConversations"] == len(exp["by_session"])
    assert body["totalProjects"] == len(exp["by_project"])
    ratio = total["cache_read_tokens"] / (total["input_tokens"] + total["cache_creation_tokens"] + total["cache_read_tokens"])
    assert abs(body["cacheHitRatio"] - ratio) < 1e-6
    todos = FIXTURES / name / "todos"
    assert body["totalTodoFiles"] == (len(list(todos.glob("*.json"))) if todos.is_dir() else 0)
    assert body["unpricedModels"] == exp["unpriced_models"]


@pytest.mark.parametrize("name", FIXTURE_SETS)
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_hourly_rows_sum_to_the_total(servers, name, zone):
    exp = expected(name)["totals"]
    body = ok(servers[name], "/api/v2/hourly", tz=zone)
    assert [row["hour"] for row in body["hourlyData"]] == list(range(24))
    summed = {field: sum(row[field] for row in body["hourlyData"]) for field in ("requests", "totalTokens", "inputTokens", "cacheReadTokens")}
    assert summed == {"requests": exp["requests"], "totalTokens": exp["total_tokens"],
                      "inputTokens": exp["input_tokens"], "cacheReadTokens": exp["cache_read_tokens"]}
    assert abs(sum(row["costUsd"] for row in body["hourlyData"]) - exp["cost_usd"]) <= 1e-6
    assert sum(cell["requests"] for cell in body["heatmapData"]) == exp["requests"]
    stats = body["statistics"]
    assert stats["totalRequests"] == exp["requests"] and stats["totalTokens"] == exp["total_tokens"]
    assert abs(stats["totalCost"] - exp["cost_usd"]) <= 1e-6
    parts = [stats[p] for p in ("nightUsage", "morningUsage", "afternoonUsage", "eveningUsage")]
    assert sum(p["requests"] for p in parts) == exp["requests"]
    assert abs(sum(p["percentage"] for p in parts) - 100.0) < 0.05
    peak = stats["peakRequestHour"]
    assert peak["requests"] == max(row["requests"] for row in body["hourlyData"])
    assert body["hourlyData"][peak["hour"]]["requests"] == peak["requests"]
    assert abs(peak["percentage"] - 100.0 * peak["requests"] / exp["requests"]) < 0.01


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_day_details_equal_by_day_and_their_hours(servers, name):
    by_day = expected(name)["by_day"]["UTC"]
    for day, exp in by_day.items():
        body = ok(servers[name], f"/api/v2/daily/{day}")
        assert_row(exp, body, f"{name} /daily/{day}")
        assert body["date"] == day
        assert sum(row["requests"] for row in body["hourly"]) == exp["requests"]
        assert sum(row["totalTokens"] for row in body["models"]) == exp["total_tokens"]
        assert sum(row["totalTokens"] for row in body["projects"]) == exp["total_tokens"]
        assert sum(row["totalTokens"] for row in body["sessionList"]) == exp["total_tokens"]
        hourly = ok(servers[name], "/api/v2/hourly", date=day)
        assert sum(row["requests"] for row in hourly["hourlyData"]) == exp["requests"]


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_month_details_equal_by_month(servers, name):
    for month, exp in expected(name)["by_month"]["UTC"].items():
        body = ok(servers[name], f"/api/v2/monthly/{month}")
        assert_row(exp, body, f"{name} /monthly/{month}")
        assert sum(row["requests"] for row in body["days"]) == exp["requests"]
        assert all(row["date"].startswith(month) for row in body["days"])


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_project_details_equal_by_project(servers, name):
    exp = expected(name)
    for project, row in exp["by_project"].items():
        body = ok(servers[name], f"/api/v2/projects/{project}")
        assert_row(row, body, f"{name} /projects/{project}")
        assert sum(day["requests"] for day in body["daily"]) == row["requests"]
        assert sum(s["requests"] for s in body["sessionList"]) == row["requests"]
        assert body["path"]


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_sessions_equal_by_session(servers, name):
    exp = expected(name)["by_session"]
    body = ok(servers[name], "/api/v2/sessions", limit=500)
    assert body["pagination"]["totalItems"] == len(exp)
    assert_rows(exp, keyed(body["data"], "sessionId"), f"{name} /sessions")
    stamps = [row["lastActivity"] for row in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    for session_id, row in exp.items():
        detail = ok(servers[name], f"/api/v2/sessions/{session_id}")
        assert_row(row, detail, f"{name} /sessions/{session_id}")
        assert sum(m["totalTokens"] for m in detail["models"]) == row["total_tokens"]
        agents = sum(a["totalTokens"] for a in detail["subagents"])
        assert agents <= row["total_tokens"]


def test_subagents_of_a_session_come_from_their_files(servers):
    # omarchy session 512f6c74...: nine subagent transcripts, each with its .meta.json
    session = "512f6c74-f82f-4adb-9719-4ae90076677c"
    detail = ok(servers["omarchy"], f"/api/v2/sessions/{session}")
    folder = FIXTURES / "omarchy" / "projects" / "-home-user1-Claude" / session / "subagents"
    files = sorted(str(p) for p in folder.glob("agent-*.jsonl"))
    assert sorted(a["file"] for a in detail["subagents"]) == files
    assert all(a["agentType"] for a in detail["subagents"])
    assert detail["subagentCostUsd"] >= sum(a["costUsd"] for a in detail["subagents"]) - 1e-9


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/v2/daily/2025-02-30", 400),
        ("/api/v2/daily/yesterday", 400),
        ("/api/v2/daily/1999-01-01", 404),
        ("/api/v2/monthly/2025-13", 400),
        ("/api/v2/monthly/1999-01", 404),
        ("/api/v2/projects/no-such-project", 404),
        ("/api/v2/sessions/no-such-session", 404),
        ("/api/v2/mcp/tools/mcp__nobody__nothing", 404),
        ("/api/v2/sessions?sortBy=mood", 400),
        ("/api/v2/sessions?limit=501", 400),
        ("/api/v2/hourly?date=2025-99-01", 400),
        ("/api/v2/mcp/logs?limit=501", 400),
        ("/api/v2/todos?page=0", 400),
    ],
)
def test_bad_formats_400_unknown_keys_404(servers, path, status):
    response = httpx.get(servers["sniffly"] + path, timeout=30)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "message"}


def test_a_valid_day_without_usage_is_404_and_filters_apply(servers):
    url = servers["sniffly"]
    assert get(url, "/api/v2/daily/2025-06-09").status_code == 404
    # sniffly: 2025-06-08 has 86 requests of one project; filtering another project leaves none.
    assert ok(url, "/api/v2/daily/2025-06-08")["requests"] == 86
    assert get(url, "/api/v2/daily/2025-06-08", project="-elsewhere").status_code == 404
