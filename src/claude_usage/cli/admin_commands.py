"""Commands about the data and the prices rather than the usage: doctor and prices."""

from __future__ import annotations

from claude_usage import __version__
from claude_usage.cli.common import (
    DATA_OPTIONS,
    Common,
    app,
    err,
    fail,
    out,
    print_json,
    report_view,
    with_options,
)
from claude_usage.cli.usage_commands import diagnostics_dict

_LABELS = {
    "files": "Transcript files", "bytes": "Bytes read", "lines": "Lines", "usageLines": "Usage lines",
    "requests": "Requests (deduplicated)", "duplicateLines": "Duplicate lines merged",
    "syntheticLines": "Synthetic lines skipped", "malformedLines": "Malformed lines skipped",
    "nonObjectLines": "Non-object lines skipped", "blankLines": "Blank lines",
    "partialTailLines": "Half-written last lines", "unreadableFiles": "Unreadable files",
    "placeholderOutputRequests": "Placeholder output counts", "fastUnpricedRequests": "Fast requests at standard price",
    "skippedFiles": "Not regular files (skipped)", "deepLines": "Lines nested too deeply (read in part)",
    "oversizedLines": "Lines over 64 MiB (skipped)", "invalidUsageLines": "Impossible usage lines (skipped)",
}


@app.command()
@with_options("json", *DATA_OPTIONS)
def doctor(opts: Common) -> None:
    """Show where data was looked for and found, and what was read, merged and skipped."""
    from claude_usage import limits_report, reports
    from claude_usage.render import key_value_table, warn_pricing
    from claude_usage.render_listings import cost_mismatch_table
    from claude_usage.reports import Query
    from claude_usage.sources.discovery import NoDataError, RootError, resolve_roots
    from claude_usage.store import facts

    tried: list[str] = []
    if not opts.demo:
        try:
            tried = [str(p) for p in resolve_roots(opts.data_dir, opts.projects_path).tried]
        except (RootError, NoDataError):
            pass  # report_view() below reports it with the right exit code
    with report_view(opts) as (view, source):
        store_check = _deep_check(source.store)
        total = reports.overall(view, Query(zone="UTC", mode="calculate"))
        diagnostics = diagnostics_dict(facts.diagnostics(view))
        warnings = facts.warnings(view)
        price_version = facts.price_version(view)
        observed = len(limits_report.observed_sessions(view))
        compared, mismatches = limits_report.cost_mismatches(view, Query(zone="UTC"))
    roots = [str(root.projects_dir) for root in source.roots]
    if opts.json:
        print_json({
            **diagnostics,
            "roots": roots,
            "rootsTried": tried or roots,
            "unpricedModels": sorted(total.unpriced_models),
            "fastUnpricedModels": sorted(total.fast_unpriced_models),
            "warnings": warnings,
            "priceDataVersion": price_version,
            "indexCheck": store_check,
            "claudeCodeCosts": {"observedSessions": observed, "comparedSessions": compared,
                                "tolerancePercent": limits_report.COST_TOLERANCE * 100, "mismatches": mismatches},
            "version": __version__,
        })
        return
    items = [("Roots tried", "\n".join(tried or roots)), ("Roots found", "\n".join(roots))]
    items += [(label, f"{diagnostics[name]:,}") for name, label in _LABELS.items()]
    items.append(("Unpriced models", ", ".join(sorted(total.unpriced_models)) or "none"))
    items.append(("Price data", price_version))
    items.append(("Index check", store_check))
    items.append(("Claude Code costs", _reconciliation_text(observed, compared, mismatches)))
    out.print(key_value_table(f"claude-usage {__version__} doctor", items, out.width))
    if mismatches:
        out.print(cost_mismatch_table(mismatches, out.width))
    warn_pricing(err, total)


def _reconciliation_text(observed: int, compared: int, mismatches: list[dict]) -> str:
    """One line on the sessions whose cost Claude Code passed to the status line: how many were
    recorded, how many of them these transcripts hold (compared), how many differ."""
    from claude_usage.formats import plural

    if not observed:
        return "none recorded (the status line records them: claude-usage statusline)"
    recorded = f"{plural(observed, 'session')} recorded"
    if not compared:
        return f"{recorded}, none of them in these transcripts: nothing to compare"
    if not mismatches:
        return f"{recorded}; {compared} compared, every one within 5% of ours"
    verb = "differs" if len(mismatches) == 1 else "differ"
    return f"{recorded}; {compared} compared, {len(mismatches)} {verb} from ours by more than 5% (below)"


def _deep_check(store) -> str:
    """Every kept request row against the rollups: ``ok``, or what is wrong (the store is then
    rebuilt from the transcripts, with a notice, by the next command)."""
    import sqlite3

    try:
        problem = store.check(level="deep")
    except sqlite3.DatabaseError as error:
        problem = str(error)
    if problem is None:
        return "ok"
    store.rebuild(f"it is damaged ({problem})")
    return f"damaged ({problem}): rebuilt; the next command reads the transcripts again"


@app.command()
@with_options("json", "prices")
def prices(opts: Common) -> None:
    """The price data in use: the genai-prices version, the price corrections shipped with
    claude-usage (fast mode, US-only inference) and the models of your --prices file."""
    from claude_usage.pricing import PriceOverrideError, Pricer, load_price_overrides
    from claude_usage.pricing_corrections import PriceCorrectionError, prices_document
    from claude_usage.render_listings import corrections_table

    try:
        document = prices_document(Pricer(load_price_overrides(opts.prices) if opts.prices else None))
    except (PriceOverrideError, PriceCorrectionError) as error:
        fail(str(error))
    if opts.json:
        print_json(document)
        return
    out.print(f"Price data: {document['priceData']} (version stored with costs: {document['version']})")
    out.print(corrections_table(f"Price corrections in force ({document['correctionsFile']})", document["corrections"], out.width))
    if document["overrides"]:
        out.print(f"Your --prices file names: {', '.join(document['overrides'])} (used as given for these models).")
