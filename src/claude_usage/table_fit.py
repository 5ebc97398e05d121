"""Terminal tables that fit the terminal without cutting a number (issue 14).

Every table of the CLI is laid out here. Columns are kept by rank: when the table is too wide,
empty columns go first, then the columns of lowest rank, one at a time; the row key and the
cost (:data:`REQUIRED`) are never dropped. A number is never cut nor wrapped: its column keeps
the width of its longest cell and header. Text columns marked ``wrap`` (names, paths, titles)
wrap after separators (``/``, ``-``, ``_``, ``.``, spaces), never inside a word that fits; they
keep at least ``want`` characters before another column is dropped for them.

Width rule (Rich's default box, padding 1): a table of column widths ``w`` takes
``sum(w) + 3 * len(w) + 1`` characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

REQUIRED = 1000  # the rank of columns never dropped (the row key, the cost)
COMPACT_RANK = 90  # with --compact, only columns of this rank or more are shown
WANT = 24  # a wrapping column's default narrowest width before other columns are dropped
# A cell may break after a path separator, a dash, an underscore or a space, and after a dot or
# a comma that does not stand inside a number (``200,000`` and ``2.1.97`` stay whole).
_BREAK_AFTER = re.compile(r"(?<=[/\\\-_\s])|(?<=[.,])(?=\D)")


@dataclass
class Column:
    """A column: its ``header``, ``justify`` (``left``/``right``), ``rank`` (higher is kept
    longer; :data:`REQUIRED` is never dropped), ``wrap`` (text that may wrap after separators)
    and ``want`` (for a wrapping column, the width it keeps before other columns are dropped;
    default the smaller of its natural width and :data:`WANT`). ``keep_empty`` keeps a column
    whose cells are all empty; columns of one ``group`` (input and output, the two cache
    columns) are dropped together."""

    header: str
    justify: str = "left"
    rank: int = 0
    wrap: bool = False
    want: int | None = None
    keep_empty: bool = False
    group: str | None = None


@dataclass
class Row:
    """A row's cells (strings, one per column), its Rich ``style``, whether a rule
    (``section``) comes before it (the totals row), and the style of single cells (``styles``:
    column index -> style, e.g. a high error rate in red)."""

    cells: list[str]
    style: str | None = None
    section: bool = False
    styles: dict[int, str] = field(default_factory=dict)


@dataclass
class Layout:
    """The columns shown (indexes into the given columns) and their widths."""

    shown: list[int] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)


def pieces(text: str) -> list[str]:
    """``text`` cut after its separators: the parts a wrapped cell may break between."""
    return [part for part in _BREAK_AFTER.split(text) if part]


def wrap(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken after separators; a part
    longer than a line is folded (the only case a word is cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for part in pieces(paragraph):
            while len(part) > width:  # a part longer than a line: fold it
                if line:
                    lines.append(line.rstrip())
                    line = ""
                lines.append(part[:width])
                part = part[width:]
            if len((line + part).rstrip()) > width:
                lines.append(line.rstrip())
                line = part.lstrip()
            else:
                line += part
        lines.append(line.rstrip())
    return "\n".join(lines)


def _natural(column: Column, cells: list[str]) -> int:
    return max([len(column.header)] + [len(line) for cell in cells for line in cell.split("\n")])


def _narrowest(column: Column, cells: list[str]) -> int:
    """The narrowest width of a wrapping column: its longest part (header words included),
    at most 16 (longer parts fold)."""
    parts = [len(part.rstrip()) for cell in [column.header, *cells] for part in pieces(cell)]
    return max(4, min(16, max(parts or [4])))


def layout(columns: Sequence[Column], rows: Sequence[Row], width: int, compact: bool = False) -> Layout:
    """Which columns fit in ``width`` characters and how wide each is (see the module
    docstring); ``compact`` keeps only columns of rank :data:`COMPACT_RANK` or more."""
    cells = [[row.cells[i] for row in rows] for i in range(len(columns))]
    natural = [_natural(c, cells[i]) for i, c in enumerate(columns)]
    narrowest = [_narrowest(c, cells[i]) if c.wrap else natural[i] for i, c in enumerate(columns)]
    wanted = [min(natural[i], c.want or WANT) if c.wrap else natural[i] for i, c in enumerate(columns)]
    wanted = [max(w, n) for w, n in zip(wanted, narrowest)]
    shown = [i for i, c in enumerate(columns)
             if (c.keep_empty or c.rank >= REQUIRED or any(cell.strip() for cell in cells[i]))
             and (not compact or c.rank >= COMPACT_RANK)]

    def need(chosen: list[int], sizes: list[int]) -> int:
        return sum(sizes[i] for i in chosen) + 3 * len(chosen) + 1

    droppable = sorted((i for i in shown if columns[i].rank < REQUIRED), key=lambda i: (columns[i].rank, -i))
    while need(shown, wanted) > width and droppable:
        first = droppable.pop(0)
        group = columns[first].group
        gone = {first} | ({i for i in droppable if columns[i].group == group} if group else set())
        shown = [i for i in shown if i not in gone]
        droppable = [i for i in droppable if i not in gone]
    sizes = {i: wanted[i] for i in shown}
    if need(shown, wanted) > width:  # only the required columns are left: wrap them tighter
        for i in sorted((i for i in shown if columns[i].wrap), key=lambda i: -columns[i].rank):
            over = sum(sizes.values()) + 3 * len(shown) + 1 - width
            if over <= 0:
                break
            sizes[i] = max(narrowest[i], sizes[i] - over)
    spare = width - (sum(sizes.values()) + 3 * len(shown) + 1)
    # The spare width goes first to the columns that need least to be whole (fewest lines).
    for i in sorted((i for i in shown if columns[i].wrap), key=lambda i: (natural[i] - sizes[i], -columns[i].rank)):
        grow = min(spare, natural[i] - sizes[i])
        if grow > 0:
            sizes[i] += grow
            spare -= grow
    return Layout(shown, [sizes[i] for i in shown])


def fitted_table(title: str | None, columns: Sequence[Column], rows: Sequence[Row], width: int,
                 compact: bool = False) -> Group:
    """A Rich table of ``rows`` that fits ``width`` characters (see :func:`layout`), under its
    title (on a line of its own, wrapped at the terminal's width, not the table's). Cells are
    plain text (no Rich markup is read in them)."""
    chosen = layout(columns, rows, width, compact)
    table = Table(header_style="bold", expand=False)
    for i, size in zip(chosen.shown, chosen.widths):
        column = columns[i]
        header = wrap(column.header, size) if column.wrap else column.header
        table.add_column(header, justify=column.justify, no_wrap=True, width=size, min_width=size)  # type: ignore[arg-type]
    for row in rows:
        if row.section:
            table.add_section()
        shown = []
        for i, size in zip(chosen.shown, chosen.widths):
            cell = row.cells[i]
            shown.append(Text(wrap(cell, size) if columns[i].wrap else cell, style=row.styles.get(i, "")))
        table.add_row(*shown, style=row.style)
    heading = Text(title, style="italic") if title else Text("")
    return Group(heading, table) if title else Group(table)
