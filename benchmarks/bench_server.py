"""The server side of the benchmark, through HTTP only: ``claude-usage serve`` on a corpus and
its index, fresh and cached answers of every report endpoint, refresh work, SSE latency, and
how soon a change that another process (``claude-usage statusline``) read becomes visible.

A "fresh" answer is the first request after a one-line append to a transcript, timed once the
server has picked the append up (the wait is not timed); the "cached" answer is the same
request repeated at once.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench_procs import RssSampler, claude_usage_command, peak_rss_kb, run_measured

APPEND_MODEL = "claude-sonnet-4-5-20250929"


def log(message: str) -> None:
    """Progress on stderr (the figures go to stdout)."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


class Transcript:
    """The transcript that one-line appends go to: the main-session file written last."""

    def __init__(self, corpus: Path):
        files = [p for p in corpus.rglob("*.jsonl") if "subagents" not in p.parts]
        self.path = max(files, key=lambda p: (p.stat().st_mtime, str(p)))
        self.session, self.cwd = self.path.stem, "/"
        with open(self.path) as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("sessionId") and record.get("cwd"):
                    self.session, self.cwd = record["sessionId"], record["cwd"]
                    break
        self.appended = 0
        self.hooks = 0

    def append(self) -> None:
        """Append one assistant line with usage, timestamped now: one new request."""
        self.appended += 1
        nonce = f"{time.time_ns():x}{self.appended:06d}"
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        usage = {"input_tokens": 4, "cache_creation_input_tokens": 120, "cache_read_input_tokens": 24_000, "output_tokens": 90,
                 "service_tier": "standard"}
        line = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": self.cwd, "sessionId": self.session,
                "version": "2.1.110", "gitBranch": "main",
                "message": {"model": APPEND_MODEL, "id": f"msg_bench{nonce}", "type": "message", "role": "assistant",
                            "content": [{"type": "text", "text": "done"}], "stop_reason": "end_turn", "stop_sequence": None,
                            "usage": usage},
                "requestId": f"req_bench{nonce}", "type": "assistant", "uuid": f"bench-{nonce}", "timestamp": stamp}
        with open(self.path, "a") as handle:
            handle.write(json.dumps(line, separators=(",", ":")) + "\n")

    def hook(self) -> str:
        """The JSON Claude Code gives a status-line command on stdin, as a subscriber's: with
        the official rate limits, the context use and its session cost, a little higher at each
        call (so that every run records an observation, the status line's heaviest case)."""
        self.hooks += 1
        reset = int(time.time()) + 3600
        return json.dumps({"session_id": self.session, "transcript_path": str(self.path), "cwd": self.cwd,
                           "model": {"id": APPEND_MODEL, "display_name": "Sonnet 4.5"}, "workspace": {"current_dir": self.cwd},
                           "cost": {"total_cost_usd": 0.01 * self.hooks},
                           "context_window": {"used_percentage": 20 + self.hooks % 50, "context_window_size": 200_000},
                           "rate_limits": {"five_hour": {"used_percentage": self.hooks % 100, "resets_at": reset},
                                           "seven_day": {"used_percentage": 30, "resets_at": reset + 86_400}}})


class Http:
    """One keep-alive connection; requests are timed from sending to the last byte read. A
    failed request is retried on a new connection (untimed set-up, for up to ``patience``
    seconds while connecting is refused); every such incident is kept in ``incidents``."""

    def __init__(self, port: int, patience: float = 30.0):
        self.port, self.patience = port, patience
        self.conn: http.client.HTTPConnection | None = None
        self.incidents: list[str] = []

    def _connect(self) -> None:
        """A new connection, retried while the server refuses it (up to ``patience`` s)."""
        deadline = time.perf_counter() + self.patience
        while True:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1800)
            try:
                self.conn.connect()
                return
            except ConnectionRefusedError as error:
                self.conn.close()
                self.conn = None
                if time.perf_counter() > deadline:
                    raise
                self.incidents.append(f"{time.strftime('%H:%M:%S')} connect: {error}")
                time.sleep(0.1)

    def request(self, method: str, path: str) -> tuple[int, bytes, float]:
        """(status, body, seconds)."""
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                began = time.perf_counter()
                self.conn.request(method, path)
                response = self.conn.getresponse()
                body = response.read()
                took = time.perf_counter() - began
            except (http.client.HTTPException, OSError) as error:
                self.conn.close()
                self.conn = None
                self.incidents.append(f"{time.strftime('%H:%M:%S')} {method} {path[:60]}: {type(error).__name__}: {error}")
                if attempt:
                    raise
                continue
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response.status, body, took
        raise AssertionError("unreachable")

    def json(self, path: str, method: str = "GET") -> dict:
        """The JSON body of a request that must answer 200."""
        status, body, _ = self.request(method, path)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status} {body[:200]!r}")
        return json.loads(body)


class Events(threading.Thread):
    """A client of ``GET /api/v2/events``: the arrival time of every ``data:`` event."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        self.conn.request("GET", "/api/v2/events", headers={"Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        self.arrivals: queue.Queue = queue.Queue()
        self.start()

    def run(self) -> None:
        """Read the stream until it ends; note the arrival time of every update."""
        try:
            while line := self.response.readline():
                if line.startswith(b"data:"):
                    try:
                        kind = json.loads(line[5:]).get("type", "update")
                    except ValueError:
                        kind = "update"
                    if kind == "update":
                        self.arrivals.put(time.perf_counter())
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # the stream ended or was closed by close()

    def drain(self) -> None:
        """Forget the events received so far."""
        while not self.arrivals.empty():
            self.arrivals.get_nowait()

    def first_after(self, moment: float, deadline: float) -> float | None:
        """The arrival time of the first update at or after ``moment`` (None if none by ``deadline``)."""
        while True:
            try:
                arrived = self.arrivals.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                return None
            if arrived >= moment:
                return arrived

    def close(self) -> None:
        """End the stream (the reading thread then ends too)."""
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc), parents first."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    parents.setdefault(int(stat.read().rsplit(b")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                continue
    found, index = [pid], 0
    while index < len(found):
        found.extend(parents.get(found[index], []))
        index += 1
    return found


class Server:
    """``claude-usage serve`` on a corpus with a given index, and the measurements against it."""

    def __init__(self, corpus: Path, env: dict, log_path: Path, transcript: Transcript):
        self.corpus, self.env, self.transcript, self.port = corpus, env, transcript, free_port()
        self.log = open(log_path, "wb")
        self.began = time.perf_counter()
        self.proc = subprocess.Popen(
            claude_usage_command() + ["serve", "--port", str(self.port), "--rate-limit", "0", "--data-dir", str(corpus)],
            stdout=self.log, stderr=self.log, env=env)
        self.rss = RssSampler(self.proc.pid, interval=0.1)
        self.http = Http(self.port)
        self.probe = "health"

    # -- life cycle -------------------------------------------------------------------------

    def wait_ready(self, timeout: float) -> float:
        """Seconds until ``/api/health`` answers with the indexing done."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.proc.returncode}; see {self.log.name}")
            try:
                health = self.http.json("/api/health")
                if health.get("status") not in ("indexing", "starting"):
                    self.probe = "health" if isinstance(health.get("records"), int) else "summary"
                    self.http.incidents.clear()  # refusals while it started are no incident
                    return time.perf_counter() - self.began
            except (OSError, RuntimeError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s; see {self.log.name}")

    def state(self) -> str:
        """Whether the server still runs, and the end of its log (for an error message)."""
        self.log.flush()
        tail = Path(self.log.name).read_bytes()[-600:].decode(errors="replace").strip()
        code = self.proc.poll()
        return f"server {'running' if code is None else f'exited with code {code}'}; its log ends: {tail!r}"

    def stop(self) -> dict:
        """Stop the server; returns its peak RSS (KB): main process (VmHWM) and sampled tree."""
        peaks = {"rss_kb": max(peak_rss_kb(self.proc.pid), self.rss.peak), "tree_kb": 0}
        self.rss.stop()
        peaks["tree_kb"] = max(self.rss.peak_tree, peaks["rss_kb"])
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return peaks

    def first_append(self, timeout: float, every: float = 2.0) -> tuple[float | None, int]:
        """Append a line every ``every`` seconds until the server serves one (its file watcher
        may start after ``/api/health`` says ok): (seconds from the first append, or None after
        ``timeout``; appends made). Not a latency figure: it keeps the timed appends from
        waiting for the watcher to start."""
        count, _ = self.served()
        began = time.perf_counter()
        for appends in range(1, int(timeout / every) + 2):
            self.transcript.append()
            seen, _, _ = self.wait_served(count + 1, every)
            if seen is not None:
                return seen - began, appends
        return None, appends

    # -- how many requests the server serves --------------------------------------------------

    def served(self, via: str | None = None) -> tuple[int, dict]:
        """(request count the server serves, the body it came from): ``/api/health``'s
        ``records`` or ``/api/v2/summary``'s ``totalMessages``."""
        if (via or self.probe) == "health":
            body = self.http.json("/api/health")
            return body["records"], body
        body = self.http.json("/api/v2/summary?tz=UTC")
        return body["totalMessages"], body

    def wait_served(self, at_least: int, timeout: float, via: str | None = None) -> tuple[float | None, int, dict]:
        """Poll until the server serves ``at_least`` requests: (when, or None after ``timeout``;
        the last count; the last body)."""
        deadline = time.perf_counter() + timeout
        while True:
            count, body = self.served(via)
            now = time.perf_counter()
            if count >= at_least:
                return now, count, body
            if now > deadline:
                return None, count, body
            time.sleep(0.01)

    # -- measurements -------------------------------------------------------------------------

    def fresh_and_cached(self, sets: dict[str, list[str]], timeout: float) -> dict:
        """Per endpoint: each URL as the first request after a one-line append (fresh), then at
        once again (cached). Returns per endpoint the times (s), statuses and unseen appends."""
        results = {}
        count, _ = self.served()
        for endpoint, urls in sets.items():
            row = {"fresh": [], "cached": [], "status": Counter(), "unseen": 0}
            for url in urls:
                self.transcript.append()
                seen, count, _ = self.wait_served(count + 1, timeout)
                if seen is None:
                    row["unseen"] += 1
                    continue
                status, _, fresh = self.http.request("GET", url)
                _, _, cached = self.http.request("GET", url)
                row["fresh"].append(fresh)
                row["cached"].append(cached)
                row["status"][status] += 1
            results[endpoint] = row
            log(f"{endpoint}: {len(row['fresh'])} fresh answers, p50 {_ms(row['fresh'])}")
        return results

    def sse_and_watcher(self, events: Events, trials: int, timeout: float) -> dict:
        """Append a line and wait for the SSE update (no other request in between); then read
        the work of the refresh that read it from ``/api/health``'s ``lastRefresh``."""
        sse, work, changed = [], [], []
        for _ in range(trials):
            count, body = self.served()
            before = (body.get("lastRefresh") or {}).get("at") if self.probe == "health" else None
            time.sleep(0.2)  # let the last refresh settle
            events.drain()
            began = time.perf_counter()
            self.transcript.append()
            arrived = events.first_after(began, began + timeout)
            sse.append(None if arrived is None else arrived - began)
            seen, count, body = self.wait_served(count + 1, timeout)
            refresh = self._refresh_after(before, body) if seen is not None else None
            if refresh:
                work.append(refresh.get("seconds"))
                changed.append(refresh.get("changedRequests"))
        return {"sse": sse, "watcher_seconds": [w for w in work if isinstance(w, (int, float))], "watcher_changed": changed}

    def _refresh_after(self, before: str | None, body: dict) -> dict | None:
        """The ``lastRefresh`` of ``/api/health`` once it differs from ``before`` (None if the
        server has no such field or it does not change within 2 s)."""
        deadline = time.perf_counter() + 2
        while True:
            refresh = body.get("lastRefresh") if isinstance(body, dict) else None
            if not isinstance(refresh, dict):
                return None
            if refresh.get("at") != before:
                return refresh
            if time.perf_counter() > deadline:
                return None
            time.sleep(0.01)
            body = self.http.json("/api/health")

    def post_refresh(self, trials: int, timeout: float) -> dict:
        """Append a line and at once ``POST /api/v2/refresh``: its ``seconds`` and
        ``changedRequests`` (0 when the file watcher had read the line first), and its wall time."""
        seconds, changed, wall = [], [], []
        for _ in range(trials):
            count, _ = self.served()
            self.transcript.append()
            status, body, took = self.http.request("POST", "/api/v2/refresh")
            if status == 200:
                answer = json.loads(body)
                seconds.append(answer.get("seconds"))
                changed.append(answer.get("changedRequests"))
                wall.append(took)
            self.wait_served(count + 1, timeout)
        return {"seconds": [s for s in seconds if isinstance(s, (int, float))], "changed": changed, "wall": wall}

    def other_process(self, events: Events, trials: int, timeout: float, paused: bool) -> dict:
        """A line appended and read by ``claude-usage statusline`` (another process, the same
        index); then how long until ``/api/v2/summary`` shows it and an SSE update arrives.
        With ``paused`` the server's process tree is stopped (SIGSTOP) from the append until
        the status line has exited, so that the other process surely reads the line first;
        times are then counted from the moment it resumes."""
        visible, pushed, statusline = [], [], []
        for _ in range(trials):
            count, _ = self.served("summary")
            time.sleep(0.2)
            events.drain()
            frozen = _descendants(self.proc.pid) if paused else []
            began = time.perf_counter()
            try:
                for pid in frozen:
                    os.kill(pid, signal.SIGSTOP)
                self.transcript.append()
                run = run_measured(claude_usage_command() + ["statusline", "--data-dir", str(self.corpus)], self.env,
                                   stdin_text=self.transcript.hook(), sample=None)
            finally:
                for pid in reversed(frozen):
                    os.kill(pid, signal.SIGCONT)
            origin = time.perf_counter() if paused else began
            statusline.append(run.wall)
            seen, _, _ = self.wait_served(count + 1, timeout, via="summary")
            visible.append(None if seen is None else seen - origin)
            arrived = events.first_after(origin, origin + timeout + 1)
            pushed.append(None if arrived is None else max(0.0, arrived - origin))
        return {"visible": visible, "sse": pushed, "statusline": statusline}

    def drift(self) -> tuple[int, int]:
        """(requests the server serves, requests in the store as another process's
        ``claude-usage summary --json`` reports them)."""
        served, _ = self.served("summary")
        run = run_measured(claude_usage_command() + ["summary", "--json", "--data-dir", str(self.corpus)], self.env, sample=None)
        try:
            stored = json.loads(run.stdout)["summary"]["totalMessages"]
        except (ValueError, KeyError, TypeError):
            stored = -1
        return served, stored


def _ms(values: list[float]) -> str:
    """The median of seconds, as milliseconds (for progress lines)."""
    return f"{statistics.median(values) * 1000:.1f} ms" if values else "-"

