-- Families with at least one targeting error per kelurahan and category (tepat | exclusion | inclusion), each family
-- counted once whatever the number of programs or members involved, so a kelurahan never shows more families in
-- error than it has; recipients not found in the registry (no family) are counted apart (not_found).
-- One-off programs (RTLH: a backlog, not a yearly error) are left out: :one_off_program ('' = none).
-- A recipient not found takes the kelurahan of its submitted row; with none it counts for the city only (NULL).
-- Parameters: :from_period, :to_period ('YYYY-MM', inclusive: the trend window), :one_off_program
SELECT x.period, x.kode_kelurahan, x.category,
       COUNT(DISTINCT x.id_keluarga) AS households,
       SUM(CASE WHEN x.id_keluarga IS NULL THEN 1 ELSE 0 END) AS not_found
FROM (
    SELECT t.period, COALESCE(t.kode_kelurahan, s.kode_kelurahan) AS kode_kelurahan, t.category, t.id_keluarga
    FROM targeting_result t
    LEFT JOIN staged_row s ON s.row_id = t.row_id
    WHERE t.period BETWEEN :from_period AND :to_period AND t.program <> :one_off_program
) x
GROUP BY x.period, x.kode_kelurahan, x.category
