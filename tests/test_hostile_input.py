"""Hostile files and lines in a data root (issue 10, items 1-6): nothing crashes, hangs, misleads
or destroys; every real line still counts, and every bad file is named in a warning.

The data root is a writable copy of the ``sniffly`` fixture set plus hand-made files whose
usage is worked out below (Sonnet 4.5 at $3 / $15 per million input / output tokens):

- ``deep-usage.jsonl``: a usage line whose tool input is nested 1,000 deep:
  1,000 in + 100 out = 0.003 + 0.0015 = $0.0045
- ``bom.jsonl``: a usage line after a UTF-8 byte-order mark: 2,000 in = $0.006
- ``s<0xFF>.jsonl`` (a name that is not UTF-8): 500 in + 50 out = 0.0015 + 0.00075 = $0.00225
- ``surrogate.jsonl``: a usage line whose session id is a lone surrogate escape: 100 in = $0.0003
- ``deep.jsonl`` (a bare array nested 1,000 deep), ``huge-count.jsonl`` (2^70 input tokens)
  and ``x.jsonl`` (a FIFO): no usage that counts.
Added: 4 requests, 3,600 input and 150 output tokens, $0.01305.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from claude_usage import reports
from claude_usage.pricing import Pricer
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import DataRoot
from claude_usage.store import SQLiteStore, facts
from conftest import RunningServer, expected, writable_copy
from helpers import assistant_line, scan, write_lines

DEEP = "[" * 1000 + "]" * 1000
ADDED = {"requests": 4, "input": 3_600, "output": 150, "cost": 0.0045 + 0.006 + 0.00225 + 0.0003}
NOT_UTF8 = os.fsdecode(b"s\xff.jsonl")


def hostile_root(base: Path) -> Path:
    """The data root described in the module docstring; returns the config dir."""
    config = writable_copy("sniffly", base / "claude")
    folder = config / "projects" / "-home-dev-hostile"
    folder.mkdir()
    deep_usage = json.dumps(assistant_line(msg_id="m-deep", uuid="u-deep", input_tokens=1_000, output_tokens=100))
    deep_usage = deep_usage.replace('"content": []', '"content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"x": %s}}]' % DEEP)
    (folder / "deep-usage.jsonl").write_text(deep_usage + "\n")
    (folder / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(assistant_line(msg_id="m-bom", uuid="u-bom", input_tokens=2_000)).encode() + b"\n")
    write_lines(folder / NOT_UTF8, [assistant_line(msg_id="m-name", uuid="u-name", input_tokens=500, output_tokens=50)])
    surrogate = json.dumps(assistant_line(msg_id="m-sur", uuid="u-sur", input_tokens=100, session="SESSION")).replace("SESSION", "\\ud800")
    (folder / "surrogate.jsonl").write_text(surrogate + "\n")
    (folder / "deep.jsonl").write_text(DEEP + "\n")
    huge = json.dumps(assistant_line(msg_id="m-huge", uuid="u-huge", input_tokens=7)).replace('"input_tokens": 7', '"input_tokens": 1180591620717411303424')
    (folder / "huge-count.jsonl").write_text(huge + "\n")
    os.mkfifo(folder / "x.jsonl")
    return config


def expected_totals() -> dict:
    base = expected("sniffly")["totals"]
    return {
        "requests": base["requests"] + ADDED["requests"],
        "inputTokens": base["input_tokens"] + ADDED["input"],
        "outputTokens": base["output_tokens"] + ADDED["output"],
        "cacheReadTokens": base["cache_read_tokens"],
        "costUsd": base["cost_usd"] + ADDED["cost"],
    }


def assert_totals(row: dict) -> None:
    want = expected_totals()
    for name in ("requests", "inputTokens", "outputTokens", "cacheReadTokens"):
        assert row[name] == want[name], name
    assert abs(row["costUsd"] - want["costUsd"]) <= 1e-6


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """A real ``claude-usage`` process; a hang fails the test through the timeout."""
    return subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return hostile_root(tmp_path_factory.mktemp("hostile"))


def test_library_reads_every_real_line_and_counts_the_damage(hostile):
    root = DataRoot(hostile / "projects", hostile, "test")
    scanned = scan([root])
    assert_totals(usage_row(scanned.overall()))
    d = scanned.diagnostics
    assert (d.deepLines, d.invalidUsageLines, d.skippedFiles, d.nonObjectLines) == (2, 1, 1, 1)
    named = "\n".join(scanned.warnings)
    for bad in ("deep-usage.jsonl", "deep.jsonl", "huge-count.jsonl", "x.jsonl"):
        assert bad in named
    # A store refreshed twice gives the same (the second run reads nothing, keeps the warnings).
    index = SQLiteStore(hostile.parent / "index.sqlite", [root])
    for _ in range(2):
        index.refresh(Pricer)
        with index.reading() as view:
            assert_totals(usage_row(reports.overall(view, Query(zone="UTC"))))
            assert facts.diagnostics(view) == scanned.diagnostics
            assert sorted(facts.warnings(view)) == sorted(scanned.warnings)
    kept = scanned.kept()
    assert "?" in {row["session"] for row in kept}  # the lone surrogate, made printable
    assert any(row["file"].endswith("s\\xff.jsonl") for row in kept)
    index.close()


@pytest.mark.parametrize("mode", ["--no-index", "--index"])
def test_cli_finishes_with_exact_totals_and_names_each_bad_file(hostile, tmp_path, mode):
    extra = ["--no-index"] if mode == "--no-index" else ["--index", str(tmp_path / "i.sqlite")]
    done = cli("daily", "--json", "--tz", "UTC", "--data-dir", str(hostile), *extra)
    assert done.returncode == 0, done.stderr
    assert_totals(json.loads(done.stdout)["totals"])
    for bad in ("deep-usage.jsonl", "deep.jsonl", "huge-count.jsonl", "x.jsonl: skipped, a FIFO"):
        assert bad in done.stderr
    doctor = json.loads(cli("doctor", "--json", "--data-dir", str(hostile), *extra).stdout)
    assert (doctor["skippedFiles"], doctor["deepLines"], doctor["invalidUsageLines"]) == (1, 2, 1)
    sessions = cli("sessions", "--json", "--tz", "UTC", "--data-dir", str(hostile), *extra)
    assert sessions.returncode == 0 and "?" in {row["sessionId"] for row in json.loads(sessions.stdout)["sessions"]}


def test_server_serves_exact_totals_and_health_says_what_was_skipped(hostile):
    with RunningServer("--data-dir", str(hostile), "--tz", "UTC") as server:
        import httpx

        health = httpx.get(server.url + "/api/health").json()
        summary = httpx.get(server.url + "/api/v2/daily", params={"limit": 1000}).json()
        refreshed = httpx.post(server.url + "/api/v2/refresh")
    assert health["status"] == "degraded"
    assert health["problems"] == ["1 *.jsonl path skipped: not regular files (see warnings)"]
    assert any(w.endswith("x.jsonl: skipped, a FIFO, not a regular file") for w in health["warnings"])
    assert any("deep-usage.jsonl" in w for w in health["warnings"])
    rows = summary["data"]
    assert sum(r["requests"] for r in rows) == expected_totals()["requests"]
    assert abs(sum(r["costUsd"] for r in rows) - expected_totals()["costUsd"]) <= 1e-6
    assert refreshed.status_code == 200
    log = "".join(server.output) + server.proc.stdout.read()
    assert "x.jsonl: skipped, a FIFO" in log  # the server logged it too


def test_character_devices_named_jsonl_are_skipped(tmp_path):
    folder = tmp_path / "claude" / "projects" / "-home-dev-app"
    write_lines(folder / "real.jsonl", [assistant_line(input_tokens=1_000)])  # $0.003
    try:
        os.mknod(folder / "zero.jsonl", 0o666 | 0o020000, os.makedev(1, 5))  # /dev/zero
        os.mknod(folder / "random.jsonl", 0o666 | 0o020000, os.makedev(1, 9))  # /dev/urandom
    except PermissionError:
        pytest.skip("creating device nodes needs CAP_MKNOD (root)")
    done = cli("daily", "--json", "--tz", "UTC", "--data-dir", str(tmp_path / "claude"), "--index", str(tmp_path / "i"),
               timeout=60)
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout)["totals"]
    assert (totals["requests"], totals["inputTokens"]) == (1, 1_000)
    assert "zero.jsonl: skipped, a character device" in done.stderr
    assert "random.jsonl: skipped, a character device" in done.stderr


def test_a_line_longer_than_the_limit_is_skipped_without_holding_it(tmp_path, monkeypatch):
    from claude_usage.sources import transcripts

    monkeypatch.setattr(transcripts, "MAX_LINE_BYTES", 10 << 20)  # the 64 MiB rule, at 10 MiB
    folder = tmp_path / "projects" / "p"
    good = json.dumps(assistant_line(msg_id="a", uuid="a", input_tokens=10)).encode()
    later = json.dumps(assistant_line(msg_id="b", uuid="b", input_tokens=20)).encode()
    folder.mkdir(parents=True)
    # a good line, a 25 MiB line (three 4 MiB reads and more), a good line, then an unterminated
    # 12 MiB tail: 2 requests, 30 input tokens; the committed offset stops before the tail.
    long_line = b'{"pad": "' + b"x" * (25 << 20) + b'"}'
    body = good + b"\n" + long_line + b"\n" + later + b"\n"
    (folder / "s.jsonl").write_bytes(body + b"y" * (12 << 20))
    root = DataRoot(tmp_path / "projects", tmp_path, "test")
    scan = transcripts.scan_file(root_files(root)[0])
    assert sorted(r.input_tokens for r in scan.records) == [10, 20]
    assert [r.offset for r in sorted(scan.records, key=lambda r: r.offset)] == [0, len(good) + 1 + len(long_line) + 1]
    assert scan.committed_offset == len(body)
    assert (scan.diagnostics.oversizedLines, scan.tail.oversizedLines, scan.tail.bytes) == (1, 1, 12 << 20)
    assert "longer than 10 MiB, skipped" in " ".join(transcripts.line_problems("s", scan.diagnostics, scan.tail))


def root_files(root: DataRoot) -> list:
    from claude_usage.sources.discovery import transcript_files

    return transcript_files(root)


def test_index_refuses_files_it_did_not_create(tmp_path):
    data = tmp_path / "claude"
    write_lines(data / "projects" / "p" / "s.jsonl", [assistant_line(input_tokens=10)])
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Ada')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for target in (notes, other, Path(os.devnull), tmp_path):
        done = cli("daily", "--json", "--data-dir", str(data), "--index", str(target))
        assert done.returncode == 2, (target, done.stderr)
        assert "not a claude-usage index" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    env = {**os.environ, "CLAUDE_USAGE_INDEX": str(notes)}
    assert cli("summary", "--data-dir", str(data), env=env).returncode == 2
    assert notes.read_text() == "my notes\n"
    assert other.read_bytes() == before
    assert Path(os.devnull).is_char_device()


def test_an_index_of_an_older_version_without_the_marker_is_still_rebuilt(tmp_path):
    # Indexes of schema 5 and before had no application id; they are ours and get rebuilt.
    data = tmp_path / "claude"
    write_lines(data / "projects" / "p" / "s.jsonl", [assistant_line(input_tokens=10)])
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("schema", "5"), ("roots", "/somewhere")])
    conn.commit()
    conn.close()
    done = cli("daily", "--json", "--data-dir", str(data), "--index", str(old))
    assert done.returncode == 0, done.stderr
    assert "Rebuilding the index" in done.stderr
    assert json.loads(done.stdout)["totals"]["inputTokens"] == 10
    header = old.read_bytes()[:100]
    assert int.from_bytes(header[68:72], "big") == 0x43557367  # now marked as ours


def test_non_utf8_names_of_projects_and_files(tmp_path):
    project = os.fsdecode(b"-home-dev-caf\xe9")  # Latin-1 bytes in a directory name
    folder = tmp_path / "claude" / "projects" / project
    write_lines(folder / NOT_UTF8, [assistant_line(input_tokens=1_000, output_tokens=100, session=None)])
    done = cli("projects", "--json", "--tz", "UTC", "--data-dir", str(tmp_path / "claude"), "--index", str(tmp_path / "i"))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["projects"]
    assert [(r["name"], r["inputTokens"], r["outputTokens"]) for r in rows] == [("-home-dev-caf\\xe9", 1_000, 100)]
    sessions = json.loads(cli("sessions", "--json", "--tz", "UTC", "--data-dir", str(tmp_path / "claude"),
                              "--index", str(tmp_path / "i")).stdout)["sessions"]
    assert [s["sessionId"] for s in sessions] == ["s\\xff"]  # the file stem, for a line without sessionId


def test_todos_and_mcp_logs_survive_hostile_files(tmp_path):
    # todos: a FIFO, a list nested 1,000 deep, a name that is not UTF-8 (2 tasks: 1 pending,
    # 1 completed), a lone surrogate in a task; MCP logs: a line of 20 MB without a newline
    # between two good entries, an array item nested 1,000 deep, a FIFO.
    import httpx

    config = tmp_path / "claude"
    write_lines(config / "projects" / "-home-dev-app" / "s.jsonl", [assistant_line(input_tokens=10)])
    todos = config / "todos"
    todos.mkdir()
    os.mkfifo(todos / "pipe.json")
    (todos / "deep.json").write_text(DEEP)
    (todos / os.fsdecode(b"caf\xe9.json")).write_text(json.dumps([{"status": "pending"}, {"status": "completed"}]))
    (todos / "odd.json").write_text('[{"status": "in_progress", "content": "\\ud800"}]')
    logs = tmp_path / "logs" / "-home-dev-app" / "mcp-logs-github"
    logs.mkdir(parents=True)
    entry = '{"debug": "ok", "timestamp": "2025-07-14T10:20:09Z", "sessionId": "\\udc80"}'  # a lone surrogate escape
    (logs / "2025-07-14T10-20-09-396Z.jsonl").write_bytes(
        (entry + "\n").encode() + b"x" * (20 << 20) + b"\n" + (entry + "\n").encode())
    (logs / "2025-07-15T10-20-09-396Z.txt").write_text("[" + json.dumps({"debug": "a"}) + ", {\"x\": " + DEEP + "}]")
    os.mkfifo(logs / "2025-07-16T10-20-09-396Z.jsonl")
    env = {**os.environ, "MCP_LOGS_PATH": str(tmp_path / "logs")}
    with RunningServer("--data-dir", str(config), env=env) as server:
        todo_rows = {row["file"]: row for row in httpx.get(server.url + "/api/v2/todos", timeout=30).json()["data"]}
        log_rows = {row["file"]: row for row in httpx.get(server.url + "/api/v2/mcp/logs", timeout=30).json()["data"]}
        summary = httpx.get(server.url + "/api/v2/summary", timeout=30)
    assert "pipe.json" not in todo_rows  # not a regular file: not listed, never opened
    assert (todo_rows["caf\\xe9.json"]["pending"], todo_rows["caf\\xe9.json"]["completed"]) == (1, 1)
    assert todo_rows["odd.json"]["inProgress"] == 1
    # read without its deep parts: a list holding a list, no task object
    assert todo_rows["deep.json"]["tasks"] == 0 and "error" not in todo_rows["deep.json"]
    jsonl = log_rows["2025-07-14T10-20-09-396Z.jsonl"]
    assert (jsonl["entries"], jsonl["malformed"], jsonl["sessionId"]) == (2, 1, "?")
    assert "nested deeper" in log_rows["2025-07-15T10-20-09-396Z.txt"]["error"]
    assert log_rows["2025-07-15T10-20-09-396Z.txt"]["entries"] == 1
    assert "2025-07-16T10-20-09-396Z.jsonl" not in log_rows
    assert summary.status_code == 200
