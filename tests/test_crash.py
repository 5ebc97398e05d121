"""Crash safety (DESIGN 7): a real indexing process killed at random points leaves an index from
which the next run gives exactly the totals of a fresh scan."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time


def run(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def indexed_files(path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1) as conn:
            return conn.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_indexing_then_rerun_equals_a_fresh_scan(corpus, tmp_path):
    args = ["daily", "--json", "--tz", "UTC", "--data-dir", str(corpus["path"])]
    fresh = run([*args, "--no-index"], dict(os.environ))
    assert fresh["totals"]["requests"] == corpus["requests"]
    killed_mid_build = 0
    for seed in (1, 2, 3, 4, 5):
        rng = random.Random(seed)
        index = tmp_path / f"index-{seed}.sqlite"
        env = {**os.environ, "CLAUDE_USAGE_INDEX": str(index)}
        victim = subprocess.Popen([sys.executable, "-m", "claude_usage", *args], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        # Kill once a random number of files is committed (plus a random few ms), while the
        # next batch is being scanned or written.
        wanted = rng.randint(1, corpus["files"] - 1)
        while victim.poll() is None and indexed_files(index) < wanted:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.03))
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)  # the command and its scanning workers
            killed_mid_build += 1
        victim.wait()
        after = run(args, env)
        assert after["totals"] == fresh["totals"], seed
        assert after["daily"] == fresh["daily"], seed
    assert killed_mid_build >= 3, "the builds ended before they could be killed"
