-- A retry of a failed run succeeded: the pipeline alerts of the runs it retried (its parent
-- and the original run) are resolved. The rows stay, as history.
UPDATE ALERTS
SET STATUS = 'resolved', RESOLVED_AT = %(resolved_at)s::TIMESTAMP_NTZ
WHERE SOURCE = 'pipeline' AND STATUS = 'open' AND ALERT_ID IN (%(parent_alert_id)s, %(root_alert_id)s)
