"""Budget alerts (issue 15): exactly one alert and one webhook POST per budget, period and
threshold, whichever process and however often it is evaluated; the webhook's retries, timeout
and masked URL; the server's SSE alert event and /api/v2/budgets. The webhook receiver is a
real HTTP server started by each test (http.server in a thread)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import RunningServer
from helpers import assistant_line, iso_z, write_lines

from claude_usage import alerts, budgets
from claude_usage.config import parse
from claude_usage.pricing import Pricer
from claude_usage.sources.discovery import resolve_roots
from claude_usage.store import open_store
from claude_usage.webhook import post

SECRET_PATH = "/hooks/T0001/s3cr3t-token"


class Receiver:
    """A webhook receiver: answers each POST with the next of ``statuses`` (then 200), after
    ``delay`` seconds; keeps every body received."""

    def __init__(self, statuses=(), delay: float = 0.0):
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.paths.append(self.path)
                receiver.bodies.append(body)
                if delay:
                    time.sleep(delay)
                status = statuses.pop(0) if statuses else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the client gave up (its timeout)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}?key=abc123"

    def wait_for(self, count: int, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


def line(n: int, output: int, ts: str) -> dict:
    # Sonnet 4.5 output: $15 per million tokens.
    return assistant_line(msg_id=f"m{n}", uuid=f"u{n}", ts=ts, output_tokens=output)


def store_of(root: Path, index: Path):
    store = open_store(resolve_roots([root]).roots, index)
    store.refresh(Pricer)
    return store


def evaluate(store, config, now):
    with store.reading() as view:
        states = budgets.state(view, config, now, "UTC")
    return alerts.raise_alerts(store, states, config.alerts, now)


def send(raised, config):
    for alert in raised:
        assert post(config.alerts.webhook_url, alert.body(), config.alerts.webhook_timeout_s, config.alerts.webhook_retries,
                    backoff_s=0.01)


def test_crossing_80_percent_raises_exactly_one_alert_and_one_post(tmp_path, receiver):
    config = parse(f'[budgets]\ndaily_usd = 10\n[alerts]\nprojection = false\nwebhook_url = "{receiver.url}"\n',
                   Path("config.toml"))
    transcript = tmp_path / "data" / "projects" / "-home-dev-app" / "s.jsonl"
    write_lines(transcript, [line(1, 400_000, "2025-10-01T08:00:00.000Z")])  # 400k x $15/M = $6.00: 60%
    first = store_of(tmp_path / "data", tmp_path / "index.sqlite")
    now = us("2025-10-01T12:00:00")
    raised = evaluate(first, config, now)
    assert [a.threshold for a in raised] == ["50"]  # 60% of $10: the 50% alert only
    send(raised, config)

    write_lines(transcript, [line(1, 400_000, "2025-10-01T08:00:00.000Z"),
                             line(2, 200_000, "2025-10-01T11:00:00.000Z")])  # + $3.00 = $9.00: 90%
    first.refresh(Pricer)
    raised = evaluate(first, config, now)
    assert [a.threshold for a in raised] == ["80"]
    send(raised, config)
    body = raised[0].body()
    assert body["spentUsd"] == pytest.approx(9.0) and body["limitUsd"] == 10.0 and body["percent"] == 90.0
    assert body["budget"] == "day" and body["period"] == "day" and body["periodStart"] == "2025-10-01"

    # Evaluated again, and from a second connection to the same store (another process's view):
    # nothing new is raised.
    assert evaluate(first, config, now + 60_000_000) == []
    second = store_of(tmp_path / "data", tmp_path / "index.sqlite")
    assert evaluate(second, config, now + 120_000_000) == []
    receiver.wait_for(2)
    assert [b["threshold"] for b in receiver.bodies] == ["50", "80"]  # one POST per threshold
    assert receiver.paths == [f"{SECRET_PATH}?key=abc123"] * 2
    with second.reading() as view:
        rows = view.rows("SELECT threshold, sent FROM budget_alerts ORDER BY threshold")
    assert rows == [("50", 1), ("80", 1)]
    first.close()
    second.close()


def test_two_stores_evaluating_at_once_raise_one_alert(tmp_path):
    config = parse("[budgets]\ndaily_usd = 10\n[alerts]\nprojection = false\n", Path("config.toml"))
    write_lines(tmp_path / "data" / "projects" / "-home-dev-app" / "s.jsonl",
                [line(1, 560_000, "2025-10-01T08:00:00.000Z")])  # $8.40: 84%, past 50 and 80
    stores = [store_of(tmp_path / "data", tmp_path / "index.sqlite") for _ in range(2)]
    now = us("2025-10-01T12:00:00")
    results: list = [None, None]
    start = threading.Barrier(2)

    def run(i):
        start.wait()
        results[i] = evaluate(stores[i], config, now)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One store raised the 80% alert (the most severe of 50 and 80); the other found it recorded.
    assert sorted([a.threshold for a in r] for r in results) == [[], ["80"]]
    with stores[0].reading() as view:
        assert view.rows("SELECT threshold, sent FROM budget_alerts ORDER BY threshold") == [("50", 0), ("80", 1)]
    for store in stores:
        store.close()


def test_webhook_retries_after_a_500_then_succeeds(caplog):
    receiver = Receiver(statuses=[500])
    try:
        with caplog.at_level(logging.WARNING, logger="claude_usage.webhook"):
            assert post(receiver.url, {"budget": "day"}, timeout_s=5, retries=3, backoff_s=0.01)
    finally:
        receiver.close()
    assert receiver.bodies == [{"budget": "day"}, {"budget": "day"}]  # the 500, then the 200
    assert "attempt 1 failed (HTTP 500)" in caplog.text
    host = receiver.url.split("/hooks")[0]
    assert f"webhook {host}/…" in caplog.text  # the masked URL only
    assert "s3cr3t" not in caplog.text and "abc123" not in caplog.text


def test_webhook_timeout_is_respected(caplog):
    receiver = Receiver(delay=3.0)  # answers after 3 s; the webhook waits 0.2 s
    try:
        with caplog.at_level(logging.WARNING, logger="claude_usage.webhook"):
            delivered = post(receiver.url, {"budget": "week"}, timeout_s=0.2, retries=1, backoff_s=0.01)
    finally:
        receiver.close()
    assert delivered is False
    assert len(receiver.bodies) == 2  # the first attempt and one retry, each given up
    assert "attempt 1 failed (timed out)" in caplog.text and "not delivered after 2 attempt(s): timed out" in caplog.text
    assert "s3cr3t" not in caplog.text and "abc123" not in caplog.text


def test_a_refused_webhook_is_not_retried(caplog):
    receiver = Receiver(statuses=[404])
    try:
        with caplog.at_level(logging.WARNING, logger="claude_usage.webhook"):
            assert not post(receiver.url, {"budget": "day"}, timeout_s=5, retries=3, backoff_s=0.01)
    finally:
        receiver.close()
    assert len(receiver.bodies) == 1 and "HTTP 404" in caplog.text


def day_status(spent: float, elapsed: float) -> str:
    """The status of a $10 day budget (the rule of claude_usage.budgets, written out): the
    projection spent / elapsed counts once a quarter of the day has passed; under 50% is ok."""
    if elapsed >= 0.25 and spent / elapsed >= 10:
        return "projected-over"
    return "warning" if spent >= 5 else "ok"


def test_server_pushes_the_alert_and_serves_the_budgets(tmp_path, receiver):
    from test_live import EventReader

    now = datetime.now(timezone.utc)
    transcript = tmp_path / "data" / "projects" / "-home-dev-app" / "s.jsonl"
    # Today (UTC): $3.00 of $10, under every threshold (the seconds before now: today unless the
    # test starts in the first seconds of a day).
    write_lines(transcript, [line(1, 200_000, iso_z(now - timedelta(seconds=2)))])
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        f'[plan]\nname = "max5"\n[budgets]\ndaily_usd = 10\n[alerts]\nprojection = false\nwebhook_url = "{receiver.url}"\n')
    env = {**os.environ, "CLAUDE_USAGE_CONFIG": str(config_dir)}
    with RunningServer("--data-dir", str(tmp_path / "data"), "--tz", "UTC", "--index", str(tmp_path / "i.db"), env=env) as server:
        events = EventReader(server.url)
        state = httpx.get(server.url + "/api/v2/budgets", timeout=30).json()
        (day,) = state["budgets"]
        assert day["spentUsd"] == pytest.approx(3.0) and day["percent"] == pytest.approx(30.0)
        assert day["status"] == day_status(3.0, day["elapsed"])
        assert state["alerts"] == [] and state["plan"] == {"name": "max5", "priceUsd": 100.0}
        # + 400k output tokens = $6.00: $9.00 of $10, past 50% and 80%: one alert, the 80% one.
        write_lines(transcript, [line(1, 200_000, iso_z(now - timedelta(seconds=2))),
                                 line(2, 400_000, iso_z(now - timedelta(seconds=1)))])
        event = events.next_event(30)
        while event.get("type") != "alert":
            event = events.next_event(30)
        assert event["alert"]["threshold"] == "80" and event["alert"]["spentUsd"] == pytest.approx(9.0)
        receiver.wait_for(1)
        state = httpx.get(server.url + "/api/v2/budgets", timeout=30).json()
        assert [(a["budget"], a["threshold"]) for a in state["alerts"]] == [("day", "80")]
        assert state["budgets"][0]["status"] == day_status(9.0, state["budgets"][0]["elapsed"])
        httpx.post(server.url + "/api/v2/refresh", timeout=30)  # evaluated again: nothing new
        assert httpx.get(server.url + "/api/v2/budgets?tz=Mars/Base", timeout=30).status_code == 400
        events.stop.set()
    assert [b["threshold"] for b in receiver.bodies] == ["80"]  # exactly one POST
    log = "".join(server.output) + server.proc.stdout.read()
    assert "s3cr3t" not in log and "abc123" not in log


def test_a_rebuilt_store_raises_no_alert_twice(tmp_path):
    # 600k output tokens x $15/M = $9.00 of a $10 day: the 50% and 80% alerts, raised
    # once.
    config = parse("[budgets]\ndaily_usd = 10\n[alerts]\nprojection = false\n", Path("config.toml"))
    write_lines(tmp_path / "data" / "projects" / "-home-dev-app" / "s.jsonl",
                [line(1, 600_000, "2025-10-01T08:00:00.000Z")])
    index = tmp_path / "index.sqlite"
    store = store_of(tmp_path / "data", index)
    now = us("2025-10-01T12:00:00")
    # Both thresholds crossed at once: both recorded, the most severe one sent.
    assert [a.threshold for a in evaluate(store, config, now)] == ["80"]
    store.rebuild("a test")  # what a damaged or outdated store goes through
    store.refresh(Pricer)
    assert evaluate(store, config, now + 60_000_000) == []
    with store.reading() as view:
        assert view.rows("SELECT threshold FROM budget_alerts ORDER BY threshold") == [("50",), ("80",)]
    store.close()


def test_a_budget_lowered_in_the_settings_raises_its_alert_without_new_data(tmp_path):
    from test_live import EventReader

    now = datetime.now(timezone.utc)
    # Today (UTC): 200k output tokens x $15/M = $3.00, a second ago.
    write_lines(tmp_path / "data" / "projects" / "-home-dev-app" / "s.jsonl",
                [line(1, 200_000, iso_z(now - timedelta(seconds=1)))])
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    settings = config_dir / "config.toml"
    settings.write_text("[budgets]\ndaily_usd = 10\n[alerts]\nprojection = false\n")  # $3 of $10: 30%, no alert
    env = {**os.environ, "CLAUDE_USAGE_CONFIG": str(config_dir)}
    with RunningServer("--data-dir", str(tmp_path / "data"), "--tz", "UTC", "--index", str(tmp_path / "i.db"), env=env) as server:
        events = EventReader(server.url)
        assert httpx.get(server.url + "/api/v2/budgets", timeout=30).json()["alerts"] == []
        settings.write_text("[budgets]\ndaily_usd = 5\n[alerts]\nprojection = false\n")  # $3 of $5: 60%, past 50%
        event = events.next_event(30)
        while event.get("type") != "alert":
            event = events.next_event(30)
        events.stop.set()
        assert event["alert"]["threshold"] == "50" and event["alert"]["limitUsd"] == 5.0
        assert event["alert"]["spentUsd"] == pytest.approx(3.0)
        alerts_now = httpx.get(server.url + "/api/v2/budgets", timeout=30).json()["alerts"]
    assert [(a["budget"], a["threshold"]) for a in alerts_now] == [("day", "50")]
