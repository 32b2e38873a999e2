"""Packaging shim (the design card asks for setup.py beside pyproject.toml).

The Snowflake-dialect SQL lives in the top-level ``sql/`` folder so a DBA can run it as-is;
it is shipped inside the wheel as the ``nephos_pipeline.sql`` package so the pipeline runs
exactly those files.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["nephos_pipeline", "nephos_pipeline.*"]), "nephos_pipeline.sql"],
    package_dir={"nephos_pipeline.sql": "sql"},
    package_data={"nephos_pipeline.sql": ["*.sql", "*/*.sql", "*/*/*.sql"], "nephos_pipeline": ["**/*.html", "**/*.yaml"]},
    include_package_data=False,
)
