"""An extra table, declared exactly as ``docs/extending.md`` says a new table is added.

In the product this module would be ``nephos_pipeline/tables/deployments.py`` (one line in
``TABLES`` registers it) and the SQL files would sit in ``sql/ddl/`` and ``sql/load/``; here
``sql_package`` points at this folder so the test adds nothing to the shipped package.
"""

from __future__ import annotations

from nephos_pipeline.tables import Table, TableSpec
from nephos_pipeline.tables import contract as c
from nephos_pipeline.tables.declaration import Converted


def convert(item: c.Item) -> Converted:
    return Converted([(
        c.ident(item, "deployment_id"),
        c.ident(item, "instance_id"),
        c.epoch_ms(item, "deployed_at"),
        c.ident(item, "version"),
    )])


DEPLOYMENTS = Table(
    name="deployments",
    spec=TableSpec("deployments", hash_key=("deployment_id", "S")),
    convert=convert,
    columns=(("DEPLOYMENT_ID", "VARCHAR"), ("INSTANCE_ID", "VARCHAR"), ("DEPLOYED_AT", "TIMESTAMP_NTZ"),
             ("VERSION", "VARCHAR")),
    time=("deployed_at", "DEPLOYED_AT"),
    preview=("DEPLOYED_AT", "DEPLOYMENT_ID", "INSTANCE_ID", "VERSION"),
    extract_description="Deployments made in the hour (filtered parallel Scan).",
    description="DEPLOYMENTS, MERGEd by deployment_id from the landed window.",
    sql_package=__name__,
)
