"""A simulated week (the four planted scenarios) loaded into embedded warehouses.

Items go through the real contract check, landing and MERGE (``ingest.direct``); only the
DynamoDB transport is skipped, to keep the suite fast. The loaded database is copied for
each test module that needs a clean slate.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nephos_pipeline.dynamodb.resource import DynamoDBResource
from nephos_pipeline.ingest.direct import load_items
from nephos_pipeline.insights.llm.local import LocalNarrator
from nephos_pipeline.simulator.fleet import FleetModel, iter_fleet_items
from nephos_pipeline.simulator.spec import FleetSpec
from nephos_pipeline.simulator.writer import serialize
from nephos_pipeline.warehouse import LocalWarehouse
from nephos_pipeline.warehouse.schema import ensure_schema

END = datetime(2026, 3, 8, 9, 10, tzinfo=UTC)


@pytest.fixture(scope="session")
def fleet_spec() -> FleetSpec:
    return FleetSpec(start=END - timedelta(days=7), end=END, instances=8, seed=42)


@pytest.fixture(scope="session")
def truth(fleet_spec):
    return FleetModel(fleet_spec).truth


@pytest.fixture(scope="session")
def loaded_fleet_dir(tmp_path_factory, fleet_spec) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "warehouse"
    wh = LocalWarehouse(path=str(path))
    ensure_schema(wh)
    items = ((table, serialize(item)) for table, item in iter_fleet_items(fleet_spec))
    start = fleet_spec.start.replace(tzinfo=None, minute=0)
    load_items(wh, items, start, END.replace(tzinfo=None) + timedelta(hours=1), END.replace(tzinfo=None))
    return path


def clone(src: Path, dst: Path) -> LocalWarehouse:
    shutil.copytree(src, dst)
    return LocalWarehouse(path=str(dst))


@pytest.fixture
def fleet_warehouse(loaded_fleet_dir, tmp_path) -> LocalWarehouse:
    return clone(loaded_fleet_dir, tmp_path / "warehouse")


def analytics_resources(warehouse) -> dict:
    return {"warehouse": warehouse, "narrator": LocalNarrator(), "dynamodb": DynamoDBResource(region_name="us-east-1")}
