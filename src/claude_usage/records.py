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
    not be opened or read (skipped with a warning); ``missingFiles`` counts transcripts kept in
    the index whose file is gone (Claude Code deletes them after 30 days; their requests still
    count). The camelCase names are those of the JSON
    output of ``doctor``, ``process`` and ``/api/health``.
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

    def merge(self, other: "Diagnostics") -> None:
        """Add ``other``'s counters to this one (``requests`` and ``missingFiles`` excluded: they
        are set by the loader)."""
        for name in self.__struct_fields__:
            if name not in ("requests", "missingFiles"):
                setattr(self, name, getattr(self, name) + getattr(other, name))


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
