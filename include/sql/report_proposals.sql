-- New-household proposals from kelurahan (accepted rows of the current batches) per kelurahan and linkage outcome:
-- new (not in the registry), duplicate (members already in a registry household), linked, or not yet matched.
-- Parameters: :period, :proposal_type
SELECT s.kode_kelurahan,
       COALESCE(l.match_status, 'belum_dicocokkan') AS match_status,
       COUNT(DISTINCT COALESCE(l.household_key, s.no_kk)) AS households,
       COUNT(*) AS persons
FROM staged_row s
JOIN submission_batch b ON b.batch_id = s.batch_id AND b.is_current = TRUE
                        AND b.period = :period AND b.submission_type = :proposal_type
LEFT JOIN household_link l ON l.period = s.period AND l.row_id = s.row_id
WHERE s.period = :period AND s.submission_type = :proposal_type
GROUP BY s.kode_kelurahan, COALESCE(l.match_status, 'belum_dicocokkan')
