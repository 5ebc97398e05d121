"""``GET /metrics`` (issue 15): the Prometheus text format of a real server, parsed with
``prometheus_client``'s own parser, equals the fixtures' stated totals; loopback clients only
unless ``--metrics-public``; the server's security headers and rate limit apply; a team server
serves it from the team database."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from claude_usage.api.metrics import client_allowed
from conftest import BUGCASES, FIXTURES, RunningServer, bugcase_expected, expected, get


def parsed(text: str) -> dict[str, list]:
    """Samples by name: ``{name: [(labels, value)]}``."""
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def by(samples: list, *labels: str) -> dict:
    """Sample values summed per value of ``labels``."""
    sums: dict = {}
    for found, value in samples:
        key = tuple(found[name] for name in labels)
        sums[key if len(key) > 1 else key[0]] = sums.get(key if len(key) > 1 else key[0], 0) + value
    return sums


@pytest.mark.parametrize("name", ["curated", "windows-worktrees"])
def test_metrics_equal_the_stated_totals(name, servers):
    exp = expected(name)
    answer = get(servers[name], "/metrics")  # the session's server of the set (zone UTC)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "default-src 'self'" in answer.headers["content-security-policy"]  # the server's middleware
    samples = parsed(answer.text)
    tokens = samples["claude_usage_tokens_total"]
    # Per model: tokens by type summed over projects; cost summed over projects.
    for model, row in exp["by_model"].items():
        kinds = {kind: value for (m, kind), value in by(tokens, "model", "type").items() if m == model}
        assert kinds["input"] == row["input_tokens"]
        assert kinds["output"] == row["output_tokens"]
        assert kinds["cache_creation_5m"] + kinds["cache_creation_1h"] == row["cache_creation_tokens"]
        assert kinds["cache_creation_1h"] == row.get("cache_creation_1h_tokens", kinds["cache_creation_1h"])
        assert kinds["cache_read"] == row["cache_read_tokens"]
        assert by(samples["claude_usage_cost_usd_total"], "model")[model] == pytest.approx(row["cost_usd"], abs=1e-6)
        assert by(samples["claude_usage_requests_total"], "model")[model] == row["requests"]
    # Per project, and the whole: the cost per model sums to the stated total.
    for project, row in exp["by_project"].items():
        assert by(samples["claude_usage_requests_total"], "project")[project] == row["requests"]
        assert by(tokens, "project")[project] == row["total_tokens"]
    assert sum(value for _labels, value in samples["claude_usage_cost_usd_total"]) == pytest.approx(
        exp["totals"]["cost_usd"], abs=1e-6)
    assert sum(value for _labels, value in tokens) == exp["totals"]["total_tokens"]
    assert samples["claude_usage_store_requests"] == [({}, exp["totals"]["requests"])]
    transcripts = len(list((FIXTURES / name).rglob("*.jsonl")))
    assert by(samples["claude_usage_data_files"], "state") == {"present": transcripts, "missing": 0}


def test_unpriced_requests_are_counted_not_priced():
    # Bug case 15: claude-opus-9-9-20990101 has no price (README: its requests count, its cost is unknown).
    exp = bugcase_expected("15-unknown-model-not-silently-zero")
    with RunningServer("--data-dir", str(BUGCASES / "15-unknown-model-not-silently-zero" / "claude"), "--tz", "UTC") as server:
        samples = parsed(get(server.url, "/metrics").text)
    unpriced = by(samples["claude_usage_unpriced_requests_total"], "model")
    for model, row in exp["by_model"].items():
        assert unpriced[model] == (row["requests"] if row["cost_usd"] is None else 0)
        assert by(samples["claude_usage_cost_usd_total"], "model")[model] == pytest.approx(row["cost_usd"] or 0.0, abs=1e-6)


def test_last_activity_is_the_latest_request(tmp_path):
    from helpers import assistant_line, write_lines

    write_lines(tmp_path / "projects" / "-home-dev-app" / "s.jsonl", [
        assistant_line(msg_id="a", uuid="a", input_tokens=10, ts="2025-10-01T12:00:00.000Z"),
        assistant_line(msg_id="b", uuid="b", input_tokens=20, ts="2025-10-01T12:30:00.500Z"),
    ])
    with RunningServer("--data-dir", str(tmp_path), "--tz", "UTC") as server:
        samples = parsed(get(server.url, "/metrics").text)
    # 2025-10-01T12:30:00.5Z = 1,759,321,800.5 s since the epoch (20,362 days x 86,400 s + 12.5 h x 3,600 s + 0.5 s).
    assert samples["claude_usage_last_activity_timestamp_seconds"] == [({}, 1_759_321_800.5)]
    assert by(samples["claude_usage_tokens_total"], "type") == {
        "input": 30, "output": 0, "cache_creation_5m": 0, "cache_creation_1h": 0, "cache_read": 0}


def test_client_check():
    assert client_allowed(("127.0.0.1", 5000), False)
    assert client_allowed(("::1", 5000), False)
    assert not client_allowed(("192.0.2.7", 5000), False)
    assert not client_allowed(None, False)
    assert client_allowed(("192.0.2.7", 5000), True)


def _asgi_get(app, client: tuple[str, int], path: str = "/metrics") -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as session:
            return await session.get(path)

    return asyncio.run(call())


@pytest.fixture(scope="module")
def sniffly_store():
    from claude_usage.api.store import DataStore
    from claude_usage.pricing import Pricer
    from claude_usage.sources.discovery import resolve_roots
    from claude_usage.store import temporary_store

    store = temporary_store(resolve_roots([FIXTURES / "sniffly"]).roots)
    store.refresh(Pricer)
    yield DataStore(store, "UTC")
    store.close()


def test_other_machines_get_403_unless_public(sniffly_store):
    from claude_usage.api.app import create_app

    private = create_app(sniffly_store, rate_limit=0)
    refused = _asgi_get(private, ("192.0.2.7", 40000))
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden" and "--metrics-public" in refused.json()["message"]
    assert "default-src 'self'" in refused.headers["content-security-policy"]
    assert _asgi_get(private, ("127.0.0.1", 40000)).status_code == 200
    public = create_app(sniffly_store, rate_limit=0, metrics_public=True)
    served = _asgi_get(public, ("192.0.2.7", 40000))
    assert served.status_code == 200
    assert parsed(served.text)["claude_usage_store_requests"] == [({}, expected("sniffly")["totals"]["requests"])]


def test_the_rate_limit_applies(sniffly_store):
    from claude_usage.api.app import create_app

    limited = create_app(sniffly_store, rate_limit=2)
    answers = [_asgi_get(limited, ("127.0.0.1", 40000)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_serve_metrics_public_option():
    with RunningServer("--data-dir", str(FIXTURES / "sniffly"), "--metrics-public") as server:
        answer = get(server.url, "/metrics")
    assert answer.status_code == 200
    assert parsed(answer.text)["claude_usage_store_requests"] == [({}, expected("sniffly")["totals"]["requests"])]


def test_openapi_documents_metrics():
    from claude_usage.api.app import create_app
    from claude_usage.api.store import DataStore
    from claude_usage.demo import demo_root
    from claude_usage.store import temporary_store

    store = temporary_store([demo_root()])
    try:
        schema = create_app(DataStore(store, "UTC")).openapi()
    finally:
        store.close()
    responses = schema["paths"]["/metrics"]["get"]["responses"]
    assert "text/plain" in responses["200"]["content"]
    assert responses["403"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"


def test_team_server_serves_metrics(pg):
    from test_team import fresh_team, push

    url = fresh_team(pg, "metrics")
    push(url, FIXTURES / "sniffly", "laptop", "ann")
    exp = expected("sniffly")
    with RunningServer("--team", url, "--tz", "UTC") as server:
        samples = parsed(get(server.url, "/metrics").text)
        # What one machine's status line was told stays on that machine: none on a team server.
        limits = get(server.url, "/api/v2/limits")
        summary = get(server.url, "/api/v2/summary").json()
        blocks = get(server.url, "/api/v2/blocks").json()
    assert limits.status_code == 409 and limits.json()["error"] == "local_only"
    assert summary["officialLimits"] is None and blocks["officialLimits"] is None
    assert "claude_usage_official_limit_used_percent" not in samples
    for model, row in exp["by_model"].items():
        assert by(samples["claude_usage_cost_usd_total"], "model")[model] == pytest.approx(row["cost_usd"], abs=1e-6)
        assert by(samples["claude_usage_requests_total"], "model")[model] == row["requests"]
    assert samples["claude_usage_store_requests"] == [({}, exp["totals"]["requests"])]


def test_metrics_carry_the_official_limits_and_the_budgets(tmp_path):
    from datetime import datetime, timedelta, timezone
    import os

    from helpers import assistant_line, iso_z, write_lines
    from test_limits import FIVE_RESET, SEVEN_RESET, hook

    from claude_usage.statusline import status_line

    now = datetime.now(timezone.utc)
    data, index = tmp_path / "data", tmp_path / "i.db"
    # Sonnet 4.5 output at $15 per million: 200,000 tokens = $3.00, a second ago (today, this
    # month, unless the test starts in the first second of a day).
    write_lines(data / "projects" / "-home-dev-app" / "s-1.jsonl",
                [assistant_line(msg_id="m1", uuid="u1", session="s-1", ts=iso_z(now - timedelta(seconds=1)), output_tokens=200_000)])
    status_line(hook(five=42, seven=36), [str(data)], zone="UTC", index_path=str(index))
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.toml").write_text('[budgets]\ndaily_usd = 10\nmonthly_usd = 120\n')
    env = {**os.environ, "CLAUDE_USAGE_CONFIG": str(config)}
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(index), env=env) as server:
        samples = parsed(get(server.url, "/metrics").text)
        (config / "config.toml").write_text('[budgets]\ndaily_usd = -1\n')  # a bad value: the gauge says so
        broken = parsed(get(server.url, "/metrics").text)
    assert dict(by(samples["claude_usage_official_limit_used_percent"], "window")) == {"five_hour": 42, "seven_day": 36}
    assert dict(by(samples["claude_usage_official_limit_resets_at_timestamp_seconds"], "window")) == {
        "five_hour": FIVE_RESET, "seven_day": SEVEN_RESET}
    assert by(samples["claude_usage_budget_limit_usd"], "budget") == {"day": 10, "month": 120}
    spent = by(samples["claude_usage_budget_spent_usd"], "budget")
    assert spent["day"] == pytest.approx(3.0) and spent["month"] == pytest.approx(3.0)
    used = by(samples["claude_usage_budget_used_percent"], "budget")
    assert used["day"] == pytest.approx(30.0) and used["month"] == pytest.approx(2.5)  # 3 / 10, 3 / 120
    assert samples["claude_usage_settings_valid"] == [({}, 1.0)]
    assert broken["claude_usage_settings_valid"] == [({}, 0.0)] and "claude_usage_budget_limit_usd" not in broken
