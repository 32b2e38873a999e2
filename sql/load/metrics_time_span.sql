-- First and last TS in METRICS: the bounds of a full METRICS_15M rebuild (ingest/buckets.py).
SELECT MIN(TS), MAX(TS) FROM METRICS
