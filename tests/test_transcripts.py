"""The transcript reader and the dedupe on hand-made files (DESIGN sections 3-4)."""

from __future__ import annotations

import json
import os

import pytest

from claude_usage.sources.discovery import DataRoot, NoDataError, RootError, resolve_roots, transcript_files
from claude_usage.sources import transcripts
from claude_usage.sources.transcripts import scan_file
from helpers import assistant_line, write_lines, scan


def load(projects):
    return scan([DataRoot(projects, projects.parent, "test")])


def only_file(projects):
    (tf,) = transcript_files(DataRoot(projects, None, "test"))
    return tf


def test_cache_creation_total_below_breakdown_uses_breakdown(tmp_path):
    # declared 100 < 5m 300 + 1h 200: total 500, 1h 200, 5m 300
    write_lines(tmp_path / "p" / "s.jsonl", [assistant_line(cache_creation=100, cache_5m=300, cache_1h=200)])
    (rec,) = load(tmp_path / "p").records
    assert (rec.cache_creation_5m_tokens, rec.cache_creation_1h_tokens) == (300, 200)


def test_cache_creation_total_above_breakdown_puts_the_rest_in_5m(tmp_path):
    # declared 1000 > 300 + 200: total 1000, 1h 200, 5m 800
    write_lines(tmp_path / "p" / "s.jsonl", [assistant_line(cache_creation=1000, cache_5m=300, cache_1h=200)])
    (rec,) = load(tmp_path / "p").records
    assert (rec.cache_creation_5m_tokens, rec.cache_creation_1h_tokens) == (800, 200)


def test_line_without_message_id_is_keyed_by_uuid(tmp_path):
    lines = [
        assistant_line(msg_id=None, uuid="u-a", output_tokens=5),
        assistant_line(msg_id=None, uuid="u-a", output_tokens=40),  # same response, final count
        assistant_line(msg_id=None, uuid="u-b", output_tokens=7),
    ]
    write_lines(tmp_path / "p" / "s.jsonl", lines)
    ds = load(tmp_path / "p")
    assert sorted(r.output_tokens for r in ds.records) == [7, 40]
    assert ds.diagnostics.duplicateLines == 1


def test_line_without_message_id_and_uuid_is_keyed_by_its_hash(tmp_path):
    same = assistant_line(msg_id=None, uuid=None, output_tokens=5)
    other = assistant_line(msg_id=None, uuid=None, output_tokens=6)
    write_lines(tmp_path / "p" / "a.jsonl", [same, other])
    write_lines(tmp_path / "p" / "b.jsonl", [same])  # an identical copy in another file
    ds = load(tmp_path / "p")
    assert sorted(r.output_tokens for r in ds.records) == [5, 6]
    assert ds.diagnostics.duplicateLines == 1


def test_most_complete_snapshot_wins_whatever_the_file_order(tmp_path):
    # The final snapshot lives in the first file, a partial copy in a later one.
    write_lines(tmp_path / "p" / "a.jsonl", [assistant_line(output_tokens=159, session="s-a")])
    write_lines(tmp_path / "p" / "b.jsonl", [assistant_line(output_tokens=3, session="s-b")])
    (rec,) = load(tmp_path / "p").records
    assert (rec.output_tokens, rec.session_id) == (159, "s-a")


def test_tie_prefers_non_sidechain_then_earliest(tmp_path):
    write_lines(tmp_path / "p" / "a.jsonl", [
        assistant_line(output_tokens=10, sidechain=True, session="side", ts="2025-10-01T10:00:00Z"),
        assistant_line(output_tokens=10, session="late", ts="2025-10-01T11:00:00Z"),
        assistant_line(output_tokens=10, session="early", ts="2025-10-01T10:30:00Z"),
    ])
    (rec,) = load(tmp_path / "p").records
    assert rec.session_id == "early"


def test_agent_progress_copy_counts_when_the_subagent_file_is_missing(tmp_path):
    inner = assistant_line(msg_id="msg_sub", uuid="u-inner", output_tokens=12, ts="2025-10-02T08:00:00Z")
    del inner["sessionId"]
    progress = {
        "type": "progress", "isSidechain": False, "sessionId": "parent", "uuid": "u-outer",
        "timestamp": "2025-10-02T08:00:01Z", "data": {"type": "agent_progress", "message": inner},
    }
    write_lines(tmp_path / "p" / "parent.jsonl", [progress])
    (rec,) = load(tmp_path / "p").records
    assert (rec.key, rec.session_id, rec.sidechain, rec.output_tokens) == ("m:msg_sub", "parent", True, 12)
    assert rec.ts_us == 1759392000 * 1_000_000  # 2025-10-02T08:00:00Z, the nested line's time


def test_role_assistant_without_type_and_odd_values_elsewhere(tmp_path):
    line = assistant_line(input_tokens=10, output_tokens=2)
    del line["type"]
    line["message"]["content"] = [{"type": "tool_use", "id": None, "input": {"x": None}}]
    line["toolUseResult"] = {"usage": {"input_tokens": 999, "output_tokens": 999}}
    write_lines(tmp_path / "p" / "s.jsonl", [line])
    (rec,) = load(tmp_path / "p").records
    assert (rec.input_tokens, rec.output_tokens) == (10, 2)


def test_invalid_usage_values_are_not_records(tmp_path):
    bad_types = [
        assistant_line(msg_id="a", input_tokens=-1),
        assistant_line(msg_id="b", ts="yesterday"),
    ]
    string_count = assistant_line(msg_id="c")
    string_count["message"]["usage"]["output_tokens"] = "12"
    write_lines(tmp_path / "p" / "s.jsonl", bad_types + [string_count, assistant_line(msg_id="d", output_tokens=1)])
    ds = load(tmp_path / "p")
    assert [r.key for r in ds.records] == ["m:d"]


def test_malformed_blank_and_non_object_lines_are_counted(tmp_path):
    good = json.dumps(assistant_line(msg_id="ok", output_tokens=3))
    control = json.dumps(assistant_line(msg_id="ctrl", output_tokens=4)).replace("/home/dev/app", "/home/dev/\tapp")
    write_lines(tmp_path / "p" / "s.jsonl", [good, '{"type": "assistant", "message": {', "", "   ", "[1, 2]", "42", control])
    ds = load(tmp_path / "p")
    d = ds.diagnostics
    assert (d.lines, d.malformedLines, d.blankLines, d.nonObjectLines, d.usageLines) == (7, 1, 2, 2, 2)
    assert sorted(r.key for r in ds.records) == ["m:ctrl", "m:ok"]


def test_half_written_last_line_is_never_committed(tmp_path):
    first = json.dumps(assistant_line(msg_id="a", output_tokens=1))
    partial = json.dumps(assistant_line(msg_id="b", output_tokens=2))[:40]
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(first + "\n" + partial)
    scan = scan_file(only_file(tmp_path / "p"))
    assert scan.committed_offset == len(first) + 1
    assert scan.tail.partialTailLines == 1 and scan.diagnostics.partialTailLines == 0
    assert scan.diagnostics.lines == 1 and scan.tail.lines == 1
    assert [r.key for r in scan.records] == ["m:a"]
    # A complete last line without newline is read, but still not committed.
    whole = json.dumps(assistant_line(msg_id="b", output_tokens=2))
    path.write_text(first + "\n" + whole)
    scan = scan_file(only_file(tmp_path / "p"))
    assert [r.key for r in scan.records] == ["m:a", "m:b"]
    assert scan.committed_offset == len(first) + 1
    assert scan.tail.partialTailLines == 0 and scan.tail.usageLines == 1
    # Reading on from the committed offset finds only the tail line.
    again = scan_file(only_file(tmp_path / "p"), start=scan.committed_offset)
    assert [r.key for r in again.records] == ["m:b"]


@pytest.mark.parametrize("chunk", [None, 64, 1000])
def test_lines_longer_than_a_read_chunk(tmp_path, monkeypatch, chunk):
    # The reader's buffer is reused between reads: lines that cross read boundaries, or are many
    # times longer than a read, must come out whole, at their byte offsets.
    if chunk is not None:
        monkeypatch.setattr(transcripts, "CHUNK_BYTES", chunk)
    big = assistant_line(msg_id="big", output_tokens=9)
    big["message"]["content"] = [{"type": "text", "text": "x" * (9 << 20 if chunk is None else 5000)}]
    lines = [assistant_line(msg_id="first", output_tokens=1), big, assistant_line(msg_id="small", output_tokens=2)]
    texts = [json.dumps(line) for line in lines]
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(texts) + "\n" + texts[0][:30])  # and a half-written last line
    scan = scan_file(only_file(tmp_path / "p"))
    offsets = {r.key: r.offset for r in scan.records}
    assert offsets == {"m:first": 0, "m:big": len(texts[0]) + 1, "m:small": len(texts[0]) + len(texts[1]) + 2}
    assert {r.key: r.output_tokens for r in scan.records} == {"m:first": 1, "m:big": 9, "m:small": 2}
    assert scan.committed_offset == sum(len(t) + 1 for t in texts)
    assert scan.diagnostics.lines == 3 and scan.tail.partialTailLines == 1
    assert scan.diagnostics.bytes == scan.committed_offset
    head = path.read_bytes()[:min(4096, chunk or 4096)]  # of the first read, at most 4 KiB
    assert (scan.head, scan.head_length) == (transcripts.head_fingerprint(head), len(head))


def test_unreadable_file_is_counted_and_the_rest_is_read(tmp_path):
    write_lines(tmp_path / "p" / "good.jsonl", [assistant_line(msg_id="a", output_tokens=1)])
    # A transcript that cannot be opened (a dangling link inside the root; root can read any mode).
    os.symlink(tmp_path / "p" / "gone.txt", tmp_path / "p" / "broken.jsonl")
    ds = load(tmp_path / "p")
    assert ds.diagnostics.unreadableFiles == 1
    assert len(ds.records) == 1
    assert "broken.jsonl" in ds.warnings[0]


def test_symlink_out_of_the_root_is_not_followed(tmp_path):
    outside = write_lines(tmp_path / "elsewhere" / "x.jsonl", [assistant_line(msg_id="out", output_tokens=1)])
    (tmp_path / "p").mkdir()
    os.symlink(outside, tmp_path / "p" / "x.jsonl")
    os.symlink(outside.parent, tmp_path / "p" / "linked-dir")
    assert load(tmp_path / "p").records == []


def test_session_falls_back_to_the_path(tmp_path):
    write_lines(tmp_path / "p" / "proj" / "abc.jsonl", [assistant_line(msg_id="a", session=None)])
    write_lines(tmp_path / "p" / "proj" / "sess9" / "subagents" / "agent-1.jsonl", [assistant_line(msg_id="b", session=None)])
    ds = load(tmp_path / "p")
    assert {r.key: (r.project, r.session_id) for r in ds.records} == {
        "m:a": ("proj", "abc"),
        "m:b": ("proj", "sess9"),
    }


def test_explicit_missing_root_is_an_error(tmp_path):
    with pytest.raises(RootError) as caught:
        resolve_roots([tmp_path / "nope"], env={}, home=tmp_path)
    assert str(tmp_path / "nope") in str(caught.value)


def test_missing_entries_in_a_list_are_reported_and_the_rest_used(tmp_path):
    (tmp_path / "a" / "projects").mkdir(parents=True)
    found = resolve_roots(env={"CLAUDE_CONFIG_DIR": f"{tmp_path / 'a'},{tmp_path / 'b'}"}, home=tmp_path)
    assert [r.projects_dir for r in found.roots] == [tmp_path / "a" / "projects"]
    assert found.missing == [tmp_path / "b"]


def test_no_default_root_suggests_demo(tmp_path):
    with pytest.raises(NoDataError) as caught:
        resolve_roots(env={}, home=tmp_path)
    assert "--demo" in str(caught.value)
    assert str(tmp_path / ".claude" / "projects") in str(caught.value)


def test_precedence_flags_then_projects_path_then_config_dir(tmp_path):
    for name in ("flag", "pp", "cfg"):
        (tmp_path / name / "projects").mkdir(parents=True)
    env = {"PROJECTS_PATH": str(tmp_path / "pp" / "projects"), "CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}
    assert resolve_roots([tmp_path / "flag"], env=env).roots[0].projects_dir == tmp_path / "flag" / "projects"
    assert resolve_roots(env=env).roots[0].projects_dir == tmp_path / "pp" / "projects"
    del env["PROJECTS_PATH"]
    assert resolve_roots(env=env).roots[0].projects_dir == tmp_path / "cfg" / "projects"


def test_empty_default_roots_count_as_no_data(tmp_path):
    (tmp_path / ".claude" / "projects" / "-home-x").mkdir(parents=True)
    with pytest.raises(NoDataError):
        resolve_roots(env={}, home=tmp_path)
    write_lines(tmp_path / ".claude" / "projects" / "-home-x" / "s.jsonl", [assistant_line()])
    assert resolve_roots(env={}, home=tmp_path).roots[0].projects_dir == tmp_path / ".claude" / "projects"


def test_zone_resolution(monkeypatch):
    from claude_usage.timebuckets import ZoneError, resolve_zone

    assert resolve_zone("europe/paris").key == "Europe/Paris"
    with pytest.raises(ZoneError):
        resolve_zone("Mars/Olympus")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert resolve_zone().key == "Asia/Tokyo"
    # A POSIX TZ string is not an IANA name: the machine's zone is used, never an error.
    monkeypatch.setenv("TZ", "JST-9")
    assert resolve_zone().key
    monkeypatch.setenv("TZ", ":/etc/localtime")
    assert resolve_zone().key


@pytest.mark.parametrize(
    "version, stop_reason, placeholder",
    [
        ("2.1.96", None, True),  # before the fix, no final line: the output count is a placeholder
        ("2.0.100", None, True),  # 2.0.x is before 2.1.97 (compared as numbers, not text)
        ("2.1.96", "end_turn", False),  # the final line of an old version carries the real count
        ("2.1.97", None, False),  # fixed: every line carries the real count
        ("2.1.120", None, False),
        (None, None, False),  # no version: unknown, not counted
        ("dev-build", None, False),
    ],
)
def test_placeholder_output_counts(tmp_path, version, stop_reason, placeholder):
    line = assistant_line(output_tokens=3, message_extra={"stop_reason": stop_reason},
                          line_extra={} if version is None else {"version": version})
    write_lines(tmp_path / "p" / "s.jsonl", [line])
    ds = load(tmp_path / "p")
    assert ds.records[0].placeholder is placeholder
    assert ds.diagnostics.placeholderOutputRequests == int(placeholder)


def test_the_kept_snapshot_decides_the_placeholder_flag(tmp_path):
    # 2.1.90 wrote copies with stop_reason null and, when the response ended normally, a final line
    # with its stop reason and the largest output count: that one is kept, not a placeholder.
    lines = [
        assistant_line(output_tokens=2, uuid="a", message_extra={"stop_reason": None}, line_extra={"version": "2.1.90"}),
        assistant_line(output_tokens=480, uuid="b", message_extra={"stop_reason": "end_turn"}, line_extra={"version": "2.1.90"}),
    ]
    write_lines(tmp_path / "p" / "s.jsonl", lines)
    (kept,) = load(tmp_path / "p").records
    assert (kept.output_tokens, kept.placeholder) == (480, False)


def test_server_tool_use_and_inference_geo_are_read(tmp_path):
    lines = [
        assistant_line(msg_id="a", uuid="a", usage_extra={"server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 2},
                                                          "inference_geo": "us"}),
        # odd values count as none; the standard geos are kept as None
        assistant_line(msg_id="b", uuid="b", usage_extra={"server_tool_use": {"web_search_requests": -1, "web_fetch_requests": "2"},
                                                          "inference_geo": "not_available"}),
        assistant_line(msg_id="c", uuid="c", usage_extra={"server_tool_use": [1], "inference_geo": "global"}),
    ]
    write_lines(tmp_path / "p" / "s.jsonl", lines)
    ds = load(tmp_path / "p")
    got = {r.key: (r.web_search_requests, r.web_fetch_requests, r.inference_geo) for r in ds.records}
    assert got == {"m:a": (3, 2, "us"), "m:b": (0, 0, None), "m:c": (0, 0, None)}
