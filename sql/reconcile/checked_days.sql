-- The reconciliation rows written by the check at checked_at (TIMESTAMP_NTZ, UTC).
SELECT *
FROM METRICS_RECONCILIATION
WHERE CHECKED_AT = %(checked_at)s::TIMESTAMP_NTZ
ORDER BY DAY NULLS FIRST, INSTANCE_ID
