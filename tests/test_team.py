"""Team mode on a real PostgreSQL server (DESIGN 12; issue 12), never a mock.

The server is started by the ``pg`` fixture (initdb + pg_ctl in a temp dir, see pg_server.py).
Every command runs as a user would run it (``python -m claude_usage ...``). Expected numbers
come from the fixtures' stated totals (no two sets share a ``message.id``, so the union is their
sum), from the same reports of the embedded store over the same files (the oracle the issue
names), or from hand computation written out below.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

import pg_server
from conftest import FIXTURE_SETS, FIXTURES, ROW_FIELDS, RunningServer, expected, writable_copy
from helpers import assistant_line
from test_issue14_data import titled  # noqa: F401  (a fixture)

PASSWORD = pg_server.PASSWORD
USERS = {name: ("ann" if i % 2 == 0 else "ben") for i, name in enumerate(FIXTURE_SETS)}


def cli(*args: str, env: dict | None = None, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``claude-usage`` as a user would; fails the test on a non-zero exit when ``check``."""
    done = subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"claude-usage {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def json_of(*args: str, env: dict | None = None) -> dict:
    return json.loads(cli(*args, "--json", env=env).stdout)


def fresh_team(pg, name: str) -> str:
    """A new database with the team schema (made by ``team init``); returns its URL."""
    url = pg.create_database(name)
    cli("team", "init", "--team", url)
    return url


def push(url: str, data: Path, machine: str, user: str, *extra: str, env: dict | None = None) -> dict:
    return json_of("push", "--team", url, "--data-dir", str(data), "--machine", machine, "--user", user, *extra, env=env)


def sum_expected(names) -> dict:
    """The totals of several fixture sets together (they share no message.id)."""
    stated = [expected(name)["totals"] for name in names]
    fields = [field for field in (*ROW_FIELDS, "cost_usd") if all(field in one for one in stated)]
    return {field: sum(one[field] for one in stated) for field in fields}


def assert_totals(stated: dict, row: dict, where: str) -> None:
    for field, key in ROW_FIELDS.items():
        if field in stated:
            assert row[key] == stated[field], f"{where}: {key} {row[key]} != {stated[field]}"
    assert abs(row["costUsd"] - stated["cost_usd"]) <= 1e-6, f"{where}: cost {row['costUsd']} != {stated['cost_usd']}"


def assert_same(team, local, where: str = "") -> None:
    """Equal JSON documents, floats within 1e-6 (sums in another order)."""
    if isinstance(team, float) or isinstance(local, float):
        assert local is not None and team is not None and abs(team - local) <= 1e-6, f"{where}: {team} != {local}"
    elif isinstance(team, dict):
        assert isinstance(local, dict) and sorted(team) == sorted(local), f"{where}: keys {sorted(team)} != {sorted(local)}"
        for key in team:
            assert_same(team[key], local[key], f"{where}.{key}")
    elif isinstance(team, list):
        assert isinstance(local, list) and len(team) == len(local), f"{where}: {len(team)} rows != {len(local)}"
        for i, (a, b) in enumerate(zip(team, local)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert team == local, f"{where}: {team!r} != {local!r}"


def team_version(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT value FROM claude_usage.meta WHERE key = 'version'").fetchone()[0])


# -- every fixture set from its own machine --------------------------------------------------------

@pytest.fixture(scope="module")
def everything(pg):
    """Every fixture set pushed by its own machine (users ann and ben alternately)."""
    url = fresh_team(pg, "everything")
    results = {name: push(url, FIXTURES / name, f"m-{name}", USERS[name]) for name in FIXTURE_SETS}
    return url, results


def test_each_push_sends_every_request_once_and_a_second_push_nothing(everything):
    url, results = everything
    for name, result in results.items():
        stated = expected(name)["totals"]["requests"]
        assert (result["sent"], result["new"], result["updated"], result["unchanged"]) == (stated, stated, 0, 0), name
        assert PASSWORD not in json.dumps(result) and result["team"].startswith("postgres@127.0.0.1:")
    before = team_version(url)
    again = push(url, FIXTURES / "sniffly", "m-sniffly", USERS["sniffly"])
    assert (again["sent"], again["new"], again["updated"]) == (0, 0, 0)
    # A local index made anew (--no-index: a new store every run) sends everything again: nothing changes.
    anew = push(url, FIXTURES / "sniffly", "m-sniffly", USERS["sniffly"], "--no-index")
    assert (anew["sent"], anew["new"], anew["updated"], anew["unchanged"]) == (90, 0, 0, 90)
    assert team_version(url) == before


def test_team_totals_are_the_union_of_the_sets(everything):
    url, _ = everything
    document = json_of("daily", "--team", url, "--tz", "UTC")
    assert_totals(sum_expected(FIXTURE_SETS), document["totals"], "team")
    for name in FIXTURE_SETS:
        one = json_of("daily", "--team", url, "--machine", f"m-{name}", "--tz", "UTC")
        assert_totals(expected(name)["totals"], one["totals"], f"machine m-{name}")
        days = {row["date"]: row for row in one["daily"]}
        for day, stated in expected(name)["by_day"]["UTC"].items():
            assert_totals(stated, days[day], f"m-{name} {day}")


def test_sessions_keep_their_titles_and_subagent_tasks_in_the_team_store(pg, titled):
    """The titles of the issue-14 fixture (written out there: an ai-title, the later of two custom
    titles, a first prompt; a subagent's task) name the sessions on a team server too, and a
    second push changes nothing."""
    url = fresh_team(pg, "titles")
    assert push(url, titled, "m-titles", "ann")["new"] == 4
    rows = {row["sessionId"]: row for row in json_of("sessions", "--team", url, "--tz", "UTC")["sessions"]}
    assert {name: row["title"] for name, row in rows.items()} == {
        "s1": "Login bug fix", "s2": "Dark mode v2", "s3": "Write the README"}
    before = team_version(url)
    assert push(url, titled, "m-titles", "ann")["sent"] == 0 and team_version(url) == before
    with RunningServer("--team", url, "--tz", "UTC") as server:
        detail = httpx.get(f"{server.url}/api/v2/sessions/s3", timeout=30).json()
    (agent,) = detail["subagents"]
    assert (agent["agentId"], agent["task"]) == ("abc", "Find the config files")


def test_filters_by_user(everything, tmp_path):
    url, _ = everything
    for user in ("ann", "ben"):
        mine = [name for name in FIXTURE_SETS if USERS[name] == user]
        document = json_of("monthly", "--team", url, "--user", user, "--tz", "UTC")
        assert_totals(sum_expected(mine), document["totals"], f"user {user}")
        blocks = json_of("blocks", "--team", url, "--user", user, "--tz", "UTC")["blocks"]
        assert sum(block["requests"] for block in blocks if not block["isGap"]) == sum_expected(mine)["requests"]
        summary = json_of("summary", "--team", url, "--user", user, "--tz", "UTC")
        assert summary["totals"]["requests"] == sum_expected(mine)["requests"]
    users = json_of("users", "--team", url, "--tz", "UTC")
    by_user = {row["user"]: row for row in users["users"]}
    assert sorted(by_user) == ["ann", "ben"]
    for user, row in by_user.items():
        mine = [name for name in FIXTURE_SETS if USERS[name] == user]
        assert_totals(sum_expected(mine), row, f"users row {user}")
        assert row["machines"] == sorted(f"m-{name}" for name in mine)
    assert len(users["machines"]) == len(FIXTURE_SETS)
    nobody = cli("daily", "--team", url, "--user", "zed", "--json", check=False)
    assert nobody.returncode == 2 and nobody.stdout == ""
    assert "--user 'zed' matches no machine that pushed; `claude-usage users` lists them" in nobody.stderr


REPORTS = [
    ("daily", "--tz", "UTC"), ("daily", "--tz", "America/Los_Angeles", "--breakdown"), ("daily", "--tz", "Asia/Kolkata"),
    ("weekly", "--tz", "UTC"), ("monthly", "--tz", "Asia/Tokyo"), ("hourly", "--tz", "UTC"),
    ("hourly", "--tz", "Asia/Kolkata"), ("models", "--tz", "UTC"), ("projects", "--tz", "UTC"),
    ("sessions", "--tz", "UTC"), ("blocks", "--tz", "UTC"), ("summary", "--tz", "UTC"),
    ("daily", "--tz", "UTC", "--since", "2025-10-01", "--until", "2025-12-31"),
]


@pytest.mark.parametrize("report", REPORTS, ids=[" ".join(r) for r in REPORTS])
def test_every_report_equals_the_embedded_store_over_the_same_files(everything, report):
    url, _ = everything
    local_args = [arg for name in FIXTURE_SETS for arg in ("--data-dir", str(FIXTURES / name))]
    team = json_of(*report, "--team", url)
    local = json_of(*report, *local_args)
    for document in (team, local):
        document.pop("now", None)  # the moment each command ran (blocks)
    assert_same(team, local, " ".join(report))


# -- copies of sessions on two machines ---------------------------------------------------------

@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    """``laptop``: the windows-worktrees set; ``desktop``: five of its session files copied into
    another project dir, where three single-snapshot responses were given 1000 more output
    tokens each (a more complete snapshot) and one file lost its second half (less complete)."""
    base = tmp_path_factory.mktemp("copies")
    laptop = writable_copy("windows-worktrees", base / "laptop")
    files = sorted(laptop.rglob("*.jsonl"), key=lambda p: (-p.stat().st_size, str(p)))[:5]
    target = base / "desktop" / "projects" / "-home-dev-copied"
    target.mkdir(parents=True)
    bumped = 0
    for index, path in enumerate(files):
        lines = path.read_text(encoding="utf-8").splitlines()
        ids: dict[str, int] = {}
        for line in lines:
            try:
                message = json.loads(line).get("message") or {}
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") and message.get("usage"):
                ids[message["id"]] = ids.get(message["id"], 0) + 1
        out = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            message = record.get("message") if isinstance(record, dict) else None
            if (bumped < 3 and index == 0 and isinstance(message, dict) and ids.get(message.get("id")) == 1
                    and record.get("type") == "assistant" and not record.get("isSidechain")):
                message["usage"]["output_tokens"] += 1000
                bumped += 1
                line = json.dumps(record)
            out.append(line)
        if index == 1:
            out = out[: len(out) // 2]
        (target / path.name).write_text("\n".join(out) + "\n", encoding="utf-8")
    assert bumped == 3
    return laptop, base / "desktop"


def test_a_session_copied_to_another_machine_counts_once(pg, copies):
    laptop, desktop = copies
    stated = expected("windows-worktrees")["totals"]
    url = fresh_team(pg, "copies")
    push(url, laptop, "laptop", "ann")
    with psycopg.connect(url) as conn:
        digest = "SELECT md5(string_agg(concat_ws(',', key, file_id, line, ts, input, output, cost), ';' ORDER BY key)) " \
                 "FROM claude_usage.requests WHERE machine_id = (SELECT id FROM claude_usage.machines WHERE name = 'laptop')"
        laptop_rows = conn.execute(digest).fetchone()[0]
    pushed = push(url, desktop, "desktop", "ben")
    assert pushed["new"] == pushed["sent"] > 0
    team = json_of("daily", "--team", url, "--tz", "UTC")["totals"]
    # The same responses, three of them with 1000 more output tokens: the most complete snapshot wins.
    assert team["requests"] == stated["requests"]
    assert team["outputTokens"] == stated["output_tokens"] + 3 * 1000
    assert team["inputTokens"] == stated["input_tokens"] and team["cacheReadTokens"] == stated["cache_read_tokens"]
    local = json_of("daily", "--tz", "UTC", "--data-dir", str(laptop), "--data-dir", str(desktop))
    assert_same(json_of("daily", "--team", url, "--tz", "UTC"), local, "copies daily")
    assert_same(json_of("projects", "--team", url, "--tz", "UTC"), json_of("projects", "--tz", "UTC", "--data-dir", str(laptop),
                                                                            "--data-dir", str(desktop)), "copies projects")
    with psycopg.connect(url) as conn:  # the second machine changed none of the first one's rows
        assert conn.execute(digest).fetchone()[0] == laptop_rows
    # The other order gives the same winners.
    other = fresh_team(pg, "copies_reversed")
    push(other, desktop, "desktop", "ben")
    push(other, laptop, "laptop", "ann")
    assert_same(json_of("sessions", "--team", other, "--tz", "UTC"), json_of("sessions", "--team", url, "--tz", "UTC"))


def test_two_machines_pushing_at_once(pg, copies):
    laptop, desktop = copies
    url = fresh_team(pg, "concurrent")
    for data in (laptop, desktop):  # local indexes first: the pushes below overlap in the team store
        cli("daily", "--json", "--data-dir", str(data))
    commands = [[sys.executable, "-m", "claude_usage", "push", "--team", url, "--data-dir", str(data), "--machine", name,
                 "--user", name, "--chunk-rows", "200", "--json"] for data, name in ((laptop, "laptop"), (desktop, "desktop"))]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for command in commands]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    local = json_of("daily", "--tz", "UTC", "--data-dir", str(laptop), "--data-dir", str(desktop))
    assert_same(json_of("daily", "--team", url, "--tz", "UTC"), local, "concurrent daily")
    assert cli("doctor", "--json", "--data-dir", str(laptop)).returncode == 0


def test_a_push_killed_at_random_points_then_resumed_is_exact(pg, tmp_path):
    url = fresh_team(pg, "killed")
    data = FIXTURES / "termux"
    cli("daily", "--json", "--data-dir", str(data))  # the local index exists: the kills land in the push
    command = [sys.executable, "-m", "claude_usage", "push", "--team", url, "--data-dir", str(data), "--machine", "phone",
               "--user", "ann", "--chunk-rows", "50", "--json"]
    rng = random.Random(12)
    kills = 0
    with psycopg.connect(url, autocommit=True) as watch:
        def stored() -> int:
            return watch.execute("SELECT COUNT(*) FROM claude_usage.requests").fetchone()[0]

        # Each run is killed once the team store holds more than a random number of its rows
        # (mid-push, between or inside chunk transactions); the next run goes on from there.
        for threshold in sorted(rng.sample(range(100, 2800), 5)):
            run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            while run.poll() is None and stored() < threshold:
                time.sleep(rng.uniform(0.001, 0.02))
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
                kills += 1
            run.wait()
    assert kills >= 3
    final = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    stated = expected("termux")["totals"]
    assert final["new"] + final["updated"] <= stated["requests"]
    assert_totals(stated, json_of("daily", "--team", url, "--tz", "UTC")["totals"], "after kills")
    with psycopg.connect(url) as conn:
        kept, rows = conn.execute("SELECT COUNT(*) FILTER (WHERE kept = 1), COUNT(*) FROM claude_usage.requests").fetchone()
    assert kept == rows == stated["requests"]


# -- roles, errors and credentials -------------------------------------------------------------

def test_roles_reader_reads_writer_pushes_neither_can_destroy(pg):
    url = fresh_team(pg, "roles")
    sql = json_of("team", "init", "--team", url)["rolesSql"]
    sql = sql.replace("choose-a-writer-password", "writer-Pw-1").replace("choose-a-reader-password", "reader-Pw-2")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)
    writer = pg.url("claude_usage_writer", "writer-Pw-1", "roles")
    reader = pg.url("claude_usage_reader", "reader-Pw-2", "roles")
    pushed = push(writer, FIXTURES / "sniffly", "w1", "ann")
    assert pushed["new"] == 90
    assert_totals(expected("sniffly")["totals"], json_of("daily", "--team", reader, "--tz", "UTC")["totals"], "reader")
    refused = cli("push", "--team", reader, "--data-dir", str(FIXTURES / "windows"), "--machine", "r1", check=False)
    assert refused.returncode == 2
    assert "refused this operation" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert "reader-Pw-2" not in refused.stdout + refused.stderr
    for role_url in (writer, reader):
        with psycopg.connect(role_url, autocommit=True) as conn:
            for statement in ("DELETE FROM claude_usage.requests", "DROP TABLE claude_usage.requests",
                              "TRUNCATE claude_usage.machines", "CREATE TABLE claude_usage.x (a int)"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    with psycopg.connect(reader, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE claude_usage.requests SET output = 0")
    assert_totals(expected("sniffly")["totals"], json_of("daily", "--team", url, "--tz", "UTC")["totals"], "unharmed")


def test_every_failure_is_one_line_exit_2_without_the_password(pg, tmp_path):
    url = fresh_team(pg, "failures")
    empty = pg.create_database("no_schema")
    cases = {
        "wrong password": (pg.url(password="not-the-" + PASSWORD, database="failures"), "refused the credentials"),
        "refused": (f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/failures", "connection refused"),
        "no database": (pg.url(database="nowhere"), "does not exist"),
        "no schema": (empty, "claude-usage team init"),
        "bad url": (f"postgresql://postgres:{PASSWORD}@[::1:5/x", "bad team database URL"),
        "bad parameter": (url + "?sslmode=sometimes", "sslmode"),
    }
    for name, (bad, said) in cases.items():
        for args in (("daily", "--team", bad), ("push", "--team", bad, "--data-dir", str(FIXTURES / "windows")),
                     ("serve", "--team", bad, "--port", "0")):
            done = cli(*args, check=False, timeout=60)
            where = f"{name}: {args[0]}"
            assert done.returncode == 2, f"{where}: exit {done.returncode}\n{done.stderr}"
            assert said in done.stderr, f"{where}: {done.stderr}"
            assert len(done.stderr.strip().splitlines()) == 1, f"{where}: {done.stderr}"
            assert PASSWORD not in done.stdout + done.stderr, f"{where} printed the password"
    env = {**os.environ, "CLAUDE_USAGE_TEAM_URL": url}
    pushed = cli("push", "--data-dir", str(FIXTURES / "windows"), "--json", env=env)  # the URL from the environment
    assert json.loads(pushed.stdout)["new"] == 55 and PASSWORD not in pushed.stdout + pushed.stderr
    init = cli("team", "init", env=env)
    assert "already up to date" in init.stderr and PASSWORD not in init.stdout + init.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM claude_usage.schema_migrations ORDER BY version").fetchall() == [(1,), (2,)]


# -- the team server ---------------------------------------------------------------------------------

def _events(url: str, seen: list, stop: threading.Event) -> None:
    try:
        with httpx.stream("GET", url + "/api/v2/events", timeout=httpx.Timeout(5, read=30)) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))
                if stop.is_set():
                    return
    except httpx.HTTPError:
        pass


def test_team_server_serves_users_filters_and_live_pushes(pg):
    url = fresh_team(pg, "served")
    push(url, FIXTURES / "sniffly", "alpha", "ann")
    with RunningServer("--team", url, "--tz", "UTC") as server:
        cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
        assert PASSWORD.encode() not in cmdline, "the password shows in the process list"
        health = httpx.get(server.url + "/api/health").json()
        assert PASSWORD not in json.dumps(health) and health["team"]["machines"] == 1
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", health["team"]["lastPush"]), health["team"]
        assert health["indexPath"].startswith("postgres@127.0.0.1:")
        users = httpx.get(server.url + "/api/v2/users").json()
        assert [row["user"] for row in users["users"]] == ["ann"]
        for path in ("/api/v2/tools", "/api/v2/todos", "/api/v2/mcp/logs", "/api/v2/logs/content?file=/etc/passwd"):
            answer = httpx.get(server.url + path)
            assert answer.status_code == 409 and answer.json()["error"] == "local_only", path
        seen: list = []
        stop = threading.Event()
        listener = threading.Thread(target=_events, args=(server.url, seen, stop), daemon=True)
        listener.start()
        time.sleep(0.5)
        version = health["dataVersion"]
        push(url, FIXTURES / "windows", "beta", "ben")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            time.sleep(0.1)
        stop.set()
        assert seen and seen[0]["type"] == "update", "no live update after a push"
        assert httpx.get(server.url + "/api/health").json()["dataVersion"] > version
        users = httpx.get(server.url + "/api/v2/users", params={"tz": "UTC"}).json()
        rows = {row["user"]: row for row in users["users"]}
        assert_totals(expected("sniffly")["totals"], rows["ann"], "ann")
        assert_totals(expected("windows")["totals"], rows["ben"], "ben")
        assert_totals(sum_expected(["sniffly", "windows"]), users["totals"], "team")
        daily = httpx.get(server.url + "/api/v2/daily", params={"user": "ben", "tz": "UTC", "limit": 1000}).json()
        assert sum(row["requests"] for row in daily["data"]) == expected("windows")["totals"]["requests"]
        machine_id = next(row["machineId"] for row in users["machines"] if row["machine"] == "alpha")
        models = httpx.get(server.url + "/api/v2/models", params={"machine": machine_id}).json()
        assert sum(row["requests"] for row in models["data"]) == 90


def test_local_server_refuses_team_filters_and_endpoints(tmp_path):
    with RunningServer("--data-dir", str(FIXTURES / "windows"), "--tz", "UTC") as server:
        answer = httpx.get(server.url + "/api/v2/daily", params={"user": "ann"})
        assert answer.status_code == 400 and "team server" in answer.json()["message"]
        answer = httpx.get(server.url + "/api/v2/users")
        assert answer.status_code == 409 and answer.json()["error"] == "team_only"


def test_serve_push_to_pushes_new_requests(pg, tmp_path):
    url = fresh_team(pg, "pushed_by_server")
    data = writable_copy("sniffly", tmp_path / "sniffly")
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--push-to", url, "--push-every", "1",
                       "--push-machine", "srv", "--push-user", "sam") as server:
        def team_requests() -> int:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT COUNT(*) FROM claude_usage.requests r JOIN claude_usage.machines m "
                                    "ON m.id = r.machine_id WHERE m.name = 'srv' AND m.user_name = 'sam'").fetchone()[0]

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and team_requests() < 90:
            time.sleep(0.2)
        assert team_requests() == 90
        transcript = sorted(data.rglob("*.jsonl"))[0]
        with transcript.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(assistant_line(msg_id="msg_pushed_live", uuid="u-live", ts="2025-06-10T10:00:00.000Z",
                                                   input_tokens=7, output_tokens=11)) + "\n")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and team_requests() < 91:
            time.sleep(0.2)
        assert team_requests() == 91
        health = httpx.get(server.url + "/api/health").json()
        assert health["push"]["error"] is None and health["push"]["machine"] == "srv"
        assert PASSWORD not in json.dumps(health)
        assert PASSWORD.encode() not in Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
    totals = json_of("daily", "--team", url, "--tz", "UTC")["totals"]
    stated = expected("sniffly")["totals"]
    assert totals["requests"] == stated["requests"] + 1 and totals["outputTokens"] == stated["output_tokens"] + 11


# -- the dashboard's Team view -----------------------------------------------------------------------

def test_dashboard_team_view_shows_each_user_and_filters_by_them(everything, tmp_path):
    """A real Chromium on a team server: the Team tab (and no tab of local files), a row per user
    with the stated cost, a click that filters the Summary to that user; screenshots at 1400x900
    and 390x844 in both themes."""
    from playwright.sync_api import sync_playwright

    from browser import ARGS, CHROMIUM, number, table_rows

    SHOTS = Path(os.environ.get("CLAUDE_USAGE_SHOTS", tmp_path / "screenshots"))

    url, _ = everything
    SHOTS.mkdir(parents=True, exist_ok=True)
    cost = {user: sum_expected([n for n in FIXTURE_SETS if USERS[n] == user])["cost_usd"] for user in ("ann", "ben")}
    with RunningServer("--team", url, "--tz", "UTC") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for (width, height), theme in [(size, theme) for size in ((1400, 900), (390, 844)) for theme in ("light", "dark")]:
                context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC",
                                              color_scheme=theme)
                page = context.new_page()
                problems: list[str] = []
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
                page.goto(f"{server.url}/#/team")
                page.wait_for_selector('table[aria-label="users"] tbody tr', timeout=20000)
                tabs = page.locator("#tabs a").all_inner_texts()
                assert "Team" in tabs and not {"Tools & MCP", "Logs", "Todos"} & set(tabs), tabs
                rows = {row[0]: row for row in table_rows(page, "users")}
                assert sorted(rows) == ["ann", "ben"]
                for user, row in rows.items():
                    assert abs(number(row[-1]) - cost[user]) < 0.005, (user, row)
                assert len(table_rows(page, "machines")) == len(FIXTURE_SETS)
                if width < 600:  # a phone shows the filters when asked (issue 14)
                    assert page.locator("#user").is_hidden()
                    page.locator("#filter-toggle").click()
                assert page.locator("#user").is_visible() and page.locator("#machine").is_visible()
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(SHOTS / f"team-{width}x{height}-{theme}.png"), full_page=True)
                if width == 1400 and theme == "light":
                    page.locator('table[aria-label="users"] tbody tr', has_text="ben").click()
                    page.wait_for_function("location.hash.includes('user=ben')")
                    page.wait_for_selector("main .cards", timeout=20000)
                    page.wait_for_load_state("networkidle")
                    assert page.locator("#user").input_value() == "ben"
                    shown = page.locator("main .card", has_text="Cost").first.locator(".value").inner_text()
                    assert abs(number(shown) - cost["ben"]) < 0.005, shown
                    page.screenshot(path=str(SHOTS / "team-summary-ben.png"), full_page=True)
                assert not problems, problems
                context.close()
        finally:
            browser.close()
