"""A rebuild of the store (a new schema version, a damaged file) keeps the history the
transcripts cannot give again: the requests of transcripts deleted since they were read, and
those of ``claude-usage import``. They wait beside the store in a history file until a refresh
reads them back, so a process killed in between loses nothing (DESIGN 7: a killed process leaves
a store from which the next run gives exactly the totals of a fresh scan)."""

from __future__ import annotations

import io
import sqlite3

from claude_usage.pricing import Pricer
from claude_usage.sources.discovery import resolve_roots
from claude_usage.store import open_store, temporary_store
from claude_usage.store.history import pending_files
from claude_usage.store.imports import import_requests
from helpers import assistant_line, write_lines
from test_export_import import _counts, _hand_made, every_report, exported


def test_a_rebuild_keeps_deleted_transcripts_and_imports(tmp_path):
    _hand_made(tmp_path / "data")  # a1 (1,000 in, 100 out), a2 (2,000 / 200), b1 (4,000 / 400)
    write_lines(tmp_path / "other" / "projects" / "-home-dev-lib" / "c.jsonl", [
        assistant_line(msg_id="c1", uuid="c1", session="s-c", input_tokens=8000, output_tokens=800,
                       ts="2025-10-03T08:00:00.000Z")])
    other = temporary_store(resolve_roots([tmp_path / "other"]).roots)
    other.refresh(Pricer)
    export_of_c = exported(other)
    other.close()

    roots = resolve_roots([tmp_path / "data"]).roots
    index, notes = tmp_path / "index.sqlite", []
    store = open_store(roots, index, notice=notes.append)
    store.refresh(Pricer)
    import_requests(store, io.StringIO(export_of_c), Pricer())
    (tmp_path / "data" / "projects" / "-home-dev-app" / "b.jsonl").unlink()  # Claude Code's cleanup
    store.refresh(Pricer)
    # a1 + a2 + b1 (deleted, kept) + c1 (imported): 4 requests, 1,000 + 2,000 + 4,000 + 8,000
    # input and 100 + 200 + 400 + 800 output tokens.
    assert _counts(store) == (4, 15_000, 1_500)
    before = every_report(store)
    store.close()

    with sqlite3.connect(index) as conn:  # a store of another schema version: rebuilt on opening
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    store = open_store(roots, index, notice=notes.append)
    assert [p.name for p in pending_files(index)] == ["index.sqlite.history-1.jsonl"]
    assert any("Kept 2 requests" in note for note in notes)  # b1 and c1: a.jsonl is read again
    store.close()  # killed before any refresh: the history waits beside the store

    store = open_store(roots, index, notice=notes.append)
    assert _counts(store) == (0, 0, 0)
    store.refresh(Pricer)
    assert _counts(store) == (4, 15_000, 1_500)
    assert every_report(store) == before
    assert pending_files(index) == []
    store.refresh(Pricer)  # read back once only
    assert _counts(store) == (4, 15_000, 1_500)

    store.rebuild("a test")  # the other way to a rebuild (a store found damaged while in use)
    store.refresh(Pricer)
    assert every_report(store) == before
    assert store.check(level="deep") is None
    store.close()


def test_a_history_file_that_is_not_an_export_is_set_aside(tmp_path):
    _hand_made(tmp_path / "data")
    roots = resolve_roots([tmp_path / "data"]).roots
    index, notes = tmp_path / "index.sqlite", []
    store = open_store(roots, index, notice=notes.append)
    (tmp_path / "index.sqlite.history-1.jsonl").write_text("not an export\n")
    store.refresh(Pricer)
    assert _counts(store) == (3, 7000, 700)  # the transcripts: a1, a2, b1
    assert pending_files(index) == [] and (tmp_path / "index.sqlite.history-1.jsonl.bad").exists()
    assert any("renamed .bad" in note for note in notes)
    store.close()
