-- A reconciliation run replaces the rows of the days it covers, and the out-of-range rows.
DELETE FROM METRICS_RECONCILIATION
WHERE DAY IS NULL OR (DAY >= %(first_day)s::DATE AND DAY < %(end_day)s::DATE)
