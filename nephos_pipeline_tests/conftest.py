"""Shared fixtures live in ``nephos_pipeline_tests/fixtures``, one module per real part."""

import os

# Fixtures use fixed dates from early 2026; the default partitions start moves with the
# calendar (the previous month), so the tests pin it, as a production deployment would.
os.environ.setdefault("NEPHOS_PARTITIONS_START", "2026-01-01-00:00")

pytest_plugins = [
    "nephos_pipeline_tests.fixtures.dynamodb",
    "nephos_pipeline_tests.fixtures.warehouse",
]
