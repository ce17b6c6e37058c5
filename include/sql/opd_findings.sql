-- Row-level findings of an OPD's latest load attempt per submission type in the period (OPD feedback XLSX).
-- "row_number" is the row as the OPD sees it in Excel (header row counted); value may hold a NIK: mask it.
-- Parameters: :period, :opd_code
SELECT f.submission_type, f.source_file, f.sheet, f."row_number" AS excel_row, f."column" AS column_name,
       f.header AS header, f."check" AS check_name, f.severity, f.message, f.value
FROM finding f
JOIN (
    SELECT b.submission_type, MAX(b.batch_id) AS batch_id
    FROM submission_batch b
    WHERE b.period = :period AND b.opd_code = :opd_code AND b.status IN ('accepted', 'rejected', 'superseded')
    GROUP BY b.submission_type
) latest ON latest.batch_id = f.batch_id
ORDER BY f.submission_type, f.source_file, f."row_number", f."column", f.finding_id
