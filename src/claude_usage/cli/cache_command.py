"""``claude-usage cache``: prompt-cache analytics per local day, model or project (issue 15):
the hit ratio, cache reads, the 5m / 1h write mix, what caching saved and what the 1-hour
writes cost extra (:mod:`claude_usage.cache_report`), as a table that fits the terminal or,
with ``--json``, the document of ``GET /api/v2/cache``."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from claude_usage.cli.common import (
    DATA_OPTIONS,
    TEAM_OPTIONS,
    Common,
    app,
    empty_notice,
    err,
    out,
    print_json,
    query_for,
    report_view,
    with_options,
)


class CacheBy(str, Enum):
    day = "day"
    model = "model"
    project = "project"


_HEADERS = {"day": "Date", "model": "Model", "project": "Project"}
NOTE = ("Saved: cache reads at the input rate minus at the cache-read rate. 1h extra: 1h writes minus the same "
        "tokens at the 5m write rate. Hit ratio: read / (input + writes + read).")


def cache_table(title: str, by: str, document: dict[str, Any], width: int = 200, compact: bool = False) -> Any:
    """The rows of a cache document (:func:`claude_usage.cache_report.report_document`) and a
    totals row. The key and the savings are never dropped; on a narrow terminal the input and
    request counts go first, then the writes, the cache reads and the 1h share; the hit ratio
    and the 1h extra stay longest."""
    from claude_usage.formats import percent
    from claude_usage.render import money, tokens
    from claude_usage.table_fit import REQUIRED, Column, Row, fitted_table

    key = {"day": "date", "model": "model", "project": "project"}[by]
    columns = [
        Column(_HEADERS[by], rank=REQUIRED, wrap=True),
        Column("Requests", "right", 20),
        Column("Input", "right", 25),
        Column("Hit ratio", "right", 95),
        Column("Cache read", "right", 60),
        Column("Write 5m", "right", 40, group="writes"),
        Column("Write 1h", "right", 40, group="writes"),
        Column("1h share", "right", 50),
        Column("Saved", "right", REQUIRED),
        Column("1h extra", "right", 90),
    ]

    def cells(label: str, row: dict[str, Any]) -> list[str]:
        partial = bool(row["unpricedRequests"] and row["savedUsd"] is not None)
        return [label, tokens(row["requests"]), tokens(row["inputTokens"]), percent(row["hitRatio"]),
                tokens(row["cacheReadTokens"]), tokens(row["cacheCreation5mTokens"]),
                tokens(row["cacheCreation1hTokens"]), percent(row["oneHourShare"]),
                money(row["savedUsd"], partial), money(row["oneHourExtraUsd"], partial)]

    rows = [Row(cells(str(row[key]), row)) for row in document["data"]]
    rows.append(Row(cells("Total", document["totals"]), "bold", True))
    return fitted_table(title, columns, rows, width, compact)


@app.command()
@with_options("json", "since", "until", "tz", "project", "model", "compact", *DATA_OPTIONS, *TEAM_OPTIONS)
def cache(
    opts: Common,
    by: Annotated[CacheBy, typer.Option("--by", help="One row per local day, model or project.")] = CacheBy.day,
) -> None:
    """Prompt cache: hit ratio, reads, 5m / 1h writes, what caching saved and what 1h writes cost extra."""
    from claude_usage.cache_report import ViewRates, cache_report, report_document
    from claude_usage.filters import short_model
    from claude_usage.formats import plural
    from claude_usage.pricing import Pricer

    with report_view(opts) as (view, source):
        query = query_for(opts, view)
        team = bool(getattr(source.store, "team", False))
        # The embedded store keeps the rates its last refresh resolved; a team store has none.
        pricer = Pricer(source.overrides, store=None if team else ViewRates(view))
        document = report_document(cache_report(view, query, by.value, pricer), query, by.value, view)
    if opts.json:
        print_json(document)
    elif not document["data"]:
        out.print(empty_notice(query))
        return
    else:
        title = f"Prompt cache by {by.value} ({query.clock.name})"
        out.print(cache_table(title, by.value, document, width=out.width, compact=opts.compact))
        note = NOTE
        if document["longContextModels"]:
            names = ", ".join(short_model(m) for m in document["longContextModels"])
            note += f" Requests over a long-context threshold (200k tokens) of {names}: at the base rates."
        out.print(note, style="dim")
    if document["unpricedModels"]:
        total = document["totals"]
        err.print(f"[yellow]Warning:[/] no price for {', '.join(document['unpricedModels'])}; savings exclude their "
                  f"{plural(total['unpricedRequests'], 'request')} (marked * or n/a). Add rates with --prices FILE.")
