"""Shared test helpers: where ../shared lives and how expected rows are compared.

The fixtures and bug cases are read in place, read-only (never copied into the repo).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLAUDE_USAGE_SHARED", REPO.parent / "shared")).resolve()
FIXTURES = SHARED / "fixtures" / "real"
BUGCASES = SHARED / "bugcases"
FIXTURE_SETS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) if FIXTURES.is_dir() else []
BUGCASE_DIRS = sorted(p.name for p in BUGCASES.iterdir() if p.is_dir()) if BUGCASES.is_dir() else []
ZONES = ("UTC", "America/Los_Angeles", "Asia/Tokyo")

# expected.json field -> usage-row (camelCase) field
ROW_FIELDS = {
    "requests": "requests",
    "input_tokens": "inputTokens",
    "output_tokens": "outputTokens",
    "cache_creation_tokens": "cacheCreationTokens",
    "cache_creation_1h_tokens": "cacheCreation1hTokens",
    "cache_read_tokens": "cacheReadTokens",
    "total_tokens": "totalTokens",
    "web_search_requests": "webSearchRequests",
    "web_fetch_requests": "webFetchRequests",
    "placeholder_output_requests": "placeholderOutputRequests",
    "fast_unpriced_requests": "fastUnpricedRequests",
}


def pytest_sessionstart(session):
    # A missing ../shared must fail loudly, never turn into zero parametrised tests.
    if not FIXTURE_SETS or not BUGCASE_DIRS:
        raise pytest.UsageError(f"shared fixtures not found at {SHARED} (set CLAUDE_USAGE_SHARED)")
    # Indexes and demo data of the test run live in a temp dir (inherited by the servers started).
    import tempfile

    os.environ["CLAUDE_USAGE_CACHE"] = tempfile.mkdtemp(prefix="claude-usage-test-cache-")
    # ... and the settings dir too: a developer's own plan or budgets never change what tests see.
    os.environ.setdefault("CLAUDE_USAGE_CONFIG", os.path.join(os.environ["CLAUDE_USAGE_CACHE"], "config"))


def pytest_sessionfinish(session, exitstatus):
    # The run's indexes and demo data go with it (servers started by tests are stopped by then).
    import shutil

    cache = os.environ.get("CLAUDE_USAGE_CACHE", "")
    if os.path.basename(cache).startswith("claude-usage-test-cache-"):
        shutil.rmtree(cache, ignore_errors=True)


def expected(set_name: str) -> dict:
    return json.loads((FIXTURES / f"{set_name}.expected.json").read_text())


def bugcase_expected(case: str) -> dict:
    return json.loads((BUGCASES / case / "expected.json").read_text())


def assert_row(expected_row: dict, row: dict, where: str) -> None:
    """Tokens exact, cost within 1e-6 USD (None must stay None)."""
    for exp_key, row_key in ROW_FIELDS.items():
        if exp_key in expected_row:
            assert row[row_key] == expected_row[exp_key], f"{where}: {row_key}"
    exp_cost = expected_row["cost_usd"]
    if exp_cost is None:
        assert row["costUsd"] is None, f"{where}: costUsd should be null"
    else:
        assert row["costUsd"] is not None, f"{where}: costUsd is null"
        assert abs(row["costUsd"] - exp_cost) <= 1e-6, f"{where}: costUsd {row['costUsd']} != {exp_cost}"


def assert_rows(expected_rows: dict, rows: dict, where: str) -> None:
    """Same keys, and every row equal (see :func:`assert_row`)."""
    assert sorted(rows) == sorted(expected_rows), f"{where}: keys differ"
    for key, exp in expected_rows.items():
        assert_row(exp, rows[key], f"{where} [{key}]")


class RunningServer:
    """A real ``claude-usage serve`` subprocess on a free port (``--port 0``), rate limit off
    unless asked (DESIGN 9: only the test of the limit turns it on)."""

    def __init__(self, *args: str, env: dict | None = None, port: str | None = "0", rate_limit: str = "0"):
        import re
        import subprocess
        import sys
        import time

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claude_usage", "serve", "--rate-limit", rate_limit,
             *(["--port", port] if port else []), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.output: list[str] = []
        deadline = time.monotonic() + 60
        self.url = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            found = re.search(r"http://([\d.]+):(\d+)", line)
            if found:
                self.url = f"http://{found[1]}:{found[2]}"
                break
        if self.url is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.output))
        try:
            self.wait_until_indexed(deadline)
        except BaseException:
            self.stop()  # never leave a server behind
            raise

    def wait_until_indexed(self, deadline: float) -> None:
        """Wait for the background index build (``/api/health`` status ``ok``, or ``degraded``
        when some data could not be read)."""
        import time

        import httpx

        self.polls = 0
        while time.monotonic() < deadline:
            try:
                self.polls += 1
                if httpx.get(self.url + "/api/health", timeout=5).json().get("status") in ("ok", "degraded"):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not finish indexing")

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()


@pytest.fixture(scope="session")
def servers():
    """One real server per fixture set (zone UTC), shared by the API tests: ``{set: base URL}``."""
    started = {name: RunningServer("--data-dir", str(FIXTURES / name), "--tz", "UTC") for name in FIXTURE_SETS}
    yield {name: s.url for name, s in started.items()}
    for s in started.values():
        s.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module (:func:`browser.launch`)."""
    from playwright.sync_api import sync_playwright

    from browser import launch

    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


def get(url: str, path: str, **params):
    """GET ``url + path`` with query ``params`` (httpx), 30 s timeout."""
    import httpx

    return httpx.get(url + path, params=params, timeout=30)


def keyed(rows: list, key: str) -> dict:
    """Rows by their ``key`` field."""
    return {row[key]: row for row in rows}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """A generated corpus of ~120 MB shaped like real transcripts (benchmarks/corpus.py), with
    its request count from a fresh scan: ``{"path", "bytes", "files", "requests"}``."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from corpus import generate

    from claude_usage.sources.discovery import resolve_roots
    from helpers import scan

    made = generate(tmp_path_factory.mktemp("corpus") / "data", 120 << 20)
    scanned = scan(resolve_roots([made["path"]]).roots)
    made["requests"] = scanned.overall().requests
    scanned.close()
    return made


def writable_copy(name: str, destination: Path) -> Path:
    """A copy of a fixture set that tests may change (the originals are read-only)."""
    import shutil

    shutil.copytree(FIXTURES / name, destination)
    for path in destination.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return destination


@pytest.fixture(scope="session")
def pg():
    """A real PostgreSQL server for the test run (see :mod:`pg_server`), stopped at its end."""
    import pg_server

    server = pg_server.start()
    try:
        yield server
    finally:
        server.stop()
