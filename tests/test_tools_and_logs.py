"""Tool and MCP analytics, MCP logs and todo lists on hand-made files with hand-counted answers."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from claude_usage import tools
from claude_usage.sources.discovery import DataRoot
from claude_usage.sources.mcp_logs import LogCatalog
from conftest import RunningServer
from helpers import assistant_line, scan, write_lines


def with_tools(msg_id: str, ts: str, session: str, *blocks: tuple[str, str]) -> dict:
    line = assistant_line(msg_id=msg_id, ts=ts, session=session, output_tokens=10)
    line["message"]["content"] = [{"type": "tool_use", "id": i, "name": n, "input": {"x": None}} for i, n in blocks]
    return line


def results(session: str, ts: str, *outcomes: tuple[str, bool]) -> dict:
    return {
        "type": "user", "sessionId": session, "timestamp": ts, "cwd": "/home/dev/app",
        "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": i, "is_error": failed, "content": "output"} for i, failed in outcomes
        ]},
    }


@pytest.fixture()
def tool_data(tmp_path):
    """Two sessions. Hand count:
    Bash: t1 (s1; copied into s2 by a resume: same id, counted once) -> 1 call, 0 errors, 1 session
    mcp__github__get_issue: t2 (s1, error result), t5 (s2) -> 2 calls, 1 error, 2 sessions
    mcp__plugin_github_github__create_issue: t3 (s1) -> 1 call
    mcp__plugin_acme_tools_server__run: t4 (s1, written twice by streaming) -> 1 call, 1 error
    Total: 5 calls, 2 errors; MCP: 4 calls in 2 sessions, 3 tools.
    """
    project = tmp_path / "claude" / "projects" / "-home-dev-app"
    first = with_tools("msg_a", "2025-10-01T10:00:00Z", "s1", ("t1", "Bash"), ("t2", "mcp__github__get_issue"))
    second = with_tools("msg_b", "2025-10-01T10:05:00Z", "s1", ("t3", "mcp__plugin_github_github__create_issue"),
                        ("t4", "mcp__plugin_acme_tools_server__run"))
    write_lines(project / "s1.jsonl", [
        first,
        results("s1", "2025-10-01T10:00:30Z", ("t1", False), ("t2", True)),
        second, second,
        results("s1", "2025-10-01T10:05:30Z", ("t3", False), ("t4", True)),
    ])
    write_lines(project / "s2.jsonl", [
        with_tools("msg_a", "2025-10-01T10:00:00Z", "s2", ("t1", "Bash"), ("t2", "mcp__github__get_issue")),
        with_tools("msg_c", "2025-10-02T09:00:00Z", "s2", ("t5", "mcp__github__get_issue")),
    ])
    return tmp_path / "claude"


def test_tool_counts(tool_data):
    ds = scan([DataRoot(tool_data / "projects", tool_data, "test")])
    stats = ds.run(tools.tool_stats)
    got = {name: (s.calls, s.errors, s.sessions) for name, s in stats.items()}
    assert got == {
        "Bash": (1, 0, 1),
        "mcp__github__get_issue": (2, 1, 2),
        "mcp__plugin_github_github__create_issue": (1, 0, 1),
        "mcp__plugin_acme_tools_server__run": (1, 1, 1),
    }
    assert stats["Bash"].first_ts_us == stats["Bash"].last_ts_us  # one call, at 2025-10-01T10:00:00Z
    assert ds.run(tools.mcp_session_count) == 2


@pytest.mark.parametrize("columns", ["80", "120"])
def test_tools_table_keeps_names_whole(tool_data, columns):
    import subprocess
    import sys

    # A process of its own: the terminal width is read once per process.
    result = subprocess.run([sys.executable, "-m", "claude_usage", "tools", "--data-dir", str(tool_data / "projects"),
                             "--no-index"], env={**os.environ, "COLUMNS": columns}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= int(columns)
    # Tool and server names whole on their row (a folded name is cut over two rows); on 80
    # columns the longest plugin server names may still fold.
    row = next(line for line in lines if "get_issue" in line)
    assert "│ github " in row and "2025-10-02" in row  # last used by t5
    if columns == "120":
        row = next(line for line in lines if "plugin_github_github" in line)
        assert "create_issue" in row and "2025-10-01" in row
    assert ("First used" in result.stdout) == (columns == "120")  # the first date only on a wide terminal
    totals = next(line for line in lines if "Total" in line)
    assert [cell.strip() for cell in totals.strip("│ ").split("│")][:4] == ["Total", "", "5", "2"]  # hand count above


@pytest.mark.parametrize(
    "name, server, tool, plugin",
    [
        ("Bash", None, "Bash", None),
        ("mcp__github__get_issue", "github", "get_issue", None),
        ("mcp__Solana__Solana_Expert__Ask_For_Help", "Solana", "Solana_Expert__Ask_For_Help", None),
        ("mcp__plugin_github_github__create_issue", "plugin_github_github", "create_issue", "github"),
        ("mcp__plugin_acme_tools_server__run", "plugin_acme_tools_server", "run", "acme"),
        ("mcp__broken", None, "mcp__broken", None),
    ],
)
def test_split_tool_name(name, server, tool, plugin):
    split = tools.split_tool_name(name)
    assert (split.server, split.tool, split.plugin) == (server, tool, plugin)


def test_tool_endpoints(tool_data):
    with RunningServer("--data-dir", str(tool_data)) as server:
        everything = httpx.get(server.url + "/api/v2/tools").json()
        mcp = httpx.get(server.url + "/api/v2/mcp/tools").json()
        one = httpx.get(server.url + "/api/v2/mcp/tools/mcp__github__get_issue").json()
        missing = httpx.get(server.url + "/api/v2/mcp/tools/Bash")
        summary = httpx.get(server.url + "/api/v2/summary").json()
    assert (everything["totalCalls"], everything["uniqueTools"], everything["totalErrors"]) == (5, 4, 2)
    assert (mcp["totalCalls"], mcp["uniqueTools"]) == (4, 3)
    rows = {row["name"]: row for row in mcp["tools"]}
    assert rows["mcp__github__get_issue"]["server"] == "github"
    assert rows["mcp__github__get_issue"]["count"] == 2 and rows["mcp__github__get_issue"]["errors"] == 1
    assert rows["mcp__plugin_acme_tools_server__run"]["errors"] == 1
    assert [s["sessionId"] for s in mcp["sessions"]] == ["s2", "s1"]  # latest first
    assert mcp["sessions"][1]["tools"] == {
        "mcp__github__get_issue": 1, "mcp__plugin_acme_tools_server__run": 1, "mcp__plugin_github_github__create_issue": 1,
    }
    assert mcp["sessions"][1]["startTime"] == "2025-10-01T10:00:00.000Z"
    assert mcp["sessions"][1]["endTime"] == "2025-10-01T10:05:00.000Z"
    assert one["sessionCount"] == 2 and [s["sessionId"] for s in one["sessions"]] == ["s2", "s1"]
    assert one["firstUsed"] == "2025-10-01T10:00:00.000Z" and one["lastUsed"] == "2025-10-02T09:00:00.000Z"
    assert missing.status_code == 404
    assert summary["totalMcpSessions"] == 2


@pytest.fixture()
def logs_dir(tmp_path):
    """MCP logs of two projects. Hand count per file (entries, errors, malformed, problem)."""
    root = tmp_path / "claude-cli-nodejs"
    gh = root / "-home-dev-app" / "mcp-logs-github"
    gh.mkdir(parents=True)
    entries = [
        {"debug": "Starting connection", "timestamp": "2025-07-14T10:20:09.396Z", "sessionId": "sess-1", "cwd": "/home/dev/app"},
        {"error": "Connection failed", "timestamp": "2025-07-14T10:20:10.000Z", "sessionId": "sess-1", "cwd": "/home/dev/app"},
    ]
    (gh / "2025-07-14T10-20-09-396Z.txt").write_text(json.dumps(entries, indent=2))          # 2 entries, 1 error
    (gh / "2025-07-15T08-00-00-000Z.txt").write_text(json.dumps(entries, indent=2)[:-40])    # truncated: 1 entry
    (gh / "2025-07-16T08-00-00-000Z.txt").write_text("")                                      # empty
    (gh / "2025-07-17T08-00-00-000Z.txt").write_text("Segmentation fault (core dumped)\n")    # not JSON
    pw = root / "-home-dev-web" / "mcp-logs-plugin-acme-tools"
    pw.mkdir(parents=True)
    lines = [json.dumps({"debug": f"call {i}", "timestamp": "2026-02-01T00:00:00Z", "sessionId": "sess-2"}) for i in range(3)]
    lines.insert(1, '{"debug": "cut in ha')
    lines.append(json.dumps({"error": "tool crashed", "timestamp": "2026-02-01T00:00:01Z", "sessionId": "sess-2"}))
    (pw / "2026-02-01T00-00-00-000Z.jsonl").write_text("\n".join(lines) + "\n")               # 4 entries, 1 error, 1 malformed
    return root


def test_log_summaries(logs_dir):
    got = {s.log.path.name: (s.log.server, s.entries, s.errors, s.malformed, s.session_id, bool(s.error))
           for s in LogCatalog(logs_dir).summaries()}
    assert got == {
        "2025-07-14T10-20-09-396Z.txt": ("github", 2, 1, 0, "sess-1", False),
        "2025-07-15T08-00-00-000Z.txt": ("github", 1, 0, 0, "sess-1", True),
        "2025-07-16T08-00-00-000Z.txt": ("github", 0, 0, 0, None, True),
        "2025-07-17T08-00-00-000Z.txt": ("github", 0, 0, 0, None, True),
        "2026-02-01T00-00-00-000Z.jsonl": ("plugin-acme-tools", 4, 1, 1, "sess-2", False),
    }


def test_links_out_of_the_roots_are_not_listed(tmp_path, logs_dir):
    from claude_usage.sources.todos import todo_files

    outside = tmp_path / "outside.txt"
    outside.write_text("[]")
    os.symlink(outside, logs_dir / "-home-dev-app" / "mcp-logs-github" / "link.txt")
    (tmp_path / "claude" / "projects").mkdir(parents=True)
    (tmp_path / "claude" / "todos").mkdir()
    os.symlink(outside, tmp_path / "claude" / "todos" / "link.json")
    (tmp_path / "claude" / "todos" / "real.json").write_text("[]")
    assert "link.txt" not in {s.log.path.name for s in LogCatalog(logs_dir).summaries()}
    root = DataRoot(tmp_path / "claude" / "projects", tmp_path / "claude", "test")
    assert [p.name for p in todo_files([root])] == ["real.json"]


def test_large_logs_are_streamed(tmp_path):
    # 200,000 entries in both formats (~25 MB each), read in 1 MiB chunks.
    folder = tmp_path / "logs" / "p" / "mcp-logs-big"
    folder.mkdir(parents=True)
    entry = {"debug": "x" * 80, "timestamp": "2026-01-01T00:00:00Z", "sessionId": "s"}
    with open(folder / "a.jsonl", "w") as handle:
        for _ in range(200_000):
            handle.write(json.dumps(entry) + "\n")
    with open(folder / "b.txt", "w") as handle:
        handle.write("[\n" + ",\n".join(json.dumps(entry, indent=2) for _ in range(200_000)) + "\n]")
    got = {s.log.path.name: (s.entries, s.error) for s in LogCatalog(tmp_path / "logs").summaries()}
    assert got == {"a.jsonl": (200_000, None), "b.txt": (200_000, None)}


def test_logs_and_todos_endpoints(logs_dir, tool_data):
    todos = tool_data / "todos"
    todos.mkdir()
    (todos / "s1-agent-s1.json").write_text(json.dumps([
        {"content": "a", "status": "completed"}, {"content": "b", "status": "in_progress"}, {"content": "c", "status": "pending"},
        {"content": "d", "status": "pending"},
    ]))
    (todos / "s2.json").write_text("[]")
    (todos / "broken.json").write_text("[{")
    env = {**os.environ, "MCP_LOGS_PATH": str(logs_dir)}
    with RunningServer("--data-dir", str(tool_data), env=env) as server:
        logs = httpx.get(server.url + "/api/v2/mcp/logs").json()
        paged = httpx.get(server.url + "/api/v2/mcp/logs", params={"limit": 2, "page": 3}).json()
        by_session = httpx.get(server.url + "/api/v2/mcp/logs", params={"sessionId": "sess-2"}).json()
        by_server = httpx.get(server.url + "/api/v2/mcp/logs", params={"server": "github"}).json()
        todo_rows = httpx.get(server.url + "/api/v2/todos").json()
        summary = httpx.get(server.url + "/api/v2/summary").json()
    assert logs["pagination"]["totalItems"] == 5
    assert [row["file"] for row in by_session["data"]] == ["2026-02-01T00-00-00-000Z.jsonl"]
    assert by_session["data"][0]["project"] == "-home-dev-web"
    assert len(by_server["data"]) == 4 and {row["server"] for row in by_server["data"]} == {"github"}
    assert sum("error" in row for row in by_server["data"]) == 3  # truncated, empty, not JSON
    assert paged["pagination"] == {"currentPage": 3, "totalPages": 3, "totalItems": 5, "itemsPerPage": 2, "hasNext": False, "hasPrev": True}
    assert len(paged["data"]) == 1
    rows = {row["file"]: row for row in todo_rows["data"]}
    assert (rows["s1-agent-s1.json"]["tasks"], rows["s1-agent-s1.json"]["pending"],
            rows["s1-agent-s1.json"]["inProgress"], rows["s1-agent-s1.json"]["completed"]) == (4, 2, 1, 1)
    assert rows["s1-agent-s1.json"]["sessionId"] == "s1"
    assert rows["s2.json"]["tasks"] == 0
    assert "error" in rows["broken.json"]
    assert summary["totalTodoFiles"] == 3


def test_summary_mcp_sessions_follow_appends(tool_data):
    """The MCP session count is kept between writes that add no MCP call and counted again after
    one that does. Hand count: 2 sessions (s1, s2); a Bash call in a new session s3 leaves 2; an
    MCP call in s3 makes 3; an MCP call in a new file rewritten away (truncated) makes 2 again."""
    import time

    project = tool_data / "projects" / "-home-dev-app"

    def served(server, requests):
        deadline = time.monotonic() + 30
        while httpx.get(server.url + "/api/health").json()["records"] != requests:
            assert time.monotonic() < deadline, "the append was not read"
            httpx.post(server.url + "/api/v2/refresh", headers={"Origin": server.url})
            time.sleep(0.1)
        return httpx.get(server.url + "/api/v2/summary").json()["totalMcpSessions"]

    with RunningServer("--data-dir", str(tool_data)) as server:
        assert served(server, 3) == 2  # msg_a, msg_b, msg_c
        write_lines(project / "s3.jsonl", [with_tools("msg_d", "2025-10-03T09:00:00Z", "s3", ("t6", "Bash"))])
        assert served(server, 4) == 2
        with open(project / "s3.jsonl", "a") as handle:
            handle.write(json.dumps(with_tools("msg_e", "2025-10-03T09:05:00Z", "s3", ("t7", "mcp__github__get_issue"))) + "\n")
        assert served(server, 5) == 3
        write_lines(project / "s3.jsonl", [with_tools("msg_d", "2025-10-03T09:00:00Z", "s3", ("t6", "Bash"))])
        assert served(server, 4) == 2
