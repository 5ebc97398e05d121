"""GET /api/v2/logs/content serves files inside the data roots only; each escape is its own case."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from conftest import RunningServer
from helpers import assistant_line, write_lines


@pytest.fixture(scope="module")
def viewer(tmp_path_factory):
    base = tmp_path_factory.mktemp("viewer")
    config = base / "claude"
    transcript = write_lines(config / "projects" / "-home-dev-app" / "s1.jsonl", [assistant_line(output_tokens=5)])
    (config / "todos").mkdir()
    (config / "todos" / "s1.json").write_text(json.dumps([{"content": "x", "status": "pending"}]))
    logs = base / "cache" / "-home-dev-app" / "mcp-logs-github"
    logs.mkdir(parents=True)
    (logs / "2025-07-14.txt").write_text("[]")
    secret = base / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, config / "projects" / "-home-dev-app" / "link-out.jsonl")
    (config / "projects" / "-home-dev-app" / "huge.jsonl").write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    env = {**os.environ, "MCP_LOGS_PATH": str(base / "cache")}
    server = RunningServer("--data-dir", str(config), env=env)
    yield {"url": server.url, "config": config, "transcript": transcript, "secret": secret, "logs": logs, "base": base}
    server.stop()


def fetch(viewer, value=None, raw_query: str | None = None) -> httpx.Response:
    if raw_query is not None:
        return httpx.get(f"{viewer['url']}/api/v2/logs/content?{raw_query}", timeout=30)
    params = {} if value is None else {"file": value}
    return httpx.get(viewer["url"] + "/api/v2/logs/content", params=params, timeout=30)


def refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "message"}


def test_serves_a_transcript(viewer):
    body = fetch(viewer, str(viewer["transcript"])).json()
    assert body["success"] is True
    assert body["data"]["content"] == viewer["transcript"].read_text()
    assert body["data"]["size"] == viewer["transcript"].stat().st_size
    assert body["data"]["modified"].endswith("Z")


def test_serves_a_todo_list_and_an_mcp_log(viewer):
    assert fetch(viewer, str(viewer["config"] / "todos" / "s1.json")).status_code == 200
    assert fetch(viewer, str(viewer["logs"] / "2025-07-14.txt")).json()["data"]["content"] == "[]"


def test_without_file_is_400(viewer):
    refused(fetch(viewer), 400)


def test_dot_dot_out_of_the_root_is_403(viewer):
    escape = f"{viewer['config']}/projects/-home-dev-app/../../../secret.txt"
    refused(fetch(viewer, escape), 403)


def test_relative_dot_dot_is_403(viewer):
    refused(fetch(viewer, "../../secret.txt"), 403)


def test_symlink_pointing_out_is_403(viewer):
    refused(fetch(viewer, str(viewer["config"] / "projects" / "-home-dev-app" / "link-out.jsonl")), 403)


def test_url_encoded_separators_are_403(viewer):
    # %2F decoded once by the server gives '/': the resolved path is outside.
    target = f"{viewer['config']}/projects/..%2F..%2Fsecret.txt"
    refused(fetch(viewer, raw_query="file=" + target), 403)


def test_double_encoded_separators_are_403(viewer):
    # httpx encodes '%' as %25: the server sees a literal %2F that would decode to a separator.
    refused(fetch(viewer, f"{viewer['config']}/projects/..%2F..%2Fsecret.txt"), 403)


def test_absolute_path_elsewhere_is_403(viewer):
    refused(fetch(viewer, "/etc/passwd"), 403)
    refused(fetch(viewer, str(viewer["secret"])), 403)


def test_missing_file_inside_is_404(viewer):
    refused(fetch(viewer, str(viewer["config"] / "projects" / "-home-dev-app" / "gone.jsonl")), 404)


def test_directory_is_404(viewer):
    refused(fetch(viewer, str(viewer["config"] / "projects" / "-home-dev-app")), 404)


def test_over_10_mb_is_413(viewer):
    refused(fetch(viewer, str(viewer["config"] / "projects" / "-home-dev-app" / "huge.jsonl")), 413)
