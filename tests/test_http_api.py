"""The four /api/v2 endpoints on a real `claude-usage serve` (uvicorn) per fixture set, via httpx."""

from __future__ import annotations

import pytest

from conftest import BUGCASES, FIXTURE_SETS, FIXTURES, ZONES, RunningServer, assert_rows, expected, get, keyed
from helpers import env_without_data


@pytest.mark.parametrize("name", FIXTURE_SETS)
def test_days_months_models_projects_equal_expected(servers, name):
    url, exp = servers[name], expected(name)
    for zone in ZONES:
        daily = get(url, "/api/v2/daily", tz=zone, limit=1000).json()
        assert daily["timezone"] == zone
        assert daily["pagination"]["totalItems"] == len(exp["by_day"][zone])
        assert_rows(exp["by_day"][zone], keyed(daily["data"], "date"), f"{name} /daily {zone}")
        monthly = get(url, "/api/v2/monthly", tz=zone, limit=120).json()
        assert_rows(exp["by_month"][zone], keyed(monthly["data"], "month"), f"{name} /monthly {zone}")
    models = get(url, "/api/v2/models").json()
    assert_rows(exp["by_model"], keyed(models["data"], "model"), f"{name} /models")
    assert models["stats"]["totalModels"] == len(exp["by_model"])
    assert models["stats"]["totalTokens"] == exp["totals"]["total_tokens"]
    assert models["stats"]["totalMessages"] == exp["totals"]["requests"]
    assert models["stats"]["totalCost"] == f"{exp['totals']['cost_usd']:.4f}"  # 4 decimals (issue 14)
    assert models["stats"]["totalSessions"] == len(exp["by_session"])
    projects = get(url, "/api/v2/projects", limit=200).json()
    assert_rows(exp["by_project"], keyed(projects["data"], "name"), f"{name} /projects")
    assert projects["stats"]["totalProjects"] == len(exp["by_project"])
    assert projects["stats"]["totalTokens"] == exp["totals"]["total_tokens"]


def test_health(servers):
    body = get(servers["sniffly"], "/api/health").json()
    assert body["status"] == "ok"
    assert body["records"] == expected("sniffly")["totals"]["requests"]
    # The package version and the digest of the price corrections shipped (stored costs follow both)
    import hashlib

    from claude_usage.pricing_corrections import SHIPPED

    assert body["priceDataVersion"] == f"genai-prices 0.2.3 + corrections {hashlib.sha256(SHIPPED.read_bytes()).hexdigest()[:12]}"
    assert body["diagnostics"]["fastUnpricedRequests"] == 0  # sniffly has no fast-mode request
    assert body["dataRoots"] == [str(FIXTURES / "sniffly" / "projects")]
    assert body["demo"] is False


def test_pagination_and_order(servers):
    url = servers["curated"]
    days = sorted(expected("curated")["by_day"]["UTC"])
    page = get(url, "/api/v2/daily", limit=3, page=2).json()
    assert [row["date"] for row in page["data"]] == days[3:6]
    assert page["pagination"] == {
        "currentPage": 2, "totalPages": -(-len(days) // 3), "totalItems": len(days),
        "itemsPerPage": 3, "hasNext": True, "hasPrev": True,
    }
    newest = get(url, "/api/v2/daily", limit=2, order="desc").json()
    assert [row["date"] for row in newest["data"]] == days[::-1][:2]
    assert get(url, "/api/v2/daily").json()["pagination"]["itemsPerPage"] == 50


def test_date_filters_are_inclusive_local_dates(servers):
    url = servers["curated"]
    days = sorted(expected("curated")["by_day"]["Asia/Tokyo"])
    body = get(url, "/api/v2/daily", tz="Asia/Tokyo", startDate=days[1], endDate=days[3]).json()
    assert [row["date"] for row in body["data"]] == days[1:4]


def test_models_sorting(servers):
    url = servers["curated"]
    by_cost = get(url, "/api/v2/models", sortBy="cost", sortOrder="asc").json()["data"]
    costs = [row["costUsd"] for row in by_cost]
    assert costs == sorted(costs)
    by_name = get(url, "/api/v2/models", sortBy="model", sortOrder="asc").json()["data"]
    assert [row["model"] for row in by_name] == sorted(expected("curated")["by_model"])


def test_projects_search_min_cost_sort(servers):
    url, exp = servers["curated"], expected("curated")
    found = get(url, "/api/v2/projects", search="WORKSPACE").json()["data"]
    assert sorted(row["name"] for row in found) == sorted(n for n in exp["by_project"] if "workspace" in n.lower())
    threshold = 1.0
    rich = get(url, "/api/v2/projects", minCost=threshold, sortBy="totalCost").json()["data"]
    assert sorted(row["name"] for row in rich) == sorted(n for n, r in exp["by_project"].items() if r["cost_usd"] >= threshold)
    costs = [row["costUsd"] for row in rich]
    assert costs == sorted(costs, reverse=True)
    named = get(url, "/api/v2/projects", sortBy="name", sortOrder="asc", limit=200).json()["data"]
    assert [row["name"] for row in named] == sorted(exp["by_project"], key=str.lower)


def test_project_path_comes_from_cwd():
    with RunningServer("--data-dir", str(BUGCASES / "13-project-identity-windows-and-lossy-names" / "claude")) as server:
        rows = get(server.url, "/api/v2/projects").json()["data"]
    names = {
        "C--src-delete-ansible": "C:\\src\\delete\\ansible",
        "C--work-billing-api": "C:\\work\\billing-api",
        "-home-dev-my-app-v2": "/home/dev/my_app.v2",
    }
    assert {row["name"]: row["path"] for row in rows} == names


def test_year_filters_months_and_their_unpriced_models():
    with RunningServer("--data-dir", str(BUGCASES / "15-unknown-model-not-silently-zero" / "claude")) as server:
        other_year = get(server.url, "/api/v2/monthly", year=2025).json()
        its_year = get(server.url, "/api/v2/monthly", year=2026).json()
    assert other_year["data"] == [] and other_year["unpricedModels"] == []
    assert [row["month"] for row in its_year["data"]] == ["2026-07"]
    assert its_year["unpricedModels"] == ["claude-opus-9-9-20990101"]


def test_unpriced_model_in_api():
    with RunningServer("--data-dir", str(BUGCASES / "15-unknown-model-not-silently-zero" / "claude")) as server:
        body = get(server.url, "/api/v2/models").json()
    rows = keyed(body["data"], "model")
    assert rows["claude-opus-9-9-20990101"]["costUsd"] is None
    assert rows["claude-opus-9-9-20990101"]["unpriced"] is True
    assert rows["claude-opus-9-9-20990101"]["cost"] == "0.0000"
    assert body["unpricedModels"] == ["claude-opus-9-9-20990101"]


@pytest.mark.parametrize(
    "path, params, parameter",
    [
        ("/api/v2/daily", {"page": "abc"}, "page"),
        ("/api/v2/daily", {"page": "0"}, "page"),
        ("/api/v2/daily", {"limit": "1001"}, "limit"),
        ("/api/v2/monthly", {"limit": "121"}, "limit"),
        ("/api/v2/projects", {"limit": "201"}, "limit"),
        ("/api/v2/daily", {"startDate": "2025-13-01"}, "startDate"),
        ("/api/v2/daily", {"endDate": "yesterday"}, "endDate"),
        ("/api/v2/daily", {"startdate": "2025-06-01"}, "startdate"),
        ("/api/v2/daily", {"tz": ""}, "tz"),
        ("/api/v2/blocks", {"costLimit": ""}, "costLimit"),
        ("/api/v2/models", {"sortBy": "price"}, "sortBy"),
        ("/api/v2/projects", {"sortBy": "size"}, "sortBy"),
        ("/api/v2/projects", {"minCost": "cheap"}, "minCost"),
        ("/api/v2/monthly", {"tz": "Mars/Olympus"}, "tz"),
        ("/api/v2/daily", {"mode": "guess"}, "mode"),
        ("/api/v2/daily", {"startHour": "24"}, "startHour"),
        ("/api/v2/daily", {"order": "up"}, "order"),
    ],
)
def test_bad_parameters_get_400_naming_them(servers, path, params, parameter):
    response = get(servers["sniffly"], path, **params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "bad_parameter"
    assert f"'{parameter}'" in body["message"]


def test_unknown_route_is_404_with_error_shape(servers):
    response = get(servers["sniffly"], "/api/v2/nothing")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "message"}


def test_openapi_and_docs(servers):
    url = servers["sniffly"]
    schema = get(url, "/openapi.json").json()
    for path in ("/api/v2/daily", "/api/v2/monthly", "/api/v2/models", "/api/v2/projects", "/api/health"):
        assert path in schema["paths"]
    assert "400" in schema["paths"]["/api/v2/daily"]["get"]["responses"]
    docs = get(url, "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Offline: every asset of the docs page is served by the server itself.
    import re

    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text) + re.findall(r"url: '([^']+)'", docs.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert get(url, asset).status_code == 200, asset


def test_serve_without_data_falls_back_to_the_demo_with_a_notice(tmp_path):
    with RunningServer(env=env_without_data(tmp_path)) as server:
        health = get(server.url, "/api/health").json()
        daily = get(server.url, "/api/v2/daily").json()
    assert "demo" in "".join(server.output).lower()
    assert "demo" in health["notice"] and health["demo"] is True
    assert str(tmp_path / ".claude" / "projects") in health["notice"]
    assert daily["pagination"]["totalItems"] >= 30 and daily["data"][0]["requests"] > 0


def test_serve_demo_answers_daily(tmp_path):
    with RunningServer("--demo", env=env_without_data(tmp_path)) as server:
        daily = get(server.url, "/api/v2/daily", limit=1000).json()
        models = get(server.url, "/api/v2/models").json()
    assert daily["pagination"]["totalItems"] == len(daily["data"]) >= 30
    assert "claude-experimental-7" in models["unpricedModels"]


def test_busy_port_is_a_one_line_error():
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "claude_usage", "serve", "--port", str(port), "--data-dir", str(FIXTURES / "sniffly")],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(port) in lines[0] and "in use" in lines[0]
    assert "Traceback" not in proc.stderr


def test_serve_refuses_a_missing_data_dir(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "claude_usage", "serve", "--port", "0", "--data-dir", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert str(tmp_path / "missing") in proc.stderr


def test_non_loopback_host_gets_a_warning():
    with RunningServer("--host", "0.0.0.0", "--data-dir", str(FIXTURES / "sniffly")) as server:
        assert get(server.url.replace("0.0.0.0", "127.0.0.1"), "/api/health").status_code == 200
    assert "Warning: binding 0.0.0.0" in "".join(server.output)


def test_port_and_host_from_the_environment():
    import os
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    env = {**os.environ, "PORT": str(free), "HOST": "127.0.0.1"}
    with RunningServer("--data-dir", str(FIXTURES / "sniffly"), env=env, port=None) as server:
        assert server.url == f"http://127.0.0.1:{free}"
        assert get(server.url, "/api/health").json()["status"] == "ok"


def test_every_endpoint_answers_on_the_demo(tmp_path):
    """Every GET route of the OpenAPI schema, with keys taken from the list endpoints."""
    with RunningServer("--demo", env=env_without_data(tmp_path)) as server:
        schema = get(server.url, "/openapi.json").json()
        day = get(server.url, "/api/v2/daily", order="desc", limit=1).json()["data"][0]["date"]
        project = get(server.url, "/api/v2/projects", limit=1).json()["data"][0]["name"]
        session = get(server.url, "/api/v2/sessions", limit=1).json()["data"][0]["sessionId"]
        tool = get(server.url, "/api/v2/mcp/tools").json()["tools"][0]["name"]
        log = get(server.url, "/api/v2/mcp/logs").json()["data"][0]["path"]
        keys = {"{date}": day, "{month}": day[:7], "{name}": project, "{session_id}": session}
        answered = {}
        for path, operations in schema["paths"].items():
            if "get" not in operations or path == "/api/v2/events":  # the event stream is tested apart
                continue
            url = path.replace("{name}", tool) if path.startswith("/api/v2/mcp/tools/") else path
            for placeholder, value in keys.items():
                url = url.replace(placeholder, value)
            params = {"file": log} if path == "/api/v2/logs/content" else {}
            answered[path] = get(server.url, url, **params).status_code
        todos = get(server.url, "/api/v2/todos").json()
        logs = get(server.url, "/api/v2/mcp/logs", limit=500).json()
    assert answered and set(answered.values()) == {200}, answered
    assert len(answered) >= 19
    assert "/api/v2/events" in schema["paths"] and "post" in schema["paths"]["/api/v2/refresh"]
    assert todos["pagination"]["totalItems"] > 0
    assert any("error" in row for row in logs["data"])  # the demo's broken log is listed, not fatal
