-- Data-quality scorecard input: per OPD and submission type, the latest load attempt of the period (accepted or
-- rejected) and the batch in force (is_current), with finding counts of the latest attempt.
-- Parameters: :period
WITH latest AS (
    SELECT b.opd_code, b.submission_type, MAX(b.batch_id) AS batch_id, COUNT(*) AS attempts
    FROM submission_batch b
    WHERE b.period = :period AND b.status IN ('accepted', 'rejected', 'superseded')
    GROUP BY b.opd_code, b.submission_type
),
counts AS (
    SELECT f.batch_id,
           SUM(CASE WHEN f.severity = 'critical' THEN 1 ELSE 0 END) AS critical,
           SUM(CASE WHEN f.severity = 'error' THEN 1 ELSE 0 END) AS errors,
           SUM(CASE WHEN f.severity = 'warning' THEN 1 ELSE 0 END) AS warnings
    FROM finding f
    WHERE f.period = :period
    GROUP BY f.batch_id
)
SELECT l.opd_code, l.submission_type, l.attempts,
       b.status, b.received_at, b.rows_total, b.rows_accepted, b.rows_quarantined, b.rows_warning,
       b.rejection_reason, b.sha256,
       COALESCE(c.critical, 0) AS critical, COALESCE(c.errors, 0) AS errors, COALESCE(c.warnings, 0) AS warnings,
       cur.batch_id AS current_batch_id, cur.rows_accepted AS current_rows_accepted
FROM latest l
JOIN submission_batch b ON b.batch_id = l.batch_id
LEFT JOIN counts c ON c.batch_id = l.batch_id
LEFT JOIN submission_batch cur
  ON cur.period = :period AND cur.opd_code = l.opd_code AND cur.submission_type = l.submission_type
 AND cur.is_current = TRUE
