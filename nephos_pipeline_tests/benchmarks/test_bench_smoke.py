"""Smoke run of the performance benchmarks at tiny sizes, so their code does not rot.

Benchmarks are not tests: nothing here asserts on a time. Each benchmark runs its
``run("tiny")`` in this process and must return well-formed figures.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import (
    bench_analysis,
    bench_backfill,
    bench_extract,
    bench_llm_cost,
    bench_load,
    bench_local,
    bench_reconcile,
    bench_scale,
    bench_startup,
)
from benchmarks.__main__ import BENCHMARKS, summary_table
from benchmarks.common import figure, quiet, scaling

KEYS = {"value", "unit", "target", "baseline", "ratio", "met"}


def check(result: dict) -> dict:
    assert result["figures"], "a benchmark must report at least one figure"
    for name, fig in result["figures"].items():
        assert KEYS <= set(fig), name
        assert fig["met"] in (True, False, None), name
        assert isinstance(fig["unit"], str) and fig["unit"], name
    for growth in result.get("scaling", {}).values():
        assert [p["scale"] for p in growth["points"]] == [1, 4, 16]
    json.dumps(result, default=str)  # what __main__ writes
    return result


@pytest.fixture(autouse=True)
def _quiet():
    quiet()


def test_figure_and_scaling_helpers():
    assert figure(2.0, "s", 3.0, 4.0)["met"] is True
    assert figure(2.0, "s", 3.0, 4.0)["ratio"] == 0.5
    assert figure(4.0, "items/s", 0.8, 10.0, goal="min_ratio")["met"] is False
    assert figure(1.0, "tokens", None, None, goal="none")["met"] is None
    grown = scaling([{"scale": 1, "seconds": 1.0}, {"scale": 4, "seconds": 3.0}, {"scale": 16, "seconds": 10.0}])
    assert grown["linear_or_better"] and grown["growth"]["16x"] == 10.0


def test_summary_table_lists_every_figure():
    table = summary_table({"figures": {"x": figure(1.0, "s", 2.0, 3.0), "y": figure(None, "s", None, None)}})
    assert "| x |" in table and "| y |" in table
    assert set(BENCHMARKS) == {"extract", "load", "analysis", "backfill", "startup", "llm_cost", "reconcile", "scale",
                               "local"}


def test_extract_smoke():
    result = check(bench_extract.run("tiny"))
    assert result["figures"]["extract_scans_of_metrics_table"]["value"] == 0
    assert result["figures"]["extract_read_ratio_1_day"]["value"] == 1.0


def test_load_smoke():
    result = check(bench_load.run("tiny"))
    assert result["details"]["rerun_counts"] == [0, 0, 0] and result["details"]["rerun_identical"]


def test_analysis_smoke():
    check(bench_analysis.run("tiny"))


def test_backfill_smoke():
    check(bench_backfill.run("tiny"))


def test_startup_smoke():
    result = check(bench_startup.run("tiny"))
    assert result["details"]["assets"] > 0


def test_llm_cost_smoke():
    result = check(bench_llm_cost.run("tiny"))
    assert result["figures"]["llm_ai_complete_per_run"]["value"] <= 1
    assert result["figures"]["llm_calls_repeated_finding"]["value"] == 0


def test_reconcile_smoke():
    result = check(bench_reconcile.run("tiny"))
    assert result["figures"]["reconcile_read_units_per_million_items"]["value"] > 0


def test_scale_smoke(tmp_path):
    """The real jobs on a 4-host fleet, recorded, and the credit model replayed on them."""
    result = check(bench_scale.run("tiny"))
    model = result["details"]["credit_model"]["fleets"]["4"]
    assert model["seed"]["resumes_per_day"] <= 96 < model["seed_staggered"]["resumes_per_day"]
    assert model["hourly"]["resumes_per_day"] <= 24
    assert result["details"]["profiles"]["sync_hourly_job"]["warehouse_statements"] > 0


def test_local_smoke():
    result = check(bench_local.run("tiny"))  # the DynamoDB snapshot figures only
    assert result["details"]["dynamodb"]["restored"]["nephos-metrics"] == 2_000
    assert result["details"]["dynamodb"]["delta_bytes"] < result["details"]["dynamodb"]["full_bytes"]
