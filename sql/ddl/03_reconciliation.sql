-- Nothing silently unread (docs/data-contract.md, "Instance ids" and "Rejects").

-- Every instance id the Metrics table is known to hold items for, registered or not, with
-- the time range those items span. The hourly extract queries the registered ids plus every
-- id here whose range is near its window, so an instance that reports before it is
-- registered, after it is deregistered, or under a mistyped id is still read.
-- FOUND_BY: 'sync' (read because it was registered), 'stream' (the change sensor saw an
-- unregistered id) or 'reconciliation' (the reconciliation Scan found it).
CREATE TABLE IF NOT EXISTS METRIC_INSTANCE_IDS (
    INSTANCE_ID VARCHAR NOT NULL,
    FIRST_TS TIMESTAMP_NTZ NOT NULL,        -- hour of the first item known
    LAST_TS TIMESTAMP_NTZ NOT NULL,         -- hour of the last item known
    REGISTERED BOOLEAN NOT NULL,            -- in the Instances table when last read
    FOUND_BY VARCHAR NOT NULL,
    FIRST_SEEN_AT TIMESTAMP_NTZ NOT NULL,
    LAST_SEEN_AT TIMESTAMP_NTZ NOT NULL
);

-- Items per instance and UTC day: in DynamoDB (a keys-only Scan), loaded into METRICS and
-- rejected into REJECTS. DIFFERENCE = DYNAMODB_ITEMS - LOADED_ITEMS - REJECTED_ITEMS.
-- Counted per hour, UNREAD_ITEMS are items neither loaded nor rejected, EXTRA_ITEMS items
-- the warehouse holds that DynamoDB no longer has (deleted, not yet re-synced). DAY is NULL
-- for items whose timestamp is outside the contract's range (they belong to no day).
-- A reconciliation run replaces the rows of the days it covers.
CREATE TABLE IF NOT EXISTS METRICS_RECONCILIATION (
    DAY DATE,
    INSTANCE_ID VARCHAR NOT NULL,
    REGISTERED BOOLEAN NOT NULL,
    DYNAMODB_ITEMS NUMBER NOT NULL,
    LOADED_ITEMS NUMBER NOT NULL,
    REJECTED_ITEMS NUMBER NOT NULL,
    DIFFERENCE NUMBER NOT NULL,
    UNREAD_ITEMS NUMBER NOT NULL,           -- summed over hours where DynamoDB holds more
    EXTRA_ITEMS NUMBER NOT NULL,            -- summed over hours where the warehouse holds more
    HOURS_WITH_DIFFERENCE NUMBER NOT NULL,
    FIRST_HOUR_WITH_DIFFERENCE TIMESTAMP_NTZ,
    LAST_HOUR_WITH_DIFFERENCE TIMESTAMP_NTZ,
    CHECKED_AT TIMESTAMP_NTZ NOT NULL
);
