"""The one loader: data roots to a deduplicated, priced request set (DESIGN section 1).

Every report, the CLI and the API take their numbers from the :class:`Dataset` built here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable, Sequence

from claude_usage.pricing import Pricer, cost_for_mode, price_data_version
from claude_usage.records import Diagnostics, RequestSet, UsageRecord
from claude_usage.sources.discovery import DataRoot, transcript_files
from claude_usage.sources.transcripts import ToolCall, merge_cwds, scan_file
from claude_usage.timebuckets import LocalClock

# progress(files_done, files_total, bytes_done, bytes_total)
ProgressCallback = Callable[[int, int, int, int], None]


@dataclass
class Dataset:
    """The deduplicated request set with everything reports need.

    ``records`` are sorted by time; ``calculated[i]`` is the USD cost of ``records[i]`` from its
    tokens (None when its model has no price). ``project_paths`` maps a project key to its real
    path (the most frequent ``cwd`` among its lines, ties to the latest). ``warnings`` holds
    read errors (unreadable files). ``tool_calls`` holds each ``tool_use`` block once (by id, the
    earliest copy), in time order; ``tool_errors`` the ids whose result was an error. ``agents``
    maps a subagent transcript's path to its ``.meta.json`` (``agentType``, ``description``). Per-zone
    local times and per-mode costs are computed on first use and cached.
    """

    records: list[UsageRecord]
    calculated: list[float | None]
    diagnostics: Diagnostics
    roots: list[DataRoot]
    project_paths: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_errors: set[str] = field(default_factory=set)
    agents: dict[str, dict] = field(default_factory=dict)
    price_version: str = ""
    loaded_at: float = field(default_factory=time.time)
    _parts: dict[str, list[tuple[str, int]]] = field(default_factory=dict, repr=False)
    _costs: dict[str, list[float | None]] = field(default_factory=dict, repr=False)

    def local_parts(self, clock: LocalClock) -> list[tuple[str, int]]:
        """``(local date, local hour)`` of every record in ``clock``'s zone, cached per zone."""
        parts = self._parts.get(clock.name)
        if parts is None:
            at = clock.parts
            parts = self._parts[clock.name] = [at(r.ts_us) for r in self.records]
        return parts

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


def read_agent_meta(transcript: Path) -> dict:
    """``{agentType, description}`` from ``agent-<id>.meta.json`` beside a subagent transcript
    (empty when missing or unreadable)."""
    try:
        meta = json.loads(transcript.with_name(transcript.stem + ".meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    return {key: meta[key] for key in ("agentType", "description") if isinstance(meta.get(key), str)}


def _best_cwd(counts: dict[str, list]) -> str | None:
    if not counts:
        return None
    return max(counts.items(), key=lambda item: (item[1][0], item[1][1]))[0]


def load_dataset(
    roots: Sequence[DataRoot],
    pricer: Pricer | None = None,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Scan every transcript below ``roots``, deduplicate globally and price each request.

    Never raises for bad content: malformed lines and unreadable files are counted in the
    diagnostics (and unreadable files listed in ``warnings``).
    """
    pricer = pricer or Pricer()
    files = [tf for root in roots for tf in transcript_files(root)]
    sizes = []
    for tf in files:
        try:
            sizes.append(tf.path.stat().st_size)
        except OSError:
            sizes.append(0)
    total_bytes = sum(sizes)
    requests = RequestSet()
    diagnostics = Diagnostics()
    cwd_counts: dict[str, dict[str, list]] = {}
    warnings: list[str] = []
    calls: dict[str, ToolCall] = {}
    agents: dict[str, dict] = {}
    tool_errors: set[str] = set()
    done_bytes = 0
    for index, (tf, size) in enumerate(zip(files, sizes)):
        scan = scan_file(tf)
        diagnostics.merge(scan.all_diagnostics())
        warnings.extend(scan.errors)
        for record in scan.records:
            requests.add(record)
        for call in scan.tool_calls:
            seen = calls.get(call.id)
            if seen is None or (call.ts_us, call.session_id) < (seen.ts_us, seen.session_id):
                calls[call.id] = call
        tool_errors.update(tool_use_id for tool_use_id, _offset in scan.tool_errors)
        if tf.is_subagent:
            agents[str(tf.path)] = read_agent_meta(tf.path)
        merge_cwds(cwd_counts.setdefault(tf.project, {}), scan.all_cwds())
        done_bytes += size
        if progress is not None:
            progress(index + 1, len(files), done_bytes, total_bytes)
    diagnostics.duplicateLines = requests.duplicate_lines
    records = requests.records()
    diagnostics.requests = len(records)
    paths = {project: cwd for project, counts in cwd_counts.items() if (cwd := _best_cwd(counts))}
    calculated = [pricer.calculated_cost(r) for r in records]
    return Dataset(
        records=records,
        calculated=calculated,
        diagnostics=diagnostics,
        roots=list(roots),
        project_paths=paths,
        warnings=warnings,
        price_version=price_data_version(),
        tool_calls=sorted(calls.values(), key=lambda c: (c.ts_us, c.id)),
        tool_errors=tool_errors,
        agents=agents,
    )
