-- Field verification (verval) visits of a period per kelurahan: rows, status (lengkap / perlu_perbaikan), result of
-- the visit, and the photo check codes found on each row (comma-separated; counted per code in Python).
-- Aggregates only, no personal data. Parameters: :period
SELECT v.kode_kelurahan, v.hasil_verifikasi, v.status, v.checks, COUNT(*) AS rows_n
FROM verval_row v
JOIN submission_batch b ON b.batch_id = v.batch_id AND b.is_current = TRUE
WHERE v.period = :period
GROUP BY v.kode_kelurahan, v.hasil_verifikasi, v.status, v.checks
