-- Session-scoped staging table that write_pandas bulk-loads before the landing swap.
CREATE OR REPLACE TEMPORARY TABLE STG_METRICS (
    INSTANCE_ID VARCHAR,
    TS TIMESTAMP_NTZ,
    METRIC VARCHAR,
    VALUE FLOAT
)
