"""The metric catalogue: every metric's unit in the words, and adding a metric touches one file."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from nephos_pipeline import metric_catalogue
from nephos_pipeline.analytics import predictions
from nephos_pipeline.ingest import records
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline.insights.wording import amount, difference, metric_label
from nephos_pipeline.metric_catalogue import Metric
from nephos_pipeline.orchestration.checks import build_checks
from nephos_pipeline.sql_files import load_sql
from nephos_pipeline.tables import METRICS

END = datetime.utcnow().replace(minute=0, second=0, microsecond=0)  # the range check looks back 7 days from now
EXPECTED_UNITS = {"cpu_usage": "%", "memory_usage": "%", "disk_usage": "%", "network_in": "bytes/s",
                  "network_out": "bytes/s", "load_avg": ""}


def spike(metric: str, excess: float, metrics: list[str] | None = None, by_metric: dict | None = None) -> Finding:
    evidence = {"hour_of_day": 14, "days_elevated": 5, "days_observed": 7, "metrics": metrics or [metric],
                "mean_excess": excess, "excess_by_metric": by_metric or {metric: excess}}
    return Finding(kind="recurring_spike", insight_type="pattern", fingerprint="fp", severity="low", confidence=0.5,
                   affected_instances=("i-1",), subject="web-01", metric=metric, window_start=END - timedelta(days=1),
                   window_end=END, evidence=evidence)


def test_every_catalogue_metric_has_its_unit_in_the_words():
    assert set(EXPECTED_UNITS) == set(metric_catalogue.METRICS)
    for name, metric in metric_catalogue.METRICS.items():
        unit = EXPECTED_UNITS[name]
        assert metric.unit == unit
        assert amount(12.5, name) == ("12.5%" if unit == "%" else f"12.5 {unit}".rstrip())
        assert difference(4.0, name) == ("4 percentage points" if metric.percent else f"4 {unit}".rstrip())
        words = deterministic_narrative(spike(name, 4483592.2 if unit == "bytes/s" else 23.5)).description
        if metric.percent:
            assert "23.5 percentage points" in words
        else:
            assert "percentage points" not in words and (unit in words if unit else "23.5 above" in words)
        assert metric_label(name) == metric.label


def test_a_spike_over_metrics_of_different_units_gives_each_its_own_unit():
    f = spike("cpu_usage", 4483592.2, ["cpu_usage", "network_in"], {"cpu_usage": 23.5, "network_in": 4483592.2})
    words = deterministic_narrative(f).description
    assert "23.5 percentage points (CPU)" in words and "4,483,592.2 bytes/s (Network in)" in words
    assert "4,483,592.2 percentage points" not in words


def test_unknown_metrics_are_plain_numbers():
    assert amount(3.0, "queue_depth") == "3" and difference(3.0, "queue_depth") == "3"
    assert metric_label("queue_depth") == "Queue depth"


GPU = Metric("gpu_temp", "GPU temperature", "°C", 0.0, 120.0, predict_at=95.0,
             check="Check the cooling and GPU jobs on {host}")


def test_a_new_metric_is_one_declaration_through_contract_checks_words_and_predictions(warehouse):
    with metric_catalogue.registered(GPU):
        # contract: its range is enforced at ingestion
        item = {"instance_id": {"S": "gpu-01"}, "timestamp": {"N": "1767225600000"}, "gpu_temp": {"N": "130"}}
        assert records.rows(METRICS, [item]).rejects[0].reason == "gpu_temp: 130.0 outside 0..120"
        # the range check in SQL gets it as a bound parameter
        rows = [("gpu-01", END - timedelta(hours=72 - h), "gpu_temp", 60.0 + 0.4 * h) for h in range(72)]
        rows.append(("gpu-01", END - timedelta(minutes=30), "gpu_temp", 130.0))
        df = pd.DataFrame(rows, columns=["INSTANCE_ID", "TS", "METRIC", "VALUE"]).assign(LOADED_AT=END)
        with warehouse.connection() as conn:
            warehouse.write_frame(conn, df[df.VALUE <= 120], "METRICS")
            warehouse.write_frame(conn, df[df.VALUE > 120], "METRICS")
        warehouse.execute_script(load_sql("views/rollups.sql"))
        check = next(c for c in build_checks() if next(iter(c.check_specs)).name == "metrics_values_in_range")
        assert not check.op.compute_fn.decorated_fn(warehouse=warehouse).passed
        warehouse.execute("DELETE FROM METRICS WHERE VALUE > 120")
        # predictions aim at its threshold; the words carry its label and unit
        config = predictions.PredictionConfig()
        with warehouse.connection() as conn:
            trends = predictions.measure(warehouse, conn, END, config)
        found = predictions.findings(trends, {"gpu-01": "gpu-01"}, END, config, {})
        assert [f.evidence["threshold"] for f in found] == [95.0]
        words = deterministic_narrative(found[0])
        assert words.title.startswith("GPU temperature on gpu-01 reaches 95 °C in about")
    assert metric_catalogue.get("gpu_temp") is None  # unregistered again


@pytest.mark.parametrize("name", sorted(EXPECTED_UNITS))
def test_contract_ranges_come_from_the_catalogue(name):
    metric = metric_catalogue.METRICS[name]
    item = {"instance_id": {"S": "a"}, "timestamp": {"N": "1767225600000"}, name: {"N": "-1"}}
    assert records.rows(METRICS, [item]).rejects, name
    if metric.maximum is not None:
        item[name] = {"N": str(metric.maximum + 1)}
        assert records.rows(METRICS, [item]).rejects, name
