"""Value for money and the settings file (issue 15): the plan's price against a hand-made month's
API-equivalent cost in `monthly`, /api/v2/monthly and its table at 60/80/120 columns; settings
errors naming the key and the file; `claude-usage config` never printing a webhook URL whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import RunningServer
from helpers import assistant_line, write_lines

from claude_usage.config import ConfigError, load_config, mask_url, parse


def month_data(root: Path) -> Path:
    # Sonnet 4.5 output tokens at $15 per million: 3,000,000 in October 2025 = $45.00 (in ten
    # requests of 300k: $4.50 each), 1,000,000 in November = $15.00.
    lines = [assistant_line(msg_id=f"o{n}", uuid=f"o{n}", ts=f"2025-10-{n + 1:02d}T12:00:00.000Z", output_tokens=300_000)
             for n in range(10)]
    lines.append(assistant_line(msg_id="n1", uuid="n1", ts="2025-11-03T12:00:00.000Z", output_tokens=1_000_000))
    write_lines(root / "projects" / "-home-dev-app" / "s.jsonl", lines)
    return root


def settings(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "cfg"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text(text)
    return folder


def cli(args: list[str], config_dir: Path, width: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLAUDE_USAGE_CONFIG": str(config_dir), "COLUMNS": str(width)}
    return subprocess.run([sys.executable, "-m", "claude_usage", *args], capture_output=True, text=True, env=env, timeout=300)


def test_plan_value_of_a_hand_made_month(tmp_path):
    data = month_data(tmp_path / "data")
    config = settings(tmp_path, '[plan]\nname = "pro"\n')
    done = cli(["monthly", "--data-dir", str(data), "-z", "UTC", "--json"], config)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["plan"] == {"name": "pro", "priceUsd": 20.0}  # Pro: $20 a month
    october, november = document["monthly"]
    # October: $45.00 of API-equivalent use on a $20 plan: 45 / 20 = 2.25.
    assert october["costUsd"] == pytest.approx(45.0) and october["planPriceUsd"] == 20.0 and october["valueRatio"] == 2.25
    # November: $15.00 / $20 = 0.75.
    assert november["costUsd"] == pytest.approx(15.0) and november["valueRatio"] == 0.75
    for width in (60, 80, 120):
        table = cli(["monthly", "--data-dir", str(data), "-z", "UTC"], config, width).stdout
        assert max(len(line) for line in table.splitlines()) <= width
        assert "2.25x" in table and "0.75x" in table
        # Both months: $60.00 of use for 2 x $20 = $40.00: 60 / 40 = 1.50.
        assert "(1.50x)" in table.replace("\n", " ")


def test_custom_price_and_api_plan(tmp_path):
    data = month_data(tmp_path / "data")
    custom = cli(["monthly", "--data-dir", str(data), "-z", "UTC", "--json"],
                 settings(tmp_path, '[plan]\nname = "max5"\nprice_usd = 90\n'))
    october = json.loads(custom.stdout)["monthly"][0]
    assert october["planPriceUsd"] == 90.0 and october["valueRatio"] == 0.5  # 45 / 90
    api = cli(["monthly", "--data-dir", str(data), "-z", "UTC", "--json"], settings(tmp_path, '[plan]\nname = "api"\n'))
    october = json.loads(api.stdout)["monthly"][0]
    assert october["planPriceUsd"] is None and october["valueRatio"] is None  # pay per use: no ratio


def test_monthly_endpoint_rows_carry_the_plan(tmp_path):
    data = month_data(tmp_path / "data")
    env = {**os.environ, "CLAUDE_USAGE_CONFIG": str(settings(tmp_path, '[plan]\nname = "max20"\n'))}
    with RunningServer("--data-dir", str(data), "--tz", "UTC", "--index", str(tmp_path / "i.db"), env=env) as server:
        answer = httpx.get(server.url + "/api/v2/monthly", timeout=30).json()
        schema = httpx.get(server.url + "/openapi.json", timeout=30).json()
    assert answer["plan"] == {"name": "max20", "priceUsd": 200.0}
    rows = {row["month"]: row for row in answer["data"]}
    assert rows["2025-10"]["valueRatio"] == 0.225 and rows["2025-11"]["valueRatio"] == 0.075  # 45 / 200, 15 / 200
    assert "valueRatio" in schema["components"]["schemas"]["MonthRow"]["properties"]
    assert "/api/v2/budgets" in schema["paths"]


@pytest.mark.parametrize("text, message", [
    ("[budgets]\ndaily_usd = -5\n", "[budgets] daily_usd must be a positive number of USD (got -5)"),
    ('[budgets]\ndaily_usd = "ten"\n', "[budgets] daily_usd must be a positive number of USD"),
    ("[budgets]\ndayly_usd = 5\n", "[budgets] dayly_usd is not a known setting"),
    ('[plan]\nname = "max10"\n', "[plan] name must be one of pro, max5, max20, api"),
    ("[alerts]\nthresholds = [50, 0]\n", "[alerts] thresholds must be a list of percentages above 0"),
    ("[alerts]\nwebhook_retries = 99\n", "[alerts] webhook_retries must be a whole number from 0 to 10"),
    ('[alerts]\nwebhook_url = "ftp://host/x"\n', "[alerts] webhook_url must be an http:// or https:// URL (got 'ftp://host/…')"),
    ('[budgets.projects."app"]\nmonthly = 5\n', '[budgets.projects."app"] monthly is not a known setting'),
    ("[budget]\ndaily_usd = 5\n", "[budget] is not a known section"),
    ("[budgets\n", "not valid TOML"),
])
def test_settings_errors_name_the_key_and_the_file(text, message):
    with pytest.raises(ConfigError) as error:
        parse(text, Path("/home/me/.config/claude-usage/config.toml"))
    assert str(error.value).startswith("settings file /home/me/.config/claude-usage/config.toml: ")
    assert message in str(error.value)


def test_bad_settings_exit_2_without_a_traceback(tmp_path):
    data = month_data(tmp_path / "data")
    folder = settings(tmp_path, "[budgets]\nweekly_usd = 0\n")
    for args in (["config"], ["summary", "--data-dir", str(data)], ["monthly", "--data-dir", str(data)]):
        done = cli(args, folder)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"settings file {folder / 'config.toml'}: [budgets] weekly_usd must be a positive number" in \
            done.stderr.replace("\n", "")


def test_missing_file_gives_defaults_and_init_never_overwrites(tmp_path):
    folder = tmp_path / "cfg"
    config = load_config(folder / "config.toml")
    assert not config.exists and config.budgets == () and config.plan is None and config.alerts.thresholds == (50, 80, 100)
    first = cli(["config", "--init"], folder)
    assert first.returncode == 0 and "Wrote a template" in first.stderr
    (folder / "config.toml").write_text('[plan]\nname = "pro"\n')
    again = cli(["config", "--init"], folder)
    assert "exists already" in again.stderr and (folder / "config.toml").read_text() == '[plan]\nname = "pro"\n'


def test_config_output_masks_the_webhook_url(tmp_path):
    url = "https://hooks.example.com/services/T0/B0/s3cr3t?token=abc123"
    folder = settings(tmp_path, f'[budgets]\ndaily_usd = 20\n[alerts]\nwebhook_url = "{url}"\n')
    text = cli(["config"], folder)
    as_json = cli(["config", "--json"], folder)
    for out in (text.stdout, as_json.stdout):
        assert "hooks.example.com/…" in out and "s3cr3t" not in out and "abc123" not in out
    assert json.loads(as_json.stdout)["alerts"]["webhookUrl"] == "https://hooks.example.com/…"
    assert str(folder / "config.toml") in text.stdout
    assert mask_url("https://user:pw@host:8443/a/b?c=d") == "https://host:8443/…"
