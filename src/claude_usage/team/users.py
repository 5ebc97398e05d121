"""The per-user and per-machine breakdown of the team store (DESIGN 12): ``claude-usage users``
and ``/api/v2/users``.

A session belongs to the machine whose copies of it win the dedupe (see
:mod:`claude_usage.team.push`), and a machine to the user it last pushed as; every row is a
usage row of DESIGN section 8 over the query's selection.
"""

from __future__ import annotations

from typing import Any

from claude_usage import reports
from claude_usage.reports import Query
from claude_usage.rows import usage_row
from claude_usage.totals import Totals


def iso_utc_sql(expression: str) -> str:
    """SQL (PostgreSQL) of a ``timestamptz`` expression as ISO-8601 UTC text to the second
    (``2026-12-01T14:32:06Z``), the form of every time of the API."""
    return f"to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


def machines(view: Any) -> list[dict[str, Any]]:
    """Every machine that pushed: ``[{machine, machineId, user, firstPush, lastPush, pushes}]``
    (times as ISO UTC), by user then name."""
    rows = view.rows(f"SELECT machine_key, name, user_name, {iso_utc_sql('first_push')}, {iso_utc_sql('last_push')}, "
                     "pushes FROM machines ORDER BY user_name, name, machine_key")
    return [{"machine": name, "machineId": key, "user": user, "firstPush": first, "lastPush": last, "pushes": pushes}
            for key, name, user, first, last, pushes in rows]


def users_document(view: Any, query: Query) -> dict[str, Any]:
    """``{"users": [{user, machines: [names], ...usage row}], "machines": [{machine, machineId,
    user, firstPush, lastPush, pushes, ...usage row}], "totals": usage row, "timezone",
    "unpricedModels"}``: users by cost (highest first), machines by user then cost. Users and
    machines without requests in the selection have zero rows (they pushed, but not in it)."""
    known = machines(view)
    per_user = reports.grouped(view, query, reports.USER)
    per_machine = reports.grouped(view, query, reports.MACHINE)
    total = reports.overall(view, query)
    machine_rows = []
    for machine in known:
        totals = per_machine.get(machine["machineId"]) or Totals()
        machine_rows.append({**machine, **usage_row(totals)})
    machine_rows.sort(key=lambda row: (row["user"], -(row["costUsd"] or 0.0), row["machine"]))
    names: dict[str, list[str]] = {}
    for machine in known:
        names.setdefault(machine["user"], []).append(machine["machine"])
    user_rows = [{"user": user, "machines": sorted(set(names.get(user, []))), **usage_row(per_user.get(user) or Totals())}
                 for user in sorted(set(names) | set(per_user))]
    user_rows.sort(key=lambda row: (-(row["costUsd"] or 0.0), row["user"]))
    return {"users": user_rows, "machines": machine_rows, "totals": usage_row(total),
            "timezone": query.clock.name, "unpricedModels": sorted(total.unpriced_models)}
