-- Drop the 15-minute buckets ending in (from_ts, to_ts] before they are re-computed from
-- METRICS (sql/load/bucket_metrics_15m.sql, same bounds, same transaction as the MERGE).
-- Bounds are bucket ends (multiples of 15 minutes, nephos_pipeline/ingest/buckets.py);
-- NULL: unbounded on that side.
DELETE FROM METRICS_15M
WHERE (%(from_ts)s::TIMESTAMP_NTZ IS NULL OR BUCKET_END > %(from_ts)s::TIMESTAMP_NTZ)
  AND (%(to_ts)s::TIMESTAMP_NTZ IS NULL OR BUCKET_END <= %(to_ts)s::TIMESTAMP_NTZ)
