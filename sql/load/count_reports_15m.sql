-- Buckets in REPORTS_15M: 0 means the history has not been bucketed yet (ingest/buckets.py).
SELECT COUNT(*) FROM REPORTS_15M
