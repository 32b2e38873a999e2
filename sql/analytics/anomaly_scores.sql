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
-- Why joins and not sliding window frames: the two medians (and their MADs) are most of the
-- work, and Snowflake's MEDIAN takes no window frame (no ORDER BY, no ROWS/RANGE in its
-- OVER clause), so they need the (series, tick) x bucket join whatever the other columns
-- do; the sums, means and deviations ride on the same join almost for free, where 11
-- sliding RANGE frames cost more than the join on the embedded DuckDB (measured, see
-- docs/benchmarks.md, "Scale"). The joins and groups hash one integer per series
-- (`series`), not the two VARCHAR ids: about 30 percent less CPU for the same rows.
--
-- Parameters: range_start, range_end (TIMESTAMP_NTZ, UTC; unaligned bounds are rounded
-- inwards to ticks), instance_ids_json (JSON array of INSTANCE_IDs, or NULL for all),
-- with_seasonal (1 or 0): 0 skips the hour-of-day baseline (its two medians are about a
-- third of the work, and only the seasonal_mad detector reads them; its columns are NULL),
-- week_from (TIMESTAMP_NTZ or NULL): ticks before it are lookback ticks and get no week
-- baseline (median, MAD, means, spreads, peaks, lows: NULL) except baseline_hours. Why: a
-- caller scores lookback ticks before its range only for the persistence rules, which
-- read a lookback row's window values, its same-hour (seasonal) columns and how much
-- history it has, not the week baseline (detector.DetectorConfig.lookback_reads_week says
-- which detectors do; anomaly/chunks.py passes its slice's first tick otherwise). The week
-- join and its two medians are most of this statement, and a quarter scores 9 ticks for 1
-- of its own. NULL: every tick gets everything.
-- median_ticks (1 or more): the week median and its MAD (median_centre, mad_spread) are
-- taken at the first tick of each block of median_ticks ticks (blocks aligned on the
-- epoch: 4 is an hour, 96 a UTC day, the shipped default) and shared by the block's ticks:
-- for a tick T of a block starting at tick A they are over the 672 buckets before A, not
-- before T. Why: those two medians over tick x 672 values were about 80 percent of a
-- range's cost (Snowflake's MEDIAN takes no sliding frame, so they cannot slide), and a
-- week's median moves slowly (a level shift moves it only after half a week); the other
-- week columns stay exact per tick. 1 gives the per-tick definition (the tests compare it
-- with their reference copy).
-- NaN and infinite values are ignored (ABS(NaN) compares greater than any number).
WITH bounds AS (
    SELECT
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_start)s::TIMESTAMP_NTZ) / 900000) AS first_tick_no,
        FLOOR(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_end)s::TIMESTAMP_NTZ) / 900000) AS last_tick_no,
        COALESCE(
            CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(week_from)s::TIMESTAMP_NTZ) / 900000),
            CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_start)s::TIMESTAMP_NTZ) / 900000)
        ) AS week_from_no
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
    WHERE b.BUCKET_NO >= CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_start)s::TIMESTAMP_NTZ) / 900000) - 672 - (%(median_ticks)s - 1)
      AND b.BUCKET_NO <= FLOOR(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(range_end)s::TIMESTAMP_NTZ) / 900000)
      AND (
          %(instance_ids_json)s IS NULL
          OR b.INSTANCE_ID IN (
              SELECT f.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(instance_ids_json)s))) f
          )
      )
),
series AS (
    -- One integer per (INSTANCE_ID, METRIC): the joins and groups below hash integers.
    SELECT
        k.INSTANCE_ID,
        k.METRIC,
        ROW_NUMBER() OVER (ORDER BY k.INSTANCE_ID, k.METRIC) AS series_no
    FROM (SELECT DISTINCT INSTANCE_ID, METRIC FROM buckets) k
),
keyed AS (
    SELECT
        s.series_no,
        b.bucket_no,
        FLOOR(MOD(b.bucket_no - 1, 96) / 4) AS hour_of_day,
        b.n,
        b.s,
        b.ss,
        b.bucket_mean,
        b.bucket_min,
        b.bucket_max,
        b.bucket_low,
        b.bucket_high
    FROM buckets b
    JOIN series s ON s.INSTANCE_ID = b.INSTANCE_ID AND s.METRIC = b.METRIC
),
current_window AS (
    SELECT
        b.series_no,
        b.bucket_no AS tick_no,
        b.hour_of_day,
        b.n AS window_points,
        b.bucket_mean AS value,
        b.bucket_min AS window_min,
        b.bucket_max AS window_max,
        b.bucket_low AS window_low,
        b.bucket_high AS window_high,
        b.bucket_no >= bounds.week_from_no AS with_week
    FROM keyed b
    JOIN bounds ON b.bucket_no BETWEEN bounds.first_tick_no AND bounds.last_tick_no
),
baseline AS (
    -- The (up to) 672 buckets before the window, in one pass.
    SELECT
        c.series_no,
        c.tick_no,
        SUM(b.n) AS baseline_points,
        COUNT(*) AS baseline_buckets,
        MIN(b.bucket_no) AS first_bucket_no,
        SUM(b.s) / SUM(b.n) AS mean_centre,
        SQRT(GREATEST(
            (SUM(b.ss) - SUM(b.s) * SUM(b.s) / SUM(b.n)) / NULLIF(SUM(b.n) - 1, 0),
            0
        )) AS std_spread,
        AVG(b.bucket_high) AS peak_mean,
        STDDEV_SAMP(b.bucket_high) AS peak_std,
        AVG(b.bucket_low) AS trough_mean,
        STDDEV_SAMP(b.bucket_low) AS trough_std,
        MAX(b.bucket_high) AS baseline_high,
        MIN(b.bucket_low) AS baseline_low
    FROM current_window c
    JOIN keyed b
      ON b.series_no = c.series_no
     AND b.bucket_no BETWEEN c.tick_no - 672 AND c.tick_no - 1
    WHERE c.with_week
    GROUP BY c.series_no, c.tick_no
),
early AS (
    -- The buckets that can start a lookback tick's window (ticks before week_from, see the
    -- header): a window [t - 672, t - 1] of such a tick starts in the first K positions read
    -- (K lookback ticks), so its first bucket is one of those or the series' first bucket
    -- after them. One short list per series instead of the week join's 672 rows a tick.
    SELECT k.series_no, k.bucket_no
    FROM keyed k
    JOIN bounds ON k.bucket_no < bounds.week_from_no - 672
    UNION ALL
    SELECT k.series_no, MIN(k.bucket_no)
    FROM keyed k
    JOIN bounds ON k.bucket_no >= bounds.week_from_no - 672
    GROUP BY k.series_no
),
lookback_start AS (
    -- A lookback tick's first baseline bucket, for its baseline_hours.
    SELECT c.series_no, c.tick_no, MIN(b.bucket_no) AS first_bucket_no
    FROM current_window c
    JOIN early b
      ON b.series_no = c.series_no
     AND b.bucket_no BETWEEN c.tick_no - 672 AND c.tick_no - 1
    WHERE NOT c.with_week
    GROUP BY c.series_no, c.tick_no
),
anchors AS (
    -- The tick each week-baseline tick takes its week median and MAD at: the first tick of
    -- its block of median_ticks ticks (1: itself; 4: its hour's first). Why: see the header.
    SELECT DISTINCT
        c.series_no,
        c.tick_no,
        c.tick_no - MOD(c.tick_no - 1, %(median_ticks)s) AS anchor_no
    FROM current_window c
    WHERE c.with_week
),
week_median AS (
    SELECT m.series_no, m.anchor_no, MEDIAN(b.bucket_mean) AS median_centre
    FROM (SELECT DISTINCT series_no, anchor_no FROM anchors) m
    JOIN keyed b
      ON b.series_no = m.series_no
     AND b.bucket_no BETWEEN m.anchor_no - 672 AND m.anchor_no - 1
    GROUP BY m.series_no, m.anchor_no
),
week_mad AS (
    SELECT m.series_no, m.anchor_no, MEDIAN(ABS(b.bucket_mean - m.median_centre)) AS mad_spread
    FROM week_median m
    JOIN keyed b
      ON b.series_no = m.series_no
     AND b.bucket_no BETWEEN m.anchor_no - 672 AND m.anchor_no - 1
    GROUP BY m.series_no, m.anchor_no
),
baseline_mad AS (
    SELECT a.series_no, a.tick_no, m.median_centre, d.mad_spread
    FROM anchors a
    JOIN week_median m ON m.series_no = a.series_no AND m.anchor_no = a.anchor_no
    LEFT JOIN week_mad d ON d.series_no = a.series_no AND d.anchor_no = a.anchor_no
),
seasonal AS (
    -- Same hour of day (by bucket start) on the previous days of the trailing 7: up to 28
    -- buckets. Today's earlier windows of this hour are left out (bucket_no <= tick - 4), so
    -- an incident that began 15 minutes ago does not become its own baseline. Joined on
    -- (series, hour of day) equality, so each tick meets the 4 buckets of its hour per day
    -- held, not all 672.
    SELECT
        c.series_no,
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
    JOIN keyed b
      ON b.series_no = c.series_no
     AND b.hour_of_day = c.hour_of_day
     AND b.bucket_no BETWEEN c.tick_no - 672 AND c.tick_no - 4
    WHERE %(with_seasonal)s = 1
    GROUP BY c.series_no, c.tick_no, c.hour_of_day
),
seasonal_mad AS (
    SELECT
        s.series_no,
        s.tick_no,
        MEDIAN(ABS(b.bucket_mean - s.seasonal_centre)) AS seasonal_spread
    FROM seasonal s
    JOIN keyed b
      ON b.series_no = s.series_no
     AND b.hour_of_day = s.hour_of_day
     AND b.bucket_no BETWEEN s.tick_no - 672 AND s.tick_no - 4
    GROUP BY s.series_no, s.tick_no
)
SELECT
    DATEADD('minute', 15 * c.tick_no, '1970-01-01'::TIMESTAMP_NTZ) AS tick,
    k.INSTANCE_ID AS instance_id,
    k.METRIC AS metric,
    c.value,
    c.window_min,
    c.window_max,
    c.window_low,
    c.window_high,
    c.window_points,
    c.hour_of_day,
    r.baseline_points,
    r.baseline_buckets,
    (c.tick_no - COALESCE(r.first_bucket_no, ls.first_bucket_no)) / 4 AS baseline_hours,
    r.mean_centre,
    r.std_spread,
    rm.median_centre,
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
JOIN series k ON k.series_no = c.series_no
LEFT JOIN baseline r ON r.series_no = c.series_no AND r.tick_no = c.tick_no
LEFT JOIN lookback_start ls ON ls.series_no = c.series_no AND ls.tick_no = c.tick_no
LEFT JOIN baseline_mad rm ON rm.series_no = c.series_no AND rm.tick_no = c.tick_no
LEFT JOIN seasonal s ON s.series_no = c.series_no AND s.tick_no = c.tick_no
LEFT JOIN seasonal_mad sm ON sm.series_no = c.series_no AND sm.tick_no = c.tick_no
ORDER BY tick, instance_id, metric
