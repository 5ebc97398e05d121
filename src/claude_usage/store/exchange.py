"""The portable request format of ``claude-usage export`` and ``claude-usage import`` (issue 15).

One record per deduplicated request (the kept row of each response, DESIGN 4), with every
column of the store's ``requests`` table, lookup ids resolved to names, in time order. Two
encodings of the same records:

- **JSON Lines**: the first line is the header object, then one object per request with the
  fields of :data:`COLUMNS`, in that order.
- **CSV**: the first line is ``# `` followed by the same header object (one line of JSON), the
  second the column names, then one record per request. Unknown costs are empty fields,
  booleans ``true``/``false``.

The header: ``{"format": "claude-usage-requests", "formatVersion": 1, "exportedAt",
"claudeUsageVersion", "priceDataVersion", "since", "timezone", "columns"}``. An import refuses a
file of another ``format`` or a newer ``formatVersion``.

The columns (:class:`ExportRow`): ``key`` (the signed 64-bit hash of the response key:
``message.id``, else the line's uuid, else its hash; the dedupe key), ``time`` (UTC,
``YYYY-MM-DDTHH:MM:SS.ffffffZ``), ``model``, ``project`` (the project key), ``projectPath``
(its real path, "" when unknown), ``session``, ``file`` (the transcript the kept line is in)
and ``line`` (its byte offset), the token counts ``inputTokens``, ``outputTokens``,
``cacheCreation5mTokens``, ``cacheCreation1hTokens``, ``cacheReadTokens``, the counts
``webSearchRequests`` and ``webFetchRequests``, ``costUsd`` (the calculated cost in USD, exact
to the store's 1e-10 USD unit; null when the model has no price) and ``lineCostUsd`` (the
``costUSD`` the line carried, null without one), and the flags as booleans: ``sidechain``,
``fastMode``, ``usInference``, ``placeholderOutput``, ``fastUnpriced``. The store's own row id,
data version and ``kept`` mark are not exported (every exported row is a kept one).
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import IO, Annotated, Any, Iterator

import msgspec

from claude_usage.store.schema import COST_SCALE, FAST, FAST_UNPRICED, GEO_US, PLACEHOLDER, SIDECHAIN

FORMAT = "claude-usage-requests"
FORMAT_VERSION = 1
_MAX = 2**63 - 1
Count = Annotated[int, msgspec.Meta(ge=0, le=_MAX)]
Key = Annotated[int, msgspec.Meta(ge=-_MAX - 1, le=_MAX)]


class ExchangeError(ValueError):
    """A file that is not an export this version can read (the whole file is refused)."""


def _camel(name: str) -> str:
    """``cache_creation_5m_tokens`` -> ``cacheCreation5mTokens`` (the API's field terms)."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


class ExportRow(msgspec.Struct, rename=_camel):
    """One exported request (see the module docstring for each field)."""

    key: Key
    time: str
    model: str
    project: str
    project_path: str
    session: str
    file: str
    line: Count
    input_tokens: Count
    output_tokens: Count
    cache_creation_5m_tokens: Count
    cache_creation_1h_tokens: Count
    cache_read_tokens: Count
    web_search_requests: Count
    web_fetch_requests: Count
    cost_usd: Decimal | None
    line_cost_usd: Decimal | None
    sidechain: bool
    fast_mode: bool
    us_inference: bool
    placeholder_output: bool
    fast_unpriced: bool


COLUMNS = tuple(field.encode_name for field in msgspec.structs.fields(ExportRow))
_COLUMN = dict(zip(ExportRow.__struct_fields__, COLUMNS))  # attribute -> column name
# requests.flags bit -> the boolean field that carries it.
FLAG_FIELDS = (("sidechain", SIDECHAIN), ("fast_mode", FAST), ("us_inference", GEO_US),
               ("placeholder_output", PLACEHOLDER), ("fast_unpriced", FAST_UNPRICED))
_NULLABLE = ("costUsd", "lineCostUsd")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z\Z")
_ROW_DECODER = msgspec.json.Decoder(ExportRow)
_ENCODER = msgspec.json.Encoder(decimal_format="number")


# -- values ----------------------------------------------------------------------------------------

def time_text(ts_us: int) -> str:
    """A UTC instant (microseconds since the epoch) as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    moment = _EPOCH + timedelta(microseconds=ts_us)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}Z"


def time_us(text: str) -> int:
    """The UTC microseconds of a ``time`` value (``Z`` required, 0-6 fraction digits); raises
    ValueError for anything else."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"time {text!r} is not a UTC time like 2025-10-01T12:00:00.000000Z")
    fraction = (match[7] or "").ljust(6, "0")
    moment = datetime(*(int(part) for part in match.groups()[:6]), int(fraction), tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def usd(units: int | None) -> Decimal | None:
    """A cost in store units (1e-10 USD) as an exact decimal USD amount (10 decimals)."""
    if units is None:
        return None
    sign, whole = ("-", -units) if units < 0 else ("", units)
    return Decimal(f"{sign}{whole // COST_SCALE}.{whole % COST_SCALE:010d}")


def units(amount: Decimal | None, name: str) -> int | None:
    """A USD amount in store units (rounded half-even to 1e-10 USD; exact for what
    :func:`usd` wrote); raises ValueError for a negative, infinite or huge amount."""
    if amount is None:
        return None
    try:
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"{name} must be a cost of 0 or more USD, not {amount}")
        value = int((amount * COST_SCALE).to_integral_value(ROUND_HALF_EVEN))
    except InvalidOperation:
        raise ValueError(f"{name} {amount} is not a USD amount") from None
    if value > _MAX:
        raise ValueError(f"{name} {amount} is too large")
    return value


def flags_of(row: ExportRow) -> int:
    """The ``requests.flags`` bits of an exported row's booleans."""
    return sum(bit for name, bit in FLAG_FIELDS if getattr(row, name))


def header(price_version: str, since: str | None, zone: str | None, version: str) -> dict[str, Any]:
    """The header object of an export (see the module docstring)."""
    now = (datetime.now(timezone.utc) - _EPOCH) // timedelta(microseconds=1)
    return {"format": FORMAT, "formatVersion": FORMAT_VERSION, "exportedAt": time_text(now),
            "claudeUsageVersion": version, "priceDataVersion": price_version, "since": since, "timezone": zone,
            "columns": list(COLUMNS)}


# -- writing ---------------------------------------------------------------------------------------

class Writer:
    """Writes an export to a text stream: :meth:`start` with the header, then :meth:`row` per
    request, in ``csv`` or ``jsonl``."""

    def __init__(self, out: IO[str], kind: str):
        if kind not in ("csv", "jsonl"):
            raise ValueError(f"unknown export format {kind!r}: csv or jsonl")
        self.out = out
        self.kind = kind
        self.csv = csv.writer(out, lineterminator="\n") if kind == "csv" else None

    def start(self, head: dict[str, Any]) -> None:
        """The header line (and the CSV column names)."""
        text = json.dumps(head, separators=(",", ":"), ensure_ascii=False)
        if self.csv is None:
            self.out.write(text + "\n")
        else:
            self.out.write("# " + text + "\n")
            self.csv.writerow(COLUMNS)

    def row(self, row: ExportRow) -> None:
        """One request."""
        if self.csv is None:
            self.out.write(_ENCODER.encode(row).decode() + "\n")
            return
        self.csv.writerow([_csv_value(value) for value in msgspec.structs.astuple(row)])


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


# -- reading ---------------------------------------------------------------------------------------

def _check_header(text: str) -> dict[str, Any]:
    try:
        head = json.loads(text)
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ExchangeError("not a claude-usage export: its first line is not the header of `claude-usage export`")
    version = head.get("formatVersion")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ExchangeError(f"written in format version {version!r} by claude-usage {head.get('claudeUsageVersion')}; "
                            f"this version reads format {FORMAT_VERSION} and older: upgrade claude-usage")
    return head


def _problem(error: Exception) -> str:
    return str(error).replace("Object missing required field", "missing field").replace("$.", "")


def read_export(stream: IO[str]) -> tuple[dict[str, Any], str, Iterator[tuple[int, ExportRow | str]]]:
    """The header, the encoding (``csv`` or ``jsonl``, told by the first line) and the
    records of an export opened as text (``newline=""``): ``(line number, row)``, or
    ``(line number, what is wrong)`` for a line that cannot be read (it is skipped). Blank
    lines are ignored. Raises :class:`ExchangeError` when the file is not a readable export."""
    first = stream.readline()
    if first.startswith("# "):
        head = _check_header(first[2:])
        return head, "csv", _csv_records(stream)
    head = _check_header(first)
    return head, "jsonl", _jsonl_records(stream)


def _jsonl_records(stream: IO[str]) -> Iterator[tuple[int, ExportRow | str]]:
    for number, line in enumerate(stream, start=2):
        if not line.strip():
            continue
        try:
            yield number, _valid(_ROW_DECODER.decode(line))
        except msgspec.ValidationError as error:  # (a DecodeError, itself a ValueError)
            yield number, _problem(error)
        except msgspec.DecodeError:
            yield number, "not a JSON object"
        except ValueError as error:
            yield number, _problem(error)


def _csv_records(stream: IO[str]) -> Iterator[tuple[int, ExportRow | str]]:
    reader = csv.reader(stream)
    names = next(reader, None)
    missing = [name for name in COLUMNS if name not in (names or ())]
    if missing:
        raise ExchangeError(f"the CSV header (line 2) lacks the columns {', '.join(missing)}")
    for record in reader:
        number = reader.line_num + 1  # the header object's line comes first
        if not record or record == [""]:
            continue
        if len(record) != len(names):
            yield number, f"{len(record)} fields, the header names {len(names)}"
            continue
        fields: dict[str, Any] = dict(zip(names, record))
        for name in _NULLABLE:
            if fields[name] == "":
                fields[name] = None
        try:
            yield number, _valid(msgspec.convert(fields, ExportRow, strict=False))
        except (msgspec.ValidationError, ValueError) as error:
            yield number, _problem(error)


def _valid(row: ExportRow) -> ExportRow:
    """``row`` when its text fields are usable (raises ValueError naming the field)."""
    time_us(row.time)
    for name in ("model", "project", "session", "file"):
        if not getattr(row, name):
            raise ValueError(f"{_COLUMN[name]} is empty")
    units(row.cost_usd, "costUsd")
    units(row.line_cost_usd, "lineCostUsd")
    return row
