-- Each reconciled day's latest verdict where DynamoDB and the warehouse disagree: unread
-- items (neither loaded nor rejected) first, then items only the warehouse still holds.
SELECT DAY, INSTANCE_ID, REGISTERED, DYNAMODB_ITEMS, LOADED_ITEMS, REJECTED_ITEMS, UNREAD_ITEMS, EXTRA_ITEMS,
       FIRST_HOUR_WITH_DIFFERENCE, LAST_HOUR_WITH_DIFFERENCE, CHECKED_AT
FROM METRICS_RECONCILIATION
WHERE HOURS_WITH_DIFFERENCE > 0
ORDER BY UNREAD_ITEMS DESC, DAY, INSTANCE_ID
LIMIT 200
