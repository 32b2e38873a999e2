-- Drop the report buckets ending in (from_ts, to_ts] before they are re-computed from
-- METRICS (sql/load/bucket_reports_15m.sql, same bounds, same transaction as the MERGE).
-- NULL: unbounded on that side.
DELETE FROM REPORTS_15M
WHERE (%(from_ts)s::TIMESTAMP_NTZ IS NULL OR BUCKET_END > %(from_ts)s::TIMESTAMP_NTZ)
  AND (%(to_ts)s::TIMESTAMP_NTZ IS NULL OR BUCKET_END <= %(to_ts)s::TIMESTAMP_NTZ)
