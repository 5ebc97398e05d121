"""Streaming reader of Claude Code JSONL transcripts (DESIGN section 3).

A file is read in fixed-size chunks and split into newline-terminated lines; it is never held in
memory whole. Each line is decoded by msgspec into small typed structs that name only the fields
this product uses, so the rest of a line (tool inputs, long tool results) is skipped without
building Python objects and cannot make the line invalid. A line msgspec rejects is retried with
the lenient stdlib parser (``json.loads(..., strict=False)`` accepts raw control characters).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

from claude_usage.records import Diagnostics, UsageRecord
from claude_usage.sources.discovery import TranscriptFile

CHUNK_BYTES = 1 << 20
SYNTHETIC_MODEL = "<synthetic>"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: Any = None
    ephemeral_1h_input_tokens: Any = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: Any = None
    output_tokens: Any = None
    cache_creation_input_tokens: Any = None
    cache_read_input_tokens: Any = None
    cache_creation: _CacheCreation | None = None
    speed: Any = None


class _Message(msgspec.Struct, gc=False):
    id: Any = None
    model: Any = None
    role: Any = None
    usage: _Usage | None = None
    content: msgspec.Raw = msgspec.Raw()  # decoded only when the line has tool blocks


class _Block(msgspec.Struct, gc=False):
    """A content block, as far as tool analytics needs it (``input`` and results are skipped)."""

    type: Any = None
    id: Any = None
    name: Any = None
    tool_use_id: Any = None
    is_error: Any = None


class _Progress(msgspec.Struct, gc=False):
    type: Any = None
    message: "_Line | None" = None


class _Line(msgspec.Struct, gc=False):
    """The fields of a transcript line that this product reads; scalars are checked in code."""

    type: Any = None
    message: _Message | None = None
    timestamp: Any = None
    sessionId: Any = None
    uuid: Any = None
    requestId: Any = None
    isSidechain: Any = None
    cwd: Any = None
    costUSD: Any = None
    data: _Progress | None = None


class _Light(msgspec.Struct, gc=False):
    """What a line without usage contributes: its ``cwd`` (for the project's real path)."""

    cwd: Any = None
    timestamp: Any = None


_LINE_DECODER = msgspec.json.Decoder(_Line)
_LIGHT_DECODER = msgspec.json.Decoder(_Light)
_BLOCKS_DECODER = msgspec.json.Decoder(list[_Block])


class ToolCall(msgspec.Struct, gc=False):
    """One ``tool_use`` block: its ``id``, tool ``name`` (e.g. ``Bash``, ``mcp__github__get_issue``),
    the line's session, project key, UTC time in microseconds and ``cwd``."""

    id: str
    name: str
    session_id: str
    project: str
    ts_us: int
    cwd: str | None = None

# Nested objects of _Line, by path: a line where one of them is not an object is still read
# (the lenient path drops the odd value) instead of being lost whole.
_NESTED_OBJECTS = (
    ("message",),
    ("message", "usage"),
    ("message", "usage", "cache_creation"),
    ("data",),
    ("data", "message"),
    ("data", "message", "message"),
    ("data", "message", "message", "usage"),
    ("data", "message", "message", "usage", "cache_creation"),
)


class FileScan(msgspec.Struct):
    """What reading one transcript produced.

    ``records``: one :class:`UsageRecord` per usage line (not yet deduplicated); ``tool_calls``:
    every ``tool_use`` block (repeats included); ``tool_errors``: ids of tool uses whose
    ``tool_result`` has ``is_error: true``;
    ``committed_offset``: byte offset just past the last newline-terminated line (an unterminated
    last line is never committed, DESIGN section 3); ``cwds``: ``cwd -> [line count, latest
    timestamp string]`` over the file's lines; ``errors``: read errors, for warnings.
    """

    records: list[UsageRecord]
    diagnostics: Diagnostics
    committed_offset: int
    cwds: dict[str, list]
    errors: list[str]
    tool_calls: list[ToolCall]
    tool_errors: list[str]


def is_count(value: Any) -> bool:
    """True for a non-negative integer token count (``bool`` is not a count)."""
    return type(value) is int and value >= 0


def parse_timestamp_us(value: Any) -> int | None:
    """An ISO-8601 timestamp string to UTC microseconds since the epoch, or None if invalid.

    Any fraction length, ``Z`` or an offset are accepted; a timestamp without an offset is UTC.
    """
    if type(value) is not str or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MICROSECOND


def _drop_odd_nested(obj: dict) -> dict:
    """Make a leniently parsed line fit :class:`_Line`: nested values expected to be objects
    become None when they are not, and message contents go back to raw JSON."""
    for path in _NESTED_OBJECTS:
        holder: Any = obj
        for name in path[:-1]:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and path[-1] in holder and not isinstance(holder[path[-1]], dict):
            holder[path[-1]] = None
    for path in (("message",), ("data", "message", "message")):
        holder = obj
        for name in path:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and "content" in holder:
            holder["content"] = msgspec.Raw(msgspec.json.encode(holder["content"]))
    return obj


def _lenient(raw: bytes) -> Any:
    """Parse with the stdlib in non-strict mode; raises ValueError when the line is not JSON."""
    return json.loads(raw.decode("utf-8", errors="replace"), strict=False)


def _str_or_none(value: Any) -> str | None:
    return value if type(value) is str and value else None


def _record(line: _Line, raw: bytes, source: TranscriptFile, offset: int) -> UsageRecord | str | None:
    """The usage record a decoded line carries, ``SYNTHETIC_MODEL`` for a placeholder, else None."""
    holder = line
    sidechain = line.isSidechain is True
    if line.type == "progress":
        data = line.data
        if data is None or data.type != "agent_progress" or data.message is None:
            return None
        # A copy of a subagent line: the nested message's time and ids, the outer session.
        holder = data.message
        sidechain = True
    message = holder.message
    if message is None or message.usage is None:
        return None
    if not (holder.type == "assistant" or (holder.type is None and message.role == "assistant")):
        return None
    usage = message.usage
    if not is_count(usage.input_tokens) or not is_count(usage.output_tokens):
        return None
    ts_us = parse_timestamp_us(holder.timestamp)
    if ts_us is None:
        return None
    model = message.model if type(message.model) is str and message.model else "unknown"
    if model == SYNTHETIC_MODEL:
        return SYNTHETIC_MODEL

    declared = usage.cache_creation_input_tokens if is_count(usage.cache_creation_input_tokens) else 0
    five_m = one_h = 0
    if usage.cache_creation is not None:
        if is_count(usage.cache_creation.ephemeral_5m_input_tokens):
            five_m = usage.cache_creation.ephemeral_5m_input_tokens
        if is_count(usage.cache_creation.ephemeral_1h_input_tokens):
            one_h = usage.cache_creation.ephemeral_1h_input_tokens
    creation_total = max(declared, five_m + one_h)
    cache_read = usage.cache_read_input_tokens if is_count(usage.cache_read_input_tokens) else 0

    message_id = _str_or_none(message.id)
    uuid = _str_or_none(holder.uuid)
    if message_id:
        key = "m:" + message_id
    elif uuid:
        key = "u:" + uuid
    else:
        key = "h:" + hashlib.blake2b(raw, digest_size=12).hexdigest()

    line_cost = line.costUSD if holder is line else holder.costUSD
    if type(line_cost) not in (int, float) or not math.isfinite(line_cost) or line_cost < 0:
        line_cost = None
    return UsageRecord(
        key=key,
        ts_us=ts_us,
        model=model,
        session_id=_str_or_none(line.sessionId) or source.fallback_session,
        project=source.project,
        file=str(source.path),
        offset=offset,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_5m_tokens=creation_total - one_h,
        cache_creation_1h_tokens=one_h,
        cache_read_tokens=cache_read,
        line_cost_usd=float(line_cost) if line_cost is not None else None,
        speed=_str_or_none(usage.speed),
        sidechain=sidechain,
        request_id=_str_or_none(holder.requestId),
    )


class _Scanner:
    """Per-file line classifier: updates the diagnostics and collects records and cwds."""

    def __init__(self, source: TranscriptFile):
        self.source = source
        self.diag = Diagnostics()
        self.records: list[UsageRecord] = []
        self.cwds: dict[str, list] = {}
        self.tool_calls: list[ToolCall] = []
        self.tool_errors: list[str] = []

    def _tools(self, line: _Line) -> None:
        """Collect the ``tool_use`` blocks and failed ``tool_result`` blocks of a line (or of the
        subagent message an ``agent_progress`` line copies)."""
        holder = line
        if line.type == "progress" and line.data is not None and line.data.message is not None:
            holder = line.data.message
        message = holder.message
        if message is None or not message.content:
            return
        try:
            blocks = _BLOCKS_DECODER.decode(message.content)
        except msgspec.DecodeError:
            return  # a plain string, or odd blocks: no tool use to count
        ts_us = None
        for block in blocks:
            if block.type == "tool_use" and type(block.name) is str and block.name:
                if ts_us is None:
                    ts_us = parse_timestamp_us(holder.timestamp) or parse_timestamp_us(line.timestamp)
                    if ts_us is None:
                        return
                self.tool_calls.append(ToolCall(
                    id=_str_or_none(block.id) or f"{_str_or_none(message.id)}#{len(self.tool_calls)}",
                    name=block.name,
                    session_id=_str_or_none(line.sessionId) or self.source.fallback_session,
                    project=self.source.project,
                    ts_us=ts_us,
                    cwd=_str_or_none(line.cwd),
                ))
            elif block.type == "tool_result" and block.is_error is True and type(block.tool_use_id) is str:
                self.tool_errors.append(block.tool_use_id)

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

    def line(self, raw: bytes, offset: int, tail: bool = False) -> None:
        """Classify one line (without its newline) that starts at byte ``offset``."""
        diag = self.diag
        diag.lines += 1
        if not raw.strip():
            diag.blankLines += 1
            return
        carries_usage = b'"usage"' in raw
        carries_tools = b'"tool_use"' in raw or b'"tool_result"' in raw
        full = carries_usage or carries_tools
        try:
            decoded: Any = (_LINE_DECODER if full else _LIGHT_DECODER).decode(raw)
        except msgspec.DecodeError:
            try:
                obj = _lenient(raw)
            except ValueError:
                if tail:
                    diag.partialTailLines += 1
                else:
                    diag.malformedLines += 1
                return
            if not isinstance(obj, dict):
                diag.nonObjectLines += 1
                return
            try:
                decoded = msgspec.convert(_drop_odd_nested(obj), _Line if full else _Light)
            except msgspec.ValidationError:
                # An odd shape deeper than the fields read: an object line without usage to us.
                self._note_cwd(obj.get("cwd"), obj.get("timestamp"))
                return
        self._note_cwd(decoded.cwd, decoded.timestamp)
        if carries_tools:
            self._tools(decoded)
        if not carries_usage:
            return
        found = _record(decoded, raw, self.source, offset)
        if found is None:
            return
        if found is SYNTHETIC_MODEL:
            diag.syntheticLines += 1
            return
        diag.usageLines += 1
        self.records.append(found)


def scan_file(source: TranscriptFile, start: int = 0) -> FileScan:
    """Read ``source`` from byte ``start`` to its end, line by line, in chunks of 1 MiB.

    Never raises for bad content or I/O errors: malformed lines are counted and skipped; a file
    that cannot be opened or read is counted in ``unreadableFiles`` and reported in ``errors``
    (records of the complete lines read before the error are kept). An unterminated last line is
    parsed if it is complete JSON and counted as ``partialTailLines`` if not; either way
    ``committed_offset`` stays before it.
    """
    scanner = _Scanner(source)
    diag = scanner.diag
    diag.files = 1
    errors: list[str] = []
    committed = start
    carry = b""
    try:
        with open(source.path, "rb") as handle:
            if start:
                handle.seek(start)
            while True:
                chunk = handle.read(CHUNK_BYTES)
                if not chunk:
                    break
                diag.bytes += len(chunk)
                buffer = carry + chunk if carry else chunk
                lines = buffer.split(b"\n")
                carry = lines.pop()
                position = committed
                for raw in lines:
                    scanner.line(raw, position)
                    position += len(raw) + 1
                committed = position
    except OSError as error:
        diag.unreadableFiles = 1
        errors.append(f"{source.path}: {error.strerror or error}")
        carry = b""
    if carry:
        scanner.line(carry, committed, tail=True)
    return FileScan(scanner.records, diag, committed, scanner.cwds, errors, scanner.tool_calls, scanner.tool_errors)
