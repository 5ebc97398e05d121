"""Benchmark of claude-usage on generated corpora of both shapes (DESIGN section 10, issue 11).
Prints figures next to their targets (and ccusage's figures when npm is there); asserts nothing.

The product is measured only as a black box: the ``claude-usage`` console script next to the
running Python (else ``python -m claude_usage``) and HTTP against ``claude-usage serve``, so the
benchmark keeps working whatever the storage underneath looks like. Per corpus:

- cold build: ``daily --json`` on an empty index (a fresh ``CLAUDE_USAGE_INDEX`` per run),
  median of 3, MB/s and requests/s, peak RSS of the process tree; ccusage's ``daily --json``
  offline on the same files, interleaved with ours, and the ratio (ccusage time / ours);
- store bytes per request (the index file and its -wal after the build);
- warm ``daily --json`` (median of 7) and its peak RSS; ``statusline`` with a hook JSON on stdin
  right after a one-line append (median of 11);
- the server: fresh answers of every report endpoint over distinct parameter sets (the first
  request after a one-line append, p50/p99), cached answers (the same request repeated), refresh
  work, SSE latency, how soon a line another process (the status line) read first is served and
  pushed, and the server's peak RSS.

Corpora, indexes and the ccusage install live under a temp dir (free disk is checked first) and
are removed afterwards unless --keep.

    python benchmarks/run.py --quick                       # tiny corpora, a smoke test (~2 min)
    python benchmarks/run.py --shapes dense --requests 250k
    python benchmarks/run.py --shapes heavy,dense --sizes 100MB,1GB --requests 250k,1M
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_ccusage import Ccusage, total_tokens  # noqa: E402
from bench_procs import Run, claude_usage_command, run_measured  # noqa: E402
from bench_queries import ENDPOINTS, discover, parameter_sets  # noqa: E402
from bench_report import print_corpus  # noqa: E402
from bench_server import Events, Server, Transcript, log  # noqa: E402
from corpus import parse_count, parse_size  # noqa: E402

# (comparison, limit, unit) per figure: DESIGN section 10 and issue 11. The fresh-answer, warm
# daily and status-line targets are stated at 1M requests; the others hold for every corpus.
TARGETS = {
    "cold_ratio": (">=", 1.0, "ratio"),  # ccusage's wall time / ours, both on the same files
    "rss_mb": ("<", 300, "MB"),
    "bytes_per_request": ("<=", 200, "B/request"),
    "daily_s": ("<", 0.25, "s"),
    "statusline_ms": ("<", 100, "ms"),
    "fresh_p50_ms": ("<", 20, "ms"),
    "fresh_p99_ms": ("<", 100, "ms"),
    "refresh_ms": ("<", 20, "ms"),
    "visible_s": ("<", 1.0, "s"),
}
DENSE_BYTES_PER_REQUEST = 4_900  # what corpus_dense writes, for the disk check


@dataclass
class Settings:
    """How many runs, trials and parameter sets; ``--quick`` makes all of them small."""

    params: int = 50
    cold_runs: int = 3
    warm_runs: int = 7
    statusline_runs: int = 11
    sse_trials: int = 7
    refresh_trials: int = 11
    other_trials: int = 5
    visible_timeout: float = 10.0
    pickup_timeout: float = 60.0
    ready_timeout: float = 3600.0


QUICK = Settings(params=5, warm_runs=5, statusline_runs=5, sse_trials=3, refresh_trials=3, other_trials=2, visible_timeout=2.0)


@dataclass
class Spec:
    """One corpus to measure."""

    shape: str
    label: str
    size: int | None = None
    requests: int | None = None

    @property
    def estimated_bytes(self) -> int:
        """The corpus size to expect (for the disk check)."""
        return self.size if self.shape == "heavy" else self.requests * DENSE_BYTES_PER_REQUEST


def plan(args: argparse.Namespace) -> list[Spec]:
    """The corpora the flags ask for: tool-heavy ones by size, request-dense ones by count."""
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = set(shapes) - {"heavy", "dense"}
    if unknown:
        sys.exit(f"unknown shape(s): {', '.join(sorted(unknown))} (use heavy, dense)")
    specs = []
    if "heavy" in shapes:
        specs += [Spec("heavy", s.strip(), size=parse_size(s)) for s in args.sizes.split(",") if s.strip()]
    if "dense" in shapes:
        specs += [Spec("dense", f"{r.strip()} requests", requests=parse_count(r)) for r in args.requests.split(",") if r.strip()]
    return specs


def check_disk(work: Path, specs: list[Spec], keep: bool) -> None:
    """Abort with a clear message when the work dir lacks the room: a corpus, its indexes
    (up to a few per corpus) and a margin; all corpora at once with --keep."""
    sizes = [2 * spec.estimated_bytes + (256 << 20) for spec in specs]
    needed = sum(sizes) if keep else max(sizes)
    free = shutil.disk_usage(work).free
    if free < needed:
        sys.exit(f"not enough free disk in {work}: {free / 1e9:.1f} GB free, about {needed / 1e9:.1f} GB needed "
                 f"(corpora {'all kept' if keep else 'one at a time'}); use --workdir elsewhere or smaller corpora")


def generate(spec: Spec, folder: Path) -> dict:
    """Write the corpus with ``corpus.py`` in another process (this one stays small)."""
    args = [sys.executable, str(Path(__file__).parent / "corpus.py"), "--shape", spec.shape, "--out", str(folder)]
    args += ["--size", str(spec.size)] if spec.shape == "heavy" else ["--requests", str(spec.requests)]
    began = time.perf_counter()
    made = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    made.update(label=spec.label, gen_s=time.perf_counter() - began)
    return made


def product_env(index: Path, cache: Path) -> dict:
    """The environment of every claude-usage process: this index, a private cache dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CLAUDE_CONFIG_DIR", "PROJECTS_PATH")}
    env.update(CLAUDE_USAGE_INDEX=str(index), CLAUDE_USAGE_CACHE=str(cache))
    return env


def _remove_index(index: Path) -> None:
    """Delete an index file and its SQLite companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)


def cold_builds(corpus: Path, work: Path, runs: int, ccusage: Ccusage) -> tuple[list[Run], list[Run], Path]:
    """``runs`` cold builds, each on a fresh index, interleaved with ccusage's runs on the same
    files. Returns our runs, ccusage's runs and the last (kept) index."""
    os.sync()  # the generator's dirty pages are written out first, so that no run pays for it
    ours, theirs, index = [], [], work / "index-0.sqlite"
    for number in range(runs):
        if number:
            _remove_index(index)
        index = work / f"index-{number}.sqlite"
        log(f"cold build {number + 1}/{runs}")
        run = run_measured(claude_usage_command() + ["daily", "--json", "--data-dir", str(corpus)], product_env(index, work / "cache"))
        if run.code != 0:
            raise RuntimeError(f"claude-usage daily --json exited with {run.code}: {run.stderr.strip()[-500:]}")
        ours.append(run)
        if ccusage.available:
            log(f"ccusage run {number + 1}/{runs}")
            theirs.append(ccusage.run(corpus))
    return ours, theirs, index


def _product_totals(run: Run) -> dict:
    """The ``totals`` of a ``daily --json`` output (empty when it has none)."""
    try:
        return json.loads(run.stdout)["totals"]
    except (ValueError, KeyError, TypeError):
        return {}


def cli_figures(corpus: Path, env: dict, settings: Settings, transcript: Transcript) -> dict:
    """Warm ``daily --json`` and ``statusline`` (unchanged data, and right after an append)."""
    log("warm daily --json")
    daily = [run_measured(claude_usage_command() + ["daily", "--json", "--data-dir", str(corpus)], env) for _ in range(settings.warm_runs)]
    statusline = claude_usage_command() + ["statusline", "--data-dir", str(corpus)]
    log("statusline")
    unchanged = [run_measured(statusline, env, stdin_text=transcript.hook(), sample=None) for _ in range(settings.statusline_runs)]
    appended = []
    for _ in range(settings.statusline_runs):
        transcript.append()
        appended.append(run_measured(statusline, env, stdin_text=transcript.hook(), sample=None))
    failed = [run for run in daily + unchanged + appended if run.code != 0]
    if failed:
        raise RuntimeError(f"a warm command exited with {failed[0].code}: {failed[0].stderr.strip()[-500:]}")
    return {"daily": {"walls": [r.wall for r in daily], "rss_kb": max(r.rss_kb for r in daily), "tree_kb": max(r.tree_kb for r in daily)},
            "statusline": {"unchanged": [r.wall for r in unchanged], "append": [r.wall for r in appended],
                           "rss_kb": max(r.rss_kb for r in appended)}}


def server_figures(corpus: Path, env: dict, work: Path, settings: Settings, transcript: Transcript) -> dict:
    """Everything measured through HTTP against one ``claude-usage serve``."""
    server = Server(corpus, env, work / "server.log", transcript)
    try:
        log("server: waiting until ready")
        result = {"ready_s": server.wait_ready(settings.ready_timeout), "probe": server.probe}
        result["first_append"] = server.first_append(settings.pickup_timeout)
        keys = discover(server.http.json)
        sets = {endpoint: parameter_sets(endpoint, keys, settings.params) for endpoint in ENDPOINTS}
        log(f"server: fresh and cached answers, {sum(map(len, sets.values()))} parameter sets")
        result["endpoints"] = server.fresh_and_cached(sets, settings.pickup_timeout)
        events = Events(server.port)
        try:
            log("server: SSE and refresh")
            result["sse"] = server.sse_and_watcher(events, settings.sse_trials, settings.pickup_timeout)
            result["post"] = server.post_refresh(settings.refresh_trials, settings.pickup_timeout)
            log("server: changes read by another process")
            result["race"] = server.other_process(events, settings.other_trials, settings.visible_timeout, paused=False)
            result["paused"] = server.other_process(events, settings.other_trials, settings.visible_timeout, paused=True)
            result["drift"] = server.drift()
        finally:
            events.close()
    except Exception as error:
        raise RuntimeError(f"{type(error).__name__}: {error} ({server.state()}; "
                           f"connection incidents: {server.http.incidents[-5:]})") from error
    finally:
        peaks = server.stop()
    result.update(peaks, incidents=server.http.incidents)
    return result


def bench(spec: Spec, work: Path, settings: Settings, ccusage: Ccusage, skip_server: bool) -> dict:
    """All figures for one corpus (``error`` says what stopped the measurement, if anything)."""
    corpus = work / "corpus"
    log(f"generating the {spec.shape} corpus ({spec.label})")
    result = {"corpus": generate(spec, corpus), "settings": asdict(settings)}
    try:
        ours, theirs, index = cold_builds(corpus, work, settings.cold_runs, ccusage)
        totals = _product_totals(ours[-1])
        result.update(product_requests=totals.get("requests"), product_tokens=totals.get("totalTokens"))
        result["cold"] = {"walls": [r.wall for r in ours], "rss_kb": max(r.rss_kb for r in ours), "tree_kb": max(r.tree_kb for r in ours)}
        result["ccusage"] = {"note": ccusage.note}
        if theirs:
            failed = [r for r in theirs if r.code != 0]
            if failed:
                result["ccusage"]["note"] = f"ccusage exited with {failed[0].code}: {failed[0].stderr.strip()[-200:]}"
            else:
                result["ccusage"].update(walls=[r.wall for r in theirs], rss_kb=max(r.rss_kb for r in theirs),
                                         tree_kb=max(r.tree_kb for r in theirs), tokens=total_tokens(theirs[-1]))
        result["store_bytes"] = sum(Path(f"{index}{s}").stat().st_size for s in ("", "-wal") if Path(f"{index}{s}").exists())
        env = product_env(index, work / "cache")
        transcript = Transcript(corpus)
        result.update(cli_figures(corpus, env, settings, transcript))
        if not skip_server:
            result["server"] = server_figures(corpus, env, work, settings, transcript)
    except Exception as error:  # one corpus failing must not hide the others' figures
        result["error"] = f"{type(error).__name__}: {error}"
    return result


def main() -> None:
    """Parse the flags, check the disk, install ccusage, then measure and print each corpus."""
    parser = argparse.ArgumentParser(description="claude-usage benchmark (prints figures; asserts nothing)")
    parser.add_argument("--shapes", default="heavy,dense", help="corpus shapes: heavy (tool-heavy), dense (request-dense)")
    parser.add_argument("--sizes", default=None, help="tool-heavy corpus sizes (default 100MB,1GB)")
    parser.add_argument("--requests", default=None, help="request-dense corpus request counts (default 250k,1M)")
    parser.add_argument("--params", type=int, default=None, help="distinct parameter sets per endpoint (default 50)")
    parser.add_argument("--quick", action="store_true", help="tiny corpora and few runs: a smoke test of the benchmark")
    parser.add_argument("--no-ccusage", action="store_true", help="skip the ccusage comparison")
    parser.add_argument("--no-server", action="store_true", help="only the CLI figures")
    parser.add_argument("--workdir", type=Path, default=None, help="where corpora go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the corpora, indexes and the ccusage install")
    parser.add_argument("--json", action="store_true", help="also print all figures as JSON")
    args = parser.parse_args()
    settings = QUICK if args.quick else Settings()
    if args.params:
        settings.params = args.params
    args.sizes = args.sizes or ("10MB" if args.quick else "100MB,1GB")
    args.requests = args.requests or ("10k" if args.quick else "250k,1M")
    specs = plan(args)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    check_disk(args.workdir or Path(tempfile.gettempdir()), specs, args.keep)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="claude-usage-bench-"))
    print(f"claude-usage benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {' '.join(claude_usage_command())}, "
          f"work dir {work}", flush=True)
    results = []
    try:
        ccusage = Ccusage(None, [], "ccusage comparison turned off (--no-ccusage)") if args.no_ccusage else Ccusage.install(work / "ccusage")
        print(f"ccusage: {ccusage.note}", flush=True)
        for number, spec in enumerate(specs):
            folder = work / f"{number}-{spec.shape}"
            folder.mkdir(parents=True, exist_ok=True)
            results.append(bench(spec, folder, settings, ccusage, args.no_server))
            print_corpus(results[-1], TARGETS)
            sys.stdout.flush()
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
