"""NEPHOS_LOCAL_WAREHOUSE_MEMORY caps the embedded engine, and bad values are refused early."""

from __future__ import annotations

import pytest

from nephos_pipeline import settings
from nephos_pipeline.resources import build_warehouse


def test_the_setting_reaches_the_embedded_engine(tmp_path) -> None:
    env = {"NEPHOS_HOME": str(tmp_path), "NEPHOS_WAREHOUSE": "local", "NEPHOS_LOCAL_WAREHOUSE_MEMORY": "300MB"}
    warehouse = build_warehouse(env)
    with warehouse.connection() as conn:
        limit = warehouse.query("SELECT CURRENT_SETTING('memory_limit') AS LIMIT_", None, conn)
        spill = warehouse.query("SELECT CURRENT_SETTING('temp_directory') AS SPILL", None, conn)
    # DuckDB reports the cap in MiB: 300 MB = 286.1 MiB.
    assert str(limit.iloc[0, 0]).startswith("286.1")
    # It spills beside the database files, never into the working directory.
    assert str(spill.iloc[0, 0]) == str(tmp_path.resolve() / "warehouse" / "spill")


def test_unset_leaves_the_engine_default(tmp_path) -> None:
    warehouse = build_warehouse({"NEPHOS_HOME": str(tmp_path), "NEPHOS_WAREHOUSE": "local"})
    assert warehouse.memory_limit is None


@pytest.mark.parametrize("raw", ["lots", "1GB; SELECT 1", "-1GB", "1 PB"])
def test_a_malformed_size_is_a_clear_error(raw: str) -> None:
    with pytest.raises(ValueError, match="NEPHOS_LOCAL_WAREHOUSE_MEMORY"):
        settings.local_warehouse_memory({"NEPHOS_LOCAL_WAREHOUSE_MEMORY": raw})
