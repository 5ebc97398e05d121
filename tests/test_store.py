"""The persistent store (DESIGN section 7): incremental refresh, history, rebuilds, costs.

After every change to the transcripts the store's totals must equal a fresh scan (a new store,
as --no-index makes) of the same files; a vanished transcript keeps its history unless
forgotten.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from claude_usage import reports, tools
from claude_usage.pricing import Pricer, parse_price_overrides
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.sources.discovery import DataRoot
from claude_usage.store import SQLiteStore as UsageIndex
from claude_usage.store import default_index_path, facts
from conftest import writable_copy
from helpers import assistant_line, scan, write_lines


@pytest.fixture()
def copy(tmp_path):
    """A writable copy of the curated fixture set and an index for it."""
    data = writable_copy("curated", tmp_path / "data")
    root = DataRoot(data / "projects", data, "test")
    notices: list[str] = []
    index = UsageIndex(tmp_path / "index.sqlite", [root], notice=notices.append)
    index.refresh(Pricer)
    return index, root, notices


def totals(store) -> dict:
    """The UTC totals row of a store (or a :class:`helpers.Scanned`), cost to 1e-9."""
    store = getattr(store, "store", store)
    with store.reading() as view:
        row = usage_row(reports.overall(view, Query(zone="UTC")))
    row["costUsd"] = round(row["costUsd"] or 0.0, 9)
    return row


def diagnostics(store):
    with getattr(store, "store", store).reading() as view:
        return facts.diagnostics(view)


def fresh(root) -> dict:
    scanned = scan([root])
    try:
        return totals(scanned)
    finally:
        scanned.close()


def indexed(index) -> dict:
    index.refresh(Pricer)
    return totals(index)


def kept_costs(index) -> list:
    """The stored calculated cost of each kept request (USD, None when unknown), in time order."""
    with index.reading() as view:
        return [None if c is None else c * 1e-10 for (c,) in view.rows("SELECT cost FROM requests WHERE kept = 1 ORDER BY ts")]


def transcript(root, name="s-new.jsonl"):
    return root.projects_dir / "-Users-user1-workspace-JSSoundRecorder" / name


def test_cold_index_equals_fresh_scan(copy):
    index, root, _ = copy
    assert indexed(index) == fresh(root)
    scanned = scan([root])
    assert diagnostics(index) == scanned.diagnostics
    scanned.close()


def test_append_reads_only_the_new_bytes(copy):
    index, root, _ = copy
    path = next(iter(sorted(root.projects_dir.rglob("*.jsonl"))))
    line = json.dumps(assistant_line(msg_id="msg_appended", input_tokens=500, output_tokens=50)) + "\n"
    with open(path, "a") as handle:
        handle.write(line)
    result = index.refresh(Pricer)
    assert result.files_read == 1 and result.bytes_read == len(line.encode())
    assert result.changed == 1  # one response key touched
    assert totals(index) == fresh(root)


def test_truncate_rereads_the_file(copy):
    index, root, _ = copy
    path = max(root.projects_dir.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))
    assert indexed(index) == fresh(root)


def test_rotation_same_name_new_content(copy):
    index, root, _ = copy
    path = max(root.projects_dir.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    size = path.stat().st_size
    os.unlink(path)  # a new file (new inode) under the old name, longer than the old one
    body = [assistant_line(msg_id=f"msg_rot_{i}", uuid=f"u-rot-{i}", output_tokens=7) for i in range(3)]
    filler = {"type": "user", "message": {"role": "user", "content": "x" * size}}
    write_lines(path, [*body, filler])
    assert indexed(index) == fresh(root)


def test_head_change_with_growth_rereads_the_file(copy):
    index, root, _ = copy
    path = max(root.projects_dir.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    data = path.read_bytes()
    # Rewritten in place (same inode) with a different beginning and more bytes.
    with open(path, "r+b") as handle:
        handle.write(b'{"type":"summary","summary":"rewritten"}\n' + data[data.index(b"\n") + 1:] + b"\n")
    assert indexed(index) == fresh(root)


def test_half_written_line_completed_later(copy):
    index, root, _ = copy
    path = transcript(root)
    whole = json.dumps(assistant_line(msg_id="msg_half", input_tokens=300, output_tokens=30)) + "\n"
    path.write_text(whole[:50])  # being written
    before = indexed(index)
    assert before == fresh(root)
    committed = index.conn.execute("SELECT committed FROM files WHERE path = ?", (str(path),)).fetchone()[0]
    assert committed == 0  # never past the unfinished line
    path.write_text(whole)
    after = indexed(index)
    assert after == fresh(root)
    assert after["requests"] == before["requests"] + 1


def test_complete_last_line_without_newline_counts_once(copy):
    index, root, _ = copy
    path = transcript(root)
    first = json.dumps(assistant_line(msg_id="msg_tail", input_tokens=300, output_tokens=5))
    path.write_text(first)  # complete JSON, no newline yet: read, not committed
    assert indexed(index) == fresh(root)
    final = json.dumps(assistant_line(msg_id="msg_tail", input_tokens=300, output_tokens=90))
    path.write_text(first + "\n" + final + "\n")  # the newline arrives, then the final snapshot
    result = indexed(index)
    assert result == fresh(root)
    assert diagnostics(index).usageLines == scan([root]).diagnostics.usageLines


def test_deleted_file_keeps_its_history_until_forgotten(copy):
    index, root, _ = copy
    before = indexed(index)
    victim = max(root.projects_dir.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    os.unlink(victim)
    kept = indexed(index)
    assert kept == before  # history beyond Claude Code's cleanup
    assert diagnostics(index).missingFiles == 1
    index.refresh(Pricer, forget_deleted=True)
    assert totals(index) == fresh(root)
    assert diagnostics(index).missingFiles == 0


@pytest.mark.parametrize("damage", ["garbage", "truncated", "old-schema", "other-roots"])
def test_damaged_index_is_rebuilt_with_a_notice(copy, damage):
    index, root, _ = copy
    expected = indexed(index)
    index.close()
    path = index.path
    if damage == "garbage":
        # Only a file in the product's own cache dir is known to be its index without the
        # marker that garbage has lost (an --index path elsewhere is refused instead).
        index = UsageIndex(default_index_path([root]), [root])
        assert indexed(index) == expected
        index.close()
        path = index.path
        for suffix in ("-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.unlink(f"{path}{suffix}")
        path.write_bytes(b"this is not a database" * 1000)
    elif damage == "truncated":
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif damage == "old-schema":
        conn = sqlite3.connect(path)
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
        conn.commit()
        conn.close()
    else:
        conn = sqlite3.connect(path)
        conn.execute("UPDATE meta SET value = '/elsewhere/projects' WHERE key = 'roots'")
        conn.commit()
        conn.close()
    notices: list[str] = []
    reopened = UsageIndex(path, [root], notice=notices.append)
    assert indexed(reopened) == expected
    assert notices and "Rebuilding the index" in notices[0]


def test_costs_are_recomputed_when_prices_change(tmp_path):
    data = tmp_path / "data"
    write_lines(data / "projects" / "p" / "s.jsonl", [assistant_line(msg_id="a", model="my-model", input_tokens=1_000_000)])
    root = DataRoot(data / "projects", data, "test")
    index = UsageIndex(tmp_path / "i.sqlite", [root])
    index.refresh(Pricer)
    assert kept_costs(index) == [None]
    # 1,000,000 input tokens at a user rate of $2 per million = $2
    overrides = parse_price_overrides({"my-model": {"input": 2, "output": 8}})
    index.refresh(lambda: Pricer(overrides))
    assert kept_costs(index) == [pytest.approx(2.0)]
    assert totals(index)["costUsd"] == 2.0  # the rollups were made again too
    with index.reading() as view:
        assert "overrides" in facts.price_version(view)


def test_tool_data_survive_appends(copy):
    index, root, _ = copy

    def tool_counts(store) -> dict:
        with getattr(store, "store", store).reading() as view:
            return {name: (s.calls, s.errors) for name, s in tools.tool_stats(view).items()}

    before = tool_counts(index)
    line = assistant_line(msg_id="msg_tools", output_tokens=3)
    line["message"]["content"] = [{"type": "tool_use", "id": "toolu_new", "name": "Bash", "input": {}}]
    result_line = {"type": "user", "sessionId": "s-1", "timestamp": "2025-10-01T12:00:01Z",
                   "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_new", "is_error": True}]}}
    write_lines(transcript(root), [line, result_line])
    index.refresh(Pricer)
    after = tool_counts(index)
    assert after["Bash"] == (before["Bash"][0] + 1, before["Bash"][1] + 1)  # one call more, and its error
    assert after == tool_counts(scan([root]))


def test_one_directory_named_two_ways_is_one_set_of_files(tmp_path, monkeypatch):
    # "data" and "sub/../data" (and a symlink to it) are one directory: one index, whose files
    # are not counted twice nor reported missing.
    from typer.testing import CliRunner

    from claude_usage.cli import app

    write_lines(tmp_path / "data" / "projects" / "-home-dev-app" / "s.jsonl", [assistant_line(input_tokens=10)])
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAUDE_USAGE_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    for spelling in ("data", "sub/../data", str(tmp_path / "link"), str(tmp_path / "data")):
        result = runner.invoke(app, ["doctor", "--json", "--data-dir", spelling])
        assert result.exit_code == 0, result.output
        doctor = json.loads(result.stdout)
        assert (doctor["files"], doctor["missingFiles"], doctor["requests"]) == (1, 0, 1), spelling
    assert len(list((tmp_path / "cache").rglob("*.sqlite"))) == 1


def test_remembered_values_expire(tmp_path):
    root = DataRoot(tmp_path / "projects", tmp_path, "test")
    (tmp_path / "projects").mkdir()
    calls = []

    def compute():
        calls.append(1)
        return f"Asia/Tokyo #{len(calls)}"

    index = UsageIndex(tmp_path / "i.sqlite", [root])
    assert index.remembered("local_zone", 600, compute) == "Asia/Tokyo #1"
    index.close()
    # Another process, within the 10 minutes: the kept value, without asking again.
    index = UsageIndex(tmp_path / "i.sqlite", [root])
    assert index.remembered("local_zone", 600, compute) == "Asia/Tokyo #1" and len(calls) == 1
    # Too old (a max age of 0 s): asked again, and the new value kept.
    assert index.remembered("local_zone", 0, compute) == "Asia/Tokyo #2"
    assert index.remembered("local_zone", 600, compute) == "Asia/Tokyo #2" and len(calls) == 2
    index.close()


def test_a_change_of_the_corrections_reprices_without_reading_the_transcripts(tmp_path):
    from claude_usage.pricing_corrections import Corrections

    data = tmp_path / "data"
    write_lines(data / "projects" / "p" / "s.jsonl", [
        assistant_line(msg_id="a", model="claude-opus-4-5-20251101", ts="2026-02-01T10:00:00.000Z", speed="fast",
                       input_tokens=1_000, output_tokens=1_000, line_extra={"version": "2.1.90"},
                       message_extra={"stop_reason": None}),
    ])
    root = DataRoot(data / "projects", data, "test")
    index = UsageIndex(tmp_path / "i.sqlite", [root])
    index.refresh(Pricer)
    # Opus 4.5 has no fast price: standard 1000 * 5 + 1000 * 25 = 30,000 / 1e6, counted
    assert kept_costs(index) == [pytest.approx(0.03, abs=1e-12)]
    assert (diagnostics(index).fastUnpricedRequests, diagnostics(index).placeholderOutputRequests) == (1, 1)
    corrections = tmp_path / "corrections.toml"
    corrections.write_text('[[correction]]\nmodels = ["claude-opus-4-5"]\nspeed = "fast"\nmultiplier = 2\n'
                           'source = "https://example.com/fast"\n')
    result = index.refresh(lambda: Pricer(corrections=Corrections(corrections)))
    assert (result.files_read, result.bytes_read) == (0, 0)
    # A fast price now: (1000 * 5 + 1000 * 25) * 2 = 60,000 / 1e6, no longer counted
    assert kept_costs(index) == [pytest.approx(0.06, abs=1e-12)]
    assert (diagnostics(index).fastUnpricedRequests, diagnostics(index).placeholderOutputRequests) == (0, 1)
    assert totals(index)["fastUnpricedRequests"] == 0
    # And back to the shipped corrections: repriced again
    index.refresh(Pricer)
    assert kept_costs(index) == [pytest.approx(0.03, abs=1e-12)]
    assert diagnostics(index).fastUnpricedRequests == 1
