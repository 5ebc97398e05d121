"""Printing the figures of one corpus: a table of our figure, the target, ccusage's figure and
the ratio where there is one, and a table of fresh and cached answers per endpoint.

A verdict column says whether a figure meets its target; it is printed, never asserted.
"""

from __future__ import annotations

import math
import operator
import statistics

_OPS = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt}


def median(values: list) -> float | None:
    """The median of the values that are not None (None when there are none)."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def p99(values: list) -> float | None:
    """The 99th percentile, nearest rank (with 50 values: the slowest)."""
    values = sorted(v for v in values if v is not None)
    return values[max(0, math.ceil(0.99 * len(values)) - 1)] if values else None


def ms(value: float | None, digits: int = 1) -> str:
    """Seconds shown as milliseconds."""
    return "-" if value is None else f"{value * 1000:,.{digits}f} ms"


def secs(value: float | None) -> str:
    """Seconds, with three decimals below 1 s."""
    return "-" if value is None else f"{value:,.{3 if value < 1 else 2}f} s"


def mb(kb: float | None) -> str:
    """KB shown as MB (one decimal below 10 MB)."""
    return "-" if not kb else f"{kb / 1024:,.{1 if kb < 10 * 1024 else 0}f} MB"


def target_text(targets: dict, key: str) -> str:
    """``< 300 MB``; a ratio reads ``ratio >= 1.0``."""
    op, value, unit = targets[key]
    return f"ratio {op} {value:.1f}" if unit == "ratio" else f"{op} {value:g} {unit}"


def verdict(targets: dict, key: str, value: float | None) -> str:
    """``met`` / ``MISSED`` for a figure in the target's unit (blank when there is no figure)."""
    if value is None:
        return ""
    op, limit, _unit = targets[key]
    return "met" if _OPS[op](value, limit) else "MISSED"


def print_table(rows: list[list[str]], indent: str = "  ") -> None:
    """Rows of cells, columns aligned (the first row is the header)."""
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(max(map(len, rows)))]
    for number, row in enumerate(rows):
        print(indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if number == 0:
            print(indent + "  ".join("-" * width for width in widths))


def _spread(values: list[float], show) -> str:
    """The median and the range of a few runs."""
    if not values:
        return "-"
    if len(values) == 1:
        return show(values[0])
    low, high = (show(v).rsplit(" ", 1)[0] for v in (min(values), max(values)))
    return f"{show(median(values))} ({low}-{high})"


def _visibility(values: list, timeout: float) -> tuple[str, float | None]:
    """Text (median, worst, misses) and the worst value (inf when one was never seen)."""
    seen = [v for v in values if v is not None]
    missed = len(values) - len(seen)
    if not seen:
        return f"never within {timeout:g} s ({missed} of {missed})", math.inf
    text = f"median {secs(median(seen))}, worst {secs(max(seen))}"
    if missed:
        text += f"; not within {timeout:g} s in {missed} of {len(values)}"
    return text, math.inf if missed else max(seen)


def print_corpus(r: dict, targets: dict) -> None:
    """Everything measured on one corpus."""
    c = r["corpus"]
    counted = r.get("product_requests")
    check = "" if counted is None else (f"; claude-usage counted {counted:,}" + ("" if counted == c["requests"] else " (DIFFERENT)"))
    print(f"\n== {c['shape']} {c['label']}: {c['bytes'] / 1e6:,.0f} MB in {c['files']:,} transcripts, "
          f"{c['requests']:,} distinct requests written{check} (generated in {c['gen_s']:.0f} s)")
    rows = [["measure", "claude-usage", "target", "ccusage", "ratio", "verdict"]]
    if "statusline" in r:
        rows += _cli_rows(r, targets)
    if "server" in r:
        rows += _server_rows(r["server"], targets, r["settings"])
    if len(rows) > 1:
        print_table(rows)
    if r.get("error"):
        print(f"  FAILED (the figures above are all that was measured): {r['error']}")
    cc = r.get("ccusage") or {}
    if cc and not cc.get("walls"):
        print(f"  ccusage: {cc.get('note')}")
    if cc.get("tokens") is not None and r.get("product_tokens"):
        diff = (cc["tokens"] - r["product_tokens"]) / r["product_tokens"] * 100
        print(f"  same data read: total tokens claude-usage {r['product_tokens']:,}, ccusage {cc['tokens']:,} ({diff:+.2f}%)")
    if "server" in r:
        _print_endpoints(r["server"], targets)


def _cli_rows(r: dict, targets: dict) -> list[list[str]]:
    """Cold build, store size, warm daily, status line."""
    c, cold, cc, runs = r["corpus"], r["cold"], r.get("ccusage") or {}, r["settings"]
    ours, theirs = median(cold["walls"]), median(cc.get("walls", []))
    ratio = theirs / ours if ours and theirs else None
    mega = c["bytes"] / 1e6
    rows = [[f"cold build: daily --json, empty index (median of {len(cold['walls'])})", _spread(cold["walls"], secs),
             target_text(targets, "cold_ratio"), _spread(cc.get("walls", []), secs) if theirs else "skipped",
             f"{ratio:.2f}" if ratio else "-", verdict(targets, "cold_ratio", ratio)],
             ["  throughput", f"{mega / ours:,.0f} MB/s, {c['requests'] / ours:,.0f} req/s", "", 
              f"{mega / theirs:,.0f} MB/s, {c['requests'] / theirs:,.0f} req/s" if theirs else "", "", ""],
             ["  peak RSS, process tree (main process)", f"{mb(cold['tree_kb'])} ({mb(cold['rss_kb'])})", target_text(targets, "rss_mb"),
              f"{mb(cc.get('tree_kb'))}" if theirs else "", "", verdict(targets, "rss_mb", cold["tree_kb"] / 1024)]]
    per = r["store_bytes"] / c["requests"]
    rows.append(["store: index + -wal after the build", f"{mb(r['store_bytes'] / 1024)} = {per:,.0f} B/request",
                 target_text(targets, "bytes_per_request"), "", "", verdict(targets, "bytes_per_request", per)])
    daily = median(r["daily"]["walls"])
    rows.append([f"warm daily --json (median of {len(r['daily']['walls'])})", _spread(r["daily"]["walls"], secs),
                 target_text(targets, "daily_s"), f"{secs(theirs)} (no index)" if theirs else "",
                 f"{theirs / daily:.2f}" if theirs else "", verdict(targets, "daily_s", daily)])
    rows.append(["  peak RSS of a warm CLI command, tree", mb(r["daily"]["tree_kb"]), target_text(targets, "rss_mb"), "", "",
                 verdict(targets, "rss_mb", r["daily"]["tree_kb"] / 1024)])
    line = median(r["statusline"]["append"])
    rows.append([f"statusline after a one-line append (median of {runs['statusline_runs']})", _spread(r["statusline"]["append"], ms),
                 target_text(targets, "statusline_ms"), "", "", verdict(targets, "statusline_ms", line * 1000)])
    rows.append(["  statusline, data unchanged", _spread(r["statusline"]["unchanged"], ms), "", "", "", ""])
    return rows


def _server_rows(s: dict, targets: dict, runs: dict) -> list[list[str]]:
    """Server start, fresh and cached answers (summed up), refresh, SSE, other process, RSS."""
    first, appends = s["first_append"]
    rows = [["server ready (warm index)", secs(s["ready_s"]), "", "", "", ""],
            ["  then an append served after (untimed warm-up)", ("not within the wait" if first is None else secs(first))
             + (f"; {appends} appends, one every 2 s, were needed" if appends > 1 else ""), "", "", "", ""]]
    fresh = {e: v for e, v in s["endpoints"].items() if v["fresh"]}
    if fresh:
        worst50 = max(fresh, key=lambda e: median(fresh[e]["fresh"]))
        worst99 = max(fresh, key=lambda e: p99(fresh[e]["fresh"]))
        f50, f99 = median(fresh[worst50]["fresh"]), p99(fresh[worst99]["fresh"])
        rows.append(["fresh answers: worst p50 over endpoints", f"{ms(f50)} ({worst50})", target_text(targets, "fresh_p50_ms"), "", "",
                     verdict(targets, "fresh_p50_ms", f50 * 1000)])
        rows.append(["fresh answers: worst p99 over endpoints", f"{ms(f99)} ({worst99})", target_text(targets, "fresh_p99_ms"), "", "",
                     verdict(targets, "fresh_p99_ms", f99 * 1000)])
        c50 = max(median(v["cached"]) for v in fresh.values())
        c99 = max(p99(v["cached"]) for v in fresh.values())
        rows.append(["cached answers (a repeat): worst p50 / p99", f"{ms(c50, 2)} / {ms(c99, 2)}", "", "", "", ""])
    watcher = median(s["sse"]["watcher_seconds"])
    rows.append([f"refresh work after a 1-line append (lastRefresh, median of {len(s['sse']['watcher_seconds'])})", ms(watcher),
                 target_text(targets, "refresh_ms"), "", "", verdict(targets, "refresh_ms", None if watcher is None else watcher * 1000)])
    posts = s["post"]
    did = sum(1 for n in posts["changed"] if n)
    rows.append(["  POST /api/v2/refresh at once: seconds / wall", f"{ms(median(posts['seconds']))} / {ms(median(posts['wall']))} "
                 f"(it read the line in {did} of {len(posts['changed'])})", "", "", "", ""])
    timeout = runs["visible_timeout"]
    for title, key, values in (("SSE update after a 1-line append", "sse", s["sse"]["sse"]),
                               ("append, then statusline at once: in /summary", "race", s["race"]["visible"]),
                               ("  ... and its SSE update", "race", s["race"]["sse"]),
                               ("statusline read it, server paused: in /summary", "paused", s["paused"]["visible"]),
                               ("  ... and its SSE update", "paused", s["paused"]["sse"])):
        text, worst = _visibility(values, timeout)
        rows.append([title, text, target_text(targets, "visible_s"), "", "", verdict(targets, "visible_s", worst)])
    served, stored = s["drift"]
    rows.append(["requests served vs in the store (other CLI), at the end", f"{served:,} vs {stored:,}"
                 + ("" if served == stored else f" (the server misses {stored - served:,})" if stored > served else ""), "", "", "", ""])
    if s.get("incidents"):
        rows.append(["connection incidents (retried, untimed)", f"{len(s['incidents'])}; first: {s['incidents'][0]}", "", "", "", ""])
    rows.append(["server peak RSS, process tree (main process)", f"{mb(s['tree_kb'])} ({mb(s['rss_kb'])})",
                 target_text(targets, "rss_mb"), "", "", verdict(targets, "rss_mb", s["tree_kb"] / 1024)])
    return rows


def _print_endpoints(s: dict, targets: dict) -> None:
    """Fresh and cached answers per endpoint."""
    print(f"  fresh = the first request after a one-line append (the wait for the server to pick it up via "
          f"/api/{'health records' if s['probe'] == 'health' else 'v2/summary'} is not timed); cached = the same request at once again; "
          f"targets p50 {target_text(targets, 'fresh_p50_ms')}, p99 {target_text(targets, 'fresh_p99_ms')}")
    rows = [["endpoint", "sets", "fresh p50", "fresh p99", "cached p50", "cached p99", "HTTP status", "unseen"]]
    for endpoint, v in s["endpoints"].items():
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(v["status"].items()))
        rows.append([f"/api/v2/{endpoint}", str(len(v["fresh"])), ms(median(v["fresh"])), ms(p99(v["fresh"])),
                     ms(median(v["cached"]), 2), ms(p99(v["cached"]), 2), statuses, str(v["unseen"] or "")])
    print_table(rows, indent="    ")
