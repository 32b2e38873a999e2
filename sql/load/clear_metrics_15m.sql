-- Drop the 15-minute buckets a METRICS window touches, before they are re-computed from
-- METRICS (sql/load/bucket_metrics_15m.sql, same transaction as the MERGE). The window
-- [window_start, window_end) touches buckets CEIL(window_start) .. CEIL(window_end) (bucket
-- n is (n - 1, n] in quarters since the epoch). NULL bounds: every bucket.
DELETE FROM METRICS_15M
WHERE (%(window_start)s::TIMESTAMP_NTZ IS NULL
       OR BUCKET_NO >= CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(window_start)s::TIMESTAMP_NTZ) / 900000))
  AND (%(window_end)s::TIMESTAMP_NTZ IS NULL
       OR BUCKET_NO <= CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(window_end)s::TIMESTAMP_NTZ) / 900000))
