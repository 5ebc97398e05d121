"""Pricing rules no shared file exercises, against hand-computed values (DESIGN section 5).

Rates used below (genai-prices 0.2.3, USD per million tokens):
Sonnet 4.5: input 3, output 15, 5m write 3.75, 1h write 6, read 0.3; above 200k context:
input 6, output 22.5, read 0.6. Sonnet 4 (no tier): input 3, output 15.
Opus 4.5: input 5, output 25, 5m write 6.25, 1h write 10, read 0.5.
Opus 4.8: input 5, output 25; fast mode: input 10, output 50.
Opus 4.1: input 15, output 75.
"""

from __future__ import annotations

import json

import pytest

from claude_usage.pricing import (
    Pricer,
    PriceOverrideError,
    cost_for_mode,
    load_price_overrides,
    normalise_model_id,
)
from claude_usage.records import UsageRecord
from claude_usage.sources.transcripts import parse_timestamp_us

OCT_2025 = parse_timestamp_us("2025-10-01T12:00:00Z")


def record(model: str, ts_us: int = OCT_2025, speed: str | None = None, **tokens) -> UsageRecord:
    return UsageRecord(
        key="k", ts_us=ts_us, model=model, session_id="s", project="p", file="f", offset=0,
        input_tokens=tokens.get("input", 0), output_tokens=tokens.get("output", 0),
        cache_creation_5m_tokens=tokens.get("w5m", 0), cache_creation_1h_tokens=tokens.get("w1h", 0),
        cache_read_tokens=tokens.get("read", 0), speed=speed,
    )


pricer = Pricer()


def test_tier_cliff_exactly_at_threshold_is_base_rate():
    # context 200,000 is not above 200,000: 200000 * 3 + 1000 * 15 = 615,000 / 1e6
    cost = pricer.calculated_cost(record("claude-sonnet-4-5-20250929", input=200_000, output=1_000))
    assert cost == pytest.approx(0.615, abs=1e-12)


def test_tier_cliff_one_above_threshold_bills_every_category_at_tier():
    # 200,001 * 6 + 1000 * 22.5 = 1,200,006 + 22,500 = 1,222,506 / 1e6
    cost = pricer.calculated_cost(record("claude-sonnet-4-5-20250929", input=200_001, output=1_000))
    assert cost == pytest.approx(1.222506, abs=1e-12)


def test_tier_threshold_counts_cache_tokens_and_is_not_split_per_field():
    # context = 1,000 + 199,001 read = 200,001 > 200k: 1000 * 6 + 199001 * 0.6 + 100 * 22.5
    # = 6,000 + 119,400.6 + 2,250 = 127,650.6 / 1e6
    cost = pricer.calculated_cost(record("claude-sonnet-4-5-20250929", input=1_000, read=199_001, output=100))
    assert cost == pytest.approx(0.1276506, abs=1e-12)


def test_same_request_on_a_model_without_tier():
    # Sonnet 4 has no long-context tier: 200,001 * 3 + 1000 * 15 = 615,003 / 1e6
    cost = pricer.calculated_cost(record("claude-sonnet-4-20250514", input=200_001, output=1_000))
    assert cost == pytest.approx(0.615003, abs=1e-12)


def test_opus_4_6_tier_ends_on_2026_03_13():
    # Before the flat pricing: 250,000 read > 200k, so 250000 * 1.0 = 0.25; after: * 0.5 = 0.125
    before = parse_timestamp_us("2026-03-12T23:59:59Z")
    after = parse_timestamp_us("2026-03-13T00:00:00Z")
    assert pricer.calculated_cost(record("claude-opus-4-6", before, read=250_000)) == pytest.approx(0.25)
    assert pricer.calculated_cost(record("claude-opus-4-6", after, read=250_000)) == pytest.approx(0.125)


def test_one_hour_cache_writes_cost_twice_input():
    # Opus 4.5: 10,000 * 6.25 (5m) + 10,000 * 10 (1h) = 62,500 + 100,000 = 162,500 / 1e6
    cost = pricer.calculated_cost(record("claude-opus-4-5-20251101", w5m=10_000, w1h=10_000))
    assert cost == pytest.approx(0.1625, abs=1e-12)


def test_fast_speed_uses_fast_price_where_the_model_has_one():
    # Opus 4.8: normal 1000 * 5 + 1000 * 25 = 30,000; fast 1000 * 10 + 1000 * 50 = 60,000 (/ 1e6)
    normal = pricer.calculated_cost(record("claude-opus-4-8", input=1_000, output=1_000))
    fast = pricer.calculated_cost(record("claude-opus-4-8", speed="fast", input=1_000, output=1_000))
    assert normal == pytest.approx(0.03, abs=1e-12)
    assert fast == pytest.approx(0.06, abs=1e-12)
    # Sonnet 4.5 has no fast price: the standard price applies (1000 * 3 + 1000 * 15).
    no_fast = pricer.calculated_cost(record("claude-sonnet-4-5-20250929", speed="fast", input=1_000, output=1_000))
    assert no_fast == pytest.approx(0.018, abs=1e-12)


def test_model_id_continuing_a_version_is_not_fuzzy_matched():
    assert pricer.calculated_cost(record("claude-opus-4-10", input=1_000)) is None
    assert pricer.calculated_cost(record("claude-opus-4-10-20270101", input=1_000)) is None
    # The real Opus 4.1, with its date suffix, is priced: 1000 * 15 / 1e6
    assert pricer.calculated_cost(record("claude-opus-4-1-20250805", input=1_000)) == pytest.approx(0.015)
    assert pricer.calculated_cost(record("claude-opus-4-1", input=1_000)) == pytest.approx(0.015)


def test_unknown_model_has_no_cost():
    assert pricer.calculated_cost(record("claude-opus-9-9-20990101", input=1_000)) is None


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"),
        ("global.anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5-20251101"),
        ("anthropic/claude-haiku-4-5", "claude-haiku-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"),
        ("Claude-Sonnet-4-5[1m]", "claude-sonnet-4-5"),
        ("claude-v1", "claude-v1"),
    ],
)
def test_normalise_model_id(raw, normalised):
    assert normalise_model_id(raw) == normalised


def test_bedrock_and_vertex_ids_get_the_anthropic_price():
    # 100,000 input (below the 200k tier) at $3 = $0.30
    for model in ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5@20250929"):
        assert pricer.calculated_cost(record(model, input=100_000)) == pytest.approx(0.3)


@pytest.mark.parametrize(
    "mode, with_line_cost, without_line_cost",
    # calculated cost of the request: 1000 * 3 + 1000 * 15 = 18,000 / 1e6 = 0.018; costUSD = 0.5
    [("auto", 0.5, 0.018), ("calculate", 0.018, 0.018), ("display", 0.5, 0.0)],
)
def test_cost_modes(mode, with_line_cost, without_line_cost):
    calculated = pricer.calculated_cost(record("claude-sonnet-4-5-20250929", input=1_000, output=1_000))
    assert cost_for_mode(calculated, 0.5, mode) == pytest.approx(with_line_cost)
    assert cost_for_mode(calculated, None, mode) == pytest.approx(without_line_cost)


def test_price_overrides_for_a_model_the_package_lacks(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({
        "my-gateway-model": {"input": 2, "output": 8, "tierThreshold": 100000, "tier": {"input": 4, "output": 16}},
    }))
    own = Pricer(load_price_overrides(path))
    # Below the threshold: 1000 * 2 + 1000 * 8 = 10,000 / 1e6
    assert own.calculated_cost(record("my-gateway-model", input=1_000, output=1_000)) == pytest.approx(0.01)
    # Cache read not given: 0.1x input = $0.2/MTok; 50,000 read * 0.2 = 10,000 / 1e6
    assert own.calculated_cost(record("my-gateway-model", read=50_000)) == pytest.approx(0.01)
    # Above: 100,001 * 4 + 1000 * 16 = 400,004 + 16,000 = 416,004 / 1e6
    assert own.calculated_cost(record("my-gateway-model", input=100_001, output=1_000)) == pytest.approx(0.416004)


def test_price_overrides_toml_and_errors(tmp_path):
    good = tmp_path / "prices.toml"
    good.write_text('["x-model"]\ninput = 1\noutput = 2\ncacheRead = 0.5\n')
    own = Pricer(load_price_overrides(good))
    # 1,000,000 read at the given 0.5 = 0.5
    assert own.calculated_cost(record("x-model", read=1_000_000)) == pytest.approx(0.5)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"x": {"input": -1, "output": 2}}))
    with pytest.raises(PriceOverrideError, match="x.input"):
        load_price_overrides(bad)
    with pytest.raises(PriceOverrideError, match="missing 'output'"):
        load_price_overrides(_write(tmp_path / "m.json", {"x": {"input": 1}}))


def _write(path, data):
    path.write_text(json.dumps(data))
    return path
