-- Program coverage of the extreme poor, measured against those eligible for each program: per kelurahan and program,
-- the extreme-poor households (eligible for :extreme_program) eligible for the program (a person program: at least
-- one eligible member) and, of those, the ones receiving it; program '_any' counts extreme-poor households receiving
-- any program. Written as semi-joins (IN), which every database runs with a hash or an ephemeral index.
-- Parameters: :period, :extreme_program
WITH ext AS (
    SELECT e.id_keluarga
    FROM eligibility_decision e
    WHERE e.period = :period AND e.program = :extreme_program AND e.eligible = TRUE
)
SELECT t.kode_kelurahan, t.program,
       COUNT(DISTINCT CASE WHEN t.eligible = TRUE THEN t.id_keluarga END) AS eligible_households,
       COUNT(DISTINCT CASE WHEN t.eligible = TRUE AND t.receiving = TRUE THEN t.id_keluarga END) AS households
FROM targeting_result t
WHERE t.period = :period AND t.id_keluarga IN (SELECT id_keluarga FROM ext)
GROUP BY t.kode_kelurahan, t.program
UNION ALL
SELECT t.kode_kelurahan, '_any' AS program, 0 AS eligible_households,
       COUNT(DISTINCT t.id_keluarga) AS households
FROM targeting_result t
WHERE t.period = :period AND t.receiving = TRUE AND t.id_keluarga IN (SELECT id_keluarga FROM ext)
GROUP BY t.kode_kelurahan
