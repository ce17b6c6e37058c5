-- Which registry households the city's own programs reached this period, from the current batches of Koperasi
-- (pemberdayaan), Pertanian (bibit) and Perkim (air bersih, jamban): the household of a linked (or steward-confirmed)
-- person, or a linked household. tkpk.reports.figures keeps the extreme-poor ones and counts each household once
-- per strategy; the JSON `data` column gives Perkim's jenis_bantuan.
-- Parameters: :period, :extreme_program
SELECT s.submission_type, s.data,
       COALESCE(CASE WHEN hl.match_status = 'linked' OR hl.via = 'steward' THEN hl.id_keluarga END,
                CASE WHEN pl.match_status = 'linked' OR pl.decided_by = 'steward' THEN pl.id_keluarga END)
           AS id_keluarga
FROM staged_row s
JOIN submission_batch b ON b.batch_id = s.batch_id AND b.is_current = TRUE AND b.period = :period
LEFT JOIN person_link pl ON pl.period = s.period AND pl.row_id = s.row_id
LEFT JOIN household_link hl ON hl.period = s.period AND hl.row_id = s.row_id
WHERE s.period = :period
  AND s.submission_type IN ('koperasi_pemberdayaan', 'pertanian_bibit', 'perkim_rumah')
  AND COALESCE(hl.id_keluarga, pl.id_keluarga) IN (
      SELECT e.id_keluarga FROM eligibility_decision e
      WHERE e.period = :period AND e.program = :extreme_program AND e.eligible = TRUE
  )
