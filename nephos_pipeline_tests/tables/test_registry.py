"""The registry's declarations and what is derived from them."""

from __future__ import annotations

import pytest

from nephos_pipeline import tables
from nephos_pipeline.orchestration.pools import POOLS
from nephos_pipeline.runner import SYNC
from nephos_pipeline.tables import ALERTS, INSTANCES, METRICS, Table, TableSpec


def test_the_three_contract_tables_and_their_sync_lists():
    assert tables.names() == ("metrics", "alerts", "instances")
    assert tables.SYNC_HOURLY == ["raw_metrics", "metrics", "raw_alerts", "alerts"]
    assert tables.SYNC_SNAPSHOT == ["raw_instances", "instances"]
    assert SYNC == [*tables.SYNC_SNAPSHOT, *tables.SYNC_HOURLY]  # instances first: metrics read their ids
    assert (METRICS.partitioned, ALERTS.partitioned, INSTANCES.partitioned) == (True, True, False)
    assert (METRICS.landing, METRICS.stage, METRICS.target) == ("LANDING_METRICS", "STG_METRICS", "METRICS")
    assert ALERTS.datetime_columns == ("CREATED_AT", "RESOLVED_AT")
    assert {POOLS[a] for a in tables.SYNC_HOURLY} == {"nephos_landing_metrics", "nephos_metrics",
                                                     "nephos_landing_alerts", "nephos_alerts"}


def test_lookup_by_name_or_declaration():
    assert tables.get("alerts") is ALERTS and tables.get(ALERTS) is ALERTS
    with pytest.raises(KeyError, match="no table 'deploys'"):
        tables.get("deploys")


@pytest.mark.parametrize("name", ["Deployments", "deploy-ments", "1st"])
def test_a_name_must_be_a_lower_case_identifier(name: str):
    """The name is formatted into SQL identifiers, so only a plain identifier is accepted."""
    with pytest.raises(ValueError, match="lower-case identifier"):
        Table(name, TableSpec(name, ("id", "S")), INSTANCES.convert, (("ID", "VARCHAR"),))


def test_a_per_instance_query_needs_the_time_attribute_as_range_key():
    with pytest.raises(ValueError, match="range key"):
        Table("events", TableSpec("events", ("instance_id", "S")), METRICS.convert, METRICS.columns,
              time=("timestamp", "TS"), read_per_instance=True)
