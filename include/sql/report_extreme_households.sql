-- The extreme-poor households of the period with their kelurahan (internal ids only, no personal data): the set the
-- city's own programs are counted against (report_strategies).
-- Parameters: :period, :extreme_program
SELECT e.id_keluarga, e.kode_kelurahan
FROM eligibility_decision e
WHERE e.period = :period AND e.program = :extreme_program AND e.eligible = TRUE
