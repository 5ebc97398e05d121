"""Distinct parameter sets for every report endpoint of ``/api/v2`` (DESIGN section 8), built
from the keys the server itself lists (days, months, projects, models, sessions).

Every set is valid for its endpoint (the API refuses unknown parameters): the common filters
(``tz`` over zones with half- and quarter-hour offsets and DST, ``startDate``/``endDate``,
``project``, ``model``, ``mode``) and each endpoint's own (``limit``, ``order``, ``sortBy``,
...). A detail view can answer 404 for a combination without usage; that is an answer too.
"""

from __future__ import annotations

import random
import urllib.parse
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

ZONES = ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "America/New_York", "Europe/Berlin",
         "America/Los_Angeles", "Asia/Tokyo", "America/St_Johns", "Pacific/Chatham")
ENDPOINTS = ("daily", "weekly", "monthly", "hourly", "models", "projects", "sessions", "summary", "blocks",
             "daily/{date}", "monthly/{month}", "projects/{name}", "sessions/{id}")


@dataclass
class Keys:
    """What the data holds, as the server lists it."""

    days: list[str]
    months: list[str]
    projects: list[str]
    models: list[str]
    sessions: list[str]


def discover(get_json: Callable[[str], dict]) -> Keys:
    """The keys, from the server's own lists (``get_json(path_with_query)`` returns a body)."""
    days, page = [], 1
    while True:
        body = get_json(f"/api/v2/daily?tz=UTC&limit=1000&page={page}")
        days += [row["date"] for row in body["data"]]
        if not body.get("pagination", {}).get("hasNext"):
            break
        page += 1
    projects = [row["name"] for row in get_json("/api/v2/projects?limit=200")["data"]]
    models = [row["model"] for row in get_json("/api/v2/models")["data"]]
    sessions = [row["sessionId"] for row in get_json("/api/v2/sessions?limit=500&sortBy=totalTokens")["data"]]
    return Keys(days, sorted({day[:7] for day in days}), projects, models, sessions)


class _Builder:
    """Builds one parameter set at a time; ``index`` cycles the zones so that every zone is used."""

    def __init__(self, keys: Keys, rng: random.Random):
        self.keys, self.rng = keys, rng

    def common(self, index: int, dates: float = 0.5, project: float = 0.25, model: float = 0.2) -> dict:
        """The common filters: a zone always, the others with the given probabilities."""
        rng, keys = self.rng, self.keys
        params = {"tz": ZONES[index % len(ZONES)]}
        if keys.days and rng.random() < dates:
            first = date.fromisoformat(rng.choice(keys.days))
            last = first + timedelta(days=rng.choice((0, 1, 6, 13, 30, 59, 120)))
            side = rng.random()
            if side < 0.8:
                params["startDate"] = first.isoformat()
            if side > 0.2:
                params["endDate"] = last.isoformat()
        if keys.projects and rng.random() < project:
            params["project"] = rng.choice(keys.projects)
        if keys.models and rng.random() < model:
            params["model"] = rng.choice(keys.models)
        if rng.random() < 0.1:
            params["mode"] = "calculate"
        return params

    def pick(self, **choices) -> dict:
        """One value per name from its options (an option of None leaves the parameter out)."""
        picked = {name: self.rng.choice(options) for name, options in choices.items()}
        return {name: value for name, value in picked.items() if value is not None}

    def build(self, endpoint: str, i: int) -> tuple[str, dict]:
        """(path, query) of the ``i``-th attempt for ``endpoint``."""
        rng, keys = self.rng, self.keys
        if endpoint == "daily":
            params = {**self.common(i), **self.pick(limit=(None, 10, 50, 200, 1000), order=(None, "asc", "desc"), page=(None, None, 2))}
            if rng.random() < 0.15:
                params.update(startHour=rng.randint(0, 11), endHour=rng.randint(12, 23))
        elif endpoint == "weekly":
            params = {**self.common(i), **self.pick(limit=(None, 26, 52, 520), order=(None, "asc", "desc"))}
        elif endpoint == "monthly":
            params = {**self.common(i), **self.pick(limit=(None, 12, 24, 120), order=(None, "asc", "desc"))}
            if keys.months and rng.random() < 0.2:
                params["year"] = rng.choice(keys.months)[:4]
        elif endpoint == "hourly":
            params = self.common(i, dates=0.3)
            if keys.days and rng.random() < 0.4:
                params["date"] = rng.choice(keys.days)
        elif endpoint == "models":
            params = {**self.common(i), **self.pick(sortBy=(None, "totalTokens", "cost", "messages", "sessions", "model"),
                                                    sortOrder=(None, "asc", "desc"))}
        elif endpoint == "projects":
            params = {**self.common(i, project=0.1), **self.pick(limit=(None, 20, 50, 200), sortOrder=(None, "asc", "desc"),
                                                                 sortBy=(None, "lastActivity", "totalCost", "totalTokens", "name", "messageCount"))}
            if rng.random() < 0.15:
                params["search"] = rng.choice(("bench", "api", "web", "infra", "jobs"))
            if rng.random() < 0.1:
                params["minCost"] = rng.choice((1, 10, 100))
        elif endpoint == "sessions":
            params = {**self.common(i), **self.pick(limit=(None, 50, 100, 500), page=(None, None, 2),
                                                    sortBy=(None, "lastActivity", "cost", "totalTokens"), sortOrder=(None, "asc", "desc"))}
        elif endpoint == "summary":
            params = self.common(i)
        elif endpoint == "blocks":
            params = {**self.common(i, dates=0.6), **self.pick(recent=(None, None, None, "true"), active=(None, None, None, None, "true"))}
        elif endpoint == "daily/{date}":
            return f"/api/v2/daily/{rng.choice(keys.days)}", self.common(i, dates=0, project=0.1, model=0.1)
        elif endpoint == "monthly/{month}":
            return f"/api/v2/monthly/{rng.choice(keys.months)}", self.common(i, dates=0, project=0.15, model=0.15)
        elif endpoint == "projects/{name}":
            name = urllib.parse.quote(rng.choice(keys.projects), safe="")
            return f"/api/v2/projects/{name}", self.common(i, dates=0.4, project=0, model=0.15)
        elif endpoint == "sessions/{id}":
            return f"/api/v2/sessions/{rng.choice(keys.sessions)}", self.common(i, dates=0, project=0, model=0.05)
        else:
            raise ValueError(f"unknown endpoint {endpoint}")
        return f"/api/v2/{endpoint}", params


def parameter_sets(endpoint: str, keys: Keys, count: int, seed: int = 11) -> list[str]:
    """Up to ``count`` distinct URLs (path and query) for ``endpoint``; fewer only when the data
    cannot give that many (a corpus with one month has few month views)."""
    builder = _Builder(keys, random.Random(f"{seed}:{endpoint}"))
    found: dict[str, None] = {}
    for attempt in range(count * 40):
        path, params = builder.build(endpoint, attempt)
        query = urllib.parse.urlencode(sorted(params.items()))
        found.setdefault(f"{path}?{query}" if query else path)
        if len(found) >= count:
            break
    return list(found)
