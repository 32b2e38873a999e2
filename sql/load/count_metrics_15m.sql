-- Buckets in METRICS_15M: 0 means the history has not been bucketed yet (ingest/buckets.py).
SELECT COUNT(*) FROM METRICS_15M
