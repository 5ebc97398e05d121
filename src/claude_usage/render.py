"""Terminal tables for the CLI (Rich): readable numbers, a totals row, warnings on stderr."""

from __future__ import annotations

import re
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from claude_usage.reports import Totals


def tokens(value: int) -> str:
    """A token count with thousands separators."""
    return f"{value:,}"


def money(value: float | None, partial: bool = False) -> str:
    """USD with 2 decimals; ``n/a`` when unknown; ``*`` marks a sum missing unpriced requests."""
    if value is None:
        return "n/a"
    return f"${value:,.2f}" + ("*" if partial else "")


def short_model(model: str) -> str:
    """A model id for narrow tables: ``claude-sonnet-4-5-20250929`` gives ``sonnet-4-5``."""
    return re.sub(r"-\d{8}$", "", model.removeprefix("claude-"))


def _usage_cells(t: Totals, wide: bool) -> list[str]:
    cost = money(t.known_cost_usd, partial=bool(t.unpriced_requests and t.priced_requests))
    if not wide:
        return [tokens(t.input_tokens), tokens(t.output_tokens), tokens(t.cache_creation_tokens + t.cache_read_tokens), cost]
    return [
        tokens(t.input_tokens),
        tokens(t.output_tokens),
        tokens(t.cache_creation_tokens),
        tokens(t.cache_read_tokens),
        tokens(t.total_tokens),
        cost,
    ]


_WIDE_HEADERS = ("Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Cost (USD)")
_NARROW_HEADERS = ("Input", "Output", "Cache", "Cost (USD)")
WIDE_TABLE_COLUMNS = 130


def usage_table(
    title: str,
    key_header: str,
    rows: Sequence[tuple[str, Totals]],
    total: Totals,
    breakdown: bool = False,
    extra_headers: Sequence[str] = ("Models",),
    extra: Any = None,
    width: int = WIDE_TABLE_COLUMNS,
) -> Table:
    """A table with one row per ``(key, totals)``, optional per-model sub-rows and a totals row.

    ``extra(key, totals)`` gives the cells of ``extra_headers`` (default: the models used).
    Below ``WIDE_TABLE_COLUMNS`` terminal columns the extra columns are dropped and cache
    creation and read are shown as one "Cache" column, so every number stays whole.
    """
    wide = width >= WIDE_TABLE_COLUMNS
    extra_headers = tuple(extra_headers) if wide else ()
    table = Table(title=title, header_style="bold", title_justify="left")
    table.add_column(key_header, no_wrap=True)
    for header in extra_headers:
        table.add_column(header, overflow="fold")
    for header in _WIDE_HEADERS if wide else _NARROW_HEADERS:
        table.add_column(header, justify="right", no_wrap=True)
    describe = extra or (lambda _key, t: [", ".join(short_model(m) for m in sorted(t.models))])
    for key, t in rows:
        table.add_row(str(key), *(describe(key, t) if wide else ()), *_usage_cells(t, wide))
        if breakdown and t.by_model:
            for model, sub in sorted(t.by_model.items()):
                label = f"  └ {model if wide else short_model(model)}"
                table.add_row(label, *[""] * len(extra_headers), *_usage_cells(sub, wide), style="dim")
    table.add_section()
    table.add_row("Total", *[""] * len(extra_headers), *_usage_cells(total, wide), style="bold")
    return table


def warn_unpriced(console: Console, total: Totals) -> None:
    """Name the models without a price on stderr; their cost is excluded, never shown as $0."""
    if total.unpriced_models:
        names = ", ".join(sorted(total.unpriced_models))
        console.print(
            f"[yellow]Warning:[/] no price for {names}; costs exclude their "
            f"{total.unpriced_requests:,} request(s) (marked * or n/a). Add rates with --prices FILE."
        )


def key_value_table(title: str, items: Sequence[tuple[str, str]]) -> Table:
    """A two-column table of labels and values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", overflow="fold")
    for label, value in items:
        table.add_row(label, value)
    return table
