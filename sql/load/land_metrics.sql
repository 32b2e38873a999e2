-- Replace exactly one extract window of LANDING_METRICS with what was just staged.
-- Run inside a transaction after: DELETE FROM LANDING_METRICS WHERE TS in the window.
INSERT INTO LANDING_METRICS (INSTANCE_ID, TS, METRIC, VALUE, EXTRACTED_AT)
SELECT INSTANCE_ID, TS, METRIC, VALUE, %(extracted_at)s::TIMESTAMP_NTZ
FROM STG_METRICS
WHERE TS >= %(window_start)s::TIMESTAMP_NTZ AND TS < %(window_end)s::TIMESTAMP_NTZ
