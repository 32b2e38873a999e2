-- Anomaly scores for every 15-minute tick in [range_start, range_end], set-based.
--
-- A tick T is the end of the window (T - 15 min, T], UTC-aligned. For each tick and each
-- (INSTANCE_ID, METRIC) with data in that window, this returns the window (mean, min, max)
-- and baselines built ONLY from the trailing 7 days before the window (data with
-- TS <= T - 15 min), so a range gives the same rows as running its ticks one by one:
--   * mean / std of the raw points                      (the seed rule)
--   * median / MAD of the 15-minute means               (robust rolling baseline)
--   * median / MAD, mean / std and range of the same hour of day's 15-minute means, and
--     its lowest on weekdays                            (seasonal: knows the daily cycle)
--   * mean / std of the 15-minute highs and lows, and the highest high and lowest low
--     of the week                                       (the default, peak_novelty)
-- A window's "high" is the level it held for about 3-4 of its 15 minutes (its 80th
-- percentile, PERCENTILE_DISC): for 5-minute samples that is the peak itself (3 points),
-- for 1-minute samples the 4th-highest point, so a 1-3 minute burst does not make a window
-- anomalous but 4 minutes at that level do. The "low" is the 20th percentile.
-- Spreads are returned unscaled and may be 0 or NULL; the caller floors them (see
-- nephos_pipeline/analytics/anomaly/detector.py), so nothing here divides by a spread.
--
-- Why buckets: raw rows are aggregated into 15-minute buckets (count, sum, sum of
-- squares, mean, min, max, 20th/80th percentile) once, by the load (METRICS_15M), not on
-- every tick; the baselines join ticks to buckets (at most 672 per tick) instead of ticks
-- to raw rows. Buckets are numbered (epoch ms / 900000, rounded up), so bucket n is the
-- window ending at tick n and every join below is on integers.
--
-- Parameters: range_start, range_end (TIMESTAMP_NTZ, UTC; unaligned bounds are rounded
-- inwards to ticks), instance_ids_json (JSON array of INSTANCE_IDs, or NULL for all),
-- with_seasonal (1 or 0): 0 skips the hour-of-day baseline (its two medians are about a
-- third of the work, and only the seasonal_mad detector reads them; its columns are NULL).
-- NaN and infinite values are ignored (ABS(NaN) compares greater than any number).
WITH bounds AS (
    SELECT
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_start)s::TIMESTAMP_NTZ) / 900000) AS first_tick_no,
        FLOOR(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_end)s::TIMESTAMP_NTZ) / 900000) AS last_tick_no
),
buckets AS (
    -- The 15-minute buckets the load keeps (METRICS_15M, sql/ddl/04_metrics_15m.sql: the
    -- same aggregates of the raw rows, re-computed by every MERGE for the buckets it
    -- touches), from the first tick's 672 baseline buckets to the last tick.
    SELECT
        b.INSTANCE_ID,
        b.METRIC,
        b.BUCKET_NO AS bucket_no,
        b.N AS n,
        b.S AS s,
        b.SS AS ss,
        b.BUCKET_MEAN AS bucket_mean,
        b.BUCKET_MIN AS bucket_min,
        b.BUCKET_MAX AS bucket_max,
        b.BUCKET_LOW AS bucket_low,
        b.BUCKET_HIGH AS bucket_high
    FROM METRICS_15M b
    WHERE b.BUCKET_NO >= CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_start)s::TIMESTAMP_NTZ) / 900000) - 672
      AND b.BUCKET_NO <= FLOOR(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_end)s::TIMESTAMP_NTZ) / 900000)
      AND (
          %(instance_ids_json)s IS NULL
          OR b.INSTANCE_ID IN (
              SELECT f.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(instance_ids_json)s))) f
          )
      )
),
current_window AS (
    SELECT
        b.INSTANCE_ID,
        b.METRIC,
        b.bucket_no AS tick_no,
        FLOOR(MOD(b.bucket_no - 1, 96) / 4) AS hour_of_day,
        b.n AS window_points,
        b.bucket_mean AS value,
        b.bucket_min AS window_min,
        b.bucket_max AS window_max,
        b.bucket_low AS window_low,
        b.bucket_high AS window_high
    FROM buckets b
    JOIN bounds ON b.bucket_no BETWEEN bounds.first_tick_no AND bounds.last_tick_no
),
baseline AS (
    -- The (up to) 672 buckets before the window, in one pass.
    SELECT
        c.INSTANCE_ID,
        c.METRIC,
        c.tick_no,
        SUM(b.n) AS baseline_points,
        COUNT(*) AS baseline_buckets,
        MIN(b.bucket_no) AS first_bucket_no,
        SUM(b.s) / SUM(b.n) AS mean_centre,
        SQRT(GREATEST(
            (SUM(b.ss) - SUM(b.s) * SUM(b.s) / SUM(b.n)) / NULLIF(SUM(b.n) - 1, 0),
            0
        )) AS std_spread,
        MEDIAN(b.bucket_mean) AS median_centre,
        AVG(b.bucket_high) AS peak_mean,
        STDDEV_SAMP(b.bucket_high) AS peak_std,
        AVG(b.bucket_low) AS trough_mean,
        STDDEV_SAMP(b.bucket_low) AS trough_std,
        MAX(b.bucket_high) AS baseline_high,
        MIN(b.bucket_low) AS baseline_low
    FROM current_window c
    JOIN buckets b
      ON b.INSTANCE_ID = c.INSTANCE_ID
     AND b.METRIC = c.METRIC
     AND b.bucket_no BETWEEN c.tick_no - 672 AND c.tick_no - 1
    GROUP BY c.INSTANCE_ID, c.METRIC, c.tick_no
),
baseline_mad AS (
    SELECT
        r.INSTANCE_ID,
        r.METRIC,
        r.tick_no,
        MEDIAN(ABS(b.bucket_mean - r.median_centre)) AS mad_spread
    FROM baseline r
    JOIN buckets b
      ON b.INSTANCE_ID = r.INSTANCE_ID
     AND b.METRIC = r.METRIC
     AND b.bucket_no BETWEEN r.tick_no - 672 AND r.tick_no - 1
    GROUP BY r.INSTANCE_ID, r.METRIC, r.tick_no
),
seasonal AS (
    -- Same hour of day (by bucket start) on the previous days of the trailing 7: up to 28
    -- buckets. Today's earlier windows of this hour are left out (bucket_no <= tick - 4), so
    -- an incident that began 15 minutes ago does not become its own baseline.
    SELECT
        c.INSTANCE_ID,
        c.METRIC,
        c.tick_no,
        c.hour_of_day,
        COUNT(*) AS seasonal_buckets,
        MEDIAN(b.bucket_mean) AS seasonal_centre,
        AVG(b.bucket_mean) AS seasonal_mean,
        STDDEV_SAMP(b.bucket_mean) AS seasonal_std,
        MIN(b.bucket_mean) AS seasonal_low,
        MAX(b.bucket_mean) AS seasonal_high,
        -- The same hour on weekdays only (Monday to Friday, UTC; epoch day 0 was a Thursday):
        -- a weekday's fall is judged against weekdays, not against the weekend's quiet.
        COUNT(CASE WHEN MOD(FLOOR((b.bucket_no - 1) / 96) + 3, 7) < 5 THEN 1 END) AS seasonal_weekday_buckets,
        MIN(CASE WHEN MOD(FLOOR((b.bucket_no - 1) / 96) + 3, 7) < 5 THEN b.bucket_mean END) AS seasonal_weekday_low
    FROM current_window c
    JOIN buckets b
      ON b.INSTANCE_ID = c.INSTANCE_ID
     AND b.METRIC = c.METRIC
     AND b.bucket_no BETWEEN c.tick_no - 672 AND c.tick_no - 4
     AND FLOOR(MOD(b.bucket_no - 1, 96) / 4) = c.hour_of_day
    WHERE %(with_seasonal)s = 1
    GROUP BY c.INSTANCE_ID, c.METRIC, c.tick_no, c.hour_of_day
),
seasonal_mad AS (
    SELECT
        s.INSTANCE_ID,
        s.METRIC,
        s.tick_no,
        MEDIAN(ABS(b.bucket_mean - s.seasonal_centre)) AS seasonal_spread
    FROM seasonal s
    JOIN buckets b
      ON b.INSTANCE_ID = s.INSTANCE_ID
     AND b.METRIC = s.METRIC
     AND b.bucket_no BETWEEN s.tick_no - 672 AND s.tick_no - 4
     AND FLOOR(MOD(b.bucket_no - 1, 96) / 4) = s.hour_of_day
    GROUP BY s.INSTANCE_ID, s.METRIC, s.tick_no
)
SELECT
    DATEADD('minute', 15 * c.tick_no, '1970-01-01'::TIMESTAMP_NTZ) AS tick,
    c.INSTANCE_ID AS instance_id,
    c.METRIC AS metric,
    c.value,
    c.window_min,
    c.window_max,
    c.window_low,
    c.window_high,
    c.window_points,
    c.hour_of_day,
    r.baseline_points,
    r.baseline_buckets,
    (c.tick_no - r.first_bucket_no) / 4 AS baseline_hours,
    r.mean_centre,
    r.std_spread,
    r.median_centre,
    rm.mad_spread,
    s.seasonal_buckets,
    s.seasonal_centre,
    sm.seasonal_spread,
    s.seasonal_mean,
    s.seasonal_std,
    s.seasonal_low,
    s.seasonal_high,
    s.seasonal_weekday_buckets,
    s.seasonal_weekday_low,
    r.peak_mean,
    r.peak_std,
    r.trough_mean,
    r.trough_std,
    r.baseline_high,
    r.baseline_low
FROM current_window c
LEFT JOIN baseline r
  ON r.INSTANCE_ID = c.INSTANCE_ID AND r.METRIC = c.METRIC AND r.tick_no = c.tick_no
LEFT JOIN baseline_mad rm
  ON rm.INSTANCE_ID = c.INSTANCE_ID AND rm.METRIC = c.METRIC AND rm.tick_no = c.tick_no
LEFT JOIN seasonal s
  ON s.INSTANCE_ID = c.INSTANCE_ID AND s.METRIC = c.METRIC AND s.tick_no = c.tick_no
LEFT JOIN seasonal_mad sm
  ON sm.INSTANCE_ID = c.INSTANCE_ID AND sm.METRIC = c.METRIC AND sm.tick_no = c.tick_no
ORDER BY tick, instance_id, metric
