-- Session-scoped staging for the instance ids an extract or a reconciliation read items of.
CREATE OR REPLACE TEMPORARY TABLE STG_METRIC_INSTANCE_IDS (
    INSTANCE_ID VARCHAR,
    FIRST_TS TIMESTAMP_NTZ,
    LAST_TS TIMESTAMP_NTZ,
    REGISTERED BOOLEAN,
    FOUND_BY VARCHAR
)
