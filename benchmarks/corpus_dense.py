"""The request-dense corpus shape (DESIGN section 10): heavy agentic use of Claude Code.

Mostly assistant lines with short tool results (0.2-0.8 KB), about 220k requests per GB, in the
structure Claude Code writes:

- one API response = 1-3 assistant lines (one per content block: thinking, text, tool_use; now
  and then two tool_uses), all with the same ``message.id`` and ``requestId``, each carrying a
  copy of ``message.usage``: a partial ``output_tokens`` on the early lines, the final count on
  the last one (``stop_reason`` set only there);
- a user line with a short ``tool_result`` (and its ``toolUseResult`` copy) per tool_use, a
  user prompt with a file-history snapshot at the start of each turn, a compaction boundary
  when the context grows large;
- several projects (``projects/<encoded cwd>/<session>.jsonl``), sessions of 150-3000
  requests at an agentic pace (a request every 5-60 s, pauses between turns, now and then a
  night), session starts spread over many months and all hours;
- subagent transcripts in ``<project>/<session>/subagents/agent-<id>.jsonl`` (sidechain lines,
  the parent's ``sessionId``) with their ``agent-<id>.meta.json``; for some of them
  ``agent_progress`` lines in the parent file copy every assistant line of the subagent;
- some sessions are resumed ones: their file starts with copies of the last responses of the
  project's previous session (same ``message.id``, some without ``requestId``), so the dedupe
  matters.

The number of distinct responses written (``requests``) is exact: copies never add one. The
same seed and the same target always give the same bytes.
"""

from __future__ import annotations

import base64
import json
import math
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from corpus import MODELS, TOOLS, _Corpus, _stamp

# Launch directories, the first ones used most (a few main projects, a long tail).
PROJECTS = (
    "/home/bench/api", "/home/bench/web-app", "/home/bench/data_jobs", "/home/bench/infra", "/home/bench/mobile",
    "/home/bench/api/services/billing", "/home/bench/docs-site", "/home/bench/ml.experiments", "/home/bench/cli-tool",
    "/home/bench/sandbox",
)
PROJECT_WEIGHTS = (30, 22, 12, 9, 7, 6, 5, 4, 3, 2)
MODEL_WEIGHTS = (35, 30, 5, 30)  # per entry of corpus.MODELS
VERSIONS = ("2.1.98", "2.1.101", "2.1.104", "2.1.110")
AGENT_TYPES = (("Explore", "Find where the request handlers are defined"), ("general-purpose", "Investigate the failing test"),
               ("Plan", "Plan the storage migration"), ("code-reviewer", "Review the diff of this branch"))
DENSE_START = datetime(2025, 9, 1, 7, tzinfo=timezone.utc)
_JSON = json.JSONEncoder(separators=(",", ":"))


def file_name(cwd: str) -> str:
    """The project dir name Claude Code derives from a launch cwd (non-alphanumerics become ``-``)."""
    return "".join(ch if ch.isalnum() else "-" for ch in cwd)


class _Writer:
    """One transcript file being written; adds the bytes of each line to ``owner.bytes``."""

    def __init__(self, path: Path, owner: "DenseCorpus"):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "w", encoding="ascii", newline="\n")
        self.owner = owner

    def line(self, record: dict) -> None:
        """Append one JSON line (ASCII: ``len`` is its size in bytes)."""
        text = _JSON.encode(record) + "\n"
        self.handle.write(text)
        self.owner.bytes += len(text)

    def close(self) -> None:
        """Close the file (its bytes are counted already)."""
        self.handle.close()


@dataclass
class _Session:
    """The state of one transcript (a main session or a subagent) while it is written."""

    writer: _Writer
    base: dict
    model: str
    moment: datetime
    context: int
    one_hour_cache: bool
    parent_uuid: str | None = None
    responses: list = field(default_factory=list)  # the assistant lines of the last responses


class DenseCorpus:
    """Writes a request-dense corpus into ``out/projects`` until ``requests`` distinct responses
    or ``size`` bytes are written (whichever comes first; at least one must be given)."""

    def __init__(self, out: Path, seed: int, requests: int | None, size: int | None):
        if requests is None and size is None:
            raise ValueError("give a request count, a size, or both")
        self.out = out
        self.c = _Corpus(seed)
        self.rng = self.c.rng
        self.signatures = base64.b64encode(self.rng.randbytes(12_000)).decode()
        self.max_requests = requests if requests is not None else math.inf
        self.max_bytes = size if size is not None else math.inf
        self.requests = self.bytes = self.files = self.sessions = self.subagents = 0
        self.progress_copies = self.resumed_copies = 0
        self.previous: dict[str, list] = {}  # project dir -> last responses of its last session
        self.first: datetime | None = None
        self.last: datetime | None = None

    # -- limits and small helpers ---------------------------------------------------------

    def full(self) -> bool:
        """True once the request count or the size is reached."""
        return self.requests >= self.max_requests or self.bytes >= self.max_bytes

    def _pick(self, options: tuple, weights: tuple):
        """One of ``options``, drawn with ``weights``."""
        return self.rng.choices(options, weights)[0]

    def _signature(self) -> str:
        """A thinking block's signature: 300-900 characters of base64, cut from a pool."""
        size = self.rng.randint(300, 900)
        start = self.rng.randint(0, len(self.signatures) - size)
        return self.signatures[start : start + size]

    def _tick(self, session: _Session, low: float, high: float) -> str:
        """Advance the session clock by ``low``-``high`` seconds; returns the new timestamp."""
        session.moment += timedelta(milliseconds=self.rng.randint(int(low * 1000), int(high * 1000)))
        if self.last is None or session.moment > self.last:
            self.last = session.moment
        return _stamp(session.moment)

    def _entry(self, session: _Session, kind: str, body: dict, stamp: str) -> dict:
        """A transcript line of ``kind`` with the session's common fields, chained to the last one."""
        uuid = self.c.uuid()
        line = {"parentUuid": session.parent_uuid, **session.base, **body, "type": kind, "uuid": uuid, "timestamp": stamp}
        session.parent_uuid = uuid
        return line

    # -- the lines of one response --------------------------------------------------------

    def _usage(self, session: _Session) -> dict:
        """The usage of the next request of a session (its context grows with each one)."""
        rng = self.rng
        growth = rng.randint(150, 4000)
        one_hour = growth if session.one_hour_cache else 0
        usage = {"input_tokens": rng.choice((1, 2, 3, 4, 6, 8, 10, rng.randint(20, 3000))),
                 "cache_creation_input_tokens": growth, "cache_read_input_tokens": session.context,
                 "cache_creation": {"ephemeral_5m_input_tokens": growth - one_hour, "ephemeral_1h_input_tokens": one_hour},
                 "output_tokens": rng.choice((rng.randint(20, 400), rng.randint(100, 1500), rng.randint(500, 8000))),
                 "service_tier": "standard", "inference_geo": "not_available"}
        if rng.random() < 0.005:
            usage["server_tool_use"] = {"web_search_requests": rng.randint(1, 3), "web_fetch_requests": 0}
        session.context += growth
        return usage

    def _blocks(self, final_turn: bool) -> list[dict]:
        """The content blocks of one response: 1-3 (now and then 4), ending in a tool_use unless
        the response ends the turn."""
        rng = self.rng
        blocks = []
        if rng.random() < 0.35:
            blocks.append({"type": "thinking", "thinking": self.c.snippet(200, 2000), "signature": self._signature()})
        if final_turn or rng.random() < 0.45:
            blocks.append({"type": "text", "text": self.c.snippet(40, 1100)})
        if not final_turn:
            for _ in range(2 if rng.random() < 0.08 else 1):
                blocks.append({"type": "tool_use", "id": self.c.ident("toolu_01"), "name": rng.choice(TOOLS),
                               "input": {"command": self.c.snippet(30, 1200)}})
        return blocks

    def _response(self, session: _Session, final_turn: bool) -> list[dict]:
        """Write one API response (one assistant line per content block, usage copies with a
        partial output count first); returns its tool_use blocks."""
        self.requests += 1
        blocks = self._blocks(final_turn)
        usage = self._usage(session)
        msg_id, request_id = self.c.ident("msg_01"), self.c.ident("req_011C")
        stop = "end_turn" if final_turn else "tool_use"
        lines = []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            partial = self.rng.choice((1, 1, 1, 2, 4, 8, 16, 27))
            message = {"model": session.model, "id": msg_id, "type": "message", "role": "assistant", "content": [block],
                       "stop_reason": stop if last else None, "stop_sequence": None,
                       "usage": usage if last else dict(usage, output_tokens=min(partial, usage["output_tokens"]))}
            stamp = self._tick(session, 0.3, 4.0 if index == 0 else 2.0)
            line = self._entry(session, "assistant", {"message": message, "requestId": request_id}, stamp)
            session.writer.line(line)
            lines.append(line)
        session.responses.append(lines)
        del session.responses[:-40]
        return [block for block in blocks if block["type"] == "tool_use"]

    def _tool_result(self, session: _Session, tool: dict, content: str | None = None) -> None:
        """The user line answering one tool_use: a short result and its ``toolUseResult`` copy."""
        text = content if content is not None else self.c.snippet(200, 800)
        error = self.rng.random() < 0.04
        stamp = self._tick(session, 0.1, 6.0)
        message = {"role": "user", "content": [{"tool_use_id": tool["id"], "type": "tool_result", "content": text,
                                                "is_error": error}]}
        result = {"stdout": text, "stderr": "", "interrupted": False, "isImage": False}
        session.writer.line(self._entry(session, "user", {"message": message, "toolUseResult": result}, stamp))

    def _prompt(self, session: _Session) -> None:
        """A user prompt starting a turn, with the file-history snapshot Claude Code writes."""
        stamp = _stamp(session.moment)
        message = {"role": "user", "content": self.c.snippet(30, 300)}
        line = self._entry(session, "user", {"message": message}, stamp)
        session.writer.line(line)
        if not session.base["isSidechain"]:
            session.writer.line({"type": "file-history-snapshot", "messageId": line["uuid"],
                                 "snapshot": {"messageId": line["uuid"], "trackedFileBackups": {}, "timestamp": stamp},
                                 "isSnapshotUpdate": False})

    def _compact_if_large(self, session: _Session) -> None:
        """Past about 160k tokens of context, compact it (a boundary line; a smaller context)."""
        if session.context > 160_000:
            stamp = self._tick(session, 20, 90)
            session.writer.line(self._entry(session, "system", {"subtype": "compact_boundary", "content": "Conversation compacted",
                                                                "level": "info", "compactMetadata": {"trigger": "auto"}}, stamp))
            session.context = self.rng.randint(15_000, 35_000)

    # -- sessions -------------------------------------------------------------------------

    def _new_session(self, path: Path, base: dict, start: datetime) -> _Session:
        """Open a transcript at ``path``; its model, first context size and cache kind drawn."""
        rng = self.rng
        model = self._pick(MODELS, MODEL_WEIGHTS)
        self.files += 1
        return _Session(_Writer(path, self), base, model, start, rng.randint(12_000, 28_000), rng.random() < 0.3)

    def _turns(self, session: _Session, length: int, parent: tuple | None = None) -> None:
        """Write up to ``length`` responses in turns: a prompt, a run of tool calls at agentic
        pace, a final answer, a pause. ``parent`` (main sessions only) is (project dir, cwd)
        and lets a tool call start a subagent."""
        rng = self.rng
        done = 0
        while done < length and not self.full():
            self._prompt(session)
            turn = min(rng.randint(3, 40), length - done)
            for step in range(turn):
                if self.full():
                    break
                self._tick(session, 5, 60)  # the agentic pace: a request every 5-60 s
                tools = self._response(session, final_turn=step == turn - 1)
                done += 1
                for tool in tools:
                    if parent is not None and rng.random() < 0.003:
                        self._subagent(session, tool, *parent)
                    else:
                        self._tool_result(session, tool)
                self._compact_if_large(session)
            pause = rng.random()
            session.moment += timedelta(seconds=rng.randint(20, 1200) if pause < 0.97 else rng.randint(3600, 36_000))

    def _subagent(self, parent: _Session, tool: dict, folder: Path, cwd: str) -> None:
        """A subagent started by ``tool`` (turned into a Task call): its own transcript, for
        some of them ``agent_progress`` copies in the parent file, then the Task result."""
        rng = self.rng
        tool.update(name="Task", input={"description": "subtask", "prompt": self.c.snippet(40, 200)})
        agent_id = "a" + f"{rng.getrandbits(64):016x}"
        agent_type, description = rng.choice(AGENT_TYPES)
        directory = folder / parent.base["sessionId"] / "subagents"
        base = {**parent.base, "isSidechain": True, "agentId": agent_id}
        sub = self._new_session(directory / f"agent-{agent_id}.jsonl", base, parent.moment)
        sub.model = rng.choice((parent.model, MODELS[2]))
        (directory / f"agent-{agent_id}.meta.json").write_text(json.dumps({"agentType": agent_type, "description": description}))
        self.subagents += 1
        self._turns(sub, rng.randint(8, 80))
        sub.writer.close()
        if rng.random() < 0.25:
            self._progress_copies(parent, sub, tool["id"], agent_id)
        parent.moment = max(parent.moment, sub.moment)
        self._tool_result(parent, tool, content=self.c.snippet(200, 800))

    def _progress_copies(self, parent: _Session, sub: _Session, tool_id: str, agent_id: str) -> None:
        """``agent_progress`` lines in the parent file, one per assistant line of the subagent's
        last responses (the copy Claude Code writes while a subagent runs)."""
        for lines in sub.responses:
            for line in lines:
                nested = {"type": "assistant", "timestamp": line["timestamp"], "message": line["message"],
                          "requestId": line["requestId"], "uuid": line["uuid"]}
                data = {"message": nested, "normalizedMessages": [], "type": "agent_progress", "prompt": "", "agentId": agent_id}
                body = {"data": data, "toolUseID": "agent_" + line["message"]["id"], "parentToolUseID": tool_id}
                parent.writer.line(self._entry(parent, "progress", body, line["timestamp"]))
                self.progress_copies += 1

    def _resume_copies(self, session: _Session, earlier: list) -> None:
        """A resumed session's file starts with copies of earlier responses (some lose their
        ``requestId``); they name the new session, keep their message ids and times."""
        for lines in earlier[-self.rng.randint(5, 40):]:
            keep_request_id = self.rng.random() < 0.7
            for line in lines:
                copy = {**line, **{k: session.base[k] for k in ("sessionId", "version", "slug")}}
                if not keep_request_id:
                    copy.pop("requestId")
                session.writer.line(copy)
                self.resumed_copies += 1

    def _main_session(self, start: datetime) -> None:
        """One main session in a project, maybe a resumed one, of 150-3000 requests."""
        rng = self.rng
        cwd = self._pick(PROJECTS, PROJECT_WEIGHTS)
        folder = self.out / "projects" / file_name(cwd)
        session_id = self.c.uuid()
        base = {"isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": session_id,
                "version": rng.choice(VERSIONS), "gitBranch": rng.choice(("main", "main", "feature/store", "fix/tz")),
                "slug": "-".join(rng.choice(("quiet", "brisk", "amber", "lunar", "hedgehog", "falcon", "otter")) for _ in range(3))}
        session = self._new_session(folder / f"{session_id}.jsonl", base, start)
        self.sessions += 1
        earlier = self.previous.get(folder.name)
        if earlier and rng.random() < 0.15:
            self._resume_copies(session, earlier)
        length = int(math.exp(rng.uniform(math.log(150), math.log(3000))))
        self._turns(session, length, parent=(folder, cwd))
        session.writer.close()
        self.previous[folder.name] = session.responses

    def write(self) -> dict:
        """Write the whole corpus; returns its summary (files, bytes, exact request count, ...)."""
        if self.out.exists():
            shutil.rmtree(self.out)
        start = DENSE_START
        self.first = start
        while not self.full():
            self._main_session(start)
            start += timedelta(minutes=self.rng.randint(30, 14 * 60))
        return {"path": str(self.out), "shape": "dense", "bytes": self.bytes, "files": self.files, "requests": self.requests,
                "sessions": self.sessions, "subagentFiles": self.subagents, "agentProgressCopies": self.progress_copies,
                "resumedCopies": self.resumed_copies, "first": _stamp(self.first), "last": _stamp(self.last or self.first)}


def generate_dense(out: Path, requests: int | None = None, size: int | None = None, seed: int = 20251129) -> dict:
    """Write a request-dense corpus to ``out/projects/...`` (see the module docstring)."""
    return DenseCorpus(out, seed, requests, size).write()
