"""The insights page against real metrics: host names, and charts at the insight's resolution.

The warehouse holds one host's 1-minute samples with a single-sample CPU peak (95.6 %),
disk growth towards 90 %, and the insights the pipeline would write about them, worded as
they were before host names reached the recommendations ("Review the deployment to i-..").
An hourly chart would peak near 31 % here; the page must show the 95.6 % the text quotes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from nephos_pipeline.api import create_app
from nephos_pipeline.api.chart_plan import plan_chart
from nephos_pipeline.api.page_data import chart_series
from nephos_pipeline.warehouse.local import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema
from nephos_pipeline_tests.api.conftest import INSERT, call, make_row

IID, HOST = "i-0773770e8394d82fb", "prod-web-01"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
TICK = (NOW - timedelta(hours=3)).replace(minute=0)  # the detected 15-minute window ends here


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat() + "Z"


def _metrics() -> pd.DataFrame:
    minutes = pd.date_range(NOW - timedelta(hours=80), NOW, freq="1min", tz=UTC).tz_localize(None)
    n = len(minutes)
    cpu = [30 + (i % 7) for i in range(n)]
    peak_at = minutes.get_loc(pd.Timestamp(TICK.replace(tzinfo=None) - timedelta(minutes=4)))
    cpu[peak_at] = 95.6  # one 1-minute sample: the hourly mean stays near 31
    memory = [50 + (i % 11) / 2 for i in range(n)]
    disk = [60 + 0.2 * i / 60 for i in range(n)]  # +0.2 points an hour, ~76 % now
    frames = [pd.DataFrame({"INSTANCE_ID": IID, "TS": minutes, "METRIC": m, "VALUE": v})
              for m, v in (("cpu_usage", cpu), ("memory_usage", memory), ("disk_usage", disk))]
    out = pd.concat(frames, ignore_index=True)
    out["LOADED_AT"] = NOW.replace(tzinfo=None)
    out["TS"] = out["TS"].astype("datetime64[us]")
    out["LOADED_AT"] = out["LOADED_AT"].astype("datetime64[us]")
    return out


def _insights() -> list[dict]:
    anomaly = make_row(
        NOW, "an-cpu", "anomaly", "critical", f"CPU 11.1\u03c3 above normal on {HOST}",
        f"CPU on {HOST} reached 95.6% at {TICK:%H:%M} UTC. It came 5 minutes after a deployment to {IID}.",
        recs=f"1. Review the deployment to {IID} and roll back if it caused this 2. Check running processes on {HOST}",
        instances=[IID], values=[31, 31, 32, 31], age_min=180,
        extra={"value": 95.6, "baseline_center": 40.0, "baseline_spread": 5.0, "z": 11.1, "direction": "above",
               "tick": _iso(TICK), "last_tick": _iso(TICK)})
    eta = NOW + timedelta(hours=70)
    prediction = make_row(
        NOW, "pr-disk", "prediction", "high", f"Disk on {HOST} reaches 90% in about 70 hours",
        "Disk grows 0.2 points an hour.", instances=[IID], metric="disk_usage", age_min=30,
        extra={"threshold": 90.0, "current_value": 76.0, "slope_per_hour": 0.2, "eta": _iso(eta),
               "hours_to_threshold": 70.0, "hours_low": 60.0, "hours_high": 85.0})
    correlation = make_row(
        NOW, "co-cpu-mem", "pattern", "low", f"CPU and Memory move together on {HOST}", "r = 0.8",
        instances=[IID], age_min=40, extra={"metric_a": "cpu_usage", "metric_b": "memory_usage", "r": 0.8,
                                            "series": [[_iso(NOW - timedelta(hours=h)), 30] for h in range(24, 0, -1)]})
    folded = make_row(
        NOW, "sp-cpu", "pattern", "medium", f"Recurring daily CPU spike at 14:00 UTC on {HOST}", "6 of 7 days",
        instances=[IID], age_min=50,
        extra={"hour_of_day": 14, "days_observed": 3, "metrics": ["cpu_usage", "memory_usage"],
               "correlation": {"metric_a": "cpu_usage", "metric_b": "memory_usage", "r": 0.8}})
    return [anomaly, prediction, correlation, folded]


@pytest.fixture(scope="module")
def charted(tmp_path_factory: pytest.TempPathFactory) -> LocalWarehouse:
    wh = LocalWarehouse(path=str(tmp_path_factory.mktemp("charts") / "warehouse"))
    ensure_schema(wh)
    with wh.connection() as conn:
        wh.write_frame(conn, _metrics(), "METRICS")
        wh.execute("INSERT INTO INSTANCES (INSTANCE_ID, HOSTNAME, STATUS, LOADED_AT) "
                   "SELECT %(i)s, %(h)s, 'running', %(t)s::TIMESTAMP_NTZ", {"i": IID, "h": HOST, "t": NOW.isoformat()}, conn)
        for row in _insights():
            wh.execute(INSERT, row, conn)
    return wh


@pytest.fixture(scope="module")
def page(charted: LocalWarehouse) -> str:
    reply = call(create_app(charted, token=None, auth_disabled=True), "/", auth=False)
    assert reply.status == 200, reply.text
    return reply.text


def card(html: str, insight_id: str) -> str:
    start = html.index(f'data-id="{insight_id}"')
    return html[start:html.index("</article>", start)]


def test_host_names_in_chips_and_recommendations_with_the_id_as_a_secondary_label(page: str) -> None:
    anomaly = card(page, "an-cpu")
    assert f"<b>{HOST}</b> <small>{IID}</small>" in anomaly
    assert f"Review the deployment to {HOST} and roll back" in anomaly
    assert f"a deployment to {HOST}." in anomaly
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<small>[^<]*</small>", "", page))
    assert IID not in visible  # the id only as the chips' secondary label


def test_anomaly_chart_is_15_minute_with_the_peak_the_text_quotes(page: str, charted: LocalWarehouse) -> None:
    anomaly = card(page, "an-cpu")
    assert "peak 95.6%" in anomaly and "reached 95.6%" in anomaly
    assert "15-minute mean" in anomaly and 'class="band"' in anomaly and 'class="window"' in anomaly
    assert 'class="threshold"' in anomaly and "3\u03c3 threshold 55%" in anomaly  # 40 + 3 x 5
    insight = call(create_app(charted, token=None, auth_disabled=True), "/insights?type=anomaly", auth=False).json()
    plan = plan_chart(insight["insights"][0], NOW.replace(tzinfo=None))
    assert plan is not None and plan.series[0].bucket_s == 900
    with charted.connection() as conn:
        points = chart_series(charted, conn, plan.series)[plan.series[0].key]
    ends = [p[0] for p in points]
    assert {b - a for a, b in zip(ends, ends[1:], strict=False)} == {timedelta(minutes=15)}
    assert max(p[3] for p in points) == 95.6 and TICK.replace(tzinfo=None) in ends
    assert max(p[1] for p in points) < 40  # the 15-minute means alone would hide the peak
    assert max(v for _, v in insight["insights"][0]["evidence"]["series"]) < 40  # what the old chart drew


def test_prediction_chart_draws_the_threshold_and_a_forecast_that_reaches_it(page: str) -> None:
    prediction = card(page, "pr-disk")
    assert 'class="threshold"' in prediction and "threshold 90%" in prediction
    forecast = re.search(r'<polyline class="forecast" points="([^"]+)"', prediction)
    threshold_y = float(re.search(r'<line class="threshold" x1="[\d.]+" y1="([\d.]+)"', prediction).group(1))
    assert forecast is not None
    end_y = float(forecast.group(1).split()[-1].split(",")[1])
    assert abs(end_y - threshold_y) < 0.2  # the forecast meets the 90 % line at the ETA
    assert 'class="cone"' in prediction and "hourly mean" in prediction


def test_correlations_chart_both_series_including_one_folded_into_a_pattern(page: str) -> None:
    for insight_id in ("co-cpu-mem", "sp-cpu"):
        chart = card(page, insight_id)
        assert 'class="line s0"' in chart and 'class="line s1"' in chart, insight_id
        assert "CPU (hourly mean)" in chart and "Memory (hourly mean)" in chart
    assert card(page, "sp-cpu").count('class="window"') >= 3  # the recurring hour, each day
