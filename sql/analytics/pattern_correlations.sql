-- Pearson correlation between every pair of metrics of one host over each window
-- [WINDOW_END - window_hours, WINDOW_END), on aligned samples (same instance and timestamp).
--
-- Set-based over a range: one row per window end in %(window_ends)s (JSON array of
-- timestamps, whole hours apart). Aligned pairs are summed once per hour (count, sums,
-- sums of squares and products), and each window adds up its own hours, so a window's r is
-- what a run of that window alone gives (up to rounding in the last digits). Values are
-- taken relative to their series' smallest value in the range so the sums stay small and
-- r stays accurate; a series with no spread in a window (variance below 1e-9 of its second
-- moment, i.e. rounding noise) has no correlation (NULL), as CORR gives for a constant.
-- Parameters: window_ends (JSON), window_hours, min_points, min_abs_r.
WITH windows AS (
    SELECT w.VALUE::VARCHAR::TIMESTAMP_NTZ AS WINDOW_END
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(window_ends)s))) w
),
bounds AS (
    SELECT MIN(WINDOW_END) AS FIRST_END, MAX(WINDOW_END) AS LAST_END,
           DATEADD(HOUR, -%(window_hours)s, MIN(WINDOW_END)) AS READ_START
    FROM windows
),
numbered AS (
    -- Hours are numbered from the first window end: window k covers hours [k - window_hours, k).
    SELECT w.WINDOW_END, FLOOR(DATEDIFF('millisecond', b.FIRST_END, w.WINDOW_END) / 3600000) AS HOUR_NO
    FROM windows w, bounds b
),
samples AS (
    SELECT
        m.INSTANCE_ID, m.METRIC, m.TS,
        FLOOR(DATEDIFF('millisecond', b.FIRST_END, m.TS) / 3600000) AS HOUR_NO,
        m.VALUE - MIN(m.VALUE) OVER (PARTITION BY m.INSTANCE_ID, m.METRIC) AS V
    FROM METRICS m, bounds b
    WHERE m.TS >= b.READ_START AND m.TS < b.LAST_END
),
hourly_pairs AS (
    SELECT
        a.INSTANCE_ID, a.METRIC AS METRIC_A, b.METRIC AS METRIC_B, a.HOUR_NO,
        COUNT(*) AS N, SUM(a.V) AS SA, SUM(b.V) AS SB,
        SUM(a.V * a.V) AS SAA, SUM(b.V * b.V) AS SBB, SUM(a.V * b.V) AS SAB
    FROM samples a
    JOIN samples b ON a.INSTANCE_ID = b.INSTANCE_ID AND a.TS = b.TS AND a.METRIC < b.METRIC
    GROUP BY a.INSTANCE_ID, a.METRIC, b.METRIC, a.HOUR_NO
),
windowed AS (
    SELECT
        w.WINDOW_END, p.INSTANCE_ID, p.METRIC_A, p.METRIC_B,
        SUM(p.N) AS N,
        SUM(p.N) * SUM(p.SAB) - SUM(p.SA) * SUM(p.SB) AS CAB,
        SUM(p.N) * SUM(p.SAA) - SUM(p.SA) * SUM(p.SA) AS CAA,
        SUM(p.N) * SUM(p.SBB) - SUM(p.SB) * SUM(p.SB) AS CBB,
        SUM(p.N) * SUM(p.SAA) AS MAA,
        SUM(p.N) * SUM(p.SBB) AS MBB
    FROM numbered w
    JOIN hourly_pairs p ON p.HOUR_NO >= w.HOUR_NO - %(window_hours)s AND p.HOUR_NO < w.HOUR_NO
    GROUP BY w.WINDOW_END, p.INSTANCE_ID, p.METRIC_A, p.METRIC_B
),
scored AS (
    SELECT WINDOW_END, INSTANCE_ID, METRIC_A, METRIC_B, N,
           IFF(CAA > 1e-9 * MAA AND CBB > 1e-9 * MBB, CAB / SQRT(CAA * CBB), NULL) AS R
    FROM windowed
)
SELECT WINDOW_END, INSTANCE_ID, METRIC_A, METRIC_B, R, N
FROM scored
WHERE N >= %(min_points)s AND ABS(R) >= %(min_abs_r)s
