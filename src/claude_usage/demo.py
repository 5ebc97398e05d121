"""Deterministic demo data: a small, realistic Claude config dir for ``--demo``.

The generated set has a few projects over ~60 days, several models (one without a price),
responses split into one line per content block with partial output counts (as Claude Code
writes them), subagent transcripts with their ``.meta.json``, 1h cache writes, tool calls with
their results (some failed, some of MCP tools), TodoWrite lists, MCP server logs in both formats
(one broken), and a few malformed lines. The same ``seed`` and ``end`` date always give the same bytes.
:func:`demo_root` adds a session in progress (:func:`write_live_session`) so that today and the
active 5-hour block have something to show.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from claude_usage.sources.discovery import DataRoot

DEMO_VERSION = 6
DEMO_SEED = 20250601
DEMO_DAYS = 60
UNPRICED_DEMO_MODEL = "claude-experimental-7"

_PROJECTS = (
    ("/home/demo/webshop", ("claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101")),
    ("/home/demo/data-pipeline", ("claude-sonnet-4-6", "claude-sonnet-4-5-20250929")),
    ("/home/demo/mobile-app", ("claude-opus-4-6", "claude-sonnet-4-6")),
    ("/home/demo/infra_tools.v2", ("claude-sonnet-4-5-20250929", UNPRICED_DEMO_MODEL)),
)
_SUBAGENT_MODEL = "claude-haiku-4-5-20251001"
# What the demo's users ask (the first prompt names a session) and the titles Claude Code writes.
_TASKS = (
    ("Add a retry with backoff to the payment webhook handler", "Payment webhook retries"),
    ("Why does the nightly import job take 40 minutes now?", "Slow nightly import investigation"),
    ("Write tests for the cart total rounding", "Cart rounding tests"),
    ("Migrate the settings screen to the new design system", "Settings screen migration"),
    ("The login form double-submits on slow networks, fix it", "Login double-submit fix"),
    ("Refactor the Terraform modules so staging and prod share one", "Shared Terraform modules"),
    ("Add pagination to the orders API", "Orders API pagination"),
    ("Find out why the iOS build fails on CI", "iOS CI build failure"),
    ("Profile the dashboard query and make it faster", "Dashboard query speed-up"),
    ("Document how to run the pipeline locally", "Local pipeline docs"),
)
_FOLLOW_UPS = ("Please fix the failing test.", "Looks good, now update the docs.", "Can you also handle the empty case?",
               "Run the linter and fix what it finds.", "Commit this with a short message.")
_TOOLS = ("Read", "Edit", "Bash", "Grep", "Write", "mcp__github__get_issue", "mcp__playwright__browser_click")


def encode_project_dir(cwd: str) -> str:
    """Claude Code's directory name for a launch cwd: every non-alphanumeric character is ``-``."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


class _Writer:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ident(self, prefix: str, length: int = 24) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(length))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _response_lines(w: _Writer, base: dict, model: str, moment: datetime, context: int, sidechain: bool) -> list[dict]:
    """One API response written as 1-3 lines (one per content block), partial output first."""
    rng = w.rng
    msg_id, request_id = w.ident("msg_01"), w.ident("req_011C")
    output = rng.randint(40, 2400)
    cache_write = rng.choice((0, 0, rng.randint(500, 8000)))
    one_hour = cache_write if cache_write and rng.random() < 0.3 else 0
    usage = {
        "input_tokens": rng.randint(3, 60),
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": context,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_write - one_hour, "ephemeral_1h_input_tokens": one_hour},
        "output_tokens": output,
        "service_tier": "standard",
    }
    blocks = [{"type": "thinking", "thinking": "Let me look at the code first.", "signature": "demo"}]
    if rng.random() < 0.6:
        tool = rng.choice(_TOOLS)
        blocks.append({"type": "tool_use", "id": w.ident("toolu_01"), "name": tool, "input": {"path": "src/app.py"}})
    blocks.append({"type": "text", "text": "Done: the change is in place and the tests pass."})
    lines = []
    for index, block in enumerate(blocks):
        final = index == len(blocks) - 1
        line_usage = dict(usage, output_tokens=output if final else rng.randint(1, 8))
        lines.append({
            **base,
            "isSidechain": sidechain,
            "type": "assistant",
            "uuid": w.uuid(),
            "timestamp": _stamp(moment + timedelta(milliseconds=300 * index)),
            "requestId": request_id,
            "message": {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": "end_turn" if final else None, "usage": line_usage,
            },
        })
    return lines


def _session(w: _Writer, dest: Path, cwd: str, models: tuple[str, ...], start: datetime,
             until: datetime | None = None) -> list | None:
    """Write one session starting at ``start`` (with its subagent, todos and MCP logs, by chance).

    With ``until`` (the live session): turns go on until that time and only the session's lines
    are returned, for the caller to write; nothing else is written."""
    rng = w.rng
    projects_dir = dest / "projects"
    mcp_log: list[tuple[str, datetime, str, str, bool]] = []
    session_id = w.uuid()
    project_dir = projects_dir / encode_project_dir(cwd)
    project_dir.mkdir(parents=True, exist_ok=True)
    base = {"cwd": cwd, "sessionId": session_id, "version": "2.1.90", "userType": "external", "gitBranch": "main"}
    model = models[0] if rng.random() < 0.75 else models[1]
    lines: list = []
    moment, context = start, rng.randint(8000, 20000)
    # The words come from a generator of their own, so that the numbers stay those of DEMO_VERSION 5.
    words = random.Random(session_id)
    task, title = words.choice(_TASKS)
    if words.random() < 0.4:  # Claude Code named the session (newer versions write an ai-title line)
        lines.append({"type": "ai-title", "sessionId": session_id, "aiTitle": title})
    for turn in range(rng.randint(3, 14) if until is None else 1000):
        if until is not None and moment >= until - timedelta(minutes=2):
            break
        lines.append({
            **base, "type": "user", "isSidechain": False, "uuid": w.uuid(), "timestamp": _stamp(moment),
            "message": {"role": "user", "content": [{"type": "text", "text": task if turn == 0 else words.choice(_FOLLOW_UPS)}]},
        })
        moment += timedelta(seconds=rng.randint(2, 40))
        response = _response_lines(w, base, model, moment, context, sidechain=False)
        lines.extend(response)
        context += rng.randint(500, 6000)
        moment += timedelta(seconds=rng.randint(20, 600))
        if until is not None:
            moment = min(moment, until)
        uses = [b for line in response for b in line["message"]["content"] if b["type"] == "tool_use"]
        if uses:
            failed = rng.random() < 0.12
            lines.append({
                **base, "type": "user", "isSidechain": False, "uuid": w.uuid(), "timestamp": _stamp(moment),
                "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": b["id"], "is_error": failed,
                     "content": "Error: file not found" if failed else "done"} for b in uses
                ]},
            })
            for b in uses:
                if b["name"].startswith("mcp__"):
                    mcp_log.append((b["name"].split("__")[1], moment, session_id, cwd, failed))
    if until is not None:
        return lines
    if rng.random() < 0.35:
        agent_id = w.ident("a", 16).lower()
        sub_dir = project_dir / session_id / "subagents"
        sub_dir.mkdir(parents=True, exist_ok=True)
        sub_moment = start + timedelta(minutes=rng.randint(1, 20))
        # The subagent's task is the first line of its transcript (a user line of its own).
        sub_lines: list = [{**base, "agentId": agent_id, "type": "user", "isSidechain": True, "timestamp": _stamp(sub_moment),
                            "message": {"role": "user", "content": "Find where the config is loaded and list the files that read it."}}]
        for _ in range(rng.randint(1, 4)):
            sub_lines.extend(_response_lines(w, dict(base, agentId=agent_id), _SUBAGENT_MODEL, sub_moment, 12000, True))
            sub_moment += timedelta(seconds=rng.randint(5, 90))
        _write_jsonl(sub_dir / f"agent-{agent_id}.jsonl", sub_lines)
        if words.random() < 0.7:  # older Claude Code versions wrote no .meta.json
            meta = {"agentType": "Explore", "description": "Find where the config is loaded"}
            (sub_dir / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))
    if rng.random() < 0.08:
        # A line cut in half (an unclean shutdown) and a blank line: skipped and counted.
        lines.insert(len(lines) // 2, '{"type":"assistant","message":{"id":"msg_cut","usage":{"input_tok')
        lines.insert(1, "")
    _write_jsonl(project_dir / f"{session_id}.jsonl", lines)
    if rng.random() < 0.3:
        statuses = [rng.choice(("completed", "completed", "in_progress", "pending")) for _ in range(rng.randint(2, 5))]
        todos = [{"content": f"Step {i + 1}", "status": status, "activeForm": f"Doing step {i + 1}"}
                 for i, status in enumerate(statuses)]
        (dest / "todos").mkdir(exist_ok=True)
        todo_file = dest / "todos" / f"{session_id}-agent-{session_id}.json"
        todo_file.write_text(json.dumps(todos))
        os.utime(todo_file, (moment.timestamp(), moment.timestamp()))  # last written during the session
    _write_mcp_logs(dest / "claude-cli-nodejs" / encode_project_dir(cwd), start, mcp_log)
    return None


def _write_mcp_logs(folder: Path, start: datetime, calls: list[tuple[str, datetime, str, str, bool]]) -> None:
    """One ``.jsonl`` log per MCP server used in a session (the newer format)."""
    for server in sorted({c[0] for c in calls}):
        entries = [{"debug": "Successfully connected to stdio server in 139ms", "timestamp": _stamp(start)}]
        for name, moment, session_id, cwd, failed in calls:
            if name == server:
                entry = {"error" if failed else "debug": "Tool call failed: timeout" if failed else "Tool call succeeded",
                         "timestamp": _stamp(moment), "sessionId": session_id, "cwd": cwd}
                entries.append(entry)
        for entry in entries:
            entry.setdefault("sessionId", calls[0][2])
            entry.setdefault("cwd", calls[0][3])
        log_dir = folder / f"mcp-logs-{server}"
        log_dir.mkdir(parents=True, exist_ok=True)
        name = start.strftime("%Y-%m-%dT%H-%M-%S-") + f"{start.microsecond // 1000:03d}Z.jsonl"
        _write_jsonl(log_dir / name, entries)
        last = max(c[1] for c in calls if c[0] == server).timestamp()
        os.utime(log_dir / name, (last, last))  # as if written during the session


def _write_jsonl(path: Path, lines: list) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line, separators=(",", ":"))) + "\n")


def generate_demo(dest: Path, end: date | None = None, days: int = DEMO_DAYS, seed: int = DEMO_SEED) -> Path:
    """Write the demo config dir (``dest/projects/...``) covering the ``days`` UTC days before
    ``end`` (default: today, UTC; so no request lies in the future). Returns ``dest``.
    Deterministic for a given ``seed``, ``end`` and ``days``."""
    end = end or datetime.now(timezone.utc).date()
    rng = random.Random(f"{seed}:{end.isoformat()}:{days}")
    w = _Writer(rng)
    projects_dir = dest / "projects"
    projects_dir.mkdir(parents=True, exist_ok=True)
    for offset in range(days, 0, -1):
        day = end - timedelta(days=offset)
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(0, 1) if weekend else rng.randint(1, 4)):
            cwd, models = rng.choice(_PROJECTS)
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(
                hours=rng.randint(6, 18), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
            )
            _session(w, dest, cwd, models, start)
    # An older log in the JSON-array format, and one left broken by a crash.
    old = dest / "claude-cli-nodejs" / encode_project_dir(_PROJECTS[0][0]) / "mcp-logs-github"
    old.mkdir(parents=True, exist_ok=True)
    entries = [{"debug": "Starting connection", "timestamp": _stamp(datetime(end.year, end.month, 1, tzinfo=timezone.utc)),
                "sessionId": "00000000-0000-4000-8000-000000000000", "cwd": _PROJECTS[0][0]}]
    first = end - timedelta(days=days + 1)
    for day, text in ((first, json.dumps(entries, indent=2)), (first + timedelta(days=1), json.dumps(entries, indent=2)[:-5])):
        path = old / f"{day.isoformat()}T00-00-00-000Z.txt"
        path.write_text(text)
        stamp = datetime(day.year, day.month, day.day, 1, tzinfo=timezone.utc).timestamp()
        os.utime(path, (stamp, stamp))
    return dest


def demo_logs_dir(root: DataRoot) -> Path:
    """The MCP logs dir of the demo data (its own ``claude-cli-nodejs`` cache dir)."""
    assert root.config_dir is not None
    return root.config_dir / "claude-cli-nodejs"


def demo_root(cache_dir: Path | None = None, end: date | None = None) -> DataRoot:
    """The demo data as a :class:`DataRoot`, generated on first use into the user cache dir
    (:func:`claude_usage.paths.cache_dir`) and reused for the same day."""
    end = end or datetime.now(timezone.utc).date()
    if cache_dir is None:
        from claude_usage.paths import cache_dir as default_cache_dir

        cache_dir = default_cache_dir()
    target = cache_dir / "demo" / f"v{DEMO_VERSION}-{end.isoformat()}"
    if not (target / "projects").is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
        generate_demo(staging, end)
        try:
            os.replace(staging, target)
        except OSError:  # another process finished first
            shutil.rmtree(staging, ignore_errors=True)
        for stale in target.parent.glob("v*-*"):  # older versions and days
            if stale != target and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
    write_live_session(target, datetime.now(timezone.utc))
    return DataRoot(target / "projects", target, "demo")


LIVE_STEP = timedelta(minutes=30)
LIVE_SPAN = timedelta(minutes=95)


def write_live_session(dest: Path, now: datetime, seed: int = DEMO_SEED) -> Path:
    """Write (or bring up to date) the demo's session in progress: requests from about 95 minutes
    before ``now`` up to ``now`` floored to 30 minutes (UTC), so that the demo has a today and an
    active 5-hour block. The file keeps its name (one session) and is replaced atomically, only
    when the 30-minute step changed; the same ``seed`` and step give the same bytes. Returns the
    transcript's path."""
    anchor = datetime.fromtimestamp(now.timestamp() // LIVE_STEP.total_seconds() * LIVE_STEP.total_seconds(), timezone.utc)
    marker = dest / "live-session.txt"
    cwd, models = _PROJECTS[0]
    project_dir = dest / "projects" / encode_project_dir(cwd)
    try:
        written_at, written = marker.read_text().split()
        if written_at == anchor.isoformat() and (project_dir / written).is_file():
            return project_dir / written  # this step's session is there already
    except (OSError, ValueError):
        pass
    rng = random.Random(f"{seed}:live:{anchor.date().isoformat()}")
    lines = _session(_Writer(rng), dest, cwd, models[:1] * 2, anchor - LIVE_SPAN, until=anchor) or []
    session_id = lines[0]["sessionId"]
    path = project_dir / f"{session_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{session_id}.{os.getpid()}.tmp")
    _write_jsonl(staging, lines)
    os.replace(staging, path)
    marker.write_text(f"{anchor.isoformat()} {path.name}\n")
    return path
