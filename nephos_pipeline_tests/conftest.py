"""Shared fixtures live in ``nephos_pipeline_tests/fixtures``, one module per real part."""

pytest_plugins = [
    "nephos_pipeline_tests.fixtures.dynamodb",
    "nephos_pipeline_tests.fixtures.warehouse",
]
