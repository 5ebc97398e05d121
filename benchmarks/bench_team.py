"""Benchmark of team mode (DESIGN 10 and 12, issue 12): a team store of 10M requests from 50
machines on PostgreSQL. Prints figures next to their targets; asserts nothing.

1. The team corpus is **bulk-loaded** (COPY of generated request rows, then the product's own
   rollup SQL, ``claude_usage.store.rollups.rebuild_all``): pushing 10M requests through the push
   path would take most of an hour on this 2-core machine, and what the push path costs is
   measured in step 2 instead. 2% of each machine's sessions are copies of another machine's
   (same responses), so the store holds duplicates the dedupe has to see through.
2. **Push**: a real transcript corpus of one more machine (written below, read by
   ``claude-usage push`` into its local index, then pushed into the 10M store): throughput of the
   first push, then one heavy day appended (the 1M-requests-a-year user's day) and pushed:
   the refresh of the local index and the push itself, timed apart (target: the push < 1 s).
3. **Reports**: ``claude-usage serve --team`` over the 10M store; every report endpoint with
   distinct parameter sets (zones with whole, half and quarter-hour offsets, date ranges, user
   and machine filters), each answer fresh (a set is never asked twice), p50/p99 per endpoint
   (target: p50 < 100 ms).

    python benchmarks/bench_team.py                     # starts its own PostgreSQL (Debian's)
    python benchmarks/bench_team.py --requests 1M --machines 10    # smaller
    python benchmarks/bench_team.py --team postgresql://...        # an existing server (a new database in it)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

MODELS = [("claude-sonnet-4-5-20250929", 3.0, 15.0), ("claude-opus-4-5-20251101", 5.0, 25.0),
          ("claude-haiku-4-5-20251001", 1.0, 5.0), ("claude-opus-4-1-20250805", 15.0, 75.0)]
PROJECTS = 100
YEAR_US = 365 * 86400 * 10**6
START_US = 1_735_689_600 * 10**6  # 2025-01-01T00:00:00Z
ZONES = ("UTC", "America/Los_Angeles", "Asia/Kolkata", "Asia/Kathmandu", "Europe/Berlin", "Australia/Adelaide")


def count(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a count: {text}")
    return int(float(match[1]) * {"": 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}[match[2]])


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"claude-usage {args[0]} failed: {done.stderr}")
    return done


# -- 1. the bulk-loaded team corpus ------------------------------------------------------------

def _cost_units(model: int, inp: int, out: int, c5: int, read: int) -> int:
    _name, rate_in, rate_out = MODELS[model]
    usd = (inp * rate_in + out * rate_out + c5 * rate_in * 1.25 + read * rate_in * 0.1) / 1e6
    return round(usd * 10**10)


def load_team(url: str, requests: int, machines: int, seed: int = 7) -> dict:
    """COPY ``requests`` generated rows of ``machines`` machines into the team schema, then the
    indexes and the rollups (the product's SQL). Returns what was loaded and how long it took."""
    import psycopg

    from claude_usage.store import rollups
    from claude_usage.team.connection import connect
    from claude_usage.team.store import PgConnection

    rng = random.Random(seed)
    began = time.perf_counter()
    conn = connect(url, "bench load")
    conn.execute("ALTER TABLE requests DROP CONSTRAINT requests_machine_id_key_key")
    conn.execute("ALTER TABLE requests DROP CONSTRAINT requests_pkey")
    conn.execute("DROP INDEX requests_by_key")
    conn.execute("DROP INDEX requests_by_session")
    with conn.cursor().copy("COPY models (id, name) FROM STDIN") as copy:
        for index, (name, _a, _b) in enumerate(MODELS, 1):
            copy.write_row((index, name))
    with conn.cursor().copy("COPY projects (id, name) FROM STDIN") as copy:
        for index in range(1, PROJECTS + 1):
            copy.write_row((index, f"-home-dev-src-project-{index:03d}"))
    for machine in range(1, machines + 1):
        conn.execute("INSERT INTO machines (id, machine_key, name, user_name, pushes) VALUES (%s, %s, %s, %s, 1)",
                     (machine, str(uuid.UUID(int=rng.getrandbits(128))), f"host-{machine:02d}", f"user-{(machine - 1) // 2:02d}"))
    per_machine = requests // machines
    session_id = file_id = row_id = 0
    sessions, files = io.StringIO(), io.StringIO()
    copied_from: list[list[str]] = []  # rows of the previous machine's sessions to copy
    stored = kept = 0
    for machine in range(1, machines + 1):
        buffer = io.StringIO()
        made = 0
        mine: list[list[str]] = []
        while made < per_machine:
            session_id += 1
            file_id += 1
            project = rng.randrange(1, PROJECTS + 1)
            sessions.write(f"{session_id}\t{uuid.UUID(int=rng.getrandbits(128))}\t{machine}\n")
            files.write(f"{file_id}\t{machine}\t/home/user-{machine:02d}/.claude/projects/p{project}/{session_id}.jsonl\n")
            ts = START_US + rng.randrange(YEAR_US)
            size = min(per_machine - made, rng.randint(20, 200))
            model = rng.randrange(len(MODELS))
            rows = []
            for line in range(size):
                ts += rng.randint(5, 120) * 10**6
                inp, out = rng.randint(1, 60), rng.randint(20, 4000)
                c5, read = rng.choice((0, 0, rng.randint(500, 30000))), rng.randint(5000, 150000)
                row = [str(rng.getrandbits(63)), str(machine), str(file_id), str(line * 2000), str(ts), str(model + 1),
                       str(session_id), str(project), str(inp), str(out), str(c5), "0", str(read), "0", "0", "0",
                       str(_cost_units(model, inp, out, c5, read)), "\\N", "1", "1"]
                rows.append(row)
            made += size
            for row in rows:
                buffer.write(str(row_id := row_id + 1) + "\t" + "\t".join(row) + "\n")
            mine.append(rows)
        # 2% of the previous machine's sessions were copied here: the same responses, not kept.
        for rows in copied_from[: max(1, len(copied_from) // 50)]:
            file_id += 1
            files.write(f"{file_id}\t{machine}\t/home/user-{machine:02d}/.claude/projects/zz-copy/{rows[0][6]}.jsonl\n")
            for row in rows:
                buffer.write(str(row_id := row_id + 1) + "\t" + "\t".join(
                    [row[0], str(machine), str(file_id), *row[3:19], "0"]) + "\n")
                stored += 1
        copied_from = mine
        kept += made
        stored += made
        with conn.cursor().copy("COPY requests (id, key, machine_id, file_id, line, ts, model_id, session_id, project_id, "
                                "input, output, cache_5m, cache_1h, cache_read, searches, fetches, flags, cost, line_cost, "
                                "version, kept) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        print(f"\r  loaded {machine}/{machines} machines, {stored:,} rows ({time.perf_counter() - began:.0f} s)",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with conn.cursor().copy("COPY sessions (id, name, machine_id) FROM STDIN") as copy:
        copy.write(sessions.getvalue())
    with conn.cursor().copy("COPY files (id, machine_id, path) FROM STDIN") as copy:
        copy.write(files.getvalue())
    for table, column in (("requests", "id"), ("sessions", "id"), ("files", "id"), ("machines", "id"), ("models", "id"),
                          ("projects", "id")):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT MAX({column}) FROM {table}))")
    copied = time.perf_counter()
    conn.execute("ALTER TABLE requests ADD PRIMARY KEY (id)")
    conn.execute("ALTER TABLE requests ADD CONSTRAINT requests_machine_id_key_key UNIQUE (machine_id, key)")
    conn.execute("CREATE INDEX requests_by_key ON requests (key)")
    conn.execute("CREATE INDEX requests_by_session ON requests (session_id, ts) WHERE kept = 1")
    indexed = time.perf_counter()
    with conn.transaction():
        rollups.rebuild_all(PgConnection(conn))
        conn.execute("UPDATE meta SET value = %s WHERE key = 'requests'", (str(kept),))
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'version'")
    conn.execute("VACUUM ANALYZE")
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    conn.close()
    return {"rows": stored, "kept": kept, "machines": machines, "copy_s": copied - began, "indexes_s": indexed - copied,
            "rollups_s": time.perf_counter() - indexed, "bytes": size}


# -- 2. pushes of a real machine ----------------------------------------------------------------------

def write_transcripts(folder: Path, requests: int, first_day: int, rng: random.Random, days: int) -> None:
    """Claude Code-like transcripts: ``requests`` assistant lines (with the user lines between
    them) over ``days`` days from day ``first_day`` of 2025, in sessions of 20-200 requests."""
    made = 0
    while made < requests:
        session = str(uuid.UUID(int=rng.getrandbits(128)))
        project = folder / "projects" / f"-home-dev-src-project-{rng.randrange(12):03d}"
        project.mkdir(parents=True, exist_ok=True)
        ts = START_US + (first_day + rng.randrange(days)) * 86400 * 10**6 + rng.randrange(16 * 3600) * 10**6
        size = min(requests - made, rng.randint(20, 200))
        model = MODELS[rng.randrange(len(MODELS))][0]
        with (project / f"{session}.jsonl").open("a", encoding="utf-8") as handle:
            for _ in range(size):
                ts += rng.randint(5, 120) * 10**6
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts / 10**6)) + ".000Z"
                handle.write(json.dumps({"type": "user", "timestamp": stamp, "sessionId": session, "cwd": "/home/dev/src",
                                         "message": {"role": "user", "content": "go on"}}) + "\n")
                usage = {"input_tokens": rng.randint(1, 60), "output_tokens": rng.randint(20, 4000),
                         "cache_creation_input_tokens": rng.choice((0, 0, rng.randint(500, 30000))),
                         "cache_read_input_tokens": rng.randint(5000, 150000)}
                handle.write(json.dumps({"type": "assistant", "timestamp": stamp, "sessionId": session, "cwd": "/home/dev/src",
                                         "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                                         "message": {"id": f"msg_{rng.getrandbits(64):016x}", "model": model, "role": "assistant",
                                                     "usage": usage}}) + "\n")
        made += size


def pushes(url: str, folder: Path, requests: int, day_requests: int, env: dict) -> dict:
    rng = random.Random(11)
    write_transcripts(folder, requests, 0, rng, 330)
    cli("daily", "--json", "--data-dir", str(folder), env=env)  # the local index: what push reads
    first = json.loads(cli("push", "--team", url, "--data-dir", str(folder), "--machine", "bench-laptop", "--json",
                           env=env).stdout)
    write_transcripts(folder, day_requests, 340, rng, 1)
    began = time.perf_counter()
    cli("daily", "--json", "--data-dir", str(folder), env=env)
    refresh_s = time.perf_counter() - began
    day = json.loads(cli("push", "--team", url, "--data-dir", str(folder), "--machine", "bench-laptop", "--json",
                         env=env).stdout)
    again = json.loads(cli("push", "--team", url, "--data-dir", str(folder), "--machine", "bench-laptop", "--json",
                           env=env).stdout)
    return {"first": first, "day": day, "day_refresh_s": refresh_s, "again": again}


# -- 3. fresh report answers ------------------------------------------------------------------------

def report_times(url: str, sets: int, env: dict) -> dict[str, list[float]]:
    """Per endpoint, the time of each fresh answer (distinct parameters each time) of a team server."""
    server = subprocess.Popen([sys.executable, "-m", "claude_usage", "serve", "--team", url, "--port", "0", "--rate-limit", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        base = None
        while base is None:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("the team server did not start")
            found = re.search(r"http://([\d.]+):(\d+)", line)
            base = f"http://{found[1]}:{found[2]}" if found else None

        def get(path: str) -> tuple[float, int]:
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(base + path, timeout=120) as answer:
                    answer.read()
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            return time.perf_counter() - began, status

        get("/api/health")
        rng = random.Random(5)
        users = [f"user-{i:02d}" for i in range(25)]
        endpoints = ["daily", "weekly", "monthly", "hourly", "models", "projects", "sessions", "summary", "blocks", "users"]
        times: dict[str, list[float]] = {name: [] for name in endpoints}
        for index in range(sets):
            for name in endpoints:
                params = {"tz": ZONES[index % len(ZONES)]}
                if index % 3 == 1:
                    month = rng.randint(1, 11)
                    params.update(startDate=f"2025-{month:02d}-01", endDate=f"2025-{month + 1:02d}-15")
                if index % 4 == 2:
                    params["user"] = rng.choice(users)
                if index % 5 == 3:
                    params["machine"] = f"host-{rng.randint(1, 50):02d}"
                if name == "sessions":
                    params.update(limit="50", sortBy=rng.choice(["lastActivity", "cost", "totalTokens"]))
                query = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in params.items())
                seconds, status = get(f"/api/v2/{name}?{query}")
                if status != 200:
                    raise SystemExit(f"/api/v2/{name}?{query} answered {status}")
                times[name].append(seconds)
        return times
    finally:
        server.terminate()
        server.wait()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=count, default=count("10M"))
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--push-requests", type=count, default=count("100k"), help="the pushing machine's history")
    parser.add_argument("--day-requests", type=count, default=2740, help="one heavy day (1M requests a year / 365)")
    parser.add_argument("--sets", type=int, default=30, help="distinct parameter sets per endpoint")
    parser.add_argument("--team", help="an existing PostgreSQL server's URL (a database claude_usage_bench is made in it)")
    args = parser.parse_args()

    import psycopg

    server = None
    if args.team:
        admin = args.team
    else:
        import pg_server

        server = pg_server.start({"shared_buffers": "2GB", "work_mem": "64MB", "maintenance_work_mem": "1GB",
                                  "max_wal_size": "8GB", "effective_cache_size": "8GB"})
        admin = server.url()
    work = Path(tempfile.mkdtemp(prefix="claude-usage-bench-team-"))
    env = {**os.environ, "CLAUDE_USAGE_CACHE": str(work / "cache"), "CLAUDE_USAGE_CONFIG": str(work / "config")}
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS claude_usage_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE claude_usage_bench")
        url = re.sub(r"/[^/?]*(\?|$)", r"/claude_usage_bench\1", admin, count=1) if "/" in admin.split("@")[-1] \
            else admin + "/claude_usage_bench"
        cli("team", "init", "--team", url, env=env)
        print(f"Team store: {args.requests:,} requests from {args.machines} machines (bulk-loaded, see the docstring)")
        loaded = load_team(url, args.requests, args.machines)
        print(f"  COPY {loaded['rows']:,} rows ({loaded['kept']:,} kept) {loaded['copy_s']:.0f} s, indexes "
              f"{loaded['indexes_s']:.0f} s, rollups {loaded['rollups_s']:.0f} s; database {loaded['bytes'] / 2**30:.2f} GiB "
              f"({loaded['bytes'] / loaded['rows']:.0f} B per stored row)")
        pushed = pushes(url, work / "laptop", args.push_requests, args.day_requests, env)
        first, day, again = pushed["first"], pushed["day"], pushed["again"]
        print(f"Push of one machine into the {args.requests:,}-request store:")
        print(f"  first push: {first['sent']:,} requests in {first['seconds']:.2f} s = {first['sent'] / first['seconds']:,.0f} requests/s")
        print(f"  one heavy day ({day['sent']:,} requests): push {day['seconds'] * 1000:.0f} ms (target < 1 s), "
              f"local refresh before it {pushed['day_refresh_s'] * 1000:.0f} ms (CLI run)")
        print(f"  a push with nothing new: {again['seconds'] * 1000:.0f} ms")
        times = report_times(url, args.sets, env)
        print(f"Fresh answers of `serve --team` ({args.sets} distinct parameter sets each; target p50 < 100 ms):")
        print(f"  {'endpoint':<10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name, values in times.items():
            print(f"  {name:<10} {statistics.median(values) * 1000:8.1f} {percentile(values, 0.99) * 1000:8.1f} "
                  f"{max(values) * 1000:8.1f}")
    finally:
        if server is not None:
            server.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
