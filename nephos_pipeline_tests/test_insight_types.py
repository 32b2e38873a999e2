"""The insight-type registry: one declaration, and a new type flows through the whole product.

The test registers a ``capacity`` type, materializes a small asset of it with Dagster (the
way docs/extending.md's worked example does), and follows the rows through the store's
lifetimes, the asset checks, the jobs, the API routes and filters, the counts, the OpenAPI
document and the page's tabs; after the block every one of them is back to the four types.
"""

from datetime import datetime, timedelta

import dagster as dg

from nephos_pipeline import insight_types
from nephos_pipeline.api import create_app
from nephos_pipeline.api.openapi import openapi_document
from nephos_pipeline.clock import utc_now_naive
from nephos_pipeline.insight_types import InsightType
from nephos_pipeline.insights.findings import Finding
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.insights.store import save_findings
from nephos_pipeline.orchestration.checks import build_checks
from nephos_pipeline.orchestration.schedules import build_jobs
from nephos_pipeline.partitions import Partitions, window_of
from nephos_pipeline.runner import Runner
from nephos_pipeline.warehouse import Warehouse
from nephos_pipeline_tests.api.conftest import call

NOW = utc_now_naive().replace(minute=0, second=0, microsecond=0)
CAPACITY = InsightType("capacity", "capacities", timedelta(days=2), "capacity_insights", "prediction_job",
                       "six_hourly", tab="Capacity", icon="\u25a3")


def capacity_finding(window_end: datetime) -> Finding:
    return Finding(kind="capacity", insight_type="capacity", fingerprint=f"capacity:web-01:{window_end:%Y%m%d%H}",
                   severity="medium", confidence=0.7, affected_instances=("i-web-01",), subject="web-01",
                   metric="disk_usage", window_start=window_end - timedelta(hours=6), window_end=window_end,
                   evidence={"value": 81.0, "headroom_pct": 19.0})


@dg.asset(partitions_def=Partitions.build().six_hourly)
def capacity_insights(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The extra type's asset: what a real one does after measuring (save its findings)."""
    _, end = window_of(context)
    result = save_findings(warehouse, LocalNarrator(), [capacity_finding(end)])
    return dg.MaterializeResult(metadata={"created": len(result.created)})


def _check(name: str) -> dg.AssetChecksDefinition:
    return next(c for c in build_checks() if next(iter(c.check_specs)).name == name)


def test_the_registry_is_the_four_seed_types() -> None:
    assert insight_types.names() == ("pattern", "anomaly", "prediction", "summary")
    assert insight_types.listed_names() == ("pattern", "anomaly", "prediction")
    assert [t.name for t in insight_types.by_urgency()] == ["anomaly", "pattern", "prediction"]
    assert insight_types.jobs() == {"pattern_job": ["pattern_insights"],
                                    "anomaly_job": ["anomaly_insights", "batch_alerts"],
                                    "prediction_job": ["prediction_insights", "insights_summary", "insights_archive"]}


def test_a_registered_insight_type_flows_through_store_checks_api_openapi_and_page(warehouse) -> None:
    app = create_app(warehouse, token=None, auth_disabled=True)
    with insight_types.registered(CAPACITY):
        # its asset, in the job the registry names, writes rows with the type's lifetime
        key = (NOW - timedelta(hours=6) - timedelta(hours=NOW.hour % 6)).strftime("%Y-%m-%d-%H:%M")
        assert dg.materialize([capacity_insights], partition_key=key, resources={"warehouse": warehouse}).success
        row = warehouse.query("SELECT LAST_SEEN_AT, EXPIRES_AT FROM AI_INSIGHTS WHERE INSIGHT_TYPE = 'capacity'")
        assert (row.expires_at[0] - row.last_seen_at[0]).to_pytimedelta() == timedelta(days=2)
        assert "capacity_insights" in insight_types.jobs()["prediction_job"]
        assert "prediction_job" in build_jobs(Partitions.build())
        # the validity check accepts it (and a check exists for its asset)
        assert _check("capacity_insights_rows_valid").op.compute_fn.decorated_fn(warehouse=warehouse).passed
        # the API lists it, filters by it, has its route and counts it
        app = create_app(warehouse, token=None, auth_disabled=True)
        listed = call(app, "/insights/capacities", auth=False)
        assert listed.status == 200 and [i["type"] for i in listed.json()["insights"]] == ["capacity"]
        assert [i["type"] for i in call(app, "/insights?type=capacity", auth=False).json()["insights"]] == ["capacity"]
        counts = call(app, "/insights/summary", auth=False).json()["counts"]
        assert counts["byType"]["capacity"] == 1 and counts["total"] == 1
        # OpenAPI: the path and the enums
        doc = openapi_document()
        assert "/insights/capacities" in doc["paths"]
        assert "capacity" in doc["paths"]["/insights"]["get"]["parameters"][0]["schema"]["enum"]
        assert "capacity" in doc["components"]["schemas"]["Insight"]["properties"]["type"]["enum"]
        # the page: a tab with its count, and its icon on the card
        page = call(app, "/", auth=False).text
        tabs = page[page.index('<nav class="tabs">'):page.index("</nav>")]
        assert "type=capacity" in tabs and "Capacity <span>1</span>" in tabs
        assert '<span class="icon" aria-hidden="true">\u25a3</span>' in page
    # unregistered again: the type is unknown to every consumer
    assert call(app, "/insights?type=capacity", auth=False).status == 400
    assert call(create_app(warehouse, token=None, auth_disabled=True), "/insights/capacities", auth=False).status == 404
    assert "/insights/capacities" not in openapi_document()["paths"]
    assert not _check("insights_summary_rows_valid").op.compute_fn.decorated_fn(warehouse=warehouse).passed


def test_the_runner_runs_each_type_with_its_side_effects(monkeypatch) -> None:
    """One run per registered type, in registry order, each with the assets that follow it."""
    runner = Runner(resources={})
    seen: list[list[str]] = []
    monkeypatch.setattr(runner, "run", lambda selection, *args: seen.append(selection))
    with insight_types.registered(CAPACITY):
        runner.analyse(NOW)
    assert seen == [["metric_rollups"], ["pattern_insights"], ["anomaly_insights", "batch_alerts"],
                    ["prediction_insights"], ["insights_summary", "insights_archive"], ["capacity_insights"]]
