-- Program coverage of the extreme poor: extreme-poor households (eligible for :extreme_program) with at least one
-- member receiving each program, per kelurahan; program '_any' counts households receiving any program.
-- Written as a semi-join (IN), which every database runs with a hash or an ephemeral index: a plain join of the two
-- sets made SQLite scan the targeting rows once per household (minutes at city scale).
-- Parameters: :period, :extreme_program
WITH receiving AS (
    SELECT DISTINCT t.id_keluarga, t.kode_kelurahan, t.program
    FROM targeting_result t
    WHERE t.period = :period AND t.receiving = TRUE
      AND t.id_keluarga IN (
          SELECT e.id_keluarga
          FROM eligibility_decision e
          WHERE e.period = :period AND e.program = :extreme_program AND e.eligible = TRUE
      )
)
SELECT r.kode_kelurahan, r.program, COUNT(*) AS households
FROM receiving r
GROUP BY r.kode_kelurahan, r.program
UNION ALL
SELECT r.kode_kelurahan, '_any' AS program, COUNT(DISTINCT r.id_keluarga) AS households
FROM receiving r
GROUP BY r.kode_kelurahan
