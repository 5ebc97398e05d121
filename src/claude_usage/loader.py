"""The one loader: data roots to a deduplicated, priced request set (DESIGN section 1).

Every report, the CLI and the API take their numbers from the :class:`Dataset` built here, either
by scanning the transcripts (:func:`load_dataset`, ``--no-index``) or from the persistent index
(:mod:`claude_usage.index`), which applies the same reader and the same dedupe rule.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from claude_usage.pricing import Pricer, cost_for_mode
from claude_usage.records import Diagnostics, RequestSet, UsageRecord
from claude_usage.sources import lenient_json
from claude_usage.sources.discovery import DataRoot, transcript_files
from claude_usage.sources.safe_files import read_regular
from claude_usage.sources.transcripts import (
    ToolCall,
    UsageLimitNotice,
    line_problems,
    merge_cwds,
    scan_file,
    unique_limit_notices,
    unique_tool_calls,
)
from claude_usage.timebuckets import LocalClock

# progress(files_done, files_total, bytes_done, bytes_total)
ProgressCallback = Callable[[int, int, int, int], None]
ToolData = tuple[list[ToolCall], set[str], list[UsageLimitNotice]]
AGENT_META_BYTES = 1 << 20
ZONES_KEPT = 8  # zones whose local dates and hours of every request are kept


def _order(record: UsageRecord) -> tuple[int, str]:
    return (record.ts_us, record.key)


@dataclass
class Dataset:
    """The deduplicated request set with everything reports need.

    ``records`` are sorted by time (then key); ``calculated[i]`` is the USD cost of ``records[i]``
    from its tokens (None when its model has no price). ``project_paths`` maps a project key to
    its real path (the most frequent ``cwd`` among its lines, ties to the latest). ``warnings``
    holds one message per file problem (unreadable or skipped files, damaged lines), each
    naming its file. ``agents`` maps a subagent transcript's path to its
    ``.meta.json`` (``agentType``, ``description``). Tool data (:attr:`tool_calls`,
    :attr:`tool_errors`) and :attr:`limit_notices` may be loaded on first use (``tools`` is then
    a loader). Per-zone local
    times and per-mode costs are computed on first use and cached. A dataset is never changed in
    place: :meth:`with_changes` returns a new one, so a reader never sees a half-applied change.
    """

    records: list[UsageRecord]
    calculated: list[float | None]
    diagnostics: Diagnostics
    roots: list[DataRoot]
    project_paths: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    tools: ToolData | Callable[[], ToolData] = field(default_factory=lambda: ([], set(), []))
    agents: dict[str, dict] = field(default_factory=dict)
    price_version: str = ""
    index_path: str | None = None
    loaded_at: float = field(default_factory=time.time)
    _parts: dict[str, tuple[LocalClock, list[tuple[str, int]]]] = field(default_factory=dict, repr=False)
    _costs: dict[str, list[float | None]] = field(default_factory=dict, repr=False)
    _keys: set[str] | None = field(default=None, repr=False)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Each ``tool_use`` block once (by id, the earliest copy), in time order."""
        return self._tool_data()[0]

    @property
    def tool_errors(self) -> set[str]:
        """The tool_use ids whose result was an error."""
        return self._tool_data()[1]

    @property
    def limit_notices(self) -> list[UsageLimitNotice]:
        """The usage-limit messages of the transcripts, once each, in time order."""
        return self._tool_data()[2]

    def _tool_data(self) -> ToolData:
        if callable(self.tools):
            self.tools = self.tools()
        return self.tools

    def local_parts(self, clock: LocalClock) -> list[tuple[str, int]]:
        """``(local date, local hour)`` of every record in ``clock``'s zone, cached per zone (for
        the :data:`ZONES_KEPT` zones asked for last)."""
        cached = self._parts.get(clock.name)
        if cached is None:
            at = clock.parts
            while len(self._parts) >= ZONES_KEPT:  # a request per zone must not grow memory for ever
                self._parts.pop(next(iter(self._parts)))
            cached = self._parts[clock.name] = (clock, [at(r.ts_us) for r in self.records])
        return cached[1]

    def costs(self, mode: str) -> list[float | None]:
        """Every record's USD cost under a cost mode (None = unknown), cached per mode."""
        costs = self._costs.get(mode)
        if costs is None:
            costs = self._costs[mode] = [
                cost_for_mode(calc, rec.line_cost_usd, mode) for rec, calc in zip(self.records, self.calculated)
            ]
        return costs

    def project_path(self, project: str) -> str | None:
        """The real path of a project key (from ``cwd``), or None when no line carried one."""
        return self.project_paths.get(project)

    @property
    def keys(self) -> set[str]:
        """The keys of the requests (made on first use, then carried through changes)."""
        if self._keys is None:
            self._keys = {record.key for record in self.records}
        return self._keys

    def find(self, keys: Iterable[str]) -> list[UsageRecord]:
        """The requests with these keys. Searched from the newest, where changes happen."""
        wanted = set(keys) & self.keys
        found = []
        for record in reversed(self.records):
            if not wanted:
                break
            if record.key in wanted:
                wanted.discard(record.key)
                found.append(record)
        return found

    def with_changes(
        self,
        removed: Iterable[str],
        added: Iterable[tuple[UsageRecord, float | None]],
        **fields,
    ) -> "Dataset":
        """A new dataset without the requests keyed ``removed`` and with ``added`` ``(record,
        calculated cost)`` (a changed request is removed and added); other fields may be
        replaced through ``fields``. Cached local times and costs are carried over and the
        changed requests are found from the newest end, so a small change costs little."""
        records, calculated = list(self.records), list(self.calculated)
        parts = {name: (clock, list(values)) for name, (clock, values) in self._parts.items()}
        costs = {mode: list(values) for mode, values in self._costs.items()}
        added = list(added)
        keys = set(self.keys)
        gone = (set(removed) | {record.key for record, _ in added}) & keys
        keys -= gone
        position = len(records)
        while gone and position:
            position -= 1
            if records[position].key in gone:
                gone.discard(records[position].key)
                for values in (records, calculated, *(v for _, v in parts.values()), *costs.values()):
                    del values[position]
        for record, calc in added:
            at = bisect.bisect(records, _order(record), key=_order)
            records.insert(at, record)
            calculated.insert(at, calc)
            for clock, values in parts.values():
                values.insert(at, clock.parts(record.ts_us))
            for mode, values in costs.items():
                values.insert(at, cost_for_mode(calc, record.line_cost_usd, mode))
            keys.add(record.key)
        return replace(self, records=records, calculated=calculated, _parts=parts, _costs=costs,
                       _keys=keys, loaded_at=time.time(), **fields)


def read_agent_meta(transcript: Path) -> dict:
    """``{agentType, description}`` from ``agent-<id>.meta.json`` beside a subagent transcript
    (empty when missing, unreadable, not a regular file, over 1 MiB or not JSON)."""
    try:
        meta = lenient_json.loads(read_regular(transcript.with_name(transcript.stem + ".meta.json"), AGENT_META_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    return {key: meta[key] for key in ("agentType", "description") if isinstance(meta.get(key), str)}


def best_cwd(counts: dict[str, list]) -> str | None:
    """The most frequent cwd (ties: the latest timestamp) of ``cwd -> [count, latest]``."""
    if not counts:
        return None
    return max(counts.items(), key=lambda item: (item[1][0], item[1][1]))[0]


def file_sizes(files: Sequence) -> list[int]:
    """Sizes in bytes of transcript files (0 for those that cannot be stat'ed)."""
    sizes = []
    for tf in files:
        try:
            sizes.append(tf.path.stat().st_size)
        except OSError:
            sizes.append(0)
    return sizes


def load_dataset(
    roots: Sequence[DataRoot],
    pricer: Pricer | None = None,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Scan every transcript below ``roots``, deduplicate globally and price each request
    (``--no-index``: nothing is stored).

    Never raises for bad content: malformed lines and unreadable files are counted in the
    diagnostics (and unreadable files listed in ``warnings``).
    """
    pricer = pricer or Pricer()
    files = [tf for root in roots for tf in transcript_files(root)]
    sizes = file_sizes(files)
    total_bytes = sum(sizes)
    requests = RequestSet()
    diagnostics = Diagnostics()
    cwd_counts: dict[str, dict[str, list]] = {}
    warnings: list[str] = []
    calls: list[ToolCall] = []
    notices: list[UsageLimitNotice] = []
    agents: dict[str, dict] = {}
    tool_errors: set[str] = set()
    done_bytes = 0
    for index, (tf, size) in enumerate(zip(files, sizes)):
        scan = scan_file(tf)
        diagnostics.merge(scan.all_diagnostics())
        warnings.extend(scan.errors)
        warnings.extend(line_problems(tf.name, scan.diagnostics, scan.tail))
        for record in scan.records:
            requests.add(record)
        calls.extend(scan.tool_calls)
        notices.extend(scan.limits)
        tool_errors.update(tool_use_id for tool_use_id, _offset in scan.tool_errors)
        if tf.is_subagent:
            agents[tf.name] = read_agent_meta(tf.path)
        merge_cwds(cwd_counts.setdefault(tf.project, {}), scan.all_cwds())
        done_bytes += size
        if progress is not None:
            progress(index + 1, len(files), done_bytes, total_bytes)
    records = requests.records()
    calculated = [pricer.priced(r) for r in records]
    diagnostics.requests = len(records)
    diagnostics.duplicateLines = diagnostics.usageLines - len(records)
    diagnostics.placeholderOutputRequests = sum(r.placeholder for r in records)
    diagnostics.fastUnpricedRequests = sum(r.fast_unpriced for r in records)
    paths = {project: cwd for project, counts in cwd_counts.items() if (cwd := best_cwd(counts))}
    return Dataset(
        records=records,
        calculated=calculated,
        diagnostics=diagnostics,
        roots=list(roots),
        project_paths=paths,
        warnings=warnings,
        price_version=pricer.version,
        tools=(unique_tool_calls(calls), tool_errors, unique_limit_notices(notices)),
        agents=agents,
    )
