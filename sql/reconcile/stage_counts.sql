-- Session-scoped staging for the reconciliation Scan's counts: items per instance and hour
-- (HOUR NULL for items whose timestamp is outside the contract's range).
CREATE OR REPLACE TEMPORARY TABLE STG_RECONCILE_COUNTS (
    INSTANCE_ID VARCHAR,
    HOUR TIMESTAMP_NTZ,
    ITEMS NUMBER,
    REGISTERED BOOLEAN
)
