-- Named internal stage for bulk loads (Snowflake warehouse): each load PUTs one Parquet file
-- under @NEPHOS_LOAD_STAGE/<table>/<uuid>/ and COPY INTO ... PURGE = TRUE removes it again.
-- Created once with the tables, so loads need no CREATE STAGE and no temporary stage per load.
-- Owned by the role that creates it (NEPHOS_PIPELINE_ROLE); docs/iam-and-grants.md.

CREATE STAGE IF NOT EXISTS NEPHOS_LOAD_STAGE;
