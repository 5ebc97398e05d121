"""The usage record, the diagnostics counters and the global dedupe set (DESIGN sections 3-4).

Every report is derived from one :class:`RequestSet`: one record per API response, chosen as the
most complete snapshot among all lines that carry that response's usage.
"""

from __future__ import annotations

import msgspec


class UsageRecord(msgspec.Struct, gc=False, array_like=True):
    """One line's usage, as extracted from a transcript.

    Token fields are token counts; ``cache_creation_5m_tokens + cache_creation_1h_tokens`` is the
    cache-write total after the ``max(cache_creation_input_tokens, 5m + 1h)`` rule of DESIGN 4.
    ``ts_us`` is the line's UTC instant in microseconds since the Unix epoch. ``line_cost_usd`` is
    the ``costUSD`` the line carried (old Claude Code versions), USD, or None. ``file`` is the
    transcript path and ``offset`` the line's byte offset in it (a stable order for ties).
    ``model`` is the id as written (a Bedrock or Vertex id keeps its form: it selects the
    provider's price). What pricing needs besides tokens (DESIGN section 5): ``speed``
    (``"fast"`` for fast mode), ``web_search_requests`` and ``web_fetch_requests``
    (``usage.server_tool_use``, counts), ``inference_geo`` (``"us"`` for US-only inference; the
    standard ``""``, ``"global"`` and ``"not_available"`` are kept as None). ``placeholder``: the
    line comes from Claude Code before 2.1.97 and has ``stop_reason: null``, so its
    ``output_tokens`` is a streaming placeholder, not the final count. ``fast_unpriced`` is a
    pricing outcome set when the request is priced (False on a line as read): a fast-mode request
    priced at the standard rate for want of a known fast price.
    """

    key: str
    ts_us: int
    model: str
    session_id: str
    project: str
    file: str
    offset: int
    input_tokens: int
    output_tokens: int
    cache_creation_5m_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    line_cost_usd: float | None = None
    speed: str | None = None
    sidechain: bool = False
    request_id: str | None = None
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    inference_geo: str | None = None
    placeholder: bool = False
    fast_unpriced: bool = False

    @property
    def cache_creation_tokens(self) -> int:
        """Cache-write tokens, 5m + 1h."""
        return self.cache_creation_5m_tokens + self.cache_creation_1h_tokens

    @property
    def total_tokens(self) -> int:
        """Input + output + cache creation + cache read tokens."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_5m_tokens
            + self.cache_creation_1h_tokens
            + self.cache_read_tokens
        )


class Diagnostics(msgspec.Struct):
    """Counters of what was read and what was dropped (DESIGN section 3), all plain counts.

    ``bytes`` is the number of transcript bytes read; ``unreadableFiles`` counts files that could
    not be opened or read, ``skippedFiles`` ``*.jsonl`` names that are not regular files (a
    FIFO, a device), both skipped with a warning; ``missingFiles`` counts transcripts kept in
    the index whose file is gone (Claude Code deletes them after 30 days; their requests still
    count). Damaged lines (each kind also named in a warning): ``deepLines`` were nested too
    deeply and read without their deep parts, ``oversizedLines`` were too long to read and
    skipped, ``invalidUsageLines`` carried a token count or time that cannot be right and were
    skipped. ``placeholderOutputRequests`` counts kept requests whose output count is a
    streaming placeholder (Claude Code before 2.1.97), ``fastUnpricedRequests`` fast-mode
    requests priced at the standard rate (DESIGN section 5). The camelCase names are those of
    the JSON output of ``doctor``, ``process`` and ``/api/health``.
    """

    files: int = 0
    bytes: int = 0
    lines: int = 0
    blankLines: int = 0
    malformedLines: int = 0
    nonObjectLines: int = 0
    usageLines: int = 0
    duplicateLines: int = 0
    syntheticLines: int = 0
    partialTailLines: int = 0
    unreadableFiles: int = 0
    requests: int = 0
    missingFiles: int = 0
    placeholderOutputRequests: int = 0
    fastUnpricedRequests: int = 0
    skippedFiles: int = 0
    deepLines: int = 0
    oversizedLines: int = 0
    invalidUsageLines: int = 0

    def merge(self, other: "Diagnostics") -> None:
        """Add ``other``'s counters to this one (the counts of kept requests excluded: they are
        set by the loader)."""
        for name in self.__struct_fields__:
            if name not in _SET_BY_LOADER:
                setattr(self, name, getattr(self, name) + getattr(other, name))


# Counts of the deduplicated requests, not of lines: ``requests``; ``missingFiles`` (transcripts
# gone); ``placeholderOutputRequests`` (kept snapshots with a placeholder output count, DESIGN 5);
# ``fastUnpricedRequests`` (fast-mode requests priced at the standard rate).
_SET_BY_LOADER = ("requests", "missingFiles", "placeholderOutputRequests", "fastUnpricedRequests")


def better(candidate: UsageRecord, kept: UsageRecord) -> bool:
    """True when ``candidate`` is a more complete snapshot of the same response than ``kept``.

    Order (DESIGN section 4): larger ``output_tokens``, then larger total tokens, then the
    non-sidechain copy, then the earlier timestamp; for exact ties the earlier file path, then the
    earlier line in it, so the result does not depend on the order files were read.
    """
    a = (candidate.output_tokens, candidate.total_tokens, not candidate.sidechain, -candidate.ts_us)
    b = (kept.output_tokens, kept.total_tokens, not kept.sidechain, -kept.ts_us)
    if a != b:
        return a > b
    return (candidate.file, candidate.offset) < (kept.file, kept.offset)


class RequestSet:
    """The global dedupe set: one :class:`UsageRecord` per response key, across all files and roots.

    The key is ``message.id``, else the line's ``uuid``, else a hash of the line (computed by the
    reader). :meth:`add` keeps the most complete snapshot (:func:`better`) and counts every merged
    line in ``duplicate_lines``.
    """

    __slots__ = ("by_key", "duplicate_lines")

    def __init__(self) -> None:
        self.by_key: dict[str, UsageRecord] = {}
        self.duplicate_lines = 0

    def add(self, record: UsageRecord) -> None:
        """Add one usage line's record, merging it into an existing response with the same key."""
        kept = self.by_key.get(record.key)
        if kept is None:
            self.by_key[record.key] = record
            return
        self.duplicate_lines += 1
        if better(record, kept):
            self.by_key[record.key] = record

    def __len__(self) -> int:
        return len(self.by_key)

    def records(self) -> list[UsageRecord]:
        """The kept records, sorted by time (then key), as a new list."""
        return sorted(self.by_key.values(), key=lambda r: (r.ts_us, r.key))
