"""Benchmark of claude-usage on generated corpora (DESIGN section 10). Prints figures; asserts
nothing (targets are compared in the output, never in tests).

For each corpus size: cold index build (median of 3; MB/s, peak RSS), warm `claude-usage daily --json` wall
time, server warm start, p50/p99 latency of every GET /api/v2 endpoint over N requests against a
running server, the server's refresh work after appending one line, the SSE notification latency
and the server's peak RSS. Corpora and indexes are written under a temp dir (free disk is checked
first) and removed afterwards unless --keep.

    python benchmarks/run.py --sizes 100MB,1GB
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from corpus import parse_size  # noqa: E402

TARGETS = {
    "cold_mb_s": ">= 800 MB/s",
    "daily_s": "< 0.3 s",
    "p50_ms": "< 2 ms",
    "p99_ms": "< 10 ms",
    "refresh_ms": "< 20 ms",
    "sse_s": "< 1 s",
    "rss_mb": "< 250 MB",
    "statusline_ms": "< 100 ms",
}


def _env(index: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as users run it
    env["CLAUDE_USAGE_INDEX"] = str(index)
    return env


def _tree_rss_kb(pid: int) -> tuple[int, int]:
    """(RSS of ``pid``, RSS of ``pid`` and all its descendants) in KB, from /proc."""
    own = total = 0
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as status:
                found = re.search(r"VmRSS:\s+(\d+) kB", status.read())
        except OSError:
            continue
        children.setdefault(parent, []).append(int(entry))
        rss[int(entry)] = int(found[1]) if found else 0
    stack = [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    own = rss.get(pid, 0)
    return own, total


class _RssSampler(threading.Thread):
    """Samples the RSS of a process (and of its tree) every 10 ms; keeps the peaks (KB)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_tree = pid, 0, 0
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.is_set():
            own, tree = _tree_rss_kb(self.pid)
            self.peak, self.peak_tree = max(self.peak, own), max(self.peak_tree, tree)
            time.sleep(0.01)


def _run_measured(args: list[str], env: dict) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS of the process and of its process tree (KB, sampled) and stdout
    of one ``claude-usage`` run."""
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "claude_usage", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    sampler = _RssSampler(proc.pid)
    out = proc.stdout.read()
    code = proc.wait()
    wall = time.perf_counter() - began
    sampler.done.set()
    sampler.join()
    if code != 0:
        raise RuntimeError(f"claude-usage {' '.join(args)} failed")
    return wall, sampler.peak, sampler.peak_tree, out.decode()


def _usage_line(session: str) -> str:
    """One assistant line with usage, timestamped now (a new request each call)."""
    return json.dumps({"type": "assistant", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                       "sessionId": session, "uuid": f"bench-{time.time_ns()}",
                       "message": {"id": f"msg_bench_{time.time_ns()}", "role": "assistant",
                                   "model": "claude-sonnet-4-5-20250929", "usage": {"input_tokens": 10, "output_tokens": 10}}}) + "\n"


def _statusline_ms(corpus: Path, env: dict, append: bool, runs: int = 11) -> float:
    """Median wall ms of ``claude-usage statusline`` (the console script, a hook JSON on stdin)
    on the warm index; with ``append``, one usage line is added to a transcript before each run,
    as Claude Code does between two status-line updates."""
    target = max(corpus.rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    hook = json.dumps({"session_id": "bench", "transcript_path": str(target), "model": {"display_name": "Sonnet 4.5"}})
    script = Path(sys.executable).with_name("claude-usage")
    times = []
    for _ in range(runs):
        if append:
            with open(target, "a") as handle:
                handle.write(_usage_line("bench"))
        began = time.perf_counter()
        subprocess.run([str(script), "statusline", "--data-dir", str(corpus)], input=hook, text=True,
                       capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _endpoints(base: str, client: httpx.Client, corpus: Path) -> list[str]:
    """One representative URL per GET endpoint, with keys taken from the data."""
    day = client.get(base + "/api/v2/daily", params={"order": "desc", "limit": 1}).json()["data"][0]["date"]
    project = client.get(base + "/api/v2/projects", params={"limit": 1}).json()["data"][0]["name"]
    session = client.get(base + "/api/v2/sessions", params={"limit": 1}).json()["data"][0]["sessionId"]
    mcp = client.get(base + "/api/v2/mcp/tools").json()["tools"]
    paths = [
        "/api/health", "/api/v2/summary", "/api/v2/daily", f"/api/v2/daily/{day}", "/api/v2/weekly",
        "/api/v2/monthly", f"/api/v2/monthly/{day[:7]}", "/api/v2/hourly", f"/api/v2/hourly?date={day}",
        "/api/v2/blocks", "/api/v2/blocks?active=true&tokenLimit=max",
        "/api/v2/models", "/api/v2/projects", f"/api/v2/projects/{project}", "/api/v2/sessions",
        f"/api/v2/sessions/{session}", "/api/v2/tools", "/api/v2/mcp/tools", "/api/v2/mcp/logs", "/api/v2/todos",
    ]
    if mcp:
        paths.append(f"/api/v2/mcp/tools/{mcp[0]['name']}")
    # The file viewer, on the smallest transcript (files over 10 MB are refused).
    smallest = min(Path(corpus).rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    paths.append("/api/v2/logs/content?" + urllib.parse.urlencode({"file": str(smallest)}))
    return paths


def _latencies(port: int, path: str, count: int) -> tuple[float, float]:
    """p50 and p99 in ms of ``count`` GETs on one keep-alive connection (the stdlib client, whose
    own overhead is small); the first answer, which fills the server's cache as for any
    dashboard, is not counted."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for attempt in range(count + 1):
        began = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if attempt:
            times.append(time.perf_counter() - began)
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
    connection.close()
    times.sort()
    return statistics.median(times) * 1000, times[min(len(times) - 1, int(len(times) * 0.99))] * 1000


def _peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        found = re.search(r"VmHWM:\s+(\d+) kB", status.read())
    return int(found[1]) if found else 0


def bench(size: int, work: Path, requests: int) -> dict:
    """All figures for one corpus size."""
    corpus = work / "corpus"
    # Generated by another process, so that this one stays small.
    made = json.loads(subprocess.run([sys.executable, str(Path(__file__).parent / "corpus.py"), "--size", str(size),
                                      "--out", str(corpus)], capture_output=True, text=True, check=True).stdout)
    index = work / "index.sqlite"
    env = _env(index)
    args = ["daily", "--json", "--data-dir", str(corpus)]
    # Cold builds, three from an empty index (the page cache is warm, as after any first read;
    # the generator's dirty pages are written out first, so that the kernel's flush is not timed).
    os.sync()
    colds = []
    for _ in range(3):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index}{suffix}").unlink(missing_ok=True)
        colds.append(_run_measured(args, env))
    colds.sort(key=lambda run: run[0])
    wall, rss, tree, out = colds[1]
    requests_total = json.loads(out)["totals"]["requests"]
    result = {
        "corpus_bytes": made["bytes"], "files": made["files"], "requests": requests_total,
        "cold_s": wall, "cold_mb_s": made["bytes"] / 1e6 / wall, "cold_rss_mb": max(r[1] for r in colds) / 1024,
        "cold_tree_rss_mb": max(r[2] for r in colds) / 1024, "cold_range_s": (colds[0][0], colds[-1][0]),
    }
    daily = sorted(_run_measured(args, env)[0] for _ in range(7))
    result["daily_s"] = statistics.median(daily)
    result["daily_rss_mb"] = _run_measured(args, env)[1] / 1024
    result["statusline_ms"] = _statusline_ms(corpus, env, append=False)
    result["statusline_append_ms"] = _statusline_ms(corpus, env, append=True)

    port = _free_port()
    began = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "claude_usage", "serve", "--port", str(port), "--rate-limit", "0",
                               "--data-dir", str(corpus)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=60) as client:
            while True:
                try:
                    if client.get(base + "/api/health").json()["status"] == "ok":
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
            result["warm_start_s"] = time.perf_counter() - began
            result["endpoints"] = {path: _latencies(port, path, requests) for path in _endpoints(base, client, corpus)}
            result["refresh_ms"], result["sse_s"] = _append_and_watch(base, corpus)
        result["server_rss_mb"] = _peak_rss_kb(server.pid) / 1024
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def _append_and_watch(base: str, corpus: Path) -> tuple[float, float]:
    """Append one usage line; returns (the server's refresh work in ms, seconds until the SSE
    event arrived)."""
    received = threading.Event()
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", base + "/api/v2/events", timeout=60) as response:
            for line in response.iter_lines():
                connected.set()
                if line.startswith("data: "):
                    received.set()
                    return

    threading.Thread(target=listen, daemon=True).start()
    connected.wait(10)
    target = max(corpus.rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    began = time.perf_counter()
    with open(target, "a") as handle:
        handle.write(_usage_line("bench"))
    received.wait(30)
    sse = time.perf_counter() - began
    refresh = httpx.get(base + "/api/health").json()["lastRefresh"].get("seconds", float("nan")) * 1000
    return refresh, sse


def report(size_label: str, r: dict) -> None:
    print(f"\n== corpus {size_label}: {r['corpus_bytes'] / 1e6:,.0f} MB in {r['files']} files, {r['requests']:,} requests")
    low, high = r["cold_range_s"]
    print(f"  cold index build          {r['cold_s']:7.2f} s  {r['cold_mb_s']:7.0f} MB/s   (median of 3, {low:.2f}-{high:.2f} s; "
          f"target {TARGETS['cold_mb_s']}; whole command, start-up included)")
    print(f"    peak RSS                {r['cold_rss_mb']:7.0f} MB main process, {r['cold_tree_rss_mb']:.0f} MB with its "
          f"scanning workers (target {TARGETS['rss_mb']})")
    print(f"  daily --json, warm index  {r['daily_s']:7.3f} s  (median of 7; target {TARGETS['daily_s']}); "
          f"peak RSS {r['daily_rss_mb']:.0f} MB")
    print(f"  statusline, warm index    {r['statusline_ms']:7.0f} ms unchanged data, {r['statusline_append_ms']:.0f} ms after "
          f"appending a line (median of 11; target {TARGETS['statusline_ms']}; whole process)")
    print(f"  server warm start         {r['warm_start_s']:7.2f} s  (until /api/health is ok)")
    print(f"  endpoint latency, ms      p50 / p99 over the requests (targets {TARGETS['p50_ms']} / {TARGETS['p99_ms']})")
    for path, (p50, p99) in r["endpoints"].items():
        shown = path if len(path) <= 44 else path[:41] + "..."
        print(f"    {shown:44s} {p50:6.2f} / {p99:6.2f}")
    print(f"  refresh after 1-line append {r['refresh_ms']:6.1f} ms of work (target {TARGETS['refresh_ms']})")
    print(f"  SSE notification          {r['sse_s']:7.3f} s  (target {TARGETS['sse_s']})")
    print(f"  server peak RSS           {r['server_rss_mb']:7.0f} MB   (target {TARGETS['rss_mb']})")


def main() -> None:
    parser = argparse.ArgumentParser(description="claude-usage benchmark (prints figures)")
    parser.add_argument("--sizes", default="100MB,1GB", help="comma-separated corpus sizes")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint (at least 200)")
    parser.add_argument("--workdir", type=Path, default=None, help="where corpora go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the corpora and indexes")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="claude-usage-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    needed = 3 * max(parse_size(s) for s in sizes)
    free = shutil.disk_usage(work).free
    if free < needed:
        sys.exit(f"not enough free disk in {work}: {free / 1e9:.1f} GB free, {needed / 1e9:.1f} GB needed")
    print(f"claude-usage benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, work dir {work}")
    results = {}
    try:
        for size in sizes:
            folder = work / size
            results[size] = bench(parse_size(size), folder, max(args.requests, 200))
            report(size, results[size])
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
