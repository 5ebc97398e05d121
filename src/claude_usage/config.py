"""The user's settings file (issue 15): the plan, the budgets and the alerts, in TOML.

The file is ``config.toml`` in the user config dir (:func:`claude_usage.paths.config_dir`:
``$CLAUDE_USAGE_CONFIG``, else ``~/.config/claude-usage`` on Linux; the dir that holds the
machine id of team pushes). A missing file means the defaults: no plan, no budgets, alerts at
50, 80 and 100 percent, no webhook. The shape (every key optional)::

    [plan]
    name = "max5"            # pro | max5 | max20 | api (pay per use: no monthly price)
    price_usd = 150          # or a custom monthly price in USD (wins over the name's price)

    [budgets]                # USD per local day, week (starting on week_start) and month
    daily_usd = 20
    weekly_usd = 100
    monthly_usd = 300
    week_start = "monday"

    [budgets.projects."my-project"]   # a project's key, path or the last part of its path
    daily_usd = 5
    monthly_usd = 60

    [alerts]
    thresholds = [50, 80, 100]   # percent of a budget
    projection = true            # also alert when the projection reaches 100%
    webhook_url = "https://example.com/hook"   # optional: POST of a JSON body per alert
    webhook_timeout_s = 5
    webhook_retries = 3

A value of the wrong type or range, or an unknown key (a typo would otherwise be ignored
silently), raises :class:`ConfigError` naming the key and the file. The webhook URL is a
credential: :func:`mask_url` is the only form of it that is ever printed or logged.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_usage.paths import config_dir
from claude_usage.timebuckets import WEEKDAYS

FILE_NAME = "config.toml"
# Monthly prices in USD of Claude's subscription plans, billed monthly, as listed on
# https://claude.com/pricing (checked 2026-05): Pro $20, Max 5x $100, Max 20x $200. "api" is
# pay per use (the API cost is the price itself): no monthly price, no ratio.
PLAN_PRICES_USD: dict[str, float | None] = {"pro": 20.0, "max5": 100.0, "max20": 200.0, "api": None}
PERIODS = ("day", "week", "month")
_PERIOD_KEYS = {"daily_usd": "day", "weekly_usd": "week", "monthly_usd": "month"}
DEFAULT_THRESHOLDS = (50.0, 80.0, 100.0)
MAX_RETRIES = 10
MAX_TIMEOUT_S = 60.0


class ConfigError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Plan:
    """The user's plan: ``name`` (pro, max5, max20, api or custom) and its monthly
    ``price_usd`` (None for api: pay per use)."""

    name: str
    price_usd: float | None


@dataclass(frozen=True)
class Budget:
    """A budget of ``limit_usd`` per local ``period`` (day, week or month), over all usage
    (``project`` None) or one project (as the user named it; resolved like ``--project``)."""

    period: str
    limit_usd: float
    project: str | None = None

    @property
    def key(self) -> str:
        """A stable id: ``day``, or ``project:<name>:day`` (the alerts' key in the store)."""
        return self.period if self.project is None else f"project:{self.project}:{self.period}"

    @property
    def label(self) -> str:
        """What people read: ``day``, ``my-project day``."""
        return self.period if self.project is None else f"{self.project} {self.period}"


@dataclass(frozen=True)
class Alerts:
    """When alerts are raised (``thresholds`` in percent, ascending; ``projection``: also when
    the projection reaches 100 %) and where they go (``webhook_url``, with a timeout in seconds
    and a number of retries after the first attempt)."""

    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    projection: bool = True
    webhook_url: str | None = None
    webhook_timeout_s: float = 5.0
    webhook_retries: int = 3


@dataclass(frozen=True)
class Config:
    """The settings of ``path`` (``exists``: whether the file is there; if not, the defaults)."""

    path: Path
    exists: bool = False
    plan: Plan | None = None
    budgets: tuple[Budget, ...] = ()
    alerts: Alerts = field(default_factory=Alerts)
    week_start: int = 0  # 0 = Monday, as the weekly report

    def document(self) -> dict[str, Any]:
        """The settings as JSON (camelCase; the webhook URL masked, never whole)."""
        return {
            "path": str(self.path),
            "exists": self.exists,
            "plan": None if self.plan is None else {"name": self.plan.name, "priceUsd": self.plan.price_usd},
            "budgets": [{"budget": b.key, "period": b.period, "project": b.project, "limitUsd": b.limit_usd}
                        for b in self.budgets],
            "weekStart": WEEKDAYS[self.week_start],
            "alerts": {"thresholds": list(self.alerts.thresholds), "projection": self.alerts.projection,
                       "webhookUrl": mask_url(self.alerts.webhook_url), "webhookTimeoutS": self.alerts.webhook_timeout_s,
                       "webhookRetries": self.alerts.webhook_retries},
        }


def config_path() -> Path:
    """Where the settings file is: ``config.toml`` in the user config dir."""
    return config_dir() / FILE_NAME


def mask_url(url: str | None) -> str | None:
    """A URL as it may be shown: ``scheme://host[:port]/…`` (user, password, path and query
    left out: a webhook's path often is its secret). None passes."""
    if not url:
        return None
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(?:[^@/?#]*@)?([^/?#]*)", url)
    if not match:
        return "…"
    return f"{match[1]}://{match[2]}/…"


def mask_urls(text: str) -> str:
    """``text`` with every URL in it masked (:func:`mask_url`)."""
    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+", lambda m: mask_url(m[0]) or "", text)


class _Reader:
    """Checks the values of one parsed file, naming the file and the key in each error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"settings file {self.path}: {key} {problem}")

    def table(self, value: Any, key: str, allowed: set[str]) -> dict:
        """``value`` (the table ``[key]``), checked to hold only ``allowed`` keys."""
        if not isinstance(value, dict):
            raise self.fail(f"[{key}]", "must be a table")
        for name in value:
            if name not in allowed:
                raise self.fail(f"[{key}] {name}", f"is not a known setting (known: {', '.join(sorted(allowed))})")
        return value

    def usd(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9:
            raise self.fail(key, f"must be a positive number of USD (got {value!r})")
        return float(value)


def _plan(reader: _Reader, data: dict) -> Plan | None:
    table = reader.table(data.get("plan", {}), "plan", {"name", "price_usd"})
    if not table:
        return None
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or name.lower() not in PLAN_PRICES_USD):
        raise reader.fail("[plan] name", f"must be one of {', '.join(PLAN_PRICES_USD)} (got {name!r}); "
                          "for another price give price_usd")
    if "price_usd" in table:
        return Plan(name.lower() if name else "custom", reader.usd("[plan] price_usd", table["price_usd"]))
    if name is None:
        raise reader.fail("[plan]", "needs a name (pro, max5, max20, api) or a price_usd")
    return Plan(name.lower(), PLAN_PRICES_USD[name.lower()])


def _budgets(reader: _Reader, data: dict) -> tuple[tuple[Budget, ...], int]:
    table = reader.table(data.get("budgets", {}), "budgets", {*_PERIOD_KEYS, "week_start", "projects"})
    budgets = [Budget(period, reader.usd(f"[budgets] {key}", table[key])) for key, period in _PERIOD_KEYS.items() if key in table]
    start = table.get("week_start", "monday")
    if not isinstance(start, str) or start.lower() not in WEEKDAYS:
        raise reader.fail("[budgets] week_start", f"must be a day of the week, e.g. \"monday\" (got {start!r})")
    projects = table.get("projects", {})
    if not isinstance(projects, dict):
        raise reader.fail("[budgets.projects]", "must be a table of projects")
    for name, limits in projects.items():
        key = f'budgets.projects."{name}"'
        if not name.strip():
            raise reader.fail(f"[{key}]", "needs a project name")
        limits = reader.table(limits, key, set(_PERIOD_KEYS))
        budgets += [Budget(period, reader.usd(f"[{key}] {k}", limits[k]), name) for k, period in _PERIOD_KEYS.items()
                    if k in limits]
    return tuple(budgets), WEEKDAYS.index(start.lower())


def _alerts(reader: _Reader, data: dict) -> Alerts:
    table = reader.table(data.get("alerts", {}), "alerts", {"thresholds", "projection", "webhook_url", "webhook_timeout_s", "webhook_retries"})
    thresholds = table.get("thresholds", list(DEFAULT_THRESHOLDS))
    if (not isinstance(thresholds, list) or not thresholds
            or any(isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1000 for t in thresholds)):
        raise reader.fail("[alerts] thresholds", f"must be a list of percentages above 0, e.g. [50, 80, 100] (got {thresholds!r})")
    projection = table.get("projection", True)
    if not isinstance(projection, bool):
        raise reader.fail("[alerts] projection", f"must be true or false (got {projection!r})")
    url = table.get("webhook_url")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://[^/?#\s]+", url) or re.search(r"\s", url)):
        raise reader.fail("[alerts] webhook_url", f"must be an http:// or https:// URL (got {mask_url(url) if isinstance(url, str) else url!r})")
    timeout = table.get("webhook_timeout_s", 5)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_S:
        raise reader.fail("[alerts] webhook_timeout_s", f"must be a number of seconds above 0, at most {MAX_TIMEOUT_S:g} (got {timeout!r})")
    retries = table.get("webhook_retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise reader.fail("[alerts] webhook_retries", f"must be a whole number from 0 to {MAX_RETRIES} (got {retries!r})")
    return Alerts(tuple(sorted({float(t) for t in thresholds})), projection, url or None, float(timeout), retries)


def parse(text: str, path: Path) -> Config:
    """The settings in ``text`` (TOML) read from ``path``; raises :class:`ConfigError`."""
    reader = _Reader(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"settings file {path}: not valid TOML ({error})") from None
    for name in data:
        if name not in ("plan", "budgets", "alerts"):
            raise reader.fail(f"[{name}]", "is not a known section (known: plan, budgets, alerts)")
    budgets, week_start = _budgets(reader, data)
    return Config(path, True, _plan(reader, data), budgets, _alerts(reader, data), week_start)


_CACHE: dict[Path, tuple[tuple[int, int], Config]] = {}


def load_config(path: Path | None = None) -> Config:
    """The settings of ``path`` (default :func:`config_path`); the defaults when the file does
    not exist. Read again only when its size or mtime changed (the server asks on every
    request). Raises :class:`ConfigError` (file and key named) for a bad file."""
    path = Path(path) if path is not None else config_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Config(path)
    except OSError as error:
        raise ConfigError(f"settings file {path}: cannot be read ({error.strerror or error})") from None
    mark = (stat.st_size, stat.st_mtime_ns)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == mark:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"settings file {path}: cannot be read ({error})") from None
    config = parse(text, path)
    _CACHE[path] = (mark, config)
    return config


TEMPLATE = '''# claude-usage settings; `claude-usage config` shows what is in force.
# Every key is optional; remove the "#" of a line to use it. Amounts are USD.

[plan]
# name = "max5"          # pro ($20/month) | max5 ($100) | max20 ($200) | api (pay per use)
# price_usd = 150        # or your own monthly price (wins over the name's)

[budgets]
# daily_usd = 20         # per local day (the zone of --tz / $TZ / the machine)
# weekly_usd = 100       # per week, starting on week_start
# monthly_usd = 300      # per calendar month
# week_start = "monday"

# A project's own budgets (its key, its path, or the last part of its path):
# [budgets.projects."my-project"]
# daily_usd = 5
# monthly_usd = 60

[alerts]
# thresholds = [50, 80, 100]   # percent of a budget; one alert per budget, period and threshold
# projection = true            # also alert when the month's (week's, day's) projection reaches 100%
# webhook_url = "https://example.com/hook"   # POST of a JSON body per alert (sent by `serve` or the status line)
# webhook_timeout_s = 5
# webhook_retries = 3
'''


def write_template(path: Path | None = None) -> tuple[Path, bool]:
    """Write :data:`TEMPLATE` to ``path`` (default :func:`config_path`) unless a file is there
    (never overwritten): ``(path, written)``."""
    path = Path(path) if path is not None else config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(TEMPLATE)
    except FileExistsError:
        return path, False
    os.chmod(path, 0o600)  # it may come to hold a webhook URL (a credential)
    return path, True
