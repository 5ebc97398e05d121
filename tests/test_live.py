"""Live serving: SSE updates on appended lines, heartbeats, clean-up of disconnected clients,
the indexing state of /api/health, and a server and CLI commands sharing one index."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conftest import RunningServer, expected, get, writable_copy
from helpers import assistant_line


@pytest.fixture()
def data(tmp_path):
    return writable_copy("sniffly", tmp_path / "sniffly")


def transcript(data):
    return sorted((data / "projects").rglob("*.jsonl"))[0]


def append_usage(data, msg_id: str, input_tokens: int, output_tokens: int) -> None:
    line = assistant_line(msg_id=msg_id, input_tokens=input_tokens, output_tokens=output_tokens,
                          model="claude-sonnet-4-20250514", ts="2025-06-10T12:00:00.000Z", session="live-session")
    with open(transcript(data), "a") as handle:
        handle.write(json.dumps(line) + "\n")


class EventReader:
    """Reads /api/v2/events in a thread; ``lines`` receives every line of the stream."""

    def __init__(self, url: str):
        self.lines: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self.thread.start()

    def _run(self, url: str) -> None:
        try:
            with httpx.stream("GET", url + "/api/v2/events", timeout=30) as response:
                for line in response.iter_lines():
                    self.lines.put(line)
                    if self.stop.is_set():
                        return
        except httpx.HTTPError:  # the server stopped at the end of the test
            pass

    def next_event(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("data: "):
                return json.loads(line[len("data: "):])
        raise AssertionError("no event within the time limit")


def test_appending_a_line_pushes_an_update_with_it(data):
    # sniffly: 90 requests, $2.356129. The new request: 1,000 input + 100 output tokens on
    # Sonnet 4 ($3 / $15 per million) = 0.003 + 0.0015 = $0.0045.
    with RunningServer("--data-dir", str(data), "--tz", "UTC") as server:
        reader = EventReader(server.url)
        assert reader.lines.get(timeout=10).startswith(": connected")
        started = time.monotonic()
        append_usage(data, "msg_live_1", 1000, 100)
        event = reader.next_event(timeout=10)
        latency = time.monotonic() - started
        daily = get(server.url, "/api/v2/daily/2025-06-10").json()
        reader.stop.set()
    total = expected("sniffly")["totals"]
    assert event["type"] == "update"
    assert event["changedDays"] == ["2025-06-10"]
    assert {"totalMcpSessions", "totalTodoFiles", "totalSize", "timezone"} <= set(event["totals"])
    assert event["totals"]["totalMessages"] == total["requests"] + 1
    assert event["totals"]["totalTokens"] == total["total_tokens"] + 1100
    assert abs(event["totals"]["totalCostUsd"] - (total["cost_usd"] + 0.0045)) < 1e-6
    assert daily["requests"] == expected("sniffly")["by_day"]["UTC"]["2025-06-10"]["requests"] + 1
    assert latency < 30  # a generous bound: the latency target itself is measured by the benchmark


def test_heartbeat_and_disconnected_clients_are_cleaned_up(data):
    with RunningServer("--data-dir", str(data), "--sse-heartbeat", "0.2") as server:
        with httpx.stream("GET", server.url + "/api/v2/events", timeout=10) as response:
            lines = response.iter_lines()
            assert next(lines).startswith(": connected")
            assert next(lines) == ""
            assert next(lines) == ": heartbeat"
            assert get(server.url, "/api/health").json()["eventClients"] == 1
        deadline = time.monotonic() + 10
        while get(server.url, "/api/health").json()["eventClients"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert get(server.url, "/api/health").json()["eventClients"] == 0


def test_on_demand_refresh(data):
    with RunningServer("--data-dir", str(data)) as server:
        append_usage(data, "msg_refresh_1", 10, 10)
        done = httpx.post(server.url + "/api/v2/refresh").json()
        health = get(server.url, "/api/health").json()
    assert health["records"] == expected("sniffly")["totals"]["requests"] + 1
    assert done["live"] is True


def test_health_reports_indexing_then_serves_the_whole_corpus(corpus, tmp_path):
    """A first build of ~120 MB: /api/health says "indexing" with a progress, serves what is
    already indexed, then "ok" with every request."""
    import re

    env = {**os.environ, "CLAUDE_USAGE_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "claude_usage", "serve", "--port", "0", "--rate-limit", "0",
                             "--data-dir", str(corpus["path"])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    try:
        url = None
        while url is None:
            found = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
            url = found[0] if found else None
        states = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                health = httpx.get(url + "/api/health", timeout=5).json()
            except httpx.HTTPError:
                continue
            states.append((health["status"], health["progress"], health["records"]))
            if health["status"] == "ok":
                break
            time.sleep(0.02)
        summary = httpx.get(url + "/api/v2/summary", timeout=30).json()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert states[0][0] == "indexing" and 0 <= states[0][1] < 1
    assert states[-1][0] == "ok" and states[-1][1] == 1.0
    assert summary["totalMessages"] == corpus["requests"] == states[-1][2]


def test_server_and_cli_share_one_index(data, tmp_path):
    index = tmp_path / "shared.sqlite"
    env = {**os.environ, "CLAUDE_USAGE_INDEX": str(index)}
    with RunningServer("--data-dir", str(data), "--tz", "UTC", env=env) as server:
        outputs = []
        for i in range(6):
            append_usage(data, f"msg_shared_{i}", 100, 10)
            cli = subprocess.run([sys.executable, "-m", "claude_usage", "daily", "--json", "--tz", "UTC",
                                  "--data-dir", str(data)], capture_output=True, text=True, env=env, timeout=120)
            assert cli.returncode == 0, cli.stderr
            assert "locked" not in cli.stderr.lower()
            outputs.append(json.loads(cli.stdout)["totals"]["requests"])
            assert get(server.url, "/api/v2/daily").status_code == 200
        httpx.post(server.url + "/api/v2/refresh")
        served = get(server.url, "/api/health").json()["records"]
    base = expected("sniffly")["totals"]["requests"]
    assert outputs == [base + i + 1 for i in range(6)]
    assert served == base + 6
    assert "locked" not in "".join(server.output).lower()


def test_concurrent_commands_lose_nothing(data, tmp_path):
    """Four CLI commands at a time refresh one index while lines keep arriving: afterwards the
    index has every request (a stale plan of one process never overwrites another's work)."""
    env = {**os.environ, "CLAUDE_USAGE_INDEX": str(tmp_path / "shared.sqlite")}
    args = [sys.executable, "-m", "claude_usage", "daily", "--json", "--tz", "UTC", "--data-dir", str(data)]
    stop = threading.Event()

    def writer():
        for i in range(60):
            append_usage(data, f"msg_race_{i}", 10, 1)
            time.sleep(0.04)
        stop.set()

    def runner(failures: list):
        while not stop.is_set():
            proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
            if proc.returncode != 0 or "locked" in proc.stderr.lower():
                failures.append(proc.stderr)

    failures: list = []
    threads = [threading.Thread(target=writer)] + [threading.Thread(target=runner, args=(failures,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    indexed = json.loads(subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout)
    fresh = json.loads(subprocess.run(args + ["--no-index"], capture_output=True, text=True, env=env, check=True).stdout)
    assert indexed["totals"] == fresh["totals"]
    assert indexed["totals"]["requests"] == expected("sniffly")["totals"]["requests"] + 60


def test_server_stops_with_an_event_client_connected(data):
    server = RunningServer("--data-dir", str(data))
    try:
        with httpx.stream("GET", server.url + "/api/v2/events", timeout=30) as response:
            lines = response.iter_lines()
            assert next(lines).startswith(": connected")
            server.proc.terminate()  # SIGTERM, as Ctrl+C or a service manager would
            # uvicorn shuts down gracefully, then re-raises the signal it caught: -15.
            assert server.proc.wait(timeout=15) in (0, -15)
            assert list(lines) == [""]  # the stream ended cleanly
    finally:
        server.stop()
