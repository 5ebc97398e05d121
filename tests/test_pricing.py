"""Pricing rules no shared file exercises, against hand-computed values (DESIGN section 5).

Rates used below (genai-prices 0.2.3, USD per million tokens):
Sonnet 4.5: input 3, output 15, 5m write 3.75, 1h write 6, read 0.3; above 200k context:
input 6, output 22.5, read 0.6. Sonnet 4 (no tier): input 3, output 15.
Opus 4.5: input 5, output 25, 5m write 6.25, 1h write 10, read 0.5.
Opus 4.8: input 5, output 25; fast mode: input 10, output 50.
Opus 4.1: input 15, output 75.
Opus 4.6 (Anthropic): input 5, output 25, 5m write 6.25, 1h write 10, read 0.5; before 2026-03-13
above 200k context: input 10, output 37.5, read 1. Opus 4.7: as Opus 4.6 without a tier.
Web searches: $10 per 1,000 = $0.01 each.
AWS Bedrock, regional (us., eu., apac., ... or no prefix): Sonnet 4.5 and 4.6 input 3.3, output
16.5; Opus 4.6/4.8 input 5.5, output 27.5. Bedrock global.: Sonnet 4.6 input 3, output 15.
Google (Vertex) Opus 4.5: input 5, output 25, read 0.5, 5m write 6.25, no 1h write rate (2x input).
Price corrections (src/claude_usage/price_corrections.toml): Opus 4.6 fast 30 / 150, above 200k
60 / 225 before 2026-03-13, caches at 1.25x / 2x / 0.1x of that input; Opus 4.7 fast 6x until
2026-07-24; inference_geo "us" 1.1x on Opus/Sonnet 4.6 and later.
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
from claude_usage.pricing_corrections import SHIPPED, Corrections, PriceCorrectionError, parse_corrections
from claude_usage.records import UsageRecord
from claude_usage.sources.transcript_lines import parse_timestamp_us

OCT_2025 = parse_timestamp_us("2025-10-01T12:00:00Z")


def record(model: str, ts_us: int = OCT_2025, speed: str | None = None, geo: str | None = None,
           searches: int = 0, **tokens) -> UsageRecord:
    return UsageRecord(
        key="k", ts_us=ts_us, model=model, session_id="s", project="p", file="f", offset=0,
        input_tokens=tokens.get("input", 0), output_tokens=tokens.get("output", 0),
        cache_creation_5m_tokens=tokens.get("w5m", 0), cache_creation_1h_tokens=tokens.get("w1h", 0),
        cache_read_tokens=tokens.get("read", 0), speed=speed, inference_geo=geo, web_search_requests=searches,
    )


def at(day: str) -> int:
    return parse_timestamp_us(f"{day}T12:00:00Z")


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


@pytest.mark.parametrize(
    "model, expected",
    [
        # Regional endpoints: 1000 * 3.3 + 1000 * 16.5 = 19,800 / 1e6
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.0198),
        ("eu.anthropic.claude-sonnet-4-6", 0.0198),
        ("apac.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.0198),
        ("anthropic.claude-sonnet-4-6", 0.0198),  # no prefix: a regional endpoint too
        # apac. is not among the prefixes listed for Opus 4.8: still regional, 1000 * 5.5 + 1000 * 27.5
        ("apac.anthropic.claude-opus-4-8-v1", 0.033),
        ("eu.anthropic.claude-opus-4-6-v1", 0.033),
        # global.: the list price, 1000 * 3 + 1000 * 15 = 18,000 / 1e6
        ("global.anthropic.claude-sonnet-4-6", 0.018),
    ],
)
def test_bedrock_ids_are_priced_with_the_bedrock_provider(model, expected):
    rates = pricer.rates(model, at("2026-05-01"))
    assert rates.provider == "aws"
    assert pricer.calculated_cost(record(model, at("2026-05-01"), input=1_000, output=1_000)) == pytest.approx(expected, abs=1e-12)


def test_vertex_id_is_priced_with_the_google_provider():
    # Google's Opus 4.5: 1000 in * 5 + 10,000 1h writes * 10 (no 1h rate: 2x input) + 1000 out * 25
    # = 5,000 + 100,000 + 25,000 = 130,000 / 1e6
    model = "claude-opus-4-5@20251101"
    rates = pricer.rates(model, at("2026-01-10"))
    assert (rates.provider, rates.source) == ("google", "claude-opus-4-5")
    cost = pricer.calculated_cost(record(model, at("2026-01-10"), input=1_000, w1h=10_000, output=1_000))
    assert cost == pytest.approx(0.13, abs=1e-12)
    # A Vertex id the Google provider lacks gets Anthropic's price (Sonnet 5: 1000 * 2 + 1000 * 10)
    assert pricer.rates("claude-sonnet-5@20260601", at("2026-08-01")).provider == "anthropic"
    assert pricer.calculated_cost(record("claude-sonnet-5@20260601", at("2026-08-01"), input=1_000, output=1_000)) == \
        pytest.approx(0.012, abs=1e-12)


def test_web_searches_are_billed_per_search():
    # Opus 4.7: 10 * 5 + 100 * 25 = 2,550 / 1e6 = 0.00255, plus 5 searches * $0.01 = 0.05255
    cost = pricer.calculated_cost(record("claude-opus-4-7", at("2026-05-01"), searches=5, input=10, output=100))
    assert cost == pytest.approx(0.05255, abs=1e-12)


def test_fast_opus_4_6_above_200k_before_the_flat_pricing():
    # 2026-02-20, fast: context 50,000 + 200,000 read = 250,000 > 200k, every category at the tier:
    # 50,000 * 60 + 200,000 * 6 (0.1x of 60) + 1,000 * 225 = 3,000,000 + 1,200,000 + 225,000 = 4,425,000 / 1e6
    above = record("claude-opus-4-6", at("2026-02-20"), speed="fast", input=50_000, read=200_000, output=1_000)
    assert pricer.price(above) == (pytest.approx(4.425, abs=1e-12), False)
    # The same context exactly at 200,000 stays at $30 / $3 / $150: 1,500,000 + 450,000 + 150,000
    at_limit = record("claude-opus-4-6", at("2026-02-20"), speed="fast", input=50_000, read=150_000, output=1_000)
    assert pricer.calculated_cost(at_limit) == pytest.approx(2.1, abs=1e-12)
    # From 2026-03-13 the tier is gone: 50,000 * 30 + 200,000 * 3 + 1,000 * 150 = 2,250,000 / 1e6
    flat = record("claude-opus-4-6", at("2026-03-13"), speed="fast", input=50_000, read=200_000, output=1_000)
    assert pricer.calculated_cost(flat) == pytest.approx(2.25, abs=1e-12)


def test_fast_opus_4_7_after_its_fast_mode_ended_is_standard_and_counted():
    # Until 2026-07-23: 6x, 1000 * 30 + 1000 * 150 = 180,000 / 1e6
    during = record("claude-opus-4-7", at("2026-07-23"), speed="fast", input=1_000, output=1_000)
    assert pricer.price(during) == (pytest.approx(0.18, abs=1e-12), False)
    # From 2026-07-24 (removed): the standard 1000 * 5 + 1000 * 25 = 30,000 / 1e6, counted
    after = record("claude-opus-4-7", at("2026-07-24"), speed="fast", input=1_000, output=1_000)
    assert pricer.price(after) == (pytest.approx(0.03, abs=1e-12), True)


def test_fast_request_on_a_model_without_fast_mode_is_counted():
    # Opus 4.5 has no fast price anywhere: 1000 * 5 + 1000 * 25 = 0.03, flagged; not fast: not flagged
    assert pricer.price(record("claude-opus-4-5-20251101", speed="fast", input=1_000, output=1_000)) == (
        pytest.approx(0.03, abs=1e-12), True)
    assert pricer.price(record("claude-opus-4-5-20251101", speed="standard", input=1_000, output=1_000))[1] is False


def test_geo_us_is_1_1x_from_opus_4_6_on_and_standard_before():
    # Opus 4.7, US-only: (1000 * 5 + 1000 * 25) * 1.1 = 33,000 / 1e6
    assert pricer.calculated_cost(record("claude-opus-4-7", at("2026-05-01"), geo="us", input=1_000, output=1_000)) == \
        pytest.approx(0.033, abs=1e-12)
    # Sonnet 4.5 and Haiku 4.5 came before Opus 4.6 (the API rejects the parameter there): standard,
    # 1000 * 3 + 1000 * 15 = 18,000 and 1000 * 1 + 1000 * 5 = 6,000 (/ 1e6)
    assert pricer.calculated_cost(record("claude-sonnet-4-5-20250929", at("2026-05-01"), geo="us", input=1_000, output=1_000)) == \
        pytest.approx(0.018, abs=1e-12)
    assert pricer.calculated_cost(record("claude-haiku-4-5-20251001", at("2026-05-01"), geo="us", input=1_000, output=1_000)) == \
        pytest.approx(0.006, abs=1e-12)


def test_geo_us_and_fast_stack():
    # Opus 4.6 fast and US-only on 2026-04-01: (1000 * 30 + 1000 * 150) * 1.1 = 198,000 / 1e6
    cost = pricer.calculated_cost(record("claude-opus-4-6", at("2026-04-01"), speed="fast", geo="us", input=1_000, output=1_000))
    assert cost == pytest.approx(0.198, abs=1e-12)


def test_override_wins_and_its_fast_requests_are_counted(tmp_path):
    own = Pricer(load_price_overrides(_write(tmp_path / "p.json", {"claude-opus-4-6": {"input": 1, "output": 2}})))
    # The user's rates as given, no fast or geo adjustment: 1000 * 1 + 1000 * 2 = 3,000 / 1e6
    fast = record("claude-opus-4-6", at("2026-04-01"), speed="fast", geo="us", input=1_000, output=1_000)
    assert own.price(fast) == (pytest.approx(0.003, abs=1e-12), True)


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


def test_shipped_corrections_parse_and_name_their_source():
    entries = Corrections(SHIPPED).entries
    assert [(e.models, e.speed, e.geo) for e in entries][:3] == [
        (("claude-opus-4-6",), "fast", None), (("claude-opus-4-6",), "fast", None), (("claude-opus-4-7",), "fast", None)]
    assert entries[-1].geo == "us" and entries[-1].multiplier == 1.1
    assert all(e.source.startswith("https://") for e in entries)


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"models": ["m"], "multiplier": 2, "source": "https://x"}, "exactly one condition"),
        ({"models": ["m"], "speed": "fast", "geo": "us", "multiplier": 2, "source": "https://x"}, "exactly one condition"),
        ({"models": ["m"], "speed": "fast", "source": "https://x"}, "rates or a multiplier"),
        ({"models": ["m"], "speed": "fast", "multiplier": 2}, "public source"),
        ({"models": ["m"], "speed": "fast", "multiplier": 2, "source": "https://x", "until": "soon"}, "until"),
        ({"models": ["m"], "speed": "fast", "rates": {"input": 1}, "source": "https://x"}, "missing 'output'"),
        ({"models": ["m"], "exceptModels": ["n"], "geo": "us", "multiplier": 2, "source": "https://x"}, "exceptModels"),
        ({"models": ["m"], "speed": "fast", "multiplier": 2, "source": "https://x", "typo": 1}, "unknown key"),
    ],
)
def test_bad_corrections_are_refused(entry, message):
    with pytest.raises(PriceCorrectionError, match=message):
        parse_corrections({"correction": [entry]}, "test")


def test_corrections_change_the_price_and_the_version(tmp_path):
    path = tmp_path / "corrections.toml"
    path.write_text('[[correction]]\nmodels = ["claude-opus-4-5"]\nspeed = "fast"\nfrom = 2026-01-01\n'
                    'multiplier = 2\nsource = "https://example.com/fast"\n')
    own = Pricer(corrections=Corrections(path))
    # Opus 4.5 fast from 2026-01-01 at 2x: (1000 * 5 + 1000 * 25) * 2 = 60,000 / 1e6; before: standard, counted
    assert own.price(record("claude-opus-4-5", at("2026-01-01"), speed="fast", input=1_000, output=1_000)) == (
        pytest.approx(0.06, abs=1e-12), False)
    assert own.price(record("claude-opus-4-5", at("2025-12-31"), speed="fast", input=1_000, output=1_000)) == (
        pytest.approx(0.03, abs=1e-12), True)
    assert own.version != Pricer().version
    assert own.version.startswith("genai-prices 0.2.3 + corrections ")


def _search_line(output: int, searches: int, ts: str, stop: str | None) -> dict:
    from helpers import assistant_line

    return assistant_line(msg_id="msg_ws", uuid=f"u-{output}", model="claude-opus-4-7", ts=ts, input_tokens=10,
                          output_tokens=output, message_extra={"stop_reason": stop},
                          usage_extra={"server_tool_use": {"web_search_requests": searches, "web_fetch_requests": 1}})


@pytest.mark.parametrize("final_first", [False, True])
def test_search_count_of_the_kept_snapshot_not_of_a_partial_copy(tmp_path, final_first):
    from claude_usage.sources.discovery import DataRoot
    from helpers import scan, write_lines

    # A streaming copy (100 output, 2 searches so far) and the final line (300 output, 5 searches)
    # of one response: the kept snapshot is the final one, its 5 searches count, once.
    partial = _search_line(100, 2, "2026-05-01T10:00:00.000Z", None)
    final = _search_line(300, 5, "2026-05-01T10:00:01.000Z", "end_turn")
    write_lines(tmp_path / "projects" / "p" / "s.jsonl", [final, partial] if final_first else [partial, final])
    totals = scan([DataRoot(tmp_path / "projects", tmp_path, "test")]).overall()
    assert (totals.requests, totals.web_search_requests, totals.web_fetch_requests) == (1, 5, 1)
    # Opus 4.7: 10 * 5 + 300 * 25 = 7,550 / 1e6 = 0.00755, plus 5 searches * $0.01 = 0.05755
    # (stored in units of 1e-10 USD: exact here)
    assert totals.cost_usd == pytest.approx(0.05755, abs=1e-10)
