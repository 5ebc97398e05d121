"""Deterministic benchmark corpora shaped like real Claude Code transcripts (DESIGN section 10).

Two shapes. ``heavy`` (tool-heavy, the default; this module): about 50% of the lines are user
lines carrying 2-20 KB tool results, 40% assistant lines (one per content block of a response,
each with a copy of the usage, partial output counts first), 10% other lines (summaries, system
lines, file-history snapshots). Files of 5-50 MB are spread
over several project dirs, with a few subagent transcripts. ``dense`` (request-dense, heavy
agentic use; ``corpus_dense.py``): short tool results, about 220k requests per GB, sized by a
request count or a size. The same shape, target and seed always give the same bytes; the
summary printed (JSON) gives files, bytes and the exact number of distinct responses.

    python benchmarks/corpus.py --size 100MB --out /tmp/corpus-100mb
    python benchmarks/corpus.py --shape dense --requests 250k --out /tmp/corpus-250k
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001", "claude-sonnet-4-6")
PROJECTS = ("/home/bench/api", "/home/bench/web-app", "/home/bench/data_jobs", "/home/bench/infra", "/home/bench/mobile")
TOOLS = ("Read", "Bash", "Edit", "Grep", "Glob", "Write", "mcp__github__get_issue")
_WORDS = (
    "def return import self value result error request response token cache model file line test "
    "assert config path user session project data index query update insert select where from"
).split()


def parse_size(text: str) -> int:
    """``100MB``, ``1GB``, ``500M`` or a byte count."""
    text = text.strip().upper().removesuffix("B")
    factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "KMG" else text) * factor)


def parse_count(text: str) -> int:
    """``250k``, ``1M``, ``1.5m`` or a plain number (decimal: k = 1,000, M = 1,000,000)."""
    text = text.strip().upper()
    factor = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "KM" else text) * factor)


class _Corpus:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        words = [self.rng.choice(_WORDS) for _ in range(60_000)]
        self.text = " ".join(words)  # a pool that tool results are cut from
        self.counter = 0
        self.responses = 0  # distinct API responses written (each has its own message id)

    def ident(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:012d}{self.rng.getrandbits(40):010x}"

    def uuid(self) -> str:
        value = self.rng.getrandbits(128)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"

    def snippet(self, low: int, high: int) -> str:
        size = self.rng.randint(low, high)
        start = self.rng.randint(0, len(self.text) - size - 1)
        return self.text[start : start + size]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _session_lines(c: _Corpus, cwd: str, session: str, start: datetime, budget: int, sidechain: bool = False) -> list[str]:
    """Lines of one session until ``budget`` bytes are written."""
    rng = c.rng
    base = {"parentUuid": None, "isSidechain": sidechain, "userType": "external", "cwd": cwd, "sessionId": session,
            "version": "2.1.90", "gitBranch": "main"}
    model = rng.choice(MODELS)
    lines: list[str] = []
    size = 0
    moment = start
    context = rng.randint(10_000, 40_000)
    while size < budget:
        msg_id, request_id = c.ident("msg_01"), c.ident("req_011C")
        c.responses += 1
        output = rng.randint(50, 3000)
        write = rng.choice((0, 0, rng.randint(500, 9000)))
        one_hour = write if write and rng.random() < 0.25 else 0
        usage = {"input_tokens": rng.randint(2, 80), "cache_creation_input_tokens": write, "cache_read_input_tokens": context,
                 "cache_creation": {"ephemeral_5m_input_tokens": write - one_hour, "ephemeral_1h_input_tokens": one_hour},
                 "output_tokens": output, "service_tier": "standard"}
        tool_id = c.ident("toolu_01")
        blocks = [
            {"type": "thinking", "thinking": c.snippet(100, 800), "signature": "sig"},
            {"type": "text", "text": c.snippet(50, 400)},
            {"type": "tool_use", "id": tool_id, "name": rng.choice(TOOLS), "input": {"command": c.snippet(20, 120)}},
        ]
        # 40% assistant lines: one line per content block, the early ones with a partial output count.
        for index, block in enumerate(blocks):
            final = index == len(blocks) - 1
            line = {**base, "type": "assistant", "uuid": c.uuid(), "timestamp": _stamp(moment), "requestId": request_id,
                    "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [block],
                                "stop_reason": "tool_use" if final else None,
                                "usage": dict(usage, output_tokens=output if final else rng.randint(1, 9))}}
            lines.append(json.dumps(line, separators=(",", ":")))
            moment += timedelta(milliseconds=rng.randint(50, 900))
        # 50% user lines: a tool result of 2-20 KB each (about 5 per 4 assistant lines).
        for _ in range(rng.choice((3, 4, 4, 5))):
            result = {**base, "type": "user", "uuid": c.uuid(), "timestamp": _stamp(moment),
                      "message": {"role": "user", "content": [{"tool_use_id": tool_id, "type": "tool_result",
                                                                "content": c.snippet(2_000, 20_000), "is_error": rng.random() < 0.05}]},
                      "toolUseResult": {"stdout": "", "stderr": "", "interrupted": False}}
            lines.append(json.dumps(result, separators=(",", ":")))
        # 10% other lines.
        other = rng.random()
        if other < 0.5:
            lines.append(json.dumps({**base, "type": "system", "subtype": "compact_boundary", "uuid": c.uuid(),
                                     "timestamp": _stamp(moment), "content": "Conversation compacted"}))
        elif other < 0.8:
            lines.append(json.dumps({"type": "summary", "summary": c.snippet(20, 80), "leafUuid": c.uuid()}))
        else:
            lines.append(json.dumps({**base, "type": "file-history-snapshot", "messageId": c.uuid(),
                                     "snapshot": {"trackedFileBackups": {}, "timestamp": _stamp(moment)}}))
        context += rng.randint(200, 4000)
        moment += timedelta(seconds=rng.randint(5, 300))
        size = sum(len(x) + 1 for x in lines)
    return lines


def generate(out: Path, total_bytes: int, seed: int = 20251129) -> dict:
    """Write about ``total_bytes`` of tool-heavy transcripts to ``out/projects/...``; returns a
    summary: path, bytes, files and the exact number of distinct responses (requests)."""
    if out.exists():
        shutil.rmtree(out)
    c = _Corpus(seed)
    rng = c.rng
    written = files = 0
    start = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)
    while written < total_bytes:
        cwd = rng.choice(PROJECTS)
        folder = out / "projects" / cwd.replace("/", "-").replace("_", "-")
        folder.mkdir(parents=True, exist_ok=True)
        session = c.uuid()
        budget = min(rng.randint(5 << 20, 50 << 20), max(total_bytes - written, 1 << 20))
        lines = _session_lines(c, cwd, session, start, budget)
        path = folder / f"{session}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        written += path.stat().st_size
        files += 1
        if rng.random() < 0.3:  # a subagent transcript of that session
            sub = _session_lines(c, cwd, session, start + timedelta(minutes=5), 1 << 20, sidechain=True)
            sub_path = folder / session / "subagents" / f"agent-{c.ident('a')}.jsonl"
            sub_path.parent.mkdir(parents=True)
            sub_path.write_text("\n".join(sub) + "\n")
            written += sub_path.stat().st_size
            files += 1
        start += timedelta(hours=rng.randint(2, 30))
    return {"path": str(out), "shape": "heavy", "bytes": written, "files": files, "requests": c.responses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("heavy", "dense"), default="heavy", help="corpus shape (default heavy)")
    parser.add_argument("--size", help="total size, e.g. 100MB or 1GB (heavy: default 100MB)")
    parser.add_argument("--requests", help="dense only: distinct responses to write, e.g. 250k or 1M")
    parser.add_argument("--out", required=True, type=Path, help="output dir (outside the repo; replaced)")
    parser.add_argument("--seed", type=int, default=20251129)
    args = parser.parse_args()
    if args.shape == "heavy":
        if args.requests:
            parser.error("--requests is for --shape dense; the tool-heavy shape is sized by --size")
        made = generate(args.out, parse_size(args.size or "100MB"), args.seed)
    else:
        if not args.size and not args.requests:
            parser.error("--shape dense needs --requests (e.g. 250k) or --size (or both: whichever is reached first)")
        from corpus_dense import generate_dense

        made = generate_dense(args.out, parse_count(args.requests) if args.requests else None,
                              parse_size(args.size) if args.size else None, args.seed)
    print(json.dumps(made))


if __name__ == "__main__":
    main()
