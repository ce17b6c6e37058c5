-- By-name new-household proposals from kelurahan with the linkage outcome (new / duplicate / linked).
-- PERSONAL DATA: pii recipients only, attachment only.
-- Parameters: :period, :proposal_type, :kecamatan ('' = all), :kelurahan ('' = all)
SELECT s.kode_kelurahan, kl.kode_kecamatan, s.no_kk, s.nik, s.nama, s.jenis_kelamin, s.tanggal_lahir,
       s.source_file, s."row_number" AS excel_row,
       COALESCE(l.match_status, 'belum_dicocokkan') AS match_status, l.duplicate_of
FROM staged_row s
JOIN submission_batch b ON b.batch_id = s.batch_id AND b.is_current = TRUE
                        AND b.period = :period AND b.submission_type = :proposal_type
LEFT JOIN household_link l ON l.period = s.period AND l.row_id = s.row_id
LEFT JOIN kelurahan kl ON kl.kode_kelurahan = s.kode_kelurahan
WHERE s.period = :period AND s.submission_type = :proposal_type
  AND (:kecamatan = '' OR kl.kode_kecamatan = :kecamatan)
  AND (:kelurahan = '' OR s.kode_kelurahan = :kelurahan)
ORDER BY s.kode_kelurahan, s.no_kk, s.opd_code, s.source_file, s.sheet, s."row_number"  -- total order: same bytes whatever the load order
