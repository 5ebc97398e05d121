"""The store is the one truth of every process (issue 11): what one process writes, every other
serves; rollups always equal a plain scan; damage is found and rebuilt; kills lose nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from claude_usage import reports
from claude_usage.blocks import query_blocks
from claude_usage.pricing import Pricer
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import DataRoot
from claude_usage.store import SQLiteStore
from conftest import RunningServer, expected, writable_copy
from helpers import assistant_line, scan, write_lines

ZONES = ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "America/New_York")


def append_usage(path: Path, msg_id: str, ts: str = "2025-06-10T12:00:00.000Z", tokens: int = 1_000) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(assistant_line(msg_id=msg_id, uuid=msg_id, ts=ts, input_tokens=tokens, output_tokens=10,
                                               model="claude-sonnet-4-20250514", session="live")) + "\n")


def messages(url: str) -> int:
    return httpx.get(url + "/api/v2/summary", params={"tz": "UTC"}, timeout=30).json()["totalMessages"]


def wait_for(url: str, count: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if messages(url) == count:
            return True
        time.sleep(0.05)
    return False


# -- what any process writes, every server serves ------------------------------------------------

def test_servers_serve_what_the_status_line_and_cli_read_first(tmp_path):
    """The drift cases of issue 11: the status line, a CLI command and another server each read
    an appended line before a server does; the server must serve it without a restart."""
    data = writable_copy("sniffly", tmp_path / "data")
    target = sorted((data / "projects").rglob("*.jsonl"))[0]
    env = {**os.environ, "CLAUDE_USAGE_INDEX": str(tmp_path / "shared.sqlite")}
    base = expected("sniffly")["totals"]["requests"]
    with RunningServer("--data-dir", str(data), env=env) as first, RunningServer("--data-dir", str(data), env=env) as second:
        append_usage(target, "msg_status_line")
        hook = json.dumps({"session_id": "live", "transcript_path": str(target)})
        line = subprocess.run([sys.executable, "-m", "claude_usage", "statusline", "--data-dir", str(data)],
                              input=hook, capture_output=True, text=True, env=env, timeout=60)
        assert line.returncode == 0 and "session" in line.stdout
        assert wait_for(first.url, base + 1) and wait_for(second.url, base + 1)
        append_usage(target, "msg_cli")
        cli = subprocess.run([sys.executable, "-m", "claude_usage", "daily", "--json", "--data-dir", str(data)],
                             capture_output=True, text=True, env=env, timeout=60)
        assert json.loads(cli.stdout)["totals"]["requests"] == base + 2
        assert wait_for(first.url, base + 2) and wait_for(second.url, base + 2)
        # The refresh endpoint of a server that had nothing left to read still serves it all.
        append_usage(target, "msg_other_server")
        httpx.post(second.url + "/api/v2/refresh", timeout=30)
        assert wait_for(first.url, base + 3)
        assert httpx.get(first.url + "/api/health").json()["records"] == base + 3


def test_appends_from_several_writers_end_equal_in_every_server(tmp_path):
    """Two servers, the status line and CLI loops on one store while lines keep arriving: every
    server ends with exactly the requests of the store, which are those of a fresh scan."""
    import threading

    data = writable_copy("sniffly", tmp_path / "data")
    target = sorted((data / "projects").rglob("*.jsonl"))[0]
    env = {**os.environ, "CLAUDE_USAGE_INDEX": str(tmp_path / "shared.sqlite")}
    stop = threading.Event()

    def writer() -> None:
        for i in range(40):
            append_usage(target, f"msg_load_{i}")
            time.sleep(0.05)
        stop.set()

    def reader(command: list[str]) -> None:
        while not stop.is_set():
            subprocess.run([sys.executable, "-m", "claude_usage", *command, "--data-dir", str(data)], input="{}",
                           capture_output=True, text=True, env=env, timeout=120)

    with RunningServer("--data-dir", str(data), env=env) as first, RunningServer("--data-dir", str(data), env=env) as second:
        threads = [threading.Thread(target=writer), threading.Thread(target=reader, args=(["statusline"],)),
                   threading.Thread(target=reader, args=(["daily", "--json"],))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        want = expected("sniffly")["totals"]["requests"] + 40
        assert wait_for(first.url, want) and wait_for(second.url, want)


# -- rollups equal a plain scan -----------------------------------------------------------------

def _every_report(store: SQLiteStore | None, scanned=None) -> dict:
    """Every report in every zone, as comparable rows."""
    def rows(groups) -> dict:
        return {str(key): usage_row(totals) for key, totals in dict(groups).items()}

    found = {}
    target = store if store is not None else scanned.store
    with target.reading() as view:
        for zone in ZONES:
            q = Query(zone=zone)
            found[zone] = {
                "daily": rows(reports.daily(view, q)), "weekly": rows(reports.weekly(view, q)),
                "monthly": rows(reports.monthly(view, q)), "hourly": rows(enumerate(reports.hourly(view, q))),
                "heatmap": rows(reports.heatmap(view, q)), "models": rows(reports.by_models(view, q)),
                "projects": rows(reports.by_projects(view, q)), "sessions": rows(reports.by_sessions(view, q)),
                "total": usage_row(reports.overall(view, q)),
                "blocks": [(b.start_us, b.end_us, b.is_gap, usage_row(b.totals)) for b in query_blocks(view, q)],
                "evenings": rows(reports.daily(view, Query(zone=zone, start_hour=22, end_hour=2))),
            }
    return found


def _lines_across_dst(rng: random.Random, prefix: str) -> list[dict]:
    """Requests around New York's and Adelaide's DST changes and at :15/:45 boundaries."""
    stamps = ["2025-11-02T05:30:00.000Z", "2025-11-02T06:30:00.000Z", "2025-10-04T16:15:00.000Z",
              "2025-10-04T16:45:00.000Z", "2025-03-09T06:59:59.000Z", "2025-03-09T07:00:00.000Z",
              "2025-06-10T18:14:59.999Z", "2025-06-10T18:15:00.000Z", "2025-06-10T18:30:00.000Z"]
    return [assistant_line(msg_id=f"{prefix}{i}", uuid=f"{prefix}u{i}", ts=stamp, input_tokens=rng.randint(1, 5_000),
                           output_tokens=rng.randint(0, 900), session=f"{prefix}session{i % 3}",
                           model=rng.choice(["claude-sonnet-4-20250514", "claude-opus-4-1-20250805", "my-model"]))
            for i, stamp in enumerate(stamps)]


def test_rollups_equal_a_plain_scan_through_appends_rewrites_truncations_and_deletions(tmp_path):
    rng = random.Random(20261201)
    data = writable_copy("curated", tmp_path / "data")
    root = DataRoot(data / "projects", data, "test")
    store = SQLiteStore(tmp_path / "store.sqlite", [root])
    store.refresh(Pricer)
    files = sorted((data / "projects").rglob("*.jsonl"))
    for round_number in range(6):
        target = rng.choice(files)
        kind = round_number % 6
        if kind == 0:  # appends: new requests, across DST, in a new file too
            write_lines(target.parent / f"new-{round_number}.jsonl", _lines_across_dst(rng, f"r{round_number}"))
            with open(target, "a") as handle:
                handle.write(json.dumps(_lines_across_dst(rng, f"a{round_number}")[0]) + "\n")
        elif kind == 1:  # copies of existing lines into another file (a resumed session)
            lines = target.read_text().splitlines()
            write_lines(rng.choice(files).parent / f"copy-{round_number}.jsonl", rng.sample(lines, min(20, len(lines))))
        elif kind == 2:  # truncated
            lines = target.read_bytes().splitlines(keepends=True)
            target.write_bytes(b"".join(lines[: len(lines) // 2]))
        elif kind == 3:  # rewritten, same size, mtime restored
            stat = target.stat()
            body = bytearray(target.read_bytes())
            body[body.index(b'"input_tokens":') + 15] = ord("7") if body[body.index(b'"input_tokens":') + 15] != ord("7") else ord("8")
            target.write_bytes(bytes(body))
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        elif kind == 4:  # deleted (forgotten below, as a fresh scan cannot know it)
            target.unlink()
            files.remove(target)
        else:  # two writers at once on the one store
            write_lines(target.parent / "both.jsonl", _lines_across_dst(rng, "b"))
            procs = [subprocess.Popen([sys.executable, "-m", "claude_usage", "daily", "--json", "--data-dir", str(data),
                                       "--index", str(tmp_path / "store.sqlite")], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for _ in range(2)]
            assert all(proc.wait(timeout=120) == 0 for proc in procs)
        store.refresh(Pricer, forget_deleted=True)
        fresh = scan([root])
        assert _every_report(store) == _every_report(None, fresh), f"round {round_number} ({kind})"
        assert store.check(level="deep") is None
        fresh.close()
    store.close()


# -- damage is found and rebuilt ------------------------------------------------------------------

def _built(tmp_path) -> tuple[Path, Path, dict]:
    data = writable_copy("sniffly", tmp_path / "data")
    path = tmp_path / "store.sqlite"
    store = SQLiteStore(path, [DataRoot(data / "projects", data, "test")])
    store.refresh(Pricer)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return data, path, expected("sniffly")["totals"]


def _daily(data: Path, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claude_usage", "daily", "--json", "--tz", "UTC", "--data-dir", str(data),
                           "--index", str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("damage", ["rows deleted", "table dropped", "cell overwritten", "pages overwritten"])
def test_damage_is_found_and_the_store_rebuilt(tmp_path, damage):
    data, path, want = _built(tmp_path)
    conn = sqlite3.connect(path)
    if damage == "rows deleted":
        conn.execute("DELETE FROM requests WHERE id % 3 = 0")
    elif damage == "table dropped":
        conn.execute("DROP TABLE usage_qh")
    elif damage == "cell overwritten":  # a sum of one rollup cell, changed in place
        conn.execute("UPDATE usage_qh SET input = input + 12345 WHERE qh = (SELECT MIN(qh) FROM usage_qh)")
    conn.commit()
    conn.close()
    if damage == "pages overwritten":  # 8 KB of garbage in the middle of the file
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.seek(size // 2 // 4096 * 4096)
            handle.write(os.urandom(8192))
    done = _daily(data, path)
    assert done.returncode == 0, done.stderr
    assert "Rebuilding the index" in done.stderr
    totals = json.loads(done.stdout)["totals"]
    assert (totals["requests"], totals["inputTokens"]) == (want["requests"], want["input_tokens"])


def test_a_rewrite_with_the_same_size_and_mtime_is_read_again(tmp_path):
    data, path, want = _built(tmp_path)
    target = max((data / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    stat = target.stat()
    body = target.read_bytes()
    at = body.index(b'"output_tokens":') + len(b'"output_tokens":')
    digits = body[at:at + 1]
    changed = body[:at] + (b"9" if digits != b"9" else b"8") + body[at + 1:]
    time.sleep(0.01)
    target.write_bytes(changed)  # same size, one digit different
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    indexed = json.loads(_daily(data, path).stdout)["totals"]
    fresh = json.loads(subprocess.run([sys.executable, "-m", "claude_usage", "daily", "--json", "--tz", "UTC",
                                       "--data-dir", str(data), "--no-index"], capture_output=True, text=True).stdout)["totals"]
    assert indexed == fresh and indexed["outputTokens"] != want["output_tokens"]


# -- kills lose nothing, workers die with their parent ----------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def test_killed_refresh_then_rerun_equals_a_fresh_scan_and_workers_die(corpus, tmp_path):
    args = [sys.executable, "-m", "claude_usage", "daily", "--json", "--tz", "UTC", "--data-dir", str(corpus["path"])]
    env = {**os.environ, "CLAUDE_USAGE_INDEX": str(tmp_path / "store.sqlite")}
    fresh = json.loads(subprocess.run([*args, "--no-index"], capture_output=True, text=True, env=env, check=True).stdout)
    victim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while not workers and time.monotonic() < deadline and victim.poll() is None:
        workers = _children(victim.pid)
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(victim.pid, signal.SIGKILL)  # the parent only: its scanning workers must follow
    victim.wait()
    assert workers, "the build ended before it could be killed"
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
              for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    assert alive == []
    # Then incremental refreshes killed at random points of their writes.
    after = json.loads(subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout)
    assert after["totals"] == fresh["totals"]
    rng = random.Random(7)
    files = sorted(Path(corpus["path"]).rglob("*.jsonl"))[:3]
    originals = {f: f.read_bytes() for f in files}
    try:
        for attempt in range(3):
            for path in files:
                append_usage(path, f"msg_kill_{attempt}_{path.stem}", tokens=100 + attempt)
            victim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            time.sleep(rng.uniform(0.2, 0.6))
            if victim.poll() is None:
                os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            again = json.loads(subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout)
            scanned = json.loads(subprocess.run([*args, "--no-index"], capture_output=True, text=True, env=env,
                                                check=True).stdout)
            assert again["totals"] == scanned["totals"], attempt
    finally:
        for path, body in originals.items():
            path.write_bytes(body)


def test_the_hourly_rollup_gives_what_the_quarter_hour_cells_give(tmp_path):
    """Zones of whole-hour offsets are served from the hourly rollup; every grouping and filter
    must equal the same report summed from the quarter-hour cells."""
    data = writable_copy("dotfiles-mac", tmp_path / "data")
    write_lines(data / "projects" / "-dst" / "s.jsonl", _lines_across_dst(random.Random(3), "h"))
    scanned = scan([DataRoot(data / "projects", data, "test")])
    groupings = [reports.DAY, reports.WEEK, reports.MONTH, reports.HOUR, reports.DAY_HOUR, reports.MODEL,
                 reports.PROJECT, reports.ALL]
    queries = [Query(zone=zone) for zone in ("UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo")]
    queries += [Query(zone="America/New_York", since="2025-11-01", until="2025-11-03"),
                Query(zone="Europe/Berlin", start_hour=22, end_hour=3), Query(zone="UTC", model="claude-sonnet-4-5-20250929"),
                Query(zone="Asia/Tokyo", mode="calculate", since="2025-12-10")]
    with scanned.store.reading() as view:
        for query in queries:
            for grouping in groupings:
                hourly = reports.grouped(view, query, grouping, by_model=True)
                cells = reports.grouped(view, query, grouping, by_model=True, source=reports.CELLS)
                assert {str(k): usage_row(t, True) for k, t in hourly.items()} == \
                       {str(k): usage_row(t, True) for k, t in cells.items()}, (query, grouping.key)
    scanned.close()
