"""Fleet simulator: stands in for the Nephos monitoring agents.

``fleet`` generates contract-shaped items (pure, deterministic, streamed); ``writer``
puts them into DynamoDB. ``scenario_truth`` says what a perfect detector should find.
"""

from nephos_pipeline.simulator.fleet import (
    FleetModel,
    instance_items,
    iter_alerts,
    iter_fleet_items,
    iter_metrics,
    metric_items,
)
from nephos_pipeline.simulator.scenarios import SCENARIO_HOSTS, ScenarioTruth, scenario_truth
from nephos_pipeline.simulator.spec import FleetSpec

__all__ = [
    "SCENARIO_HOSTS",
    "FleetModel",
    "FleetSpec",
    "ScenarioTruth",
    "instance_items",
    "iter_alerts",
    "iter_fleet_items",
    "iter_metrics",
    "metric_items",
    "scenario_truth",
]
