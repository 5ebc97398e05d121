"""Team mode (DESIGN 12): every machine's usage in one PostgreSQL database, deduplicated across
machines, read by the same report queries as the embedded store.

- :mod:`~claude_usage.team.connection`: the URL, connections, one-line errors, redaction.
- :mod:`~claude_usage.team.schema`: numbered migrations and the two roles.
- :mod:`~claude_usage.team.store`: :class:`~claude_usage.team.store.TeamStore`, the store interface.
- :mod:`~claude_usage.team.identity`: the machine id and name, the user.
- :mod:`~claude_usage.team.push`: sending a machine's new and changed requests.
- :mod:`~claude_usage.team.users`: the per-user and per-machine breakdown.

Needs the optional extra ``team`` (psycopg 3); the embedded default imports nothing from here.
"""
