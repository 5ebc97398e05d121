"""A fuzz corpus of damaged transcript lines, generated at test time from a seed (issue 10).

Real lines of the ``sniffly`` fixture set and hand-made usage lines are damaged in the ways seen
in the wild and in attacks: cut short, bytes flipped, nesting far too deep, counts too large,
negative or of the wrong type, odd timestamps, byte-order marks, control characters, NUL bytes,
lone surrogate escapes, invalid UTF-8. Whatever the damage:

- no reader raises, and the CLI exits 0 with valid JSON (indexed and not);
- the index gives exactly the totals of a fresh scan of the same files;
- the undamaged lines mixed in still count: their usage is a lower bound of the totals.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

from claude_usage import reports
from claude_usage.pricing import Pricer
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import DataRoot
from claude_usage.store import SQLiteStore
from conftest import FIXTURES
from helpers import assistant_line, scan

SEED = 20261201
FILES = 12
LINES_PER_FILE = 60


def _put(line: bytes, key: bytes, insert: bytes) -> bytes:
    """``line`` with ``insert`` right after the first ``"key":`` (with or without a space)."""
    return re.sub(rb'"' + key + rb'":\s*', lambda m: m.group(0) + insert, line, count=1)


def _damage(rng: random.Random, line: bytes) -> bytes:
    kind = rng.randrange(13)
    if kind == 0:  # cut short
        return line[: rng.randrange(1, max(2, len(line)))]
    if kind == 1:  # bytes flipped
        data = bytearray(line)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data).replace(b"\n", b" ")
    if kind == 2:  # a value nested far too deep
        depth = rng.choice([300, 1000, 5000])
        return _put(line, b"content", b"[" + b"[" * depth + b"]" * depth + b"],\"c2\":")
    if kind == 3:  # counts no tokenizer produces
        value = rng.choice([b"1180591620717411303424", b"-5", b"1e400", b"true", b'"12"', b"null", b"18446744073709551616"])
        return _put(line, b"input_tokens", value + b', "x": ')
    if kind == 4:  # odd timestamps
        stamp = rng.choice([b"0001-01-01T00:00:00Z", b"9999-12-31T23:59:59+14:00", b"2025-13-45T99:00:00Z", b"", b"yesterday"])
        return _put(line, b"timestamp", b'"' + stamp + b'", "t0": ')
    if kind == 5:  # a byte-order mark (valid: the line must still count)
        return b"\xef\xbb\xbf" + line
    if kind == 6:  # raw control characters inside strings (valid to the lenient parser)
        return _put(line, b"model", b'"\x01\x02", "m0": ')
    if kind == 7:  # NUL bytes
        return line.replace(b"{", b"{\x00", 1)
    if kind == 8:  # lone surrogate escapes in the keys that are stored
        return _put(_put(line, b"sessionId", b'"\\udc80", "s0": '), b"model", b'"\\ud800x", "m0": ')
    if kind == 9:  # invalid UTF-8
        return _put(line, b"cwd", b'"\xff\xfe", "c0": ')
    if kind == 10:  # wrong types where objects are expected
        return _put(line, b"usage", b'[1], "u0": ')
    if kind == 11:  # a huge string
        return _put(line, b"content", b'"' + b"x" * rng.randint(10_000, 300_000) + b'", "c1": ')
    return b"[" * rng.randint(1, 3000)  # garbage


def _corpus(base, rng: random.Random) -> tuple[DataRoot, int, int]:
    """Files mixing damaged and intact lines; returns the root and the requests and input tokens
    of the intact hand-made lines (each a distinct response)."""
    real = [line for path in sorted((FIXTURES / "sniffly").rglob("*.jsonl")) for line in path.read_bytes().splitlines()]
    intact_requests = intact_input = 0
    for number in range(FILES):
        lines = []
        for position in range(LINES_PER_FILE):
            if rng.random() < 0.2:
                tokens = rng.randint(1, 5_000)
                made = assistant_line(msg_id=f"intact-{number}-{position}", uuid=f"u-{number}-{position}",
                                      input_tokens=tokens, output_tokens=rng.randint(0, 900))
                lines.append(json.dumps(made).encode())
                intact_requests += 1
                intact_input += tokens
                continue
            source = rng.choice(real) if rng.random() < 0.5 else json.dumps(assistant_line(
                msg_id=f"fz-{number}-{position}", input_tokens=rng.randint(0, 9_000))).encode()
            lines.append(_damage(rng, source))
        path = base / "projects" / f"-fuzz-{number % 3}" / f"s{number}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        tail = b"" if rng.random() < 0.5 else b"\n"
        path.write_bytes(b"\n".join(lines) + tail)
    return DataRoot(base / "projects", base, "test"), intact_requests, intact_input


def test_damaged_lines_never_crash_and_index_equals_scan(tmp_path):
    rng = random.Random(SEED)
    root, intact_requests, intact_input = _corpus(tmp_path / "data", rng)
    scanned = scan([root])
    fresh = usage_row(scanned.overall())
    assert fresh["requests"] >= intact_requests and fresh["inputTokens"] >= intact_input
    assert scanned.diagnostics.deepLines > 0 and scanned.diagnostics.invalidUsageLines > 0
    # A store filled in two steps (half the files, then the rest) gives the same as the scan.
    files = sorted(root.projects_dir.rglob("*.jsonl"))
    hidden = files[::2]
    for path in hidden:
        path.rename(path.with_suffix(".later"))
    index = SQLiteStore(tmp_path / "index.sqlite", [root])
    index.refresh(Pricer)
    for path in hidden:
        path.with_suffix(".later").rename(path)
    index.refresh(Pricer)
    with index.reading() as view:
        assert usage_row(reports.overall(view, Query(zone="UTC"))) == fresh
    for extra in (["--no-index"], ["--index", str(tmp_path / "index.sqlite")]):
        for command in ("daily", "sessions", "models", "blocks", "tools"):
            done = subprocess.run([sys.executable, "-m", "claude_usage", command, "--json", "--data-dir", str(tmp_path / "data"),
                                   *(["--tz", "UTC"] if command != "tools" else []), *extra],
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (command, done.stderr[-2000:])
            document = json.loads(done.stdout)
            if command == "daily":
                assert document["totals"]["requests"] == fresh["requests"]
                assert document["totals"]["inputTokens"] == fresh["inputTokens"]
