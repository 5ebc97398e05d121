"""Streaming reader of Claude Code JSONL transcripts (DESIGN section 3).

A file is read in fixed-size chunks and cut into newline-terminated lines without copying them:
lines are found with ``bytes.find`` and handed to msgspec as memoryview slices; the file is never
held in memory whole. Each line is decoded into small typed structs that name only the fields
this product uses (:mod:`claude_usage.sources.transcript_lines`, which also turns a line into its
usage record), so the rest of a line (tool inputs, long tool results) is skipped without
building Python objects and cannot make the line invalid. A line msgspec rejects is retried with
the lenient stdlib parser (``json.loads(..., strict=False)`` accepts raw control characters).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Iterable

import msgspec

from claude_usage.records import Diagnostics, RequestSet, UsageRecord
from claude_usage.sources import lenient_json
from claude_usage.sources.discovery import TranscriptFile
from claude_usage.sources.safe_files import NotRegularFileError, open_regular
from claude_usage.sources.session_titles import SessionTitle, TitleCollector
from claude_usage.sources.transcript_lines import (
    ERROR_LINE_DECODER,
    INVALID_USAGE,
    LIGHT_DECODER,
    LIMIT_RESET,
    LINE_DECODER,
    SYNTHETIC_MODEL,
    LightLine,
    Line,
    ToolCall,
    UsageLimitNotice,
    drop_odd_nested,
    parse_timestamp_us,
    str_or_none,
    usage_record,
)

CHUNK_BYTES = 1 << 22
HEAD_BYTES = 4096
# A line longer than this is skipped without being held in memory (real lines, images included,
# stay far below it); counted in ``oversizedLines``.
MAX_LINE_BYTES = 64 << 20
_BOM = b"\xef\xbb\xbf"


class FileScan(msgspec.Struct):
    """What reading one transcript (from ``start``) produced.

    ``records``: the most complete :class:`UsageRecord` of each response among the file's
    committed lines, and among its tail (the global dedupe is done by the loader); ``tool_calls``:
    every ``tool_use`` block (repeats included); ``tool_errors``: ``[tool_use_id, line offset]``
    of tool results with ``is_error: true``; ``limits``: usage-limit messages; ``titles``: session title candidates
    (:mod:`claude_usage.sources.session_titles`); ``committed_offset``: byte offset just past the last
    newline-terminated line (an unterminated last line is never committed, DESIGN section 3).
    ``diagnostics`` and ``cwds`` (``cwd -> [line count, latest timestamp string]``) cover the
    committed lines; ``tail`` and ``tail_cwds`` the unterminated last line, if any (its records and
    tool data are in the lists, with offsets at or past ``committed_offset``). ``head`` is a
    fingerprint of the file's first ``head_length`` bytes (read only when ``start`` is 0);
    ``errors``: read errors, for warnings.
    """

    records: list[UsageRecord]
    diagnostics: Diagnostics
    committed_offset: int
    cwds: dict[str, list]
    errors: list[str]
    tool_calls: list[ToolCall]
    tool_errors: list[list]
    limits: list[UsageLimitNotice] = msgspec.field(default_factory=list)
    titles: list[SessionTitle] = msgspec.field(default_factory=list)
    tail: Diagnostics = msgspec.field(default_factory=Diagnostics)
    tail_cwds: dict[str, list] = msgspec.field(default_factory=dict)
    head: str | None = None
    head_length: int = 0
    tail_mark: str | None = None

    def all_diagnostics(self) -> Diagnostics:
        """Committed and tail counters together."""
        total = Diagnostics()
        total.merge(self.diagnostics)
        total.merge(self.tail)
        return total

    def all_cwds(self) -> dict[str, list]:
        """Committed and tail cwd counts together."""
        return merge_cwds(dict((k, list(v)) for k, v in self.cwds.items()), self.tail_cwds)


def unique_tool_calls(calls: Iterable[ToolCall]) -> list[ToolCall]:
    """Each tool_use id once (the earliest copy, then by session id), in time order."""
    kept: dict[str, ToolCall] = {}
    for call in calls:
        seen = kept.get(call.id)
        if seen is None or (call.ts_us, call.session_id) < (seen.ts_us, seen.session_id):
            kept[call.id] = call
    return sorted(kept.values(), key=lambda c: (c.ts_us, c.id))


def unique_limit_notices(notices: Iterable[UsageLimitNotice]) -> list[UsageLimitNotice]:
    """Each usage-limit message once (copies share time and text), in time order."""
    return sorted({(n.ts_us, n.text): n for n in notices}.values(), key=lambda n: n.ts_us)


def merge_cwds(into: dict[str, list], other: dict[str, list]) -> dict[str, list]:
    """Add ``other``'s ``cwd -> [count, latest timestamp]`` into ``into``; returns ``into``."""
    for cwd, (count, stamp) in other.items():
        entry = into.get(cwd)
        if entry is None:
            into[cwd] = [count, stamp]
        else:
            entry[0] += count
            if stamp > entry[1]:
                entry[1] = stamp
    return into


def tail_fingerprint(fd: int, committed: int) -> str | None:
    """A fingerprint of the :data:`HEAD_BYTES` bytes just before ``committed`` in the open file
    ``fd`` (None at offset 0): a file that grew is read from ``committed`` only when these bytes
    are still the same (a rewrite of the same or a larger size is caught, DESIGN 7)."""
    if committed <= 0:
        return None
    length = min(HEAD_BYTES, committed)
    return head_fingerprint(os.pread(fd, length, committed - length))


def head_fingerprint(data: bytes) -> str:
    """A fingerprint of a file's first bytes (rotation and rewrite detection, DESIGN 7)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _Scanner:
    """Per-file line classifier: updates the diagnostics and collects records, tools and cwds."""

    def __init__(self, source: TranscriptFile):
        self.source = source
        self.file = source.name
        self.diag = Diagnostics()
        self.records: list[UsageRecord] = []
        self.cwds: dict[str, list] = {}
        self.tool_calls: list[ToolCall] = []
        self.tool_errors: list[list] = []
        self.limits: list[UsageLimitNotice] = []
        self.titles = TitleCollector(source.is_subagent, parse_timestamp_us)
        self.first_session: str | None = None

    def _tools(self, line: Line, offset: int) -> None:
        """Collect the ``tool_use`` blocks and failed ``tool_result`` blocks of a line (or of the
        subagent message an ``agent_progress`` line copies)."""
        holder = line
        if line.type == "progress" and line.data is not None and line.data.message is not None:
            holder = line.data.message
        message = holder.message
        if message is None or type(message.content) is not list:
            return
        ts_us = None
        for block in message.content:
            if block.type == "tool_use" and type(block.name) is str and block.name:
                if ts_us is None:
                    ts_us = parse_timestamp_us(holder.timestamp) or parse_timestamp_us(line.timestamp)
                    if ts_us is None:
                        return
                self.tool_calls.append(ToolCall(
                    id=str_or_none(block.id) or f"{str_or_none(message.id)}#{offset}:{len(self.tool_calls)}",
                    name=block.name,
                    session_id=str_or_none(line.sessionId) or self.source.fallback_session,
                    project=self.source.project,
                    ts_us=ts_us,
                    cwd=str_or_none(line.cwd),
                    offset=offset,
                    model=str_or_none(message.model),
                ))
            elif block.type == "tool_result" and block.is_error is True and type(block.tool_use_id) is str:
                self.tool_errors.append([block.tool_use_id, offset])

    def _limit_notice(self, line: Line, raw: Any, offset: int) -> None:
        """Keep a usage-limit message of a placeholder line (for the 5-hour blocks)."""
        try:
            error = ERROR_LINE_DECODER.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            return
        content = error.message.content if error.message else None
        texts = [content] if isinstance(content, str) else [b.text for b in content or () if type(b.text) is str]
        text = " ".join(texts)
        if "limit reached" not in text.lower():
            return
        ts_us = parse_timestamp_us(line.timestamp)
        if ts_us is None:
            return
        found = LIMIT_RESET.search(text)
        self.limits.append(UsageLimitNotice(
            ts_us, int(found[1]) * 1_000_000 if found else None,
            str_or_none(line.sessionId) or self.source.fallback_session, text[:200], offset,
        ))

    def _note_cwd(self, cwd: Any, timestamp: Any) -> None:
        if type(cwd) is not str or not cwd:
            return
        stamp = timestamp if type(timestamp) is str else ""
        entry = self.cwds.get(cwd)
        if entry is None:
            self.cwds[cwd] = [1, stamp]
        else:
            entry[0] += 1
            if stamp > entry[1]:
                entry[1] = stamp

    def line(self, buffer: bytearray, view: memoryview, start: int, end: int, offset: int, tail: bool = False) -> None:
        """Classify the line ``buffer[start:end]`` (without its newline), found at byte ``offset``
        of the file; ``view`` is a memoryview of ``buffer`` (lines are decoded without a copy)."""
        diag = self.diag
        diag.lines += 1
        if end - start < 64 and not buffer[start:end].strip():
            diag.blankLines += 1
            return
        if end - start > MAX_LINE_BYTES:  # it fit the buffer, but the limit is the limit
            diag.oversizedLines += 1
            return
        if buffer[start] == 0xEF and buffer.startswith(_BOM, start, end):
            start += 3  # a byte-order mark, as some editors write: the JSON after it is intact
        # Tool results (most of the bytes) are found near the start of their line; only other
        # lines are searched whole for usage.
        results = buffer.find(b'"tool_result"', start, end) >= 0
        carries_usage = results or buffer.find(b'"usage"', start, end) >= 0
        carries_tools = results or carries_usage
        raw = view[start:end]
        if not results:  # a title or a typed prompt carries no tool result
            self.titles.line(buffer, start, end, raw, offset, carries_usage)
        decoded = self._decode(raw, Line if carries_tools else LightLine, tail)
        if decoded is None:
            return
        if type(decoded) is tuple:  # a line nested too deeply, read with its deep parts dropped
            decoded, raw = decoded
        self._note_cwd(decoded.cwd, decoded.timestamp)
        if type(decoded.timestamp) is str:
            self.titles.last_stamp = decoded.timestamp
        if self.first_session is None and type(decoded.sessionId) is str and decoded.sessionId:
            self.first_session = decoded.sessionId
        if not carries_tools:
            return
        self._tools(decoded, offset)
        if not carries_usage:
            return
        found = usage_record(decoded, raw, self.source, self.file, offset)
        if found is None:
            return
        if found is SYNTHETIC_MODEL:
            diag.syntheticLines += 1
            self._limit_notice(decoded, raw, offset)
            return
        if found is INVALID_USAGE:
            diag.invalidUsageLines += 1
            return
        diag.usageLines += 1
        self.records.append(found)

    def _decode(self, raw: Any, kind: type, tail: bool) -> Any:
        """The line decoded as ``kind`` (:class:`Line` or :class:`LightLine`), or None when it is
        not a JSON object (counted). A line nested deeper than the decoders allow is decoded
        with its deep parts as null and returned as ``(decoded, capped bytes)`` (counted in
        ``deepLines``)."""
        decoder = LINE_DECODER if kind is Line else LIGHT_DECODER
        capped = None
        try:
            return decoder.decode(raw)
        except msgspec.DecodeError:
            pass
        except RecursionError:
            capped = lenient_json.cap_depth(bytes(raw))
            self.diag.deepLines += 1
            try:
                return decoder.decode(capped), capped
            except (msgspec.DecodeError, RecursionError):
                raw = capped
        deep = []
        try:
            obj = lenient_json.loads(raw, on_capped=lambda: deep.append(1))
        except ValueError:
            if tail:
                self.diag.partialTailLines += 1
            else:
                self.diag.malformedLines += 1
            return None
        if deep and capped is None:
            self.diag.deepLines += 1
        if not isinstance(obj, dict):
            self.diag.nonObjectLines += 1
            return None
        try:
            decoded = msgspec.convert(drop_odd_nested(obj), kind)
        except msgspec.ValidationError:
            # An odd shape deeper than the fields read: an object line without usage to us.
            self._note_cwd(obj.get("cwd"), obj.get("timestamp"))
            return None
        return (decoded, capped) if capped is not None else decoded


def scan_file(source: TranscriptFile, start: int = 0) -> FileScan:
    """Read ``source`` from byte ``start`` to the end it had when opened, line by line, in
    reads of up to 4 MiB.

    Never raises for bad content or I/O errors, and never blocks: the file is opened with
    :func:`~claude_usage.sources.safe_files.open_regular`, so a FIFO or a device named
    ``*.jsonl`` is skipped (``skippedFiles``) instead of read forever; a file that cannot be
    opened or read is counted in ``unreadableFiles`` (records of the complete lines read before
    an error are kept). Malformed lines are counted and skipped; a line over
    :data:`MAX_LINE_BYTES` is skipped without being held in memory (``oversizedLines``). Each
    such problem is described once per file in ``errors`` (for warnings). An unterminated last
    line is parsed if it is complete JSON and counted as ``partialTailLines`` if not; either
    way ``committed_offset`` stays before it.
    """
    scanner = _Scanner(source)
    diag = scanner.diag
    diag.files = 1
    errors: list[str] = []
    committed = start
    head = None
    head_length = 0
    # One buffer, filled in place and reused: the unfinished line at the end of a read moves to
    # the front and the next read lands after it (fresh 4 MiB objects per read cost page faults).
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    kept = 0  # bytes of an unfinished line at the front of the buffer
    skipping = False  # inside a line over MAX_LINE_BYTES, discarded up to its newline
    skipped = 0  # bytes of that line discarded so far
    tail_mark = None
    try:
        handle = open_regular(source.path)
    except NotRegularFileError as error:
        diag.skippedFiles = 1
        errors.append(f"{source.name}: skipped, {error}")
        handle = None
    except OSError as error:
        diag.unreadableFiles = 1
        errors.append(f"{source.name}: {error.strerror or error}")
        handle = None
    try:
        if handle is not None:
            with handle:
                # Read up to the size the file had when opened: a file written to faster than
                # it is read still ends (the rest is read by the next refresh).
                remaining = os.fstat(handle.fileno()).st_size - start
                if start:
                    handle.seek(start)
                line = scanner.line
                find = buffer.find
                while remaining > 0:
                    if len(buffer) - kept < CHUNK_BYTES // 2:  # a long line: a larger buffer
                        view.release()
                        buffer.extend(bytes(min(len(buffer), MAX_LINE_BYTES + CHUNK_BYTES - len(buffer))))
                        view = memoryview(buffer)
                        find = buffer.find
                    got = handle.readinto(view[kept: kept + min(len(buffer) - kept, remaining)])
                    if not got:
                        break
                    remaining -= got
                    if head is None and start == 0:
                        head_length = min(got, HEAD_BYTES)
                        head = head_fingerprint(view[:head_length])
                    end = kept + got
                    # ``committed`` is the file offset of buffer[0] (just past the last complete
                    # line), except while skipping, when the long line began there.
                    position = 0
                    if skipping:
                        newline = find(b"\n", 0, end)
                        if newline < 0:
                            skipped += end
                            continue
                        skipping = False
                        diag.lines += 1
                        diag.oversizedLines += 1
                        committed += skipped
                        skipped = 0
                        position = newline + 1
                    while True:
                        newline = find(b"\n", position, end)
                        if newline < 0:
                            break
                        line(buffer, view, position, newline, committed + position)
                        position = newline + 1
                    committed += position
                    kept = end - position
                    if kept > MAX_LINE_BYTES:
                        skipping, skipped, kept = True, kept, 0
                    elif kept and position:
                        buffer[:kept] = buffer[position:end]
                    if len(buffer) > 2 * CHUNK_BYTES and kept < CHUNK_BYTES // 4:
                        view.release()  # after a long line: back to the usual buffer size
                        buffer = bytearray(buffer[:kept]) + bytearray(CHUNK_BYTES - kept)
                        view = memoryview(buffer)
                        find = buffer.find
                tail_mark = tail_fingerprint(handle.fileno(), committed)
    except OSError as error:
        diag.unreadableFiles = 1
        errors.append(f"{source.name}: {error.strerror or error}")
        kept = 0
        skipping = False
    diag.bytes = committed - start
    tail = Diagnostics()
    tail_cwds: dict[str, list] = {}
    if skipping:
        tail.lines = 1
        tail.oversizedLines = 1
        tail.bytes = skipped
    elif kept:
        scanner.diag, scanner.cwds, committed_cwds = tail, tail_cwds, scanner.cwds
        scanner.line(buffer, view, 0, kept, committed, tail=True)
        tail.bytes = kept
        scanner.cwds = committed_cwds
    view.release()
    return FileScan(
        _most_complete(scanner.records, committed), diag, committed, scanner.cwds, errors, scanner.tool_calls,
        scanner.tool_errors, limits=scanner.limits,
        titles=scanner.titles.finish(scanner.first_session or source.fallback_session), tail=tail, tail_cwds=tail_cwds, head=head, head_length=head_length,
        tail_mark=tail_mark,
    )


def _lines(count: int, noun: str = "line") -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def line_problems(name: str, diag: Diagnostics, tail: Diagnostics | None = None) -> list[str]:
    """One warning per kind of damaged line counted in a file's diagnostics (``diag`` and
    ``tail``), naming the file ``name``; none for ordinary malformed or half-written lines,
    which ``doctor`` counts. Shown by the CLI on stderr and by ``/api/health``."""
    tail = tail or Diagnostics()
    found = []
    deep = diag.deepLines + tail.deepLines
    if deep:
        found.append(f"{name}: {_lines(deep)} nested deeper than {lenient_json.MAX_DEPTH} levels, "
                     "read without the deep parts")
    oversized = diag.oversizedLines + tail.oversizedLines
    if oversized:
        found.append(f"{name}: {_lines(oversized)} longer than {MAX_LINE_BYTES >> 20} MiB, skipped")
    invalid = diag.invalidUsageLines + tail.invalidUsageLines
    if invalid:
        found.append(f"{name}: {_lines(invalid, 'usage line')} with an impossible token count or time, skipped")
    return found


def _most_complete(records: list[UsageRecord], committed: int) -> list[UsageRecord]:
    """The most complete snapshot per key, among the committed lines and among the tail apart
    (a later read replaces the tail alone; the global dedupe picks among what is kept)."""
    kept = RequestSet()
    tail = RequestSet()
    for record in records:
        (kept if record.offset < committed else tail).add(record)
    return list(kept.by_key.values()) + list(tail.by_key.values())
